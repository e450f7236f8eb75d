// The real Node-RED runtime embedded in this process (the `node-red` package's RED.init/start),
// loading this package's nodes the way Node-RED loads an installed module (package.json
// "node-red" section, built files under nodes/). No editor, no HTTP, no test doubles: the
// messages a node sends are observed with Node-RED's own onSend hook.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './proc';

export interface SentMessage {
  /** ms since epoch, taken synchronously when the node called send() */
  time: number;
  sourceId: string;
  port: number;
  msg: Record<string, any>;
}

export interface Runtime {
  RED: any;
  node<T = any>(id: string): T;
  /** hands msg to a node as if a wire delivered it */
  inject(id: string, msg: Record<string, unknown>): void;
  /** every message a node of `sourceId` sends (any port) */
  onSend(sourceId: string, listener: (m: SentMessage) => void): void;
  /** every message a node of `nodeId` finishes with done(), with its error if it failed */
  onComplete(nodeId: string, listener: (e: { time: number; msg: Record<string, any>; error?: unknown }) => void): void;
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  flow: Record<string, unknown>[];
  credentials?: Record<string, Record<string, string>>;
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug';
}

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const userDir = mkdtempSync(path.join(os.tmpdir(), 'segmind-bench-red-'));
  writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(options.flow));
  writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(options.credentials ?? {}));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red');
  RED.init(undefined, {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    // this checkout is loaded as a module: its package.json "node-red" section names the nodes
    // (BENCH_PACKAGE_DIR: another copy of the package, e.g. a patched build, for harness work)
    nodesDir: [process.env.BENCH_PACKAGE_DIR || ROOT],
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    uiPort: 0,
    logging: { console: { level: options.logLevel ?? 'error', metrics: false, audit: false } },
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    editorTheme: { tours: false },
  });

  const listeners = new Map<string, ((m: SentMessage) => void)[]>();
  RED.hooks.add('onSend.segmindBench', (events: any[]) => {
    const time = Date.now();
    for (const e of events) {
      const ls = listeners.get(e.source.id);
      if (ls) for (const l of ls) l({ time, sourceId: e.source.id, port: e.source.port, msg: e.msg });
    }
  });

  const completeListeners = new Map<string, ((e: { time: number; msg: Record<string, any>; error?: unknown }) => void)[]>();
  RED.hooks.add('onComplete.segmindBench', (e: { msg: Record<string, any>; error?: unknown; node: { id: string } }) => {
    const ls = completeListeners.get(e.node.id);
    if (ls) for (const l of ls) l({ time: Date.now(), msg: e.msg, error: e.error });
  });

  await RED.start();
  await waitForFlows(RED, options.flow);

  return {
    RED,
    node(id) {
      const n = RED.nodes.getNode(id);
      if (!n) throw new Error(`bench: node ${id} is not running (did its type load? see the log above)`);
      return n;
    },
    inject(id, msg) {
      RED.nodes.getNode(id).receive(msg);
    },
    onSend(sourceId, listener) {
      const ls = listeners.get(sourceId) ?? [];
      ls.push(listener);
      listeners.set(sourceId, ls);
    },
    onComplete(nodeId, listener) {
      const ls = completeListeners.get(nodeId) ?? [];
      ls.push(listener);
      completeListeners.set(nodeId, ls);
    },
    async stop() {
      RED.hooks.remove('onSend.segmindBench');
      RED.hooks.remove('onComplete.segmindBench');
      await RED.stop();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** RED.start resolves before flows finish starting; wait until every node of the flow exists. */
async function waitForFlows(RED: any, flow: Record<string, unknown>[]): Promise<void> {
  const ids = flow.filter((n) => n.type !== 'tab').map((n) => String(n.id));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (ids.every((id) => RED.nodes.getNode(id))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  const missing = ids.filter((id) => !RED.nodes.getNode(id));
  throw new Error(`bench: Node-RED did not start nodes ${missing.join(', ')} (types not loaded?)`);
}
