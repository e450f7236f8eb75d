// The parent side of bench/sandbox-child.ts: a sandbox running in its own process.
import type { JobHandle } from '../../src/client/types';
import type { JobScript, SandboxOptions } from '../../src/sandbox/types';
import { forkTs, RpcClient } from './proc';

export interface SandboxInfo {
  url: string;
  filesUrl: string;
  uploadUrl: string;
  apiKey: string;
  pid: number;
}

export interface Counters {
  byEndpoint: Record<string, number>;
  byStatus: Record<string, number>;
  /** TCP connections accepted by the sandbox's listeners */
  connections: number;
  /** status/result requests per request id */
  perId: Record<string, { status: number; result: number }>;
  /** every 429 answered: when (ms since epoch) and to which endpoint */
  rateLimited: { time: number; endpoint: string }[];
  startedAt: number;
}

export interface SubmitManyArgs {
  jobs: { model: string; durationSeconds?: number }[];
  payloads: Record<string, unknown>;
  concurrency?: number;
}

export interface SubmitSpreadArgs {
  jobs: { model: string; durationSeconds?: number }[];
  payloads: Record<string, unknown>;
  /** job i is submitted at offsetsMs[i] after the call */
  offsetsMs: number[];
  /** most submits under way at once; default 64 */
  concurrency?: number;
}

export interface JobTiming {
  requestId: string;
  model: string;
  submittedAt: number;
  doneAt: number;
  durationSeconds?: number;
}

export interface SandboxProcess extends SandboxInfo {
  submitMany(args: SubmitManyArgs): Promise<JobHandle[]>;
  /** submits each job at its offset and hands each handle to `onHandle` as soon as it exists */
  submitSpread(args: SubmitSpreadArgs, onHandle: (h: JobHandle, index: number) => void): Promise<JobHandle[]>;
  script(list: JobScript[]): Promise<void>;
  jobs(ids?: string[]): Promise<JobTiming[]>;
  counters(): Promise<Counters>;
  resetCounters(): Promise<void>;
  setRateLimit(perMinute: number | null): Promise<void>;
  memory(): Promise<NodeJS.MemoryUsage>;
  close(): Promise<void>;
}

export async function startSandboxProcess(options: SandboxOptions & { perId?: boolean }): Promise<SandboxProcess> {
  const rpc = new RpcClient(forkTs('bench/sandbox-child.ts', [], ['--max-old-space-size=4096']));
  const info = await rpc.call<SandboxInfo>('start', options);
  return {
    ...info,
    submitMany: (args) => rpc.call('submitMany', args),
    async submitSpread(args, onHandle) {
      rpc.events.set('handle', (d: { handle: JobHandle; index: number }) => onHandle(d.handle, d.index));
      try {
        return await rpc.call('submitSpread', args);
      } finally {
        rpc.events.delete('handle');
      }
    },
    script: (list) => rpc.call('script', list),
    jobs: (ids) => rpc.call('jobs', ids),
    counters: () => rpc.call('counters'),
    resetCounters: () => rpc.call('resetCounters'),
    setRateLimit: (n) => rpc.call('setRateLimit', n),
    memory: () => rpc.call('memory'),
    async close() {
      await rpc.call('close').catch(() => undefined);
      rpc.child.disconnect();
      await rpc.exit();
    },
  };
}
