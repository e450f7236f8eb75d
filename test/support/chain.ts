// Shared harness of the fault, property and secret tests: the BUILT node files (run `npm run build`
// first) in the real Node-RED runtime (node-red-node-test-helper), wired as a user would wire them:
// model node -> await node -> three outputs, plus Catch and Complete nodes that show how every
// message ended, against a real sandbox over loopback HTTP.
//
// SEGMIND_TEST_BUILD_ROOT points at another build (a folder holding nodes/), as in test/nodes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { specs } from '../../src/models/specs';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper = require('node-red-node-test-helper');

import { ROOT, builtNodeSet, initI18n, type NodeModule } from './runtime';
import { Notifier } from './wait';

export { ROOT };
export const BUILD_ROOT = process.env.SEGMIND_TEST_BUILD_ROOT ?? ROOT;
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).name as string;

export function builtSet(rel: string): NodeModule {
  return builtNodeSet(rel, BUILD_ROOT);
}

export const sets = {
  config: () => builtSet('nodes/segmind-config.js'),
  await: () => builtSet('nodes/segmind-await.js'),
  generic: () => builtSet('nodes/segmind-model.js'),
  model: (file: string) => builtSet(`nodes/models/${file}.js`),
};

export type Ending = 'completed' | 'failed' | 'timedOut' | 'caught' | 'modelDone' | 'awaitDone';

export interface Event {
  ending: Ending;
  msg: any;
  at: number;
}

/** Every way a message can leave the chain, keyed by _msgid. */
export class Collector {
  readonly events: Event[] = [];
  private readonly changes = new Notifier();

  push(ending: Ending, msg: any): void {
    this.events.push({ ending, msg, at: Date.now() });
    this.changes.notify();
  }

  of(id: string): Event[] {
    return this.events.filter((e) => e.msg?._msgid === id);
  }

  /** Resolves once `test` holds (re-checked on every event), or rejects after `ms`. */
  until(test: () => boolean, ms: number, what: string): Promise<void> {
    return this.changes.until(test, ms, what, () => this.describe());
  }

  describe(): string {
    return JSON.stringify(this.events.map((e) => [e.ending, e.msg?._msgid, e.msg?.error?.message ?? e.msg?.segmind?.message]));
  }

  clear(): void {
    this.events.length = 0;
  }
}

export const MODEL_IDS = ['m', 'mb', 'mf', 'g'];
export const AWAIT_IDS = ['a', 'ab', 'af'];

export interface ChainOptions {
  sandbox: Sandbox;
  apiKey: string;
  /** extra properties of the config node */
  config?: Record<string, unknown>;
  /** folder of the file-mode await node */
  folder?: string;
  /** the model spec file of the model nodes; default sadtalker */
  model?: string;
  /** await node timeout (API seconds); default 900 */
  timeout?: number;
  /** additional flow nodes (e.g. a second chain) */
  extraNodes?: Record<string, unknown>[];
  extraCredentials?: Record<string, unknown>;
}

/**
 * The flow: model nodes 'm' (-> await 'a', result url), 'mb' (-> 'ab', buffer), 'mf' (-> 'af', file)
 * and generic node 'g' (-> 'a'). Await outputs go to helpers 'completed' / 'failed' / 'timedOut'.
 * Catch (all nodes) -> 'caught'; Complete -> 'done', recorded as modelDone or awaitDone by source node.
 */
export function chainFlow(o: ChainOptions): Record<string, unknown>[] {
  const model = o.model ?? 'sadtalker';
  const spec = specs.find((x) => x.file === model);
  if (!spec) throw new Error(`no model spec with file ${model}`);
  const type = spec.nodeType;
  const awaitNode = (id: string, result: string) => ({
    id,
    z: 'f',
    type: 'segmind await',
    config: 'cfg',
    timeout: o.timeout ?? 900,
    result,
    folder: o.folder ?? '',
    store: '',
    wires: [['completed'], ['failed'], ['timedOut']],
  });
  const modelNode = (id: string, to: string) => ({ id, z: 'f', type, config: 'cfg', maxMediaMB: 50, wires: [[to]] });
  return [
    { id: 'f', type: 'tab' },
    {
      id: 'cfg',
      type: 'segmind-config',
      name: 'test',
      baseUrl: o.sandbox.url,
      uploadUrl: o.sandbox.uploadUrl,
      rpm: 100000,
      timeScale: 0.001,
      ...o.config,
    },
    modelNode('m', 'a'),
    modelNode('mb', 'ab'),
    modelNode('mf', 'af'),
    { id: 'g', z: 'f', type: 'segmind model', config: 'cfg', model: '', payload: '', maxMediaMB: 50, wires: [['a']] },
    awaitNode('a', 'url'),
    awaitNode('ab', 'buffer'),
    awaitNode('af', 'file'),
    { id: 'completed', z: 'f', type: 'helper' },
    { id: 'failed', z: 'f', type: 'helper' },
    { id: 'timedOut', z: 'f', type: 'helper' },
    { id: 'catcher', z: 'f', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f', type: 'helper' },
    // one Complete node (the test helper registers a core type once per flow node); msg.complete.source.id tells which
    { id: 'completer', z: 'f', type: 'complete', scope: [...MODEL_IDS, ...AWAIT_IDS], uncaught: false, wires: [['done']] },
    { id: 'done', z: 'f', type: 'helper' },
    ...(o.extraNodes ?? []),
  ];
}


export interface Chain {
  collector: Collector;
  /** every status object any of our nodes showed, with the node id */
  statuses: { id: string; status: any }[];
  /** sends msg into node `id`; gives it a fresh _msgid (returned) */
  send(id: string, msg: Record<string, unknown>): string;
  /** every log line the runtime saw (node.log/warn/error/debug/trace and runtime logs), as text */
  logText(): string;
  unload(): Promise<void>;
}

let counter = 0;
export function freshId(): string {
  counter++;
  return `t${process.pid}x${counter}x${Math.random().toString(16).slice(2, 8)}`;
}

/** Loads the chain flow (and any extra node sets) and starts collecting. */
export async function loadChain(o: ChainOptions, extraSets: NodeModule[] = []): Promise<Chain> {
  initI18n();
  const model = o.model ?? 'sadtalker';
  const flow = chainFlow(o);
  const credentials = { cfg: { apiKey: o.apiKey }, ...o.extraCredentials };
  await helper.load(
    [sets.config(), sets.await(), sets.generic(), sets.model(model), ...extraSets] as never,
    flow as never,
    credentials as never,
  );
  const collector = new Collector();
  for (const ending of ['completed', 'failed', 'timedOut', 'caught'] as Ending[]) {
    helper.getNode(ending).on('input', (msg: any) => collector.push(ending, msg));
  }
  helper.getNode('done').on('input', (msg: any) => {
    const source = msg?.complete?.source?.id;
    collector.push(AWAIT_IDS.includes(source) ? 'awaitDone' : 'modelDone', msg);
  });
  const statuses: { id: string; status: any }[] = [];
  const ids = flow.map((n) => n.id as string).filter((id) => helper.getNode(id));
  for (const id of ids) {
    helper.getNode(id).on('call:status', (call: { args: unknown[] }) => statuses.push({ id, status: call.args[0] }));
  }
  return {
    collector,
    statuses,
    send(id, msg) {
      const _msgid = freshId();
      helper.getNode(id).receive({ ...msg, _msgid });
      return _msgid;
    },
    logText() {
      const spy = helper.log();
      return spy ? spy.getCalls().map((c: { args: unknown[] }) => safeText(c.args)).join('\n') : '';
    },
    async unload() {
      await helper.unload();
    },
  };
}

/** Text of anything, including Errors and circular objects, for leak searches. */
export function safeText(v: unknown): string {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(v, (_k, val) => {
      if (val instanceof Error) return { name: val.name, message: val.message, stack: val.stack, cause: safeText((val as { cause?: unknown }).cause) };
      if (Buffer.isBuffer(val)) return `<Buffer ${val.length}>`;
      if (val && typeof val === 'object') {
        if (seen.has(val)) return '<circular>';
        seen.add(val);
      }
      if (typeof val === 'bigint') return String(val);
      return val;
    }) ?? String(v);
  } catch {
    return String(v);
  }
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function chainSandbox(options: SandboxOptions & { apiKeys: string[] }): Promise<Sandbox> {
  return startSandbox({ timeScale: 0.001, durationSigma: 0, ...options });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A sadtalker message carrying both media inputs as URLs where the default node reads them. */
export function sadtalkerMsg(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { image: 'https://example.com/face.png', audio: 'https://example.com/voice.mp3', ...extra };
}

/**
 * Points the package link a real-process userDir holds (test/process/node-red.ts prepare()) at
 * SEGMIND_TEST_BUILD_ROOT when that names another build; a no-op otherwise.
 */
export function useBuildIn(userDir: string): void {
  if (path.resolve(BUILD_ROOT) === ROOT) return;
  const link = path.join(userDir, 'node_modules', ...PACKAGE.split('/'));
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(path.resolve(BUILD_ROOT), link, 'junction');
}
