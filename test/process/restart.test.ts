// Exactly-once delivery across a crash: a real `node-red` process as Node-RED installs (no
// contextStorage: the job ledger's journal keeps the jobs) has 20 Segmind jobs in flight, is killed with SIGKILL, and is started again on
// the same userDir, then redeployed (full) while the resumed jobs still run. Every job must be
// reported to the collector exactly once.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmindClient } from '../../src/client';
import type { JobHandle } from '../../src/client/types';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { Collector } from './collector';
import { freePort, kill, ledgerEntries, prepare, start, type NodeRedProcess } from './node-red';

const KEY = 'SG_process_test_91c2';
// an API second lasts 20 ms: Segmind's one-hour retention is 72 s here, so the whole test fits in it
const SCALE = 0.02;
const SHORT = 10; // finish before the kill
const LONG = 10; // still running when Node-RED is killed; finish after the restart

function flow(sb: Sandbox, collectorUrl: string): unknown[] {
  const z = 'tab1';
  const report = (id: string, outcome: string) => ({
    id,
    type: 'change',
    z,
    name: outcome,
    rules: [{ t: 'set', p: 'outcome', pt: 'msg', to: outcome, tot: 'str' }],
    wires: [['format']],
  });
  return [
    { id: z, type: 'tab', label: 'restart test' },
    { id: 'cfg', type: 'segmind-config', name: 'sandbox', baseUrl: sb.url, uploadUrl: sb.uploadUrl, rpm: 100000, timeScale: SCALE },
    { id: 'in', type: 'http in', z, url: '/job', method: 'post', upload: false, wires: [['ok', 'handle']] },
    { id: 'ok', type: 'http response', z, statusCode: '200', wires: [] },
    {
      id: 'handle',
      type: 'change',
      z,
      rules: [{ t: 'set', p: 'segmind', pt: 'msg', to: 'payload', tot: 'msg' }],
      wires: [['await']],
    },
    { id: 'await', type: 'segmind await', z, name: '', config: 'cfg', timeout: 86400, result: 'url', folder: '', wires: [['r1'], ['r2'], ['r3']] },
    report('r1', 'completed'),
    report('r2', 'failed'),
    report('r3', 'timedout'),
    {
      id: 'format',
      type: 'function',
      z,
      func: 'msg.payload = { requestId: msg.segmind && msg.segmind.requestId, outcome: msg.outcome, url: typeof msg.payload === "string" ? msg.payload : null, error: msg.error || null, instance: env.get(\"SEGMIND_TEST_INSTANCE\") };\nmsg.headers = { "content-type": "application/json" };\nreturn msg;',
      outputs: 1,
      libs: [],
      wires: [['post']],
    },
    { id: 'post', type: 'http request', z, method: 'POST', ret: 'txt', url: collectorUrl, tls: '', persist: false, wires: [] },
  ];
}

describe('process: a real node-red killed with SIGKILL with jobs in flight', function () {
  this.timeout(180_000);
  let sb: Sandbox;
  let submitter: SegmindClient;
  let collector: Collector;
  let userDir: string;
  let nr: NodeRedProcess | undefined;

  before(async () => {
    sb = await startSandbox({ timeScale: SCALE, apiKeys: [KEY], durationSigma: 0 });
    submitter = new SegmindClient({ apiKey: KEY, baseUrl: sb.url, uploadUrl: sb.uploadUrl, timeScale: SCALE, requestsPerMinute: 100000 });
    collector = new Collector();
    await collector.start();
    userDir = await mkdtemp(join(tmpdir(), 'segmind-nr-restart-'));
  });
  after(async () => {
    if (nr) await kill(nr);
    await submitter.close();
    await sb.close();
    await collector.close();
    await rm(userDir, { recursive: true, force: true });
  });

  it('delivers every job exactly once after the restart', async () => {
    const port = await freePort();
    prepare(userDir, port, flow(sb, collector.url), { cfg: { apiKey: KEY } }); // SEGMIND_API_KEY goes to Segmind's hosts only
    nr = await start(userDir, port, { SEGMIND_TEST_INSTANCE: 'first' });

    sb.scriptJob({ outcome: 'complete', durationSeconds: 40, times: SHORT });
    // still running until finished by hand after the restart and the redeploy: no race with the clock
    sb.scriptJob({ outcome: 'never', times: LONG });
    const handles: JobHandle[] = [];
    for (let i = 0; i < SHORT + LONG; i++) handles.push(await submitter.submit('sadtalker', { input_image: 'https://example.com/f.png', input_audio: 'https://example.com/v.mp3' }));
    const jobUrl = `${nr.url}/job`;
    for (const h of handles) {
      const res: Response = await fetch(jobUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(h) });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }

    await collector.waitFor(SHORT, 15_000).catch((e) => { throw new Error(`${e.message}\n${nr!.log.join('\n')}\n${JSON.stringify(sb.requests.slice(-5))}`); });
    // delivered jobs stay redeliverable for SETTLE_MS (a kill now would deliver them again, flagged):
    // kill once the ledger holds only the running ones
    for (let i = 0; i < 2000 && ledgerEntries(userDir, 'cfg').length !== LONG; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(ledgerEntries(userDir, 'cfg').length, LONG, 'the delivered jobs settled in the ledger');
    await kill(nr);
    nr = undefined;
    const beforeKill = collector.reports.length;
    assert.equal(beforeKill, SHORT, 'only the short jobs were delivered before the kill');

    nr = await start(userDir, port, { SEGMIND_TEST_INSTANCE: 'second' });
    // and a full redeploy through the admin API once the jobs are resumed and still running
    const isResume = (l: string) => /\[segmind await:.*\] Resuming 10 pending Segmind job\(s\) from the job ledger/.test(l);
    for (let i = 0; i < 2000 && !nr.log.some(isResume); i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(collector.reports.length, SHORT);
    const current = await (await fetch(`${nr.url}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } })).json();
    const deploy = await fetch(`${nr.url}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify({ flows: current.flows, rev: current.rev }),
    });
    assert.equal(deploy.status, 200, await deploy.text());
    for (let i = 0; i < 2000 && nr.log.filter(isResume).length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    sb.finishJobs();
    await collector.waitFor(SHORT + LONG, 60_000).catch((e) => { throw new Error(`${e.message}\n${nr!.log.join("\n")}`); });
    // the node said, in its own words from the locale, what it resumed: after the restart and again after the redeploy
    const resumed = nr.log.filter(isResume);
    assert.equal(resumed.length, 2, nr.log.join('\n'));
    await new Promise((r) => setTimeout(r, 1000)); // time for any duplicate to show up

    const ids = collector.reports.map((r) => r.requestId);
    assert.equal(collector.reports.length, SHORT + LONG, `duplicates: ${JSON.stringify(collector.reports)}`);
    assert.deepEqual(new Set(ids), new Set(handles.map((h) => h.requestId)));
    assert.ok(collector.reports.every((r) => r.outcome === 'completed' && typeof r.url === 'string'), JSON.stringify(collector.reports));
    // the long jobs came from the second process
    const longIds = new Set(handles.slice(SHORT).map((h) => h.requestId));
    for (const r of collector.reports) assert.equal(r.instance, longIds.has(r.requestId) ? 'second' : 'first', JSON.stringify(r));
  });
});
