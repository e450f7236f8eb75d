// Test harness of the model-node and generic-node tests: the BUILT node files (run `npm run build`
// first) in the real Node-RED runtime via node-red-node-test-helper, with real message catalogs
// (registered as Node-RED's registry does: namespace '<package>/<set>', <dir>/locales/<lang>/<set>.json)
// and a real sandbox over loopback HTTP.
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { i18n } = require('@node-red/util');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper');

export { ROOT, builtNodeSet } from '../support/runtime';
import { builtNodeSet, initI18n as initRuntimeI18n, type NodeModule } from '../support/runtime';
/** A key the sandbox accepts that is easy to search for in outputs. */
export const API_KEY = 'SG_testkey_0f3c9a7d1e';

export async function initI18n(): Promise<void> {
  initRuntimeI18n();
}

export const configSet = () => builtNodeSet('nodes/segmind-config.js');
export const genericSet = () => builtNodeSet('nodes/segmind-model.js');
export const modelSet = (file: string) => builtNodeSet(`nodes/models/${file}.js`);

export function configNode(sb: Sandbox, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'cfg',
    type: 'segmind-config',
    name: 'test',
    baseUrl: sb.url,
    uploadUrl: sb.uploadUrl,
    rpm: 100000,
    timeScale: 0.001,
    ...extra,
  };
}

export const credentials = { cfg: { apiKey: API_KEY } };

export async function withSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({ timeScale: 0.001, apiKeys: [API_KEY], durationSigma: 0, ...options });
}

export interface Outcome {
  /** the message sent on, when the node succeeded */
  out?: any;
  /** the message a catch node received, when the node failed */
  caught?: any;
  /** every output and every caught error within the settle time (exactly one of both expected) */
  outputs: any[];
  caughts: any[];
  /** status objects the node showed, in order */
  statuses: any[];
  /** how many times the message completed without error (complete node) */
  completes: number;
}

/**
 * A flow of: the node under test (id 'n') -> helper 'out'; catch -> helper 'caught';
 * complete -> helper 'completed'; plus the config node.
 */
export function flowWith(node: Record<string, unknown>, sb: Sandbox, configExtra: Record<string, unknown> = {}): Record<string, unknown>[] {
  return [
    { id: 'n', z: 'f', config: 'cfg', name: '', ...node, wires: [['out']] },
    { id: 'out', z: 'f', type: 'helper' },
    { id: 'catcher', z: 'f', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f', type: 'helper' },
    { id: 'completer', z: 'f', type: 'complete', scope: ['n'], uncaught: false, wires: [['completed']] },
    { id: 'completed', z: 'f', type: 'helper' },
    { id: 'f', type: 'tab' },
    { ...configNode(sb), ...configExtra },
  ];
}

export async function load(sets: NodeModule[], flow: Record<string, unknown>[]): Promise<void> {
  await initI18n();
  await helper.load(sets as never, flow as never, credentials as never);
}

/** Sends msg into node 'n' and resolves with what came out (output or catch), waiting `settleMs` more for extra calls. */
export function send(msg: Record<string, unknown>, settleMs = 30): Promise<Outcome> {
  const n = helper.getNode('n');
  const out = helper.getNode('out');
  const caught = helper.getNode('caught');
  const completed = helper.getNode('completed');
  const outcome: Outcome = { statuses: [], completes: 0, outputs: [], caughts: [] };
  const onStatus = (call: { args: unknown[] }) => outcome.statuses.push(call.args[0]);
  n.on('call:status', onStatus);
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => finish(new Error('no output and no error within 10 s')), 10000);
    function finish(err?: Error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      setTimeout(() => {
        n.removeListener('call:status', onStatus);
        out.removeAllListeners('input');
        caught.removeAllListeners('input');
        completed.removeAllListeners('input');
        if (err) reject(err);
        else resolve(outcome);
      }, settleMs);
    }
    out.on('input', (m: unknown) => {
      outcome.outputs.push(m);
      outcome.out ??= m;
      finish();
    });
    caught.on('input', (m: unknown) => {
      outcome.caughts.push(m);
      outcome.caught ??= m;
      finish();
    });
    completed.on('input', () => {
      outcome.completes++;
    });
    n.receive(msg);
  });
}

export { helper };

/** Switches the runtime language (Node-RED's i18n), e.g. 'de'; tests switch back to 'en-US'. */
export async function setLanguage(lang: string): Promise<void> {
  await initI18n();
  await i18n.i.changeLanguage(lang);
}
