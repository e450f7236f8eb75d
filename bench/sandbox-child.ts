// The sandbox in its own process, driven over IPC by the benchmark (bench/lib/sandbox-proc.ts).
// Besides the sandbox's own records it counts every request and connection itself (diagnostics
// channels), so the counts exist even with record: false.

import dc from 'node:diagnostics_channel';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobHandle } from '../src/client/types';
import type { Sandbox, SandboxOptions } from '../src/sandbox/types';
import { emit, serve } from './lib/proc';
import type { Counters, SandboxInfo, SubmitManyArgs, SubmitSpreadArgs, JobTiming } from './lib/sandbox-proc';

// The built bundle (npm run build), the same code a user runs with `npm run sandbox`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startSandbox } = require('../nodes/lib/sandbox.js') as typeof import('../src/sandbox');

let sandbox: Sandbox | undefined;
let apiPort = 0;
const KEY = 'SG_sandbox';

function freshCounters(): Counters {
  return {
    byEndpoint: {},
    byStatus: {},
    connections: 0,
    perId: {},
    rateLimited: [],
    startedAt: Date.now(),
  };
}
let counters = freshCounters();
let perIdEnabled = true;

const STATUS_PATH = /^\/v2\/requests\/([^/?]+)\/status/;
const RESULT_PATH = /^\/v2\/requests\/([^/?]+)(?:\?|$)/;

function classify(req: IncomingMessage, port: number): { endpoint: string; id?: string } {
  const url = req.url ?? '';
  if (port !== apiPort) return { endpoint: 'output' };
  let m = STATUS_PATH.exec(url);
  if (m) return { endpoint: 'status', id: m[1] };
  m = RESULT_PATH.exec(url);
  if (m) return { endpoint: 'result', id: m[1] };
  if (req.method === 'POST' && url.startsWith('/v2/')) return { endpoint: 'submit' };
  if (url.startsWith('/upload-asset')) return { endpoint: 'upload' };
  return { endpoint: 'other' };
}

dc.subscribe('net.server.socket', () => {
  counters.connections++;
});
dc.subscribe('http.server.request.start', (message) => {
  const { request, response, server } = message as { request: IncomingMessage; response: ServerResponse; server: Server };
  const port = (server.address() as AddressInfo | null)?.port ?? 0;
  const { endpoint, id } = classify(request, port);
  const c = counters;
  c.byEndpoint[endpoint] = (c.byEndpoint[endpoint] ?? 0) + 1;
  if (id && perIdEnabled && (endpoint === 'status' || endpoint === 'result')) {
    const e = (c.perId[id] ??= { status: 0, result: 0 });
    e[endpoint]++;
  }
  response.once('finish', () => {
    const code = String(response.statusCode);
    c.byStatus[code] = (c.byStatus[code] ?? 0) + 1;
    if (response.statusCode === 429) c.rateLimited.push({ time: Date.now(), endpoint });
  });
});

function need(): Sandbox {
  if (!sandbox) throw new Error('sandbox not started');
  return sandbox;
}

async function submitOne(model: string, payload: unknown): Promise<JobHandle> {
  const s = need();
  const res = await fetch(`${s.url}/v2/${model}`, {
    method: 'POST',
    headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  const body = (await res.json()) as Record<string, string>;
  if (res.status !== 200) throw new Error(`submit ${model}: HTTP ${res.status} ${JSON.stringify(body)}`);
  // The sandbox's own creation time, not the time the answer arrived: at a compressed time scale a
  // few ms of round trip would be whole API seconds of schedule offset, which real time does not have.
  const created = s.jobs.get(body.request_id)?.submittedAt ?? Date.now();
  return {
    model,
    requestId: body.request_id,
    statusUrl: body.status_url,
    responseUrl: body.response_url,
    submittedAt: new Date(created).toISOString(),
  };
}

serve({
  async start(options: SandboxOptions & { perId?: boolean }): Promise<SandboxInfo> {
    perIdEnabled = options.perId ?? true;
    sandbox = await startSandbox({ quiet: true, ...options });
    apiPort = Number(new URL(sandbox.url).port);
    counters = freshCounters();
    return { url: sandbox.url, filesUrl: sandbox.filesUrl, uploadUrl: sandbox.uploadUrl, apiKey: KEY, pid: process.pid };
  },

  /**
   * Submits jobs straight to the sandbox (not through the package), `concurrency` at a time. Jobs
   * with a duration are scripted first (per model, in order), so each model's jobs run exactly the
   * durations given, whichever submit lands first; the others get the sandbox's own draw.
   */
  async submitMany(args: SubmitManyArgs): Promise<JobHandle[]> {
    const s = need();
    for (const j of args.jobs) {
      if (j.durationSeconds !== undefined) s.scriptJob({ model: j.model, outcome: 'complete', durationSeconds: j.durationSeconds });
    }
    const handles: JobHandle[] = new Array(args.jobs.length);
    let next = 0;
    const worker = async () => {
      while (next < args.jobs.length) {
        const i = next++;
        handles[i] = await submitOne(args.jobs[i].model, args.payloads[args.jobs[i].model]);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, args.concurrency ?? 32) }, worker));
    return handles;
  },

  /**
   * Submits job i at offsetsMs[i] (scripted durations as in submitMany) and pushes each handle to
   * the parent the moment it exists, as a model node would pass it on.
   */
  async submitSpread(args: SubmitSpreadArgs): Promise<JobHandle[]> {
    const s = need();
    for (const j of args.jobs) {
      if (j.durationSeconds !== undefined) s.scriptJob({ model: j.model, outcome: 'complete', durationSeconds: j.durationSeconds });
    }
    const t0 = Date.now();
    // at most this many submits under way at once (thousands at once would run out of sockets)
    let free = args.concurrency ?? 64;
    const queue: Array<() => void> = [];
    const turn = () => (free > 0 ? (free--, Promise.resolve()) : new Promise<void>((r) => queue.push(r)));
    const done = () => {
      const next = queue.shift();
      if (next) next();
      else free++;
    };
    return Promise.all(
      args.jobs.map(async (j, index) => {
        await new Promise((r) => setTimeout(r, Math.max(0, t0 + args.offsetsMs[index] - Date.now())));
        await turn();
        try {
          const handle = await submitOne(j.model, args.payloads[j.model]);
          emit('handle', { handle, index });
          return handle;
        } finally {
          done();
        }
      }),
    );
  },

  script(list: Parameters<Sandbox['scriptJob']>[0][]): void {
    for (const s of list) need().scriptJob(s);
  },

  jobs(ids?: string[]): JobTiming[] {
    const s = need();
    const pick = ids ?? [...s.jobs.keys()];
    return pick.flatMap((id) => {
      const j = s.jobs.get(id);
      return j ? [{ requestId: j.requestId, model: j.model, submittedAt: j.submittedAt, doneAt: j.doneAt, durationSeconds: j.durationSeconds }] : [];
    });
  },

  counters(): Counters {
    return counters;
  },

  resetCounters(): void {
    counters = freshCounters();
  },

  setRateLimit(perMinute: number | null): void {
    need().setRateLimit(perMinute);
  },

  memory(): NodeJS.MemoryUsage {
    return process.memoryUsage();
  },

  async close(): Promise<void> {
    await sandbox?.close();
    sandbox = undefined;
  },
});
