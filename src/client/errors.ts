// The one error type of the client, and the builders that turn HTTP answers and transport failures
// into messages a Node-RED user can act on. Every message built from foreign text is scrubbed of the key.
// Each message is rendered from a template (CLIENT_TEXTS, English) and parameters; the error keeps both
// as `text` so the node layer can render it in the runtime's language (locales: errors.client.<key>).
import type { ErrorCode } from './types';

/** A parameter of a client text: plain, or a nested text rendered first (e.g. the call's description). */
export type ClientTextParam = string | number | ClientText;

/** A message as template key + parameters; `capitalize` upper-cases the rendered text's first letter. */
export interface ClientText {
  key: string;
  params: Record<string, ClientTextParam>;
  capitalize?: boolean;
}

/**
 * English templates of every client text (Node-RED's __name__ syntax). The locales repeat them under
 * segmind-model.errors.client.<key> and segmind-await.clientErrors.<key>, with translations.
 */
export const CLIENT_TEXTS: Record<string, string> = {
  // what a call was (ctx.what)
  'what.submit': "the submit to model '__model__'",
  'what.status': 'the status check of request __requestId__',
  'what.result': 'the result fetch of request __requestId__',
  'what.uploadOne': 'the upload of __count__ file',
  'what.uploadMany': 'the upload of __count__ files',
  'what.download': 'the download of __url__',
  // the await node's job outcomes (src/jobs/waiter.ts)
  'job.failed': 'Segmind job __requestId____model__ FAILED: __reason__',
  'job.model': ' (__model__)',
  'job.noReason': 'no reason given',
  'job.outputNotFetched': 'The job completed but its output could not be fetched: __detail__',
  'job.outputUnavailable':
    'The job completed but its output could not be fetched before the message deadline (__attempts__ attempts; the last: __detail__). The output URL is in msg.segmind.output.',
  'job.bufferTooLarge': 'The output of request __requestId__ (__size__) is larger than the Buffer limit of __limit__ set in the await node, so it was not kept.__url__',
  'job.fileTooLarge':
    'The output of request __requestId__ (__size__) is larger than the file limit of __limit__ set in the await node, so it was not saved (no partial file is left).__url__',
  'job.sizeOver': 'more than __size__',
  'job.outputAt': ' Raise the limit, or choose Output URL as the result: the URL is in msg.segmind.output.',
  // fragments
  said: ': __error__',
  triesAfter: ' after __attempts__ attempts',
  triesCount: ' (__attempts__ attempts)',
  retryAt: ' Segmind allows the next request at __time__.',
  htmlPage: ' with an HTML page',
  httpStatus: ' (HTTP __status__)',
  within: ' within __seconds__ s',
  seconds: '__seconds__ s',
  bodyTimeout: 'the body timeout',
  'ambiguous.submit':
    ' The job may or may not have been created (and billed) by Segmind; it was not submitted again ' +
    'automatically. Check your Segmind dashboard before retrying.',
  'ambiguous.upload': ' The upload may or may not have been stored by Segmind; it was not sent again automatically.',
  // HTTP answers
  downloadRefused:
    '__what__ was refused by its host (HTTP __status__)__said__. No API key is sent to that host, so this is not about your Segmind key; the output link may have expired (Segmind keeps output files for about 7 days).',
  http401: 'Segmind rejected the API key (HTTP 401)__said__. Check the API key in the Segmind config node.',
  http403: 'Segmind refused access for this API key (HTTP 403) during __what____said__.',
  http406:
    'Segmind refused __what__ (HTTP 406)__said__. This usually means insufficient credits or a team spend limit; add credits at segmind.com.',
  http429:
    'Segmind rate limit reached (HTTP 429) for __what____tries____said__.__when__ Lower the requests per minute in the Segmind config node or poll less often.',
  expired:
    'Segmind no longer has request __requestId__ (HTTP 404): it keeps status and results for 1 hour after submission, and this job was submitted at __time__.',
  unknownRequest: 'Segmind does not know request __requestId__ (HTTP 404)__said__.',
  unknownModel: "Segmind does not know model '__model__' (HTTP 404)__said__. Check the model slug.",
  notFound: 'Not found (HTTP 404) during __what____said__.',
  retiredModel: "Segmind has retired model '__model__' (HTTP 410)__said__. Choose another model.",
  retiredEndpoint: 'Segmind has retired this endpoint (HTTP 410)__said__. Choose another model.',
  http405:
    'Segmind answered HTTP 405 Method Not Allowed__html__ for __what__; the URL is probably wrong (check the base URL and model slug).',
  rejected: 'Segmind rejected __what__ as invalid (HTTP __status__)__said__.',
  server: 'Segmind had a server error (HTTP __status__) during __what____tries____said__.__ambiguous__',
  unexpectedStatus: 'Segmind answered __what__ with an unexpected HTTP __status__.',
  // transport
  cancelled: '__what__ was cancelled.',
  cancelledClosed: '__what__ was cancelled because the Segmind client was closed (redeploy or shutdown).',
  refused: 'Could not connect to __target__ for __what____tries__: __detail__. Nothing was sent.',
  network: 'Network failure talking to __target__ during __what____tries__: __detail__.__ambiguous__',
  timeoutConnect: '__target__ could not connect__within__ during __what____tries__.__ambiguous__',
  timeoutHeaders: '__target__ did not answer__within__ during __what____tries__.__ambiguous__',
  timeoutBody: '__target__ stopped sending the response body for longer than __limit__ during __what____tries__.__ambiguous__',
  // answers that are not what was asked for
  invalidResponse: 'Segmind answered __what____status__ with __body__.__ambiguous__',
  'body.empty': 'an empty body',
  'body.noHandle': 'JSON that lacks request_id, status_url or response_url',
  'body.noRequestId': 'JSON without a request_id',
  // a submit answer with a request id but without its URLs: the job exists, so it goes on (a log warning)
  missingUrls: 'Segmind answered __what__ with request __requestId__ but without __fields__; going on with URLs built from __base__.',
  'body.noStatus': 'JSON without a status field',
  'body.notResult': 'JSON that is not a result object',
  'body.noUrls': 'JSON without a urls or file_urls list',
  'body.not422Object': 'HTTP 422 whose body is not a JSON object',
  'body.tooLarge': 'a body larger than __limit__, the most read for this answer (the rest was not read)',
  // downloads
  brokeOff: 'The download of __url__ broke off after __received____total__ bytes__detail__.',
  ofTotal: ' of __total__',
  detail: ' (__detail__)',
  // outputs (src/jobs/deliver.ts)
  noOutput: 'Segmind reported the job COMPLETED but its result has no usable output (output: __output__).',
  notHttp: 'The output URL __url__ is not http(s); only http and https URLs are fetched.',
  notUrlOrBase64: 'The output __output__ is neither an http(s) URL nor base64 data.',
  'output.missing': 'missing',
  'output.null': 'null',
};

/** Renders a text: nested texts first, then `render(key, params)` (a translator, or the English templates). */
export function renderText(text: ClientText, render: (key: string, params: Record<string, string | number>) => string): string {
  const flat: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(text.params)) {
    flat[name] = typeof value === 'object' ? renderText(value, render) : value;
  }
  const out = render(text.key, flat);
  return text.capitalize ? capitalize(out) : out;
}

/** Node-RED's interpolation: __name__ replaced by the parameter; unknown names stay. */
export function interpolate(template: string, params: Record<string, string | number>): string {
  return template.replace(/__([A-Za-z0-9]+?)__/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

/** The English rendering, as every message of the client is worded. */
export function englishText(text: ClientText): string {
  return renderText(text, (key, params) => interpolate(CLIENT_TEXTS[key] ?? key, params));
}

/** A text with its key checked against the templates at compile time of the call site. */
export function ct(key: string, params: Record<string, ClientTextParam> = {}): ClientText {
  return { key, params };
}

/** A text's parameters with the secret scrubbed out of every string, so a translation cannot leak it either. */
export function scrubText(text: ClientText, secret: string | undefined): ClientText {
  if (!secret) return text;
  const params: Record<string, ClientTextParam> = {};
  for (const [name, value] of Object.entries(text.params)) {
    params[name] = typeof value === 'string' ? scrub(value, secret) : typeof value === 'object' ? scrubText(value, secret) : value;
  }
  return { ...text, params };
}

export interface SegmindErrorInit {
  code: ErrorCode;
  /** the English message; when omitted, rendered from `text` */
  message?: string;
  /** the message as template + parameters, for translation (its parameters carry no secret) */
  text?: ClientText;
  httpStatus?: number;
  segmindError?: string;
  retryable: boolean;
  /**
   * true when Segmind certainly did not create a job (or store an upload) from this call, so sending
   * the same request again cannot bill twice. Default: true for the codes in RESUBMIT_SAFE_CODES.
   */
  resubmitSafe?: boolean;
  /** for rate_limited: epoch ms before which a retry would be refused again */
  retryAt?: number;
  /** how many attempts were made */
  attempts?: number;
  cause?: Error;
}

export class SegmindError extends Error {
  readonly code: ErrorCode;
  /** the message as template + parameters (English templates in CLIENT_TEXTS), when it has one */
  readonly text?: ClientText;
  readonly httpStatus?: number;
  /** Segmind's own `error` text, when it sent one */
  readonly segmindError?: string;
  /** true when the same call may succeed if tried again later (never for an ambiguous submit) */
  readonly retryable: boolean;
  /**
   * true when Segmind certainly did not create a job (or store an upload) from this call: nothing
   * was sent (refused connection, DNS failure, connect timeout, no key, bad input), it answered 4xx,
   * or the budget refused it. false after a timeout or reset once the request was on its way, a 5xx,
   * or an answer we could not read. A GET creates nothing, so its errors are true here; the await
   * node says false for them, as the job they are about exists.
   */
  readonly resubmitSafe: boolean;
  readonly retryAt?: number;
  readonly attempts?: number;

  constructor(init: SegmindErrorInit) {
    super(init.message ?? (init.text ? englishText(init.text) : init.code), init.cause ? { cause: init.cause } : undefined);
    this.name = 'SegmindError';
    this.code = init.code;
    this.text = init.text;
    this.httpStatus = init.httpStatus;
    this.segmindError = init.segmindError;
    this.retryable = init.retryable;
    this.resubmitSafe = init.resubmitSafe ?? RESUBMIT_SAFE_CODES.has(init.code);
    this.retryAt = init.retryAt;
    this.attempts = init.attempts;
  }
}

/** Codes that by themselves mean nothing was created at Segmind (the default of resubmitSafe). */
export const RESUBMIT_SAFE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['not_sent', 'budget_full', 'spend_limit']);

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
  /** downloads: whether the key went to this host (false: a 401/403 is that host's refusal, not the key's) */
  keySent?: boolean;
  /** API-time multiplier */
  timeScale: number;
  secret: string;
}

export const RETENTION_API_SECONDS = 3600;

export function isPost(ctx: Pick<CallContext, 'kind'>): ctx is { kind: 'submit' | 'upload' } {
  return ctx.kind === 'submit' || ctx.kind === 'upload';
}

const WHAT_PATTERNS: [RegExp, (m: RegExpExecArray) => ClientText][] = [
  [/^the submit to model '(.+)'$/s, (m) => ct('what.submit', { model: m[1] })],
  [/^the status check of request (.+)$/s, (m) => ct('what.status', { requestId: m[1] })],
  [/^the result fetch of request (.+)$/s, (m) => ct('what.result', { requestId: m[1] })],
  [/^the upload of (1) file$/, (m) => ct('what.uploadOne', { count: Number(m[1]) })],
  [/^the upload of (\d+) files$/, (m) => ct('what.uploadMany', { count: Number(m[1]) })],
  [/^the download of (.+)$/s, (m) => ct('what.download', { url: m[1] })],
];

/**
 * The call's description as a text. The client words it (ctx.what); a known wording becomes a template
 * (translatable), anything else stays as it is.
 */
export function whatText(what: string, capital = false): ClientTextParam {
  for (const [re, make] of WHAT_PATTERNS) {
    const m = re.exec(what);
    if (!m) continue;
    const text = make(m);
    // only when the template says exactly what the client said
    if (englishText(text) === what) return capital ? { ...text, capitalize: true } : text;
  }
  return capital ? capitalize(what) : what;
}

/** A client-worded description of a body (invalidResponse's `what`) as a text when it is a known one. */
function bodyText(what: string): ClientTextParam {
  const key = Object.keys(CLIENT_TEXTS).find((k) => k.startsWith('body.') && CLIENT_TEXTS[k] === what);
  return key ? ct(key) : what;
}

function ambiguous(kind: CallContext['kind']): ClientTextParam {
  return kind === 'submit' || kind === 'upload' ? ct(`ambiguous.${kind}`) : '';
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
  const said: ClientTextParam = segmindError ? ct('said', { error: segmindError }) : '';
  const post = isPost(ctx);
  const what = whatText(ctx.what);
  const make = (code: ErrorCode, retryable: boolean, key: string, params: Record<string, ClientTextParam>, more: { retryAt?: number } = {}) => {
    const text = scrubText(ct(key, params), ctx.secret);
    return new SegmindError({
      httpStatus: status,
      segmindError,
      attempts: extra.attempts,
      code,
      retryable,
      // 4xx: Segmind refused the request before accepting it (only 200 is billed); a GET creates nothing
      resubmitSafe: !post || (status >= 400 && status < 500),
      ...more,
      text,
      message: scrub(englishText(text), ctx.secret),
    });
  };

  if ((status === 401 || status === 403) && ctx.kind === 'download' && ctx.keySent === false) {
    return make('access_denied', false, 'downloadRefused', { what: whatText(ctx.what, true), status, said });
  }
  if (status === 401) return make('auth', false, 'http401', { said });
  if (status === 403) return make('auth', false, 'http403', { what, said });
  if (status === 406) return make('credits', false, 'http406', { what, said });
  if (status === 429) {
    const when: ClientTextParam = extra.retryAt ? ct('retryAt', { time: new Date(extra.retryAt).toISOString() }) : '';
    const tries: ClientTextParam = extra.attempts && extra.attempts > 1 ? ct('triesAfter', { attempts: extra.attempts }) : '';
    return make('rate_limited', true, 'http429', { what, tries, said, when }, { retryAt: extra.retryAt });
  }
  if (status === 404) {
    if (ctx.requestId && (ctx.kind === 'status' || ctx.kind === 'result')) {
      const ageMs = ctx.submittedAt !== undefined ? Date.now() - ctx.submittedAt : undefined;
      if (ageMs !== undefined && ageMs > RETENTION_API_SECONDS * 1000 * ctx.timeScale) {
        return make('expired', false, 'expired', { requestId: ctx.requestId, time: new Date(ctx.submittedAt!).toISOString() });
      }
      return make('not_found', false, 'unknownRequest', { requestId: ctx.requestId, said });
    }
    if (ctx.kind === 'submit' && ctx.model) return make('not_found', false, 'unknownModel', { model: ctx.model, said });
    return make('not_found', false, 'notFound', { what, said });
  }
  if (status === 410) {
    return ctx.model
      ? make('retired', false, 'retiredModel', { model: ctx.model, said })
      : make('retired', false, 'retiredEndpoint', { said });
  }
  if (status === 405) {
    const html: ClientTextParam = looksLikeHtml(bodyText, contentType) ? ct('htmlPage') : '';
    return make('bad_request', false, 'http405', { html, what });
  }
  if (status >= 400 && status < 500) return make('bad_request', false, 'rejected', { what, status, said });
  if (status >= 500) {
    const tries: ClientTextParam = !post && extra.attempts && extra.attempts > 1 ? ct('triesAfter', { attempts: extra.attempts }) : '';
    return make('server', !post, 'server', { status, what, tries, said, ambiguous: ambiguous(ctx.kind) });
  }
  // 1xx/3xx that reached us: the API never redirects, so this is not an answer we understand.
  return make('invalid_response', false, 'unexpectedStatus', { what, status });
}

/** Kinds of transport failure, as far as retry decisions care. */
export type TransportFailure =
  | { kind: 'refused'; detail: string } // nothing was sent (refused connection, DNS failure): safe to re-send even a POST
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
  const tries: ClientTextParam = opts.attempts && opts.attempts > 1 ? ct('triesCount', { attempts: opts.attempts }) : '';
  const what = whatText(ctx.what);
  const make = (code: ErrorCode, retryable: boolean, key: string, params: Record<string, ClientTextParam>, resubmitSafe = !post) => {
    const text = scrubText(ct(key, params), ctx.secret);
    return new SegmindError({ code, retryable, resubmitSafe, cause, attempts: opts.attempts, text, message: scrub(englishText(text), ctx.secret) });
  };
  switch (failure.kind) {
    case 'aborted':
      // cut short before any attempt went out: nothing was sent
      return make('aborted', false, opts.closed ? 'cancelledClosed' : 'cancelled', { what: whatText(ctx.what, true) }, !post || !opts.attempts);
    case 'refused':
      // nothing reached the server (refused connection, host name not found)
      return make('not_sent', true, 'refused', { target: opts.target, what, tries, detail: failure.detail }, true);
    case 'network':
      return make('network', !post, 'network', {
        target: opts.target,
        what,
        tries,
        detail: failure.detail,
        ambiguous: post ? ambiguous(ctx.kind) : '',
      });
    case 'timeout': {
      const within: ClientTextParam = opts.timeoutMs !== undefined ? ct('within', { seconds: secondsOf(opts.timeoutMs) }) : '';
      const amb = post && failure.phase !== 'connect' ? ambiguous(ctx.kind) : '';
      // no connection, no request: a connect timeout is as safe as a refused connection
      const retryable = !post || failure.phase === 'connect';
      if (failure.phase === 'body') {
        const limit: ClientTextParam =
          opts.timeoutMs !== undefined ? ct('seconds', { seconds: secondsOf(opts.timeoutMs) }) : ct('bodyTimeout');
        return make('timeout', retryable, 'timeoutBody', { target: opts.target, limit, what, tries, ambiguous: amb }, retryable);
      }
      return make(
        'timeout',
        retryable,
        failure.phase === 'connect' ? 'timeoutConnect' : 'timeoutHeaders',
        { target: opts.target, within, what, tries, ambiguous: amb },
        retryable,
      );
    }
  }
}

export function invalidResponse(ctx: CallContext, what: string | ClientText, status?: number): SegmindError {
  const post = ctx.kind === 'submit';
  const text = scrubText(
    ct('invalidResponse', {
      what: whatText(ctx.what),
      status: status ? ct('httpStatus', { status }) : '',
      body: typeof what === 'string' ? bodyText(what) : what,
      ambiguous: post ? ct('ambiguous.submit') : '',
    }),
    ctx.secret,
  );
  return new SegmindError({
    code: 'invalid_response',
    httpStatus: status,
    retryable: false,
    // an answer to a POST we cannot read: the job (or upload) may exist
    resubmitSafe: !isPost(ctx),
    text,
    message: scrub(englishText(text), ctx.secret),
  });
}

/**
 * An output download that broke off mid-body (for client.ts's length-checked stream, which today
 * words this itself): the same English message, plus its text.
 */
export function downloadBrokeOff(
  where: string,
  received: number,
  contentLength: number | undefined,
  opts: { code: 'timeout' | 'network'; detail?: string; cause?: Error; secret: string },
): SegmindError {
  const text = scrubText(
    ct('brokeOff', {
      url: where,
      received,
      total: contentLength !== undefined ? ct('ofTotal', { total: contentLength }) : '',
      detail: opts.detail ? ct('detail', { detail: opts.detail }) : '',
    }),
    opts.secret,
  );
  return new SegmindError({
    code: opts.code,
    retryable: true,
    resubmitSafe: true, // a GET: nothing is created
    cause: opts.cause,
    text,
    message: scrub(englishText(text), opts.secret),
  });
}

export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** formatSeconds without the unit: "30", "1.5", "0.25". */
function secondsOf(ms: number): string {
  const s = ms / 1000;
  return s >= 10 ? `${Math.round(s)}` : `${Number(s.toFixed(s < 1 ? 3 : 1))}`;
}

/** Bytes for messages in binary units: "1 MiB", "300 MiB", "1.5 GiB", "512 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : Number(value.toFixed(value >= 100 ? 0 : 1))} ${units[unit]}`;
}

export function formatSeconds(ms: number): string {
  return `${secondsOf(ms)} s`;
}
