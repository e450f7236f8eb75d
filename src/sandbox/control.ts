// HTTP control API under /__sandbox/ on the API listener, for tests that drive a sandbox running
// in another process (Node-RED under test). No key needed; never rate limited, faulted or recorded.
//
//   GET    /__sandbox/info                       {url, uploadUrl, filesUrl, apiKeys, timeScale}
//   GET    /__sandbox/requests[?endpoint=&method=&listener=&model=]   recorded requests
//   DELETE /__sandbox/requests                   forget recorded requests
//   GET    /__sandbox/count[?endpoint=&method=&listener=&model=]      {count}
//   POST   /__sandbox/faults    RequestFault     queue a fault (times: null | -1 | "Infinity" = always)
//   DELETE /__sandbox/faults                     drop queued faults
//   POST   /__sandbox/jobs      JobScript        script the next job(s)
//   GET    /__sandbox/jobs                       jobs with their current status
//   GET    /__sandbox/held[?wait=N&timeoutMs=T]  answers a `hold` fault holds back; with wait, answers
//                                                once N are held (or after T ms, default 30000)
//   POST   /__sandbox/release  [ReleaseFilter]  send held answers ({requestId, endpoint, model}; all
//                                                without one): {released}
//   POST   /__sandbox/rate-limit {perMinute}     change the limit (null = none)
//   POST   /__sandbox/reset     [{jobs:false}]   forget faults, scripts, requests, rate windows, release
//                                                held answers and, unless jobs is false, jobs and uploads

import type { IncomingMessage, ServerResponse } from 'node:http';
import { validateFault, validateJobScript } from './faults';
import type { JobTable } from './jobs';
import type { Recorder, RecordFilter } from './recorder';
import { readBody } from './reply';
import type { HeldRequest, JobScript, RecordedRequest, ReleaseFilter, RequestFault } from './types';

/** Longest a GET /held?wait= long poll waits by default. */
const HELD_WAIT_MS = 30_000;

export interface ControlTarget {
  url: string;
  uploadUrl: string;
  filesUrl: string;
  apiKeys: string[];
  timeScale: number;
  table: JobTable;
  recorder: Recorder;
  fault(f: RequestFault): void;
  scriptJob(s: JobScript): void;
  clearFaults(): void;
  resetRequests(): void;
  setRateLimit(perMinute: number | null): void;
  reset(options?: { jobs?: boolean }): void;
  outputUrl(id: string): string;
  now(): number;
  held(): HeldRequest[];
  whenHeld(count: number, signal?: AbortSignal): Promise<HeldRequest[]>;
  release(filter?: ReleaseFilter): number;
}

function releaseFilterOf(body: unknown): ReleaseFilter {
  if (body === undefined) return {};
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error(`release: expected an object, got ${JSON.stringify(body)}`);
  const f: ReleaseFilter = {};
  for (const key of ['requestId', 'endpoint', 'model'] as const) {
    const v = (body as Record<string, unknown>)[key];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new Error(`${key}: expected a string, got ${JSON.stringify(v)}`);
    (f as Record<string, string>)[key] = v;
  }
  return f;
}

/** Long poll: the held answers once `count` are held, or those held when `ms` ran out or the client left. */
async function heldAfterWait(sb: ControlTarget, res: ServerResponse, count: number, ms: number): Promise<HeldRequest[]> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), ms);
  const onClose = (): void => stop.abort();
  res.once('close', onClose);
  try {
    return await sb.whenHeld(count, stop.signal);
  } finally {
    clearTimeout(timer);
    res.off('close', onClose);
  }
}

function nonNegativeInt(name: string, value: string | null, fallback: number): number {
  if (value === null) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: expected an integer >= 0, got ${JSON.stringify(value)}`);
  return n;
}

function send(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value ?? { ok: true }));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length, 'cache-control': 'no-store' });
  res.end(body);
}

function filterOf(query: string): RecordFilter {
  const p = new URLSearchParams(query);
  const f: RecordFilter = {};
  const endpoint = p.get('endpoint');
  const method = p.get('method');
  const listener = p.get('listener');
  const model = p.get('model');
  if (endpoint) f.endpoint = endpoint as RecordFilter['endpoint'];
  if (method) f.method = method.toUpperCase();
  if (listener) f.listener = listener as RecordFilter['listener'];
  if (model) f.model = model;
  return f;
}

function matches(r: RecordedRequest, f: RecordFilter): boolean {
  return (
    (f.endpoint === undefined || r.endpoint === f.endpoint) &&
    (f.method === undefined || r.method === f.method) &&
    (f.listener === undefined || r.listener === f.listener) &&
    (f.model === undefined || r.model === f.model)
  );
}

export async function handleControl(sb: ControlTarget, req: IncomingMessage, res: ServerResponse, pathname: string, query: string): Promise<void> {
  const raw = req.method === 'POST' || req.method === 'PUT' || req.method === 'DELETE' ? await readBody(req, 1024 * 1024) : Buffer.alloc(0);
  let body: unknown;
  if (raw.length > 0) {
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      return send(res, 400, { error: `Invalid JSON body: ${(err as Error).message}` });
    }
  }
  const what = `${req.method} ${pathname.slice('/__sandbox'.length)}`;
  try {
    switch (what) {
      case 'GET /info':
        return send(res, 200, { url: sb.url, uploadUrl: sb.uploadUrl, filesUrl: sb.filesUrl, apiKeys: sb.apiKeys, timeScale: sb.timeScale });
      case 'GET /requests': {
        const f = filterOf(query);
        return send(res, 200, sb.recorder.list.filter((r) => matches(r, f)));
      }
      case 'DELETE /requests':
        sb.resetRequests();
        return send(res, 200, { ok: true });
      case 'GET /count':
        return send(res, 200, { count: sb.recorder.count(filterOf(query)) });
      case 'POST /faults':
        sb.fault(validateFault(body));
        return send(res, 200, { ok: true });
      case 'DELETE /faults':
        sb.clearFaults();
        return send(res, 200, { ok: true });
      case 'POST /jobs':
        sb.scriptJob(validateJobScript(body));
        return send(res, 200, { ok: true });
      case 'GET /jobs': {
        const now = sb.now();
        const jobs = [...sb.table.jobs.values()].map((job) => {
          const phase = sb.table.phase(job, now);
          return {
            requestId: job.requestId,
            model: job.model,
            payload: job.payload,
            submittedAt: job.submittedAt,
            startedAt: job.startedAt,
            doneAt: Number.isFinite(job.doneAt) ? job.doneAt : null,
            durationSeconds: Number.isFinite(job.durationSeconds) ? job.durationSeconds : null,
            outcome: job.outcome,
            error: job.error,
            expired: sb.table.expired(job, now),
            cost: job.cost,
            status: phase.kind === 'running' ? phase.status : phase.kind === 'completed' ? 'COMPLETED' : 'FAILED',
          };
        });
        return send(res, 200, jobs);
      }
      case 'GET /held': {
        const p = new URLSearchParams(query);
        const wait = nonNegativeInt('wait', p.get('wait'), 0);
        if (wait === 0) return send(res, 200, sb.held());
        return send(res, 200, await heldAfterWait(sb, res, wait, nonNegativeInt('timeoutMs', p.get('timeoutMs'), HELD_WAIT_MS)));
      }
      case 'POST /release':
        return send(res, 200, { released: sb.release(releaseFilterOf(body)) });
      case 'POST /rate-limit': {
        const perMinute = (body as { perMinute?: unknown } | undefined)?.perMinute;
        if (perMinute !== null && typeof perMinute !== 'number') {
          return send(res, 400, { error: `perMinute: expected a positive integer or null, got ${JSON.stringify(perMinute)}` });
        }
        sb.setRateLimit(perMinute);
        return send(res, 200, { ok: true });
      }
      case 'POST /reset':
        sb.reset({ jobs: (body as { jobs?: unknown } | undefined)?.jobs !== false });
        return send(res, 200, { ok: true });
      default:
        return send(res, 404, { error: `Unknown sandbox control ${what}` });
    }
  } catch (err) {
    return send(res, 400, { error: (err as Error).message });
  }
}
