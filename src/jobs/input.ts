// What a message asks of the await node: wait for a job (from msg.segmind or a bare request id),
// or stop waiting for one. Pure; errors name the field, the value and what is allowed.

import type { WatchedJob } from './waiter';

export type AwaitRequest =
  | { kind: 'wait'; job: WatchedJob; timeoutSeconds: number }
  | { kind: 'stop'; requestId: string }
  | { kind: 'invalid'; message: string; field: string };

/** Segmind's ids are UUIDs; anything with slashes, spaces or of absurd length is not an id. */
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

/** Longest timeout accepted, API seconds: a day (Segmind forgets jobs after an hour anyway). */
export const MAX_TIMEOUT_SECONDS = 86_400;

export function isRequestId(v: unknown): v is string {
  return typeof v === 'string' && REQUEST_ID.test(v);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return v.length > 60 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (Buffer.isBuffer(v)) return `a Buffer of ${v.length} bytes`;
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/** The request id a message carries, and where it was found. */
function findRequestId(msg: Record<string, unknown>): { id?: unknown; field: string } {
  const seg = msg.segmind;
  if (seg && typeof seg === 'object' && !Array.isArray(seg)) {
    const s = seg as Record<string, unknown>;
    if (s.requestId !== undefined) return { id: s.requestId, field: 'msg.segmind.requestId' };
    if (s.request_id !== undefined) return { id: s.request_id, field: 'msg.segmind.request_id' };
  }
  if (typeof seg === 'string') return { id: seg.trim(), field: 'msg.segmind' };
  const p = msg.payload;
  if (typeof p === 'string') return { id: p.trim(), field: 'msg.payload' };
  if (p && typeof p === 'object' && !Array.isArray(p) && !Buffer.isBuffer(p)) {
    // a raw submit answer passed on unchanged
    const o = p as Record<string, unknown>;
    if (o.request_id !== undefined) return { id: o.request_id, field: 'msg.payload.request_id' };
    if (o.requestId !== undefined) return { id: o.requestId, field: 'msg.payload.requestId' };
  }
  return { field: 'msg.segmind.requestId' };
}

/** Reads a timeout in seconds from a message; undefined when absent. */
function readTimeout(v: unknown): number | string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
  if (!Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_SECONDS) {
    return `msg.timeout must be a number of seconds above 0 and at most ${MAX_TIMEOUT_SECONDS}; got ${describe(v)}`;
  }
  return n;
}

export function parseAwaitInput(msg: Record<string, unknown>, defaultTimeoutSeconds: number): AwaitRequest {
  const { id, field } = findRequestId(msg);
  const stop = msg.stop === true || msg.stop === 'true';
  if (!isRequestId(id)) {
    // what matters first: which field, what it held
    const what = stop ? 'to stop waiting, send msg.stop = true with the request id' : 'the await node needs a Segmind request id';
    return {
      kind: 'invalid',
      field,
      message: `${field} is ${describe(id)}: ${what} in msg.segmind.requestId (as a model node sets it) or msg.payload.`,
    };
  }
  if (stop) return { kind: 'stop', requestId: id };
  const timeout = readTimeout(msg.timeout);
  if (typeof timeout === 'string') return { kind: 'invalid', field: 'msg.timeout', message: timeout };
  const seg = msg.segmind && typeof msg.segmind === 'object' ? (msg.segmind as Record<string, unknown>) : {};
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  const submitted = typeof seg.submittedAt === 'string' || typeof seg.submittedAt === 'number' ? new Date(seg.submittedAt).getTime() : NaN;
  return {
    kind: 'wait',
    timeoutSeconds: timeout ?? defaultTimeoutSeconds,
    job: {
      requestId: id,
      model: str(seg.model),
      statusUrl: str(seg.statusUrl),
      responseUrl: str(seg.responseUrl),
      submittedAt: Number.isFinite(submitted) ? submitted : undefined,
    },
  };
}
