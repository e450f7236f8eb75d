// The flow of the real-process tests: an http-in endpoint takes a job (its payload names the media
// and a tag), a SadTalker node submits it, an await node waits, and every outcome is reported to a
// Collector (test/process/collector.ts) with its request id, tag and redelivery flag.
import type { Sandbox } from '../../src/sandbox';

export const TAB = 'tab1';
export const AWAIT = 'await';

export interface ReportingFlowOptions {
  sandbox: Sandbox;
  collectorUrl: string;
  /** the config node's time scale (the sandbox's) */
  scale: number;
  label: string;
  result?: 'url' | 'buffer';
  awaitName?: string;
}

export function reportingFlow(o: ReportingFlowOptions): Record<string, unknown>[] {
  const report = (id: string, outcome: string) => ({
    id,
    type: 'change',
    z: TAB,
    rules: [{ t: 'set', p: 'outcome', pt: 'msg', to: outcome, tot: 'str' }],
    wires: [['format']],
  });
  return [
    { id: TAB, type: 'tab', label: o.label },
    { id: 'cfg', type: 'segmind-config', name: 'sandbox', baseUrl: o.sandbox.url, uploadUrl: o.sandbox.uploadUrl, rpm: 100000, timeScale: o.scale },
    { id: 'in', type: 'http in', z: TAB, url: '/job', method: 'post', upload: false, wires: [['ok', 'tagger']] },
    // msg.tag travels with the stored message (msg.req does not): it names each message in the reports
    { id: 'tagger', type: 'change', z: TAB, rules: [{ t: 'set', p: 'tag', pt: 'msg', to: 'payload.tag', tot: 'msg' }], wires: [['model']] },
    { id: 'ok', type: 'http response', z: TAB, statusCode: '200', wires: [] },
    {
      id: 'model',
      type: 'segmind sadtalker',
      z: TAB,
      config: 'cfg',
      input_image: 'payload.image',
      input_imageType: 'msg',
      input_audio: 'payload.audio',
      input_audioType: 'msg',
      wires: [[AWAIT]],
    },
    { id: AWAIT, type: 'segmind await', z: TAB, name: o.awaitName ?? '', config: 'cfg', timeout: 86400, result: o.result ?? 'url', folder: '', wires: [['r1'], ['r2'], ['r3']] },
    report('r1', 'completed'),
    report('r2', 'failed'),
    report('r3', 'timedout'),
    {
      id: 'format',
      type: 'function',
      z: TAB,
      func:
        'msg.payload = { requestId: msg.segmind && msg.segmind.requestId, outcome: msg.outcome, tag: msg.tag, redelivered: !!(msg.segmind && msg.segmind.redelivered), bytes: Buffer.isBuffer(msg.payload) ? msg.payload.length : null, error: msg.error || null };\nmsg.headers = { "content-type": "application/json" };\nreturn msg;',
      outputs: 1,
      libs: [],
      wires: [['post']],
    },
    { id: 'post', type: 'http request', z: TAB, method: 'POST', ret: 'txt', url: o.collectorUrl, tls: '', persist: false, wires: [] },
  ];
}
