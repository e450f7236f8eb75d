// The flow deployed into each Node-RED version: two inject nodes (a valid and an invalid request)
// -> a change node (copies msg.audio to flow context) -> 'segmind sadtalker' -> 'segmind await',
// whose three outputs, and a Catch node scoped to our two nodes, report to the test's collector
// through core function + http request nodes. The model node is configured as the editor saves
// it: every default from the spec, numbers as the strings a text field holds.
import type { ModelSpec } from '../../../src/models/spec';

export interface FlowOptions {
  spec: ModelSpec;
  apiUrl: string;
  uploadUrl: string;
  apiKey: string;
  imageUrl: string;
  audioUrl: string;
  /** collector URL for a kind of report, e.g. 'completed' */
  collectUrl: (kind: ReportKind) => string;
}

export const IDS = {
  tab: 'c0mpat0000000001',
  config: 'c0mpat00000000c1',
  injectOk: 'c0mpat00000000i1',
  injectBad: 'c0mpat00000000i2',
  change: 'c0mpat00000000s1',
  model: 'c0mpat00000000m1',
  await: 'c0mpat00000000a1',
  catch: 'c0mpat00000000k1',
  http: 'c0mpat00000000h1',
} as const;

/** what reaches the collector, per kind */
export const REPORT_KINDS = ['completed', 'failed', 'timeout', 'caught'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

const reportId = (kind: ReportKind): string => `c0mpat0000r${kind.slice(0, 4).padEnd(4, '0')}`.slice(0, 16);

/** Function node body: keeps what the test checks and posts it to the collector. */
function reporter(url: string): string {
  return [
    'const report = { topic: msg.topic, payload: msg.payload, segmind: msg.segmind, error: msg.error,',
    '  keys: Object.keys(msg).filter((k) => k !== "_msgid").sort() };',
    'return { _msgid: msg._msgid, payload: report, url: ' + JSON.stringify(url) + ', method: "POST",',
    '  headers: { "content-type": "application/json" } };',
  ].join('\n');
}

/** JSONata expression for the image: msg.image, through a JSONata function. */
export const IMAGE_JSONATA = '$string(image)';

/** Flow context key the audio URL goes through (read by the model node's 'flow' typedInput). */
export const AUDIO_CONTEXT_KEY = 'compatAudio';

/** A model node's properties as the editor saves them with its defaults untouched. */
export function editorDefaults(spec: ModelSpec): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  for (const p of spec.params) {
    if (p.type === 'media') {
      props[p.name] = p.defaultProperty;
      props[`${p.name}Type`] = 'msg';
    } else if (p.type === 'boolean') {
      props[p.name] = p.default ?? false;
    } else {
      props[p.name] = p.default === undefined ? '' : String(p.default);
    }
  }
  return { ...props, paramsProperty: 'payload', paramsPropertyType: 'msg', maxMediaMB: '50' };
}

export function buildFlow(o: FlowOptions): unknown[] {
  const z = IDS.tab;
  const injectProps = (payload: string, payloadType: string, topic: string): Record<string, unknown> => ({
    props: [
      { p: 'payload', v: payload, vt: payloadType },
      { p: 'topic', v: topic, vt: 'str' },
      { p: 'image', v: o.imageUrl, vt: 'str' },
      { p: 'audio', v: o.audioUrl, vt: 'str' },
    ],
    payload,
    payloadType,
    topic,
    repeat: '',
    crontab: '',
    once: false,
    onceDelay: 0.1,
  });
  const reporters = REPORT_KINDS.map((kind) => ({
    id: reportId(kind),
    type: 'function',
    z,
    name: `report ${kind}`,
    func: reporter(o.collectUrl(kind)),
    outputs: 1,
    noerr: 0,
    initialize: '',
    finalize: '',
    libs: [],
    x: 700,
    y: 100,
    wires: [[IDS.http]],
  }));
  return [
    { id: z, type: 'tab', label: 'compat', disabled: false, info: '' },
    {
      id: IDS.config,
      type: 'segmind-config',
      name: 'sandbox',
      baseUrl: o.apiUrl,
      uploadUrl: o.uploadUrl,
      rpm: '600',
      timeScale: '0.001',
      credentials: { apiKey: o.apiKey },
    },
    {
      id: IDS.injectOk,
      type: 'inject',
      z,
      name: 'valid request',
      ...injectProps('', 'str', 'ok'),
      x: 100,
      y: 100,
      wires: [[IDS.change]],
    },
    {
      id: IDS.injectBad,
      type: 'inject',
      z,
      name: 'invalid request (pose_style 99)',
      ...injectProps('{"pose_style":99}', 'json', 'bad'),
      x: 100,
      y: 160,
      wires: [[IDS.change]],
    },
    {
      id: IDS.change,
      type: 'change',
      z,
      name: 'audio via flow context',
      rules: [{ t: 'set', p: AUDIO_CONTEXT_KEY, pt: 'flow', to: 'audio', tot: 'msg' }],
      action: '',
      property: '',
      from: '',
      to: '',
      reg: false,
      x: 200,
      y: 100,
      wires: [[IDS.model]],
    },
    {
      id: IDS.model,
      type: o.spec.nodeType,
      z,
      name: 'talker',
      config: IDS.config,
      ...editorDefaults(o.spec),
      // The two typedInput paths that differ between versions, both read with
      // evaluateNodeProperty's callback form: a JSONata expression (jsonata 1.x evaluates
      // synchronously in Node-RED 3.1, 2.x asynchronously in 4.x and 5.x) and a context store.
      // A JSONata expression read as a msg path would give nothing, so the image URL reaching
      // the API proves it was evaluated.
      input_image: IMAGE_JSONATA,
      input_imageType: 'jsonata',
      input_audio: AUDIO_CONTEXT_KEY,
      input_audioType: 'flow',
      x: 300,
      y: 100,
      wires: [[IDS.await]],
    },
    {
      id: IDS.await,
      type: 'segmind await',
      z,
      name: 'await',
      config: IDS.config,
      // 30,000 API s = 30 s real: room for a loaded machine (the sandbox keeps requests that long)
      timeout: '30000',
      result: 'url',
      folder: '',
      store: '',
      outputs: 3,
      x: 500,
      y: 100,
      wires: [[reportId('completed')], [reportId('failed')], [reportId('timeout')]],
    },
    {
      id: IDS.catch,
      type: 'catch',
      z,
      name: 'catch ours',
      scope: [IDS.model, IDS.await],
      uncaught: false,
      x: 500,
      y: 200,
      wires: [[reportId('caught')]],
    },
    ...reporters,
    {
      id: IDS.http,
      type: 'http request',
      z,
      name: 'to collector',
      method: 'use',
      ret: 'txt',
      paytoqs: 'ignore',
      url: '',
      tls: '',
      persist: false,
      proxy: '',
      insecureHTTPParser: false,
      authType: '',
      senderr: false,
      headers: [],
      x: 900,
      y: 100,
      wires: [[]],
    },
  ];
}
