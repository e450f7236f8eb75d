// The one error type of the client, and the builders that turn HTTP answers and transport failures
// into messages a Node-RED user can act on. Every message built from foreign text is scrubbed of the key.
import type { ErrorCode } from './types';

export interface SegmindErrorInit {
  code: ErrorCode;
  message: string;
  httpStatus?: number;
  segmindError?: string;
  retryable: boolean;
  /** for rate_limited: epoch ms before which a retry would be refused again */
  retryAt?: number;
  /** how many attempts were made */
  attempts?: number;
  cause?: Error;
}

export class SegmindError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus?: number;
  /** Segmind's own `error` text, when it sent one */
  readonly segmindError?: string;
  /** true when the same call may succeed if tried again later (never for an ambiguous submit) */
  readonly retryable: boolean;
  readonly retryAt?: number;
  readonly attempts?: number;

  constructor(init: SegmindErrorInit) {
    super(init.message, init.cause ? { cause: init.cause } : undefined);
    this.name = 'SegmindError';
    this.code = init.code;
    this.httpStatus = init.httpStatus;
    this.segmindError = init.segmindError;
    this.retryable = init.retryable;
    this.retryAt = init.retryAt;
    this.attempts = init.attempts;
  }
}

export function isSegmindError(e: unknown): e is SegmindError {
  return e instanceof SegmindError;
}

/** Replaces every occurrence of the secret with '***'. */
export function scrub(text: string, secret: string | undefined): string {
  if (!secret) return text;
  return text.split(secret).join('***');
}

/** A copy of a foreign error that carries no secret: only name, code and a scrubbed message. */
export function safeCause(err: unknown, secret: string | undefined): Error | undefined {
  if (err === undefined || err === null) return undefined;
  const e = err as { name?: unknown; message?: unknown; code?: unknown };
  const copy = new Error(scrub(String(e.message ?? err), secret));
  copy.name = typeof e.name === 'string' ? e.name : 'Error';
  if (typeof e.code === 'string' || typeof e.code === 'number') (copy as Error & { code?: unknown }).code = e.code;
  return copy;
}

/** What an HTTP error is about, so messages can say it. */
export interface CallContext {
  /** e.g. "submit to model 'sadtalker'" */
  what: string;
  /** 'post' calls bill a job and are never re-sent after an ambiguous failure */
  kind: 'submit' | 'upload' | 'status' | 'result' | 'download';
  model?: string;
  requestId?: string;
  /** epoch ms of submission, for 404 -> expired */
  submittedAt?: number;
  /** API-time multiplier */
  timeScale: number;
  secret: string;
}

export const RETENTION_API_SECONDS = 3600;

const AMBIGUOUS_SUFFIX: Record<'submit' | 'upload', string> = {
  submit:
    ' The job may or may not have been created (and billed) by Segmind; it was not submitted again ' +
    'automatically. Check your Segmind dashboard before retrying.',
  upload:
    ' The upload may or may not have been stored by Segmind; it was not sent again automatically.',
};

export function isPost(ctx: Pick<CallContext, 'kind'>): ctx is { kind: 'submit' | 'upload' } {
  return ctx.kind === 'submit' || ctx.kind === 'upload';
}

/** Segmind's `error` text from a body, scrubbed and shortened; undefined when none. */
export function extractSegmindError(bodyText: string, secret: string): string | undefined {
  const trimmed = bodyText.trim();
  if (!trimmed) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (parsed && typeof parsed === 'object') {
      const rec = parsed as Record<string, unknown>;
      for (const key of ['error', 'message', 'detail']) {
        const v = rec[key];
        if (typeof v === 'string' && v.trim()) return shorten(scrub(v.trim(), secret));
        if (v && typeof v === 'object') return shorten(scrub(JSON.stringify(v), secret));
      }
    }
    return undefined;
  } catch {
    return undefined;
  }
}

function shorten(s: string, max = 500): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function looksLikeHtml(bodyText: string, contentType: string | undefined): boolean {
  return (contentType ?? '').includes('html') || /^\s*<(!doctype|html|head|body)/i.test(bodyText);
}

/** Builds the error for a non-2xx answer (422 on status/result is handled before this as a job outcome). */
export function httpError(
  status: number,
  bodyText: string,
  contentType: string | undefined,
  ctx: CallContext,
  extra: { retryAt?: number; attempts?: number } = {},
): SegmindError {
  const segmindError = extractSegmindError(bodyText, ctx.secret);
  const said = segmindError ? `: ${segmindError}` : '';
  const post = isPost(ctx);
  const base = { httpStatus: status, segmindError, attempts: extra.attempts };
  const msg = (m: string) => scrub(m, ctx.secret);

  if (status === 401) {
    return new SegmindError({
      ...base,
      code: 'auth',
      retryable: false,
      message: msg(`Segmind rejected the API key (HTTP 401)${said}. Check the API key in the Segmind config node.`),
    });
  }
  if (status === 403) {
    return new SegmindError({
      ...base,
      code: 'auth',
      retryable: false,
      message: msg(`Segmind refused access for this API key (HTTP 403) during ${ctx.what}${said}.`),
    });
  }
  if (status === 406) {
    return new SegmindError({
      ...base,
      code: 'credits',
      retryable: false,
      message: msg(
        `Segmind refused ${ctx.what} (HTTP 406)${said}. This usually means insufficient credits or a team spend limit; add credits at segmind.com.`,
      ),
    });
  }
  if (status === 429) {
    const when = extra.retryAt ? ` Segmind allows the next request at ${new Date(extra.retryAt).toISOString()}.` : '';
    const tries = extra.attempts && extra.attempts > 1 ? ` after ${extra.attempts} attempts` : '';
    return new SegmindError({
      ...base,
      code: 'rate_limited',
      retryable: true,
      retryAt: extra.retryAt,
      message: msg(
        `Segmind rate limit reached (HTTP 429) for ${ctx.what}${tries}${said}.${when} Lower the requests per minute in the Segmind config node or poll less often.`,
      ),
    });
  }
  if (status === 404) {
    if (ctx.requestId && (ctx.kind === 'status' || ctx.kind === 'result')) {
      const ageMs = ctx.submittedAt !== undefined ? Date.now() - ctx.submittedAt : undefined;
      if (ageMs !== undefined && ageMs > RETENTION_API_SECONDS * 1000 * ctx.timeScale) {
        return new SegmindError({
          ...base,
          code: 'expired',
          retryable: false,
          message: msg(
            `Segmind no longer has request ${ctx.requestId} (HTTP 404): it keeps status and results for 1 hour after submission, and this job was submitted at ${new Date(ctx.submittedAt!).toISOString()}.`,
          ),
        });
      }
      return new SegmindError({
        ...base,
        code: 'not_found',
        retryable: false,
        message: msg(`Segmind does not know request ${ctx.requestId} (HTTP 404)${said}.`),
      });
    }
    if (ctx.kind === 'submit' && ctx.model) {
      return new SegmindError({
        ...base,
        code: 'not_found',
        retryable: false,
        message: msg(`Segmind does not know model '${ctx.model}' (HTTP 404)${said}. Check the model slug.`),
      });
    }
    return new SegmindError({
      ...base,
      code: 'not_found',
      retryable: false,
      message: msg(`Not found (HTTP 404) during ${ctx.what}${said}.`),
    });
  }
  if (status === 410) {
    return new SegmindError({
      ...base,
      code: 'retired',
      retryable: false,
      message: msg(
        `Segmind has retired ${ctx.model ? `model '${ctx.model}'` : 'this endpoint'} (HTTP 410)${said}. Choose another model.`,
      ),
    });
  }
  if (status === 405) {
    const html = looksLikeHtml(bodyText, contentType) ? ' with an HTML page' : '';
    return new SegmindError({
      ...base,
      code: 'bad_request',
      retryable: false,
      message: msg(
        `Segmind answered HTTP 405 Method Not Allowed${html} for ${ctx.what}; the URL is probably wrong (check the base URL and model slug).`,
      ),
    });
  }
  if (status >= 400 && status < 500) {
    return new SegmindError({
      ...base,
      code: 'bad_request',
      retryable: false,
      message: msg(`Segmind rejected ${ctx.what} as invalid (HTTP ${status})${said}.`),
    });
  }
  if (status >= 500) {
    const suffix = post ? AMBIGUOUS_SUFFIX[ctx.kind as 'submit' | 'upload'] : '';
    const tries = !post && extra.attempts && extra.attempts > 1 ? ` after ${extra.attempts} attempts` : '';
    return new SegmindError({
      ...base,
      code: 'server',
      retryable: !post,
      message: msg(`Segmind had a server error (HTTP ${status}) during ${ctx.what}${tries}${said}.${suffix}`),
    });
  }
  // 1xx/3xx that reached us: the API never redirects, so this is not an answer we understand.
  return new SegmindError({
    ...base,
    code: 'invalid_response',
    retryable: false,
    message: msg(`Segmind answered ${ctx.what} with an unexpected HTTP ${status}.`),
  });
}

/** Kinds of transport failure, as far as retry decisions care. */
export type TransportFailure =
  | { kind: 'refused'; detail: string } // nothing was sent: safe to re-send even a POST
  | { kind: 'network'; detail: string } // may have been sent
  | { kind: 'timeout'; phase: 'connect' | 'headers' | 'body'; detail: string }
  | { kind: 'aborted'; detail: string };

export function transportError(
  failure: TransportFailure,
  ctx: CallContext,
  opts: { target: string; timeoutMs?: number; attempts?: number; cause?: unknown; closed?: boolean },
): SegmindError {
  const cause = safeCause(opts.cause, ctx.secret);
  const post = isPost(ctx);
  const tries = opts.attempts && opts.attempts > 1 ? ` (${opts.attempts} attempts)` : '';
  const msg = (m: string) => scrub(m, ctx.secret);
  switch (failure.kind) {
    case 'aborted':
      return new SegmindError({
        code: 'aborted',
        retryable: false,
        cause,
        attempts: opts.attempts,
        message: msg(
          opts.closed
            ? `${capitalize(ctx.what)} was cancelled because the Segmind client was closed (redeploy or shutdown).`
            : `${capitalize(ctx.what)} was cancelled.`,
        ),
      });
    case 'refused':
      return new SegmindError({
        code: 'network',
        retryable: true, // nothing reached the server
        cause,
        attempts: opts.attempts,
        message: msg(`Could not connect to ${opts.target} for ${ctx.what}${tries}: ${failure.detail}. Nothing was sent.`),
      });
    case 'network':
      return new SegmindError({
        code: 'network',
        retryable: !post,
        cause,
        attempts: opts.attempts,
        message: msg(
          `Network failure talking to ${opts.target} during ${ctx.what}${tries}: ${failure.detail}.${post ? AMBIGUOUS_SUFFIX[ctx.kind as 'submit' | 'upload'] : ''}`,
        ),
      });
    case 'timeout': {
      const secs = opts.timeoutMs !== undefined ? ` within ${formatSeconds(opts.timeoutMs)}` : '';
      const phase =
        failure.phase === 'connect'
          ? `could not connect${secs}`
          : failure.phase === 'headers'
            ? `did not answer${secs}`
            : `stopped sending the response body for longer than ${opts.timeoutMs !== undefined ? formatSeconds(opts.timeoutMs) : 'the body timeout'}`;
      const ambiguous = post && failure.phase !== 'connect' ? AMBIGUOUS_SUFFIX[ctx.kind as 'submit' | 'upload'] : '';
      return new SegmindError({
        code: 'timeout',
        retryable: !post || failure.phase === 'connect',
        cause,
        attempts: opts.attempts,
        message: msg(`${opts.target} ${phase} during ${ctx.what}${tries}.${ambiguous}`),
      });
    }
  }
}

export function invalidResponse(ctx: CallContext, what: string, status?: number): SegmindError {
  const post = ctx.kind === 'submit';
  return new SegmindError({
    code: 'invalid_response',
    httpStatus: status,
    retryable: false,
    message: scrub(
      `Segmind answered ${ctx.what}${status ? ` (HTTP ${status})` : ''} with ${what}.${post ? AMBIGUOUS_SUFFIX.submit : ''}`,
      ctx.secret,
    ),
  });
}

export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return s >= 10 ? `${Math.round(s)} s` : `${Number(s.toFixed(s < 1 ? 3 : 1))} s`;
}
