// The example flows examples/flows/NN-<name>.json: per model node (and the generic node) one flow
// inject -> model node -> await job -> three debug nodes (completed, failed, timed out), the
// timed-out output wired back through a switch to resume waiting; plus one flow that reads the
// bundled sample photo and speech as Buffers (file-in nodes) and saves the video to a file. Every
// example uses the config node's built-in sandbox, so Import > Examples > Deploy > inject gives a
// finished video with no key and no other process. Node properties are the editor's own defaults,
// read from the built editor HTML (run `npm run build` first). Deterministic.
import { createHash } from 'node:crypto';
import { specs } from '../../src/models/specs';
import type { ModelSpec } from '../../src/models/spec';
import { SAMPLES_ENV } from '../../src/nodes/samples';
import { SANDBOX_TIME_SCALE } from '../../src/nodes/endpoint';
import { formatDuration, jobProgress } from '../../src/jobs/progress';
import { basePrior } from '../../src/jobs/priors';
import { defaultProperties, editorDefinitions, type EditorDefinition } from './editor-defaults';
import type { FlowNode } from './demo-flows';

/**
 * The examples' config node name. Each example has its own config node (its own id): Node-RED's
 * import refuses a node whose id already exists, so a shared one would make every import after the
 * first ask the user what to do.
 */
export const EXAMPLE_CONFIG_NAME = 'Built-in sandbox';
/** Requests per minute of the examples: Segmind's Free plan, so switching to Segmind needs no change. */
export const EXAMPLE_RPM = 5;
/** The generic example's await timeout (Segmind seconds): short on purpose, to show resuming. */
export const SHORT_TIMEOUT = 60;

function id(example: string, role: string): string {
  return createHash('sha1').update(`${example}/${role}`).digest('hex').slice(0, 16);
}

/** Real seconds `apiSeconds` of Segmind time last in the built-in sandbox. */
function sandboxSeconds(apiSeconds: number): number {
  return Math.max(1, Math.round(apiSeconds * SANDBOX_TIME_SCALE));
}

/**
 * From a click on inject to the result in the debug sidebar the wait is about a fifth longer than
 * the run itself: the await node polls sparingly (it learns the run times and spends few requests).
 * Measured with the built-in sandbox, first job after a deploy, 8 runs per model: SadTalker 5.9-7.7 s,
 * InfiniteTalk 10.5-17.5 s, V-Express 9.9-13.9 s, Hallo 13.3-20.7 s, Sync.so React-1 13.0-25.1 s.
 */
const WAIT_FACTOR = 1.2;

/** About how many seconds a user waits for a job of this model in the built-in sandbox. */
export function expectedSandboxSeconds(spec: Pick<ModelSpec, 'typicalSeconds'>): number {
  return Math.max(1, Math.round(spec.typicalSeconds * SANDBOX_TIME_SCALE * WAIT_FACTOR));
}

function configNode(defs: Map<string, EditorDefinition>, configId: string): FlowNode {
  return {
    id: configId,
    type: 'segmind-config',
    ...defaultProperties(need(defs, 'segmind-config')),
    name: EXAMPLE_CONFIG_NAME,
    endpoint: 'sandbox',
    rpm: EXAMPLE_RPM,
  };
}

const OUTPUTS_TEXT = [
  'The **await job** node has three outputs, each to its own debug node: *completed* (the video),',
  '*failed* (`msg.error` says why) and *timed out* (still running when the timeout passed). A timed-out',
  'message goes back into the await node through the *resume if timed out* switch and waits again.',
].join('\n');

const SWITCH_TO_ACCOUNT = [
  '### Use your Segmind account',
  `The **${EXAMPLE_CONFIG_NAME}** config node runs a Segmind-compatible sandbox inside Node-RED: no key,`,
  `nothing billed, jobs ${Math.round(1 / SANDBOX_TIME_SCALE)}x faster than on Segmind, a short sample video as the result. To call Segmind`,
  'for real, double-click the config node (or open it from the model node) and set:',
  '',
  '- **Endpoint**: Segmind',
  '- **API key**: your key from segmind.com (stored as a credential, never exported), or leave it empty',
  '  and set the `SEGMIND_API_KEY` environment variable of Node-RED',
  `- **Requests/min**: your plan's limit (Free 5, Pro 50); the examples use ${EXAMPLE_RPM}`,
  '',
  'Real jobs are billed (SadTalker about $0.18, Hallo about $0.42 per job) and take minutes.',
].join('\n');

interface Layout {
  name: string;
  title: string;
  /** the nodes before the model node (inject first); the last one is wired to the model node */
  inputs: FlowNode[];
  /** the model node */
  model: FlowNode;
  /** await node settings other than the editor defaults */
  awaitProps?: Record<string, unknown>;
  /** what the comment says besides the common parts: what to click and what to expect */
  about: string;
}

function inject(name: string, label: string, props: Array<{ p: string; v: string; vt: 'str' | 'json' }>): FlowNode {
  return {
    id: id(name, 'inject'),
    type: 'inject',
    name: label,
    props,
    repeat: '',
    crontab: '',
    once: false,
    onceDelay: 0.1,
    topic: '',
    wires: [],
  };
}

function modelLayout(spec: ModelSpec, defs: Map<string, EditorDefinition>, index: number): Layout {
  const name = `${String(index).padStart(2, '0')}-${spec.file}`;
  const def = need(defs, spec.nodeType);
  const media = spec.params.filter((p) => p.type === 'media');
  const props = media.map((p) => {
    if (p.type !== 'media' || !p.example) throw new Error(`spec ${spec.slug}: media parameter ${p.name} has no example URL`);
    return { p: p.defaultProperty, v: p.example, vt: 'str' as const };
  });
  return {
    name,
    title: `${spec.title} example`,
    inputs: [inject(name, 'inputs', props)],
    model: { id: id(name, 'model'), type: spec.nodeType, ...defaultProperties(def), name: '' },
    about: [
      `**Click the button of the *inputs* inject node** (after Deploy). It submits a job to **${spec.title}**`,
      `(\`${spec.slug}\`), and the **await job** node waits for it: its status shows the progress and the time`,
      `left, e.g. "${progressExample(spec)}". After about ${expectedSandboxSeconds(spec)} s in the sandbox`,
      `(~${Math.round(spec.typicalSeconds)} s on Segmind) the debug sidebar shows the video's URL on *completed*, and the status`,
      'shows "completed" with the cost Segmind reports.',
      '',
      `The inject node sets ${media.map((p) => `\`msg.${p.type === 'media' ? p.defaultProperty : ''}\``).join(' and ')} to the example URLs of the`,
      'model page; a URL, data URI, base64 string or Buffer works. Parameters set in the model node can be',
      `overridden per message through \`msg.payload\`${overrideExample(spec)}.`,
    ].join('\n'),
  };
}

/** The await node's status a third of the way into a typical run in the sandbox, as it computes it. */
function progressExample(spec: ModelSpec): string {
  const p = jobProgress(basePrior(spec.slug, { [spec.slug]: spec.typicalSeconds }), spec.typicalSeconds / 3);
  return `${spec.slug} ${Math.floor(p.fraction * 100)} % · ~${formatDuration(p.remainingSeconds * SANDBOX_TIME_SCALE)}`;
}

/** e.g. ' (e.g. `{"pose_style": 4}`)' from the spec's first non-media parameter with a default */
function overrideExample(spec: ModelSpec): string {
  const withDefault = spec.params.filter((q) => q.type !== 'media' && q.default !== undefined);
  const p = withDefault.find((q) => q.type === 'integer' || q.type === 'number') ?? withDefault[0];
  return p && p.type !== 'media' ? ` (e.g. \`${JSON.stringify({ [p.name]: p.default })}\`)` : '';
}

function sadtalkerSpec(): ModelSpec {
  const s = specs.find((x) => x.slug === 'sadtalker');
  if (!s) throw new Error('the generic and file examples use the sadtalker spec, which is missing');
  return s;
}

function genericLayout(defs: Map<string, EditorDefinition>, index: number): Layout {
  const name = `${String(index).padStart(2, '0')}-generic-model`;
  const def = need(defs, 'segmind model');
  const sadtalker = sadtalkerSpec();
  const payload: Record<string, unknown> = {};
  for (const p of sadtalker.params) if (p.type === 'media' && p.example) payload[p.name] = p.example;
  return {
    name,
    title: 'Any Segmind model example',
    inputs: [inject(name, 'inputs', [{ p: 'payload', v: JSON.stringify(payload), vt: 'json' }])],
    model: {
      id: id(name, 'model'),
      type: 'segmind model',
      ...defaultProperties(def),
      name: '',
      model: 'sadtalker',
      payload: JSON.stringify({ pose_style: 4, expression_scale: 1.4 }),
    },
    awaitProps: { timeout: SHORT_TIMEOUT },
    about: [
      '**Click the button of the *inputs* inject node** (after Deploy). The generic **Segmind model** node',
      'calls any model by its slug (here `sadtalker`; `msg.model` overrides it) with the JSON parameters set',
      'in the node, merged under `msg.payload` (the inject node sends the media URLs there).',
      '',
      `This await node's timeout is ${SHORT_TIMEOUT} s (${sandboxSeconds(SHORT_TIMEOUT)} s in the sandbox), shorter than the job, on purpose:`,
      'expect one or two messages on *timed out*, each sent back to wait again; then, on *completed*,',
      `after about ${expectedSandboxSeconds(sadtalker)} s the debug sidebar shows the video's URL. Segmind keeps a job's result`,
      'for an hour, so resuming is safe.',
      'For real use set a timeout longer than the model needs (the default, 900 s).',
    ].join('\n'),
  };
}

/** Reads a bundled sample as one Buffer into msg.payload, as a camera or microphone node would deliver it. */
function fileIn(name: string, role: string, file: string, label: string): FlowNode {
  return {
    id: id(name, role),
    type: 'file in',
    name: label,
    filename: `\${${SAMPLES_ENV}}/${file}`,
    filenameType: 'env',
    format: '',
    chunk: false,
    sendError: false,
    encoding: 'none',
    allProps: false,
    wires: [],
  };
}

/** msg.payload moved to msg.<to>. */
function moveTo(name: string, role: string, to: string): FlowNode {
  return {
    id: id(name, role),
    type: 'change',
    name: `payload → ${to}`,
    rules: [{ t: 'move', p: 'payload', pt: 'msg', to, tot: 'msg' }],
    action: '',
    property: '',
    from: '',
    to: '',
    reg: false,
    wires: [],
  };
}

function fileLayout(defs: Map<string, EditorDefinition>, index: number): Layout {
  const name = `${String(index).padStart(2, '0')}-buffers-to-file`;
  const sadtalker = sadtalkerSpec();
  const def = need(defs, sadtalker.nodeType);
  return {
    name,
    title: 'Camera Buffer and audio file to a video file',
    inputs: [
      inject(name, 'capture', []),
      fileIn(name, 'photo', 'face.jpg', 'camera (sample photo)'),
      moveTo(name, 'to-image', 'image'),
      fileIn(name, 'speech', 'voice.mp3', 'speech (sample MP3)'),
      moveTo(name, 'to-audio', 'audio'),
    ],
    model: { id: id(name, 'model'), type: sadtalker.nodeType, ...defaultProperties(def), name: '' },
    awaitProps: { result: 'file' },
    about: [
      '**Click the button of the *capture* inject node** (after Deploy). Two file-in nodes read the bundled',
      `sample photo and speech clip (in the folder \`$${SAMPLES_ENV}\`, which the package sets) as Buffers, the`,
      'way a camera or microphone node delivers them, into `msg.image` and `msg.audio`. The SadTalker node',
      'uploads both, then submits the job. The await node is set to **Result: File**: after about',
      // the two uploads come first (about a second in the sandbox)
      `${expectedSandboxSeconds(sadtalker) + 1} s the debug sidebar shows, on *completed*, the path of the saved MP4 file.`,
      '',
      'Replace the first file-in node with your camera node (any node that puts a JPEG or PNG Buffer in',
      '`msg.payload`). Segmind itself needs a real face photo and speech: the samples are tiny stand-ins.',
    ].join('\n'),
  };
}

function need(defs: Map<string, EditorDefinition>, type: string): EditorDefinition {
  const def = defs.get(type);
  if (!def) throw new Error(`node type '${type}' has no editor HTML under nodes/: run npm run build first`);
  return def;
}

function debugNode(zId: string, nodeId: string, name: string, whole: boolean, x: number, y: number): FlowNode {
  return {
    id: nodeId,
    type: 'debug',
    z: zId,
    name,
    active: true,
    tosidebar: true,
    console: false,
    tostatus: false,
    complete: whole ? 'true' : 'payload',
    targetType: whole ? 'full' : 'msg',
    statusVal: '',
    statusType: 'auto',
    x,
    y,
    wires: [],
  };
}

function flow(layout: Layout, defs: Map<string, EditorDefinition>): FlowNode[] {
  const z = id(layout.name, 'tab');
  const ids = {
    comment: id(layout.name, 'comment'),
    await: id(layout.name, 'await'),
    completed: id(layout.name, 'debug'),
    failed: id(layout.name, 'failed'),
    timedOut: id(layout.name, 'timed-out'),
    resume: id(layout.name, 'resume'),
    config: id(layout.name, 'config'),
  };
  const awaitDef = need(defs, 'segmind await');
  const { id: modelId, type: modelType, ...modelProps } = layout.model;
  // the inputs in a row, then the model, await and debug nodes in a row below when there are several
  const inputRow = layout.inputs.length > 1;
  const mainY = inputRow ? 200 : 120;
  // compact enough to fit beside the editor's sidebar in a 1000-pixel-wide window
  const inputs = layout.inputs.map((n, i, all) => ({
    ...n,
    z,
    x: inputRow ? 100 + i * 160 : 100,
    y: 120,
    wires: [[i + 1 < all.length ? all[i + 1].id : modelId]],
  }));
  const modelX = inputRow ? 140 : 250;
  const model: FlowNode = { id: modelId, type: modelType, z, ...modelProps, config: ids.config, x: modelX, y: mainY, wires: [[ids.await]] };
  const awaitX = modelX + 150;
  const awaitNode: FlowNode = {
    id: ids.await,
    type: 'segmind await',
    z,
    ...defaultProperties(awaitDef),
    name: '',
    ...(awaitDef.defaults.config ? { config: ids.config } : {}),
    ...layout.awaitProps,
    x: awaitX,
    y: mainY,
    // outputs: completed, failed, timed out (also to the switch that sends it back)
    wires: [[ids.completed], [ids.failed], [ids.timedOut, ids.resume]],
  };
  const debugX = awaitX + 160;
  return [
    {
      id: ids.comment,
      type: 'comment',
      z,
      name: layout.title,
      info: `${layout.about}\n\n${OUTPUTS_TEXT}\n\n${SWITCH_TO_ACCOUNT}\n`,
      x: 140,
      y: 60,
      wires: [],
    },
    ...inputs,
    model,
    awaitNode,
    debugNode(z, ids.completed, 'completed', false, debugX, mainY - 40),
    debugNode(z, ids.failed, 'failed', true, debugX, mainY),
    debugNode(z, ids.timedOut, 'timed out', true, debugX, mainY + 40),
    {
      id: ids.resume,
      type: 'switch',
      z,
      name: 'resume if timed out',
      property: 'segmind.timedOut',
      propertyType: 'msg',
      rules: [{ t: 'true' }],
      checkall: 'true',
      repair: false,
      outputs: 1,
      x: awaitX,
      y: mainY + 70,
      wires: [[ids.await]],
    },
    configNode(defs, ids.config),
  ];
}

/** file name (e.g. '01-sadtalker.json') -> its exact text, for every example */
export function exampleFiles(): Map<string, string> {
  const defs = editorDefinitions();
  const layouts = [
    ...specs.map((s, i) => modelLayout(s, defs, i + 1)),
    genericLayout(defs, specs.length + 1),
    fileLayout(defs, specs.length + 2),
  ];
  return new Map(layouts.map((l) => [`${l.name}.json`, `${JSON.stringify(flow(l, defs), null, 4)}\n`]));
}
