// The example flows examples/flows/NN-<model>.json: per model node (and the generic node) one flow
// inject -> model node -> await job -> debug, with a comment and a segmind-config node pointing at
// the demo sandbox (127.0.0.1:8990). Node properties are the editor's own defaults, read from the
// built editor HTML (run `npm run build` first). Deterministic: the same build gives the same files.
import { createHash } from 'node:crypto';
import { specs } from '../../src/models/specs';
import type { ModelSpec } from '../../src/models/spec';
import { defaultProperties, editorDefinitions, type EditorDefinition } from './editor-defaults';
import { DEMO_TIME_SCALE, SANDBOX_CONFIG_NAME, SANDBOX_PORT, type FlowNode } from './demo-flows';

const SANDBOX_URL = `http://127.0.0.1:${SANDBOX_PORT}`;
export const EXAMPLE_CONFIG_ID = 'a3c0f1d2e4b5c6d7';

function id(example: string, role: string): string {
  return createHash('sha1').update(`${example}/${role}`).digest('hex').slice(0, 16);
}

function configNode(): FlowNode {
  return {
    id: EXAMPLE_CONFIG_ID,
    type: 'segmind-config',
    name: SANDBOX_CONFIG_NAME,
    baseUrl: SANDBOX_URL,
    uploadUrl: `${SANDBOX_URL}/upload-asset`,
    rpm: 60,
    timeScale: DEMO_TIME_SCALE,
  };
}

const SWITCH_TO_ACCOUNT = [
  '### Use your Segmind account',
  `The **${SANDBOX_CONFIG_NAME}** config node points at the local sandbox that \`npm run demo\` starts`,
  `(127.0.0.1:${SANDBOX_PORT}, time compressed ${DEMO_TIME_SCALE}x, key \`SG_sandbox\`). To call Segmind for real, open it and set:`,
  '',
  '- **API key**: your key from segmind.com (stored as a credential, never exported), or leave it empty',
  '  and set the `SEGMIND_API_KEY` environment variable of Node-RED',
  '- **Base URL** `https://api.segmind.com`, **Upload URL** `https://workflows-api.segmind.com/upload-asset`',
  '- **Time scale** `1`, **Requests/min** your plan\'s limit (Free 5, Pro 50)',
  '',
  'Real jobs are billed and take minutes; the await node polls sparingly within the request budget.',
].join('\n');

interface Layout {
  name: string;
  title: string;
  /** what the inject node sets */
  props: Array<{ p: string; v: string; vt: 'str' | 'json' }>;
  /** the model node */
  model: FlowNode;
  /** extra lines of the comment */
  about: string;
}

function modelLayout(spec: ModelSpec, defs: Map<string, EditorDefinition>, index: number): Layout {
  const name = `${String(index).padStart(2, '0')}-${spec.file}`;
  const def = need(defs, spec.nodeType);
  const props = spec.params
    .filter((p) => p.type === 'media')
    .map((p) => {
      if (p.type !== 'media' || !p.example) throw new Error(`spec ${spec.slug}: media parameter ${p.name} has no example URL`);
      return { p: p.defaultProperty, v: p.example, vt: 'str' as const };
    });
  const media = spec.params.filter((p) => p.type === 'media');
  return {
    name,
    title: `${spec.title} example`,
    props,
    model: { id: id(name, 'model'), type: spec.nodeType, ...defaultProperties(def), name: '' },
    about: [
      `Submits a job to **${spec.title}** (\`${spec.slug}\`, typically ~${Math.round(spec.typicalSeconds)} s on Segmind),`,
      'waits for it with the **await job** node and shows the completed result in the debug sidebar.',
      '',
      `The inject node sets ${media.map((p) => `\`msg.${p.type === 'media' ? p.defaultProperty : ''}\``).join(' and ')}`,
      'to the example URLs from the model page; any URL, data URI, base64 string or Buffer works.',
      `Parameters set in the node can be overridden per message through \`msg.payload\`${overrideExample(spec)}.`,
    ].join('\n'),
  };
}

/** e.g. ' (e.g. `{"pose_style": 4}`)' from the spec's first non-media parameter with a default */
function overrideExample(spec: ModelSpec): string {
  const withDefault = spec.params.filter((q) => q.type !== 'media' && q.default !== undefined);
  const p = withDefault.find((q) => q.type === 'integer' || q.type === 'number') ?? withDefault[0];
  return p && p.type !== 'media' ? ` (e.g. \`${JSON.stringify({ [p.name]: p.default })}\`)` : '';
}

function genericLayout(defs: Map<string, EditorDefinition>, index: number): Layout {
  const name = `${String(index).padStart(2, '0')}-generic-model`;
  const def = need(defs, 'segmind model');
  const sadtalker = specs.find((s) => s.slug === 'sadtalker');
  if (!sadtalker) throw new Error('the generic example uses the sadtalker spec, which is missing');
  const payload: Record<string, unknown> = {};
  for (const p of sadtalker.params) if (p.type === 'media' && p.example) payload[p.name] = p.example;
  return {
    name,
    title: 'Any Segmind model example',
    props: [{ p: 'payload', v: JSON.stringify(payload), vt: 'json' }],
    model: {
      id: id(name, 'model'),
      type: 'segmind model',
      ...defaultProperties(def),
      name: '',
      model: 'sadtalker',
      payload: JSON.stringify({ pose_style: 4, expression_scale: 1.4 }),
    },
    about: [
      'The generic **Segmind model** node calls any model by its slug (here `sadtalker`; `msg.model`',
      'overrides it) with the JSON parameters set in the node, merged under `msg.payload`.',
      'The inject node sends the media URLs in `msg.payload`.',
    ].join('\n'),
  };
}

function need(defs: Map<string, EditorDefinition>, type: string): EditorDefinition {
  const def = defs.get(type);
  if (!def) throw new Error(`node type '${type}' has no editor HTML under nodes/: run npm run build first`);
  return def;
}

function flow(layout: Layout, defs: Map<string, EditorDefinition>): FlowNode[] {
  const z = id(layout.name, 'tab');
  const ids = {
    comment: id(layout.name, 'comment'),
    inject: id(layout.name, 'inject'),
    await: id(layout.name, 'await'),
    debug: id(layout.name, 'debug'),
    failed: id(layout.name, 'failed'),
  };
  const awaitDef = need(defs, 'segmind await');
  const { id: modelId, type: modelType, ...modelProps } = layout.model;
  const model: FlowNode = { id: modelId, type: modelType, z, ...modelProps, config: EXAMPLE_CONFIG_ID, x: 260, y: 120, wires: [[ids.await]] };
  const awaitNode: FlowNode = {
    id: ids.await,
    type: 'segmind await',
    z,
    ...defaultProperties(awaitDef),
    name: '',
    ...(awaitDef.defaults.config ? { config: EXAMPLE_CONFIG_ID } : {}),
    x: 420,
    y: 120,
    // outputs: completed, failed, timed out
    wires: Array.from({ length: outputs(awaitDef) }, (_, i) => (i === 0 ? [ids.debug] : [ids.failed])),
  };
  return [
    {
      id: ids.comment,
      type: 'comment',
      z,
      name: layout.title,
      info: `${layout.about}\n\n${SWITCH_TO_ACCOUNT}\n`,
      x: 140,
      y: 60,
      wires: [],
    },
    {
      id: ids.inject,
      type: 'inject',
      z,
      name: 'inputs',
      props: layout.props,
      repeat: '',
      crontab: '',
      once: false,
      onceDelay: 0.1,
      topic: '',
      x: 100,
      y: 120,
      wires: [[model.id]],
    },
    model,
    awaitNode,
    {
      id: ids.debug,
      type: 'debug',
      z,
      name: 'result',
      active: true,
      tosidebar: true,
      console: false,
      tostatus: false,
      complete: 'payload',
      targetType: 'msg',
      statusVal: '',
      statusType: 'auto',
      x: 570,
      y: 100,
      wires: [],
    },
    {
      id: ids.failed,
      type: 'debug',
      z,
      name: 'failed or timed out',
      active: true,
      tosidebar: true,
      console: false,
      tostatus: false,
      complete: 'true',
      targetType: 'full',
      statusVal: '',
      statusType: 'auto',
      x: 600,
      y: 160,
      wires: [],
    },
    configNode(),
  ];
}

function outputs(def: EditorDefinition): number {
  return typeof def.outputs === 'number' ? def.outputs : 1;
}

/** file name (e.g. '01-sadtalker.json') -> its exact text, for every example */
export function exampleFiles(): Map<string, string> {
  const defs = editorDefinitions();
  const layouts = [...specs.map((s, i) => modelLayout(s, defs, i + 1)), genericLayout(defs, specs.length + 1)];
  return new Map(layouts.map((l) => [`${l.name}.json`, `${JSON.stringify(flow(l, defs), null, 4)}\n`]));
}
