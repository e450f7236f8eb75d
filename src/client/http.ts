// One undici Agent per client and the classification of what can go wrong on the wire.
import { EventEmitter } from 'node:events';
import { Agent, request } from 'undici';
import type { Readable } from 'node:stream';
import type { TransportFailure } from './errors';

export interface Timeouts {
  connect: number;
  headers: number;
  body: number;
  downloadBody: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connect: 10_000, headers: 30_000, body: 60_000, downloadBody: 300_000 };

export interface WireRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** the caller's signal, if any; it keeps governing the body until the body is done */
  signal?: AbortSignal;
  /**
   * This attempt's own abort handle: the headers timeout aborts it, and so may the owner (the client
   * aborts its in-flight attempts on close). One per attempt, as a timeout must not end later ones.
   */
  abort: AttemptAbort;
  bodyTimeout: number;
}

export interface WireResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & { text(): Promise<string>; dump(opts?: { limit?: number }): Promise<void> };
}

/**
 * Sockets per origin. Without a cap a burst of calls released together opens a socket per call
 * (thousands, each with its own buffers). API-host calls wait for a turn in the client's
 * RequestGate (same limit) before a request is built, so they never queue in undici; other calls
 * (downloads from output hosts) beyond the cap wait in undici's queue, and that wait counts
 * against the headers timeout, so the cap is well above what a flow's downloads keep in flight.
 */
export const MAX_CONNECTIONS_PER_ORIGIN = 128;

export function createAgent(timeouts: Timeouts): Agent {
  return new Agent({
    connections: MAX_CONNECTIONS_PER_ORIGIN,
    connect: { timeout: timeouts.connect },
    headersTimeout: timeouts.headers,
    bodyTimeout: timeouts.body,
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 60_000,
  });
}

/**
 * Cancels one attempt. undici takes an EventEmitter as a request's signal (its documented
 * `signal: AbortSignal | EventEmitter`); this costs a small fraction of an AbortController, whose
 * signal is a full EventTarget with its own listener map, and every poll makes one.
 */
export class AttemptAbort extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

const ONCE = { once: true } as const;

interface Turn {
  next: Turn | undefined;
  resolve(): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  done: boolean;
}

/**
 * Lets at most `limit` requests be under way at once (from request to the end of the body); the rest
 * wait here, in arrival order. A request waiting in undici's own queue for a socket already holds
 * its request, handler, headers and timers (tens of KB); a call waiting here holds a queue entry.
 * Bursts of thousands of polls would otherwise park that much in undici's queue, long enough for
 * V8 to move it all to the old generation before it dies.
 */
export class RequestGate {
  private active = 0;
  private head: Turn | undefined;
  private tail: Turn | undefined;
  private stopped: { reason: unknown } | undefined;

  constructor(readonly limit: number) {}

  /** Resolves when the caller may send; rejects with the signal's reason, or stop()'s. */
  enter(signal?: AbortSignal): Promise<void> | undefined {
    if (this.stopped) return Promise.reject(this.stopped.reason);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.limit && !this.head) {
      this.active++;
      return undefined; // no wait, no promise
    }
    return new Promise<void>((resolve, reject) => {
      const turn: Turn = { next: undefined, resolve, reject, signal, onAbort: undefined, done: false };
      if (signal) {
        // an aborted turn stays in the list, marked done, and is skipped when its time comes
        turn.onAbort = () => {
          if (turn.done) return;
          turn.done = true;
          reject(signal.reason);
        };
        signal.addEventListener('abort', turn.onAbort, ONCE);
      }
      if (this.tail) this.tail.next = turn;
      else this.head = turn;
      this.tail = turn;
    });
  }

  /** One request is done (body read, stream closed, or failed): the next waiting call may go. */
  leave(): void {
    for (let turn = this.head; turn; turn = this.head) {
      this.head = turn.next;
      if (!this.head) this.tail = undefined;
      if (turn.done) continue;
      turn.done = true;
      if (turn.onAbort) turn.signal!.removeEventListener('abort', turn.onAbort);
      turn.resolve(); // the slot passes straight to it
      return;
    }
    this.active--;
  }

  /** Rejects every waiting call and every later enter(). */
  stop(reason: unknown): void {
    this.stopped = { reason };
    for (let turn = this.head; turn; turn = turn.next) {
      if (turn.done) continue;
      turn.done = true;
      if (turn.onAbort) turn.signal!.removeEventListener('abort', turn.onAbort);
      turn.reject(reason);
    }
    this.head = this.tail = undefined;
  }
}

/** Thrown when no response headers arrived in time (undici's own timer ticks only every ~0.5 s). */
export class HeadersTimeoutError extends Error {
  readonly code = 'UND_ERR_HEADERS_TIMEOUT';
  constructor(ms: number) {
    super(`no response headers within ${ms} ms`);
    this.name = 'HeadersTimeoutError';
  }
}

/** One attempt: the request, cancelled by the caller's signal, by `req.abort` or by a precise headers timeout. */
export async function send(agent: Agent, req: WireRequest, headersTimeout: number): Promise<WireResponse> {
  const attempt = req.abort;
  const caller = req.signal;
  let onAbort: (() => void) | undefined;
  if (caller) {
    if (caller.aborted) attempt.abort(caller.reason);
    else {
      onAbort = () => attempt.abort(caller.reason);
      caller.addEventListener('abort', onAbort, ONCE);
    }
  }
  // the error (and its stack) is built only if the timer fires, not on every attempt
  let timeout: HeadersTimeoutError | undefined;
  const timer = setTimeout(() => {
    timeout = new HeadersTimeoutError(headersTimeout);
    attempt.abort(timeout);
  }, headersTimeout);
  try {
    const res = await request(req.url, {
      dispatcher: agent,
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: attempt,
      // undici's coarse timer is only a backstop behind ours
      headersTimeout: headersTimeout + 2_000,
      bodyTimeout: req.bodyTimeout,
    });
    clearTimeout(timer);
    // the caller's signal keeps governing the body until it is done
    if (onAbort) res.body.once('close', () => caller!.removeEventListener('abort', onAbort!));
    return { status: res.statusCode, headers: res.headers, body: res.body as WireResponse['body'] };
  } catch (err) {
    clearTimeout(timer);
    if (onAbort) caller!.removeEventListener('abort', onAbort);
    if (timeout && attempt.reason === timeout) throw timeout;
    throw err;
  }
}

const NOOP = (): void => undefined;

/** A body read with a cap: its text, or `over` when it was larger than the cap (the rest was not read). */
export interface CappedText {
  text: string;
  /** set when the body was over the cap: bytes announced (content-length) or counted when reading stopped */
  over?: number;
}

/**
 * Reads a body as UTF-8 text, at most `limit` bytes. A larger body (announced by content-length, or
 * counted while it arrives) is destroyed at once, so the rest is never buffered; what was read so
 * far comes back with `over`. Transport errors reject as body.text() would.
 */
export function readCapped(res: WireResponse, limit: number): Promise<CappedText> {
  const body = res.body;
  const header = res.headers['content-length'];
  const announced = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : undefined;
  if (announced !== undefined && announced > limit) {
    // undici errors a body destroyed before its end (RequestAbortedError): nobody needs that error
    body.on('error', NOOP);
    body.destroy();
    return Promise.resolve({ text: '', over: announced });
  }
  return new Promise<CappedText>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const text = () => (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)).toString('utf8');
    const stop = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > limit) {
        stop();
        body.on('error', NOOP);
        body.destroy();
        resolve({ text: text(), over: size + chunk.length });
        return;
      }
      size += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve({ text: size === 0 ? '' : text() });
    };
    const onError = (err: unknown) => {
      stop();
      reject(err);
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
  });
}

/**
 * Failures that happen before a connection exists, so no byte of the request left: a refused
 * connection and a host name that does not resolve (a DNS answer saying no such host, or no answer).
 */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);
const NETWORK_DETAIL: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ENOTFOUND: 'host name not found (DNS)',
  EAI_AGAIN: 'DNS lookup failed temporarily',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the server before the answer was complete',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'response shorter than its announced length',
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: 'request length mismatch',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate could not be verified',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host name',
};

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return undefined;
  if (typeof e.code === 'string') return e.code;
  // Node's happy-eyeballs connect throws an AggregateError of per-address failures
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const c = errorCode(inner);
      if (c) return c;
    }
  }
  if (e.cause) return errorCode(e.cause);
  return undefined;
}

function nothingSent(err: unknown): boolean {
  const e = err as { code?: unknown; errors?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  // happy eyeballs: every address failed before connecting
  if (Array.isArray(e.errors) && e.errors.length > 0) return e.errors.every((x) => NOT_SENT_CODES.has(errorCode(x) ?? ''));
  if (typeof e.code === 'string') return NOT_SENT_CODES.has(e.code);
  return e.cause !== undefined && nothingSent(e.cause);
}

/** Sorts a thrown transport error into what retry decisions need. `aborted` is decided by the caller. */
export function classifyTransportError(err: unknown): TransportFailure {
  const code = errorCode(err);
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { kind: 'timeout', phase: 'connect', detail: 'connect timeout' };
    case 'UND_ERR_HEADERS_TIMEOUT':
      return { kind: 'timeout', phase: 'headers', detail: 'headers timeout' };
    case 'UND_ERR_BODY_TIMEOUT':
      return { kind: 'timeout', phase: 'body', detail: 'body timeout' };
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
    case 'UND_ERR_DESTROYED':
    case 'UND_ERR_CLOSED':
      return { kind: 'aborted', detail: 'aborted' };
  }
  if (nothingSent(err)) {
    const detail = code && code !== 'ECONNREFUSED' && NETWORK_DETAIL[code] ? `${NETWORK_DETAIL[code]} (${code})` : 'connection refused';
    return { kind: 'refused', detail };
  }
  if (code && NETWORK_DETAIL[code]) return { kind: 'network', detail: `${NETWORK_DETAIL[code]} (${code})` };
  return { kind: 'network', detail: code ? `network error (${code})` : 'network error' };
}
