// Harness of the await node tests: the BUILT node sets (npm run build first) in the real Node-RED
// runtime via node-red-node-test-helper, with their real message catalogs, against a real sandbox.
// Flow: config 'cfg' + await node 'aw' -> helpers 'done1' (completed), 'done2' (failed), 'done3'
// (timed out); a complete node counts done() calls of 'aw'.
import type { Sandbox } from '../../src/sandbox';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper = require('node-red-node-test-helper');

export { ROOT, builtNodeSet, initI18n } from '../support/runtime';
import { builtNodeSet, type NodeModule } from '../support/runtime';
export const API_KEY = 'SG_await_test_4b8e2c';

export const sets = (): NodeModule[] => [builtNodeSet('nodes/segmind-config.js'), builtNodeSet('nodes/segmind-await.js')];

export interface FlowOptions {
  scale: number;
  await?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

export function awaitFlow(sb: Sandbox, o: FlowOptions): Record<string, unknown>[] {
  return [
    { id: 'f', type: 'tab' },
    { id: 'cfg', type: 'segmind-config', name: 'test', baseUrl: sb.url, uploadUrl: sb.uploadUrl, rpm: 100000, timeScale: o.scale, ...o.config },
    { id: 'aw', z: 'f', type: 'segmind await', name: '', config: 'cfg', timeout: 900, result: 'url', folder: '', store: '', ...o.await, wires: [['done1'], ['done2'], ['done3']] },
    { id: 'done1', z: 'f', type: 'helper' },
    { id: 'done2', z: 'f', type: 'helper' },
    { id: 'done3', z: 'f', type: 'helper' },
    { id: 'completer', z: 'f', type: 'complete', scope: ['aw'], uncaught: false, wires: [['completed']] },
    { id: 'completed', z: 'f', type: 'helper' },
  ];
}

export const credentials = (key = API_KEY) => ({ cfg: { apiKey: key } });

export interface Delivery {
  output: 1 | 2 | 3;
  msg: any;
}

/** Collects what leaves the await node (and done() calls) from now on; re-attach after a redeploy. */
export class Collector {
  deliveries: Delivery[] = [];
  completes = 0;
  statuses: any[] = [];
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  private completeWaiters: Array<{ n: number; resolve: () => void }> = [];

  attach(): this {
    for (const output of [1, 2, 3] as const) {
      helper.getNode(`done${output}`).on('input', (msg: unknown) => {
        this.deliveries.push({ output, msg });
        this.check();
      });
    }
    helper.getNode('completed').on('input', () => {
      this.completes++;
      this.check();
    });
    helper.getNode('aw').on('call:status', (call: { args: unknown[] }) => this.statuses.push(call.args[0]));
    return this;
  }

  private check(): void {
    for (const w of [...this.waiters]) {
      if (this.deliveries.length >= w.n) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
    for (const w of [...this.completeWaiters]) {
      if (this.completes >= w.n) {
        this.completeWaiters.splice(this.completeWaiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  /** resolves once the Complete node has heard of n done() calls (it hears asynchronously; rejects after ms) */
  waitForCompletes(n: number, ms = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.completes} of ${n} done() calls within ${ms} ms`)), ms);
      this.completeWaiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      this.check();
    });
  }

  /** resolves once n messages have left (rejects after ms) */
  waitFor(n: number, ms = 10_000): Promise<Delivery[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.deliveries.length} of ${n} deliveries within ${ms} ms: ${JSON.stringify(this.deliveries.map((d) => [d.output, d.msg.segmind?.requestId, d.msg.error?.code]))}`)), ms);
      this.waiters.push({ n, resolve: () => (clearTimeout(timer), resolve(this.deliveries)) });
      this.check();
    });
  }

  on(output: 1 | 2 | 3): any[] {
    return this.deliveries.filter((d) => d.output === output).map((d) => d.msg);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
