// Child processes for the benchmark: each measurement runs in a fresh Node process (so memory
// figures belong to what is measured), and the sandbox runs in its own process (so its work and
// memory are not counted against Node-RED). They talk over Node's IPC channel with a tiny RPC.

import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

interface Request {
  rpc: number;
  cmd: string;
  args: unknown;
}
interface Reply {
  rpc: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** Starts `file` (TypeScript, run through tsx) with an IPC channel. */
export function forkTs(file: string, args: string[] = [], execArgv: string[] = []): ChildProcess {
  return fork(path.resolve(ROOT, file), args, {
    cwd: ROOT,
    execArgv: [...execArgv, '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
}

/** Parent side: call commands of a child that runs `serve`. */
export class RpcClient {
  private next = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited: Error | undefined;
  /** listeners for events the child pushes with `emit` */
  readonly events = new Map<string, (data: any) => void>();

  constructor(readonly child: ChildProcess) {
    child.on('message', (m: Reply & { event?: string; data?: unknown }) => {
      if (m && typeof m.event === 'string') {
        this.events.get(m.event)?.(m.data);
        return;
      }
      if (!m || typeof m.rpc !== 'number') return;
      const p = this.pending.get(m.rpc);
      if (!p) return;
      this.pending.delete(m.rpc);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`child ${child.pid} exited (code ${code}, signal ${signal})`);
      for (const p of this.pending.values()) p.reject(this.exited);
      this.pending.clear();
    });
  }

  call<T>(cmd: string, args?: unknown): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    const rpc = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(rpc, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ rpc, cmd, args } satisfies Request);
    });
  }

  /** Waits for the child to exit (after asking it to). */
  exit(timeoutMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, timeoutMs);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Child side: push an event to the parent (delivered to RpcClient.events). */
export function emit(event: string, data: unknown): void {
  process.send?.({ event, data });
}

/** Child side: answer RPC calls until the parent disconnects. */
export function serve(handlers: Record<string, (args: any) => unknown>): void {
  process.on('message', async (m: Request) => {
    if (!m || typeof m.rpc !== 'number') return;
    try {
      const handler = handlers[m.cmd];
      if (!handler) throw new Error(`unknown command ${m.cmd}`);
      const result = await handler(m.args);
      process.send?.({ rpc: m.rpc, ok: true, result } satisfies Reply);
    } catch (err) {
      process.send?.({ rpc: m.rpc, ok: false, error: (err as Error).stack ?? String(err) } satisfies Reply);
    }
  });
  process.on('disconnect', () => process.exit(0));
}
