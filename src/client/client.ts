// SegmindClient: Segmind's v2 async API over one keep-alive undici Agent, with retries that never
// bill a job twice, one shared request budget, and errors a Node-RED user can act on.
import type { Agent } from 'undici';
import { fromBuffer as sniffFileType } from 'file-type';
import { name as packageName, version as packageVersion } from '../../package.json';
import { PRIORITY, SharedBudget, type BudgetHandle, type BudgetStats, type RateSnapshot, type Ticket } from './budget';
import { accountId, sharedBudget } from './budget-registry';
import { lengthCheckedStream } from './download-stream';
import {
  SegmindError,
  ct,
  downloadBrokeOff,
  formatBytes,
  englishText,
  formatSeconds,
  httpError,
  invalidResponse,
  isPost,
  safeCause,
  scrub,
  scrubText,
  transportError,
  whatText,
  type CallContext,
  type ClientText,
} from './errors';
import { setMaxListeners } from 'node:events';
import { linkSignals } from './signals';
import { AttemptAbort, MAX_CONNECTIONS_PER_ORIGIN, RequestGate, DEFAULT_TIMEOUTS, classifyTransportError, createAgent, readCapped, send, type Timeouts, type WireResponse } from './http';
import { backoffDelay, retryHintTime, sleep } from './retry';
import { errorToText, failedAnswer, resultAnswer, statusAnswer, submitAnswer, uploadAnswer } from './schemas';
import type {
  CallOptions,
  ClientOptions,
  Download,
  JobHandle,
  JobState,
  ResultBody,
  StatusResult,
  UploadInput,
} from './types';
import { DEFAULT_BASE_URL, DEFAULT_UPLOAD_URL, originOf, parseFetchableUrl, validateApiUrl } from './urls';

/** A job as status()/result() accept it: a full handle, a partial one, or a bare request id. */
export type JobRef =
  | JobHandle
  | { requestId: string; statusUrl?: string; responseUrl?: string; submittedAt?: string; model?: string }
  | string;

export const USER_AGENT = `${packageName}/${packageVersion} (node ${process.version})`;

const DEFAULT_RPM = 5;
const DEFAULT_MAX_ATTEMPTS = 5;
const MAX_REDIRECTS = 5;
/** close() waits this long for submits on the wire (Node-RED gives a node's close 15 s). */
export const SUBMIT_DRAIN_MS = 13_000;
/** Longest server-advertised wait (API ms) a call sits through before giving up with rate_limited. */
const MAX_HINT_WAIT_API_MS = 10 * 60_000;
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
const FINAL_STATES = new Set(['COMPLETED', 'FAILED']);
const KNOWN_STATES = new Set(['QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED']);
const MODEL_SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MiB = 1024 * 1024;
/** Status, submit and upload answers are a few hundred bytes: 1 MiB is far beyond any real one. */
export const JSON_BODY_LIMIT = MiB;
/**
 * A result answer may carry the output itself (base64: true): 300 MiB holds a 200 MiB output (the
 * await node's default Buffer limit) as base64 (4/3 of it) with room to spare. Callers may pass
 * their own (CallOptions.maxBytes), at most MAX_JSON_BODY.
 */
export const RESULT_BODY_LIMIT = 300 * MiB;
/** V8 makes no string longer than 2^29 - 24 characters: a larger answer could not be parsed at all. */
export const MAX_JSON_BODY = 500 * MiB;
/** Bodies of error answers are read only for Segmind's error text. */
const ERROR_BODY_LIMIT = 64 * 1024;

type Kind = CallContext['kind'];

interface Exchange {
  ctx: CallContext;
  method: 'GET' | 'POST';
  url: string;
  /** the request body, or a function that builds it once the budget and the gate let the request go */
  body?: string | (() => string);
  sendKey: boolean;
  /** counts against the request budget (every API-host request) */
  budgeted: boolean;
  /** the caller's wishes for the budget's allocator: priority, deadline, value */
  call: CallOptions;
  priority: number;
  /** the caller's signal; close() reaches the call through the client's set of in-flight attempts */
  signal?: AbortSignal;
  /** ends the call only before its request is sent (see CallOptions.stopBeforeSend) */
  stopBeforeSend?: AbortSignal;
  /** JSON calls read the whole body; downloads hand the stream on */
  readBody: boolean;
  /** the largest accepted answer a JSON call reads (bytes); a larger one becomes invalid_response */
  maxBody: number;
  bodyTimeout: number;
  /** statuses handed back to the caller instead of becoming an error */
  accept: (status: number) => boolean;
}

interface Answer {
  res: WireResponse;
  text?: string;
  /** the accepted answer was larger than the call's maxBody (bytes announced or counted); text is not the whole body */
  over?: number;
  attempts: number;
  dispatchedAt: number;
  /** streaming calls call it when the body is done: close() then no longer needs to abort it */
  release(): void;
}

/** Answers of a JSON call: its status and the parsed body. */
interface JsonAnswer {
  answer: Answer;
  json: unknown;
}

// The schemas let unknown fields through (a copy of the whole body per call); status() and
// result() hand on the body they parsed themselves as `raw`, so they validate only the fields they read.
const statusFields = statusAnswer.strip();
const resultFields = resultAnswer.strip();
const failedFields = failedAnswer.strip();

const NO_RELEASE = (): void => undefined;

export class SegmindClient {
  readonly baseUrl: string;
  readonly uploadUrl: string;
  readonly timeScale: number;
  readonly requestsPerMinute: number;
  private readonly apiKey: string;
  private readonly apiOrigins: ReadonlySet<string>;
  private readonly timeouts: Timeouts;
  private readonly maxAttempts: number;
  private readonly agent: Agent;
  private readonly budget: BudgetHandle;
  /** a hash of key and base URL: the account's id for shared state above the client (never the key) */
  readonly account: string;
  /**
   * Each attempt's abort handle while its request (or streamed body) is under way; close() aborts
   * them. A Set rather than one listener per call on a shared close signal: an EventTarget walks
   * its whole listener list on every add, and thousands of polls may be in flight at once.
   */
  private readonly inflight = new Set<AttemptAbort>();
  /** submit POSTs on the wire: close() waits for them (at most SUBMIT_DRAIN_MS) instead of aborting */
  private readonly submitsInFlight = new Set<AttemptAbort>();
  private submitsDrained?: () => void;
  /** API-host requests under way at once: no more than the agent has sockets for one origin */
  private readonly gate = new RequestGate(MAX_CONNECTIONS_PER_ORIGIN);
  /** governs only retry pauses (rare), which link it with the caller's signal while they sleep */
  private readonly closer = new AbortController();
  /** headers of every JSON GET (status and result polls), built once */
  private readonly jsonGetHeaders: Record<string, string>;
  private readonly logSink?: ClientOptions['log'];
  private closed = false;
  private closing?: Promise<void>;

  constructor(options: ClientOptions) {
    if (!options || typeof options !== 'object') throw new TypeError('SegmindClient needs an options object');
    this.apiKey = typeof options.apiKey === 'string' ? options.apiKey.trim() : '';
    this.baseUrl = validateApiUrl('baseUrl', options.baseUrl ?? DEFAULT_BASE_URL);
    this.uploadUrl = validateApiUrl('uploadUrl', options.uploadUrl ?? DEFAULT_UPLOAD_URL);
    this.apiOrigins = new Set([new URL(this.baseUrl).origin, new URL(this.uploadUrl).origin]);
    this.timeScale = positive('timeScale', options.timeScale ?? 1);
    this.requestsPerMinute = positive('requestsPerMinute', options.requestsPerMinute ?? DEFAULT_RPM);
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new Error(`maxAttempts must be a whole number of at least 1; got ${String(maxAttempts)}`);
    }
    this.maxAttempts = maxAttempts;
    const t = options.timeouts ?? {};
    this.timeouts = {
      connect: positive('timeouts.connect', t.connect ?? DEFAULT_TIMEOUTS.connect),
      headers: positive('timeouts.headers', t.headers ?? DEFAULT_TIMEOUTS.headers),
      body: positive('timeouts.body', t.body ?? DEFAULT_TIMEOUTS.body),
      downloadBody: positive('timeouts.downloadBody', t.downloadBody ?? DEFAULT_TIMEOUTS.downloadBody),
    };
    this.logSink = options.log;
    // every retry pause listens to the close signal while it sleeps; many may sleep at once
    setMaxListeners(0, this.closer.signal);
    this.jsonGetHeaders = { 'user-agent': USER_AGENT, accept: 'application/json', 'x-api-key': this.apiKey };
    this.agent = createAgent(this.timeouts);
    this.account = options.accountId ?? accountId(this.apiKey, this.baseUrl);
    const budgetOptions = { rpm: this.requestsPerMinute, timeScale: this.timeScale, log: (level: 'debug' | 'info' | 'warn', message: string) => this.log(level, message) };
    // shared: one budget per account in this process (config nodes with one key, and redeploys)
    const shared = options.shareBudget ? sharedBudget(this.account, budgetOptions) : new SharedBudget(budgetOptions);
    this.budget = shared.handle(this.requestsPerMinute, budgetOptions.log);
  }

  /** Read-only counters of the request budget, for tests and benchmarks. */
  get stats(): BudgetStats {
    return this.budget.stats;
  }

  /** The budget's state now, for admission control above the client. */
  rate(): RateSnapshot {
    return this.budget.budget.snapshot();
  }

  /** Real ms between two paced requests (polls, submits) of the account now. */
  pacingMs(): number {
    return this.budget.budget.pacingMs;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** POST /v2/{model}: starts a job. Never re-sent after an ambiguous failure. */
  async submit(model: string, payload: unknown, opts: CallOptions = {}): Promise<JobHandle> {
    if (typeof model !== 'string' || !MODEL_SLUG.test(model)) {
      throw new SegmindError({
        code: 'bad_request',
        retryable: false,
        message: `model must be a Segmind model slug such as 'sadtalker' (letters, digits, '.', '-', '_'); got ${describe(model)}`,
      });
    }
    const body = toJson(payload ?? {}, 'payload');
    const ctx = this.context('submit', `the submit to model '${model}'`, { model });
    const { answer, json } = await this.callJson(ctx, 'POST', `${this.baseUrl}/v2/${encodeURIComponent(model)}`, body, opts, PRIORITY.submit, is2xx, JSON_BODY_LIMIT);
    const parsed = submitAnswer.safeParse(json);
    if (!parsed.success) throw invalidResponse(ctx, 'JSON without a request_id', answer.res.status);
    const requestId = parsed.data.request_id;
    const missing = (['status_url', 'response_url'] as const).filter((k) => parsed.data[k] === undefined);
    if (missing.length > 0) {
      // The job exists and is billed: losing its id would be worse than guessing its URLs.
      const text = ct('missingUrls', { what: whatText(ctx.what), requestId, fields: missing.join(', '), base: this.baseUrl });
      this.log('warn', englishText(text), text);
    }
    return {
      model,
      requestId,
      statusUrl: (parsed.data.status_url && this.trustedUrl(parsed.data.status_url)) ?? this.statusUrlFor(requestId),
      responseUrl: (parsed.data.response_url && this.trustedUrl(parsed.data.response_url)) ?? this.responseUrlFor(requestId),
      submittedAt: new Date(answer.dispatchedAt).toISOString(),
    };
  }

  /**
   * One budgeted call to an API host with the key, its answer read and parsed as JSON.
   * `accept` says which statuses are answers (the rest become SegmindErrors).
   */
  private async callJson(
    ctx: CallContext,
    method: 'GET' | 'POST',
    url: string,
    body: Exchange['body'],
    call: CallOptions,
    defaultPriority: number,
    accept: (status: number) => boolean,
    maxBody: number,
  ): Promise<JsonAnswer> {
    const answer = await this.exchange({
      ctx,
      method,
      url,
      body,
      sendKey: true,
      budgeted: true,
      call,
      priority: call.priority ?? defaultPriority,
      signal: call.signal,
      stopBeforeSend: call.stopBeforeSend,
      readBody: true,
      maxBody,
      bodyTimeout: this.timeouts.body,
      accept,
    });
    return { answer, json: this.parseJson(answer, ctx, maxBody) };
  }

  /** GET the job's status. FAILED (HTTP 422) is an outcome, not an error. */
  async status(job: JobRef, opts: CallOptions = {}): Promise<StatusResult> {
    const ref = this.resolveJob(job);
    const ctx = this.context('status', `the status check of request ${ref.requestId}`, ref);
    const url = this.jobUrl(job, 'statusUrl') ?? this.statusUrlFor(ref.requestId);
    const { answer, json } = await this.callJson(ctx, 'GET', url, undefined, opts, PRIORITY.poll, isJobAnswer, JSON_BODY_LIMIT);
    if (answer.res.status === 422) return this.failedOutcome(json, answer, ctx);
    const parsed = statusFields.safeParse(json);
    if (!parsed.success) throw invalidResponse(ctx, 'JSON without a status field', answer.res.status);
    const status = normaliseState(parsed.data.status);
    return {
      status,
      final: FINAL_STATES.has(status),
      error: status === 'FAILED' ? (this.errorText(parsed.data.error) ?? 'Segmind reported the job as FAILED') : undefined,
      metrics: parsed.data.metrics ?? undefined,
      raw: json as Record<string, unknown>,
    };
  }

  /** GET the job's result. FAILED (HTTP 422) is an outcome, not an error. */
  async result(job: JobRef, opts: CallOptions = {}): Promise<ResultBody> {
    const ref = this.resolveJob(job);
    const ctx = this.context('result', `the result fetch of request ${ref.requestId}`, ref);
    const url = this.jobUrl(job, 'responseUrl') ?? this.responseUrlFor(ref.requestId);
    const maxBody = Math.min(MAX_JSON_BODY, opts.maxBytes !== undefined && opts.maxBytes > 0 ? opts.maxBytes : RESULT_BODY_LIMIT);
    const { answer, json } = await this.callJson(ctx, 'GET', url, undefined, opts, PRIORITY.fetch, isJobAnswer, maxBody);
    if (answer.res.status === 422) {
      const failed = this.failedOutcome(json, answer, ctx);
      return { ...failed, output: failed.raw.output };
    }
    const parsed = resultFields.safeParse(json);
    if (!parsed.success) throw invalidResponse(ctx, 'JSON that is not a result object', answer.res.status);
    const data = parsed.data;
    const status = data.status
      ? normaliseState(data.status)
      : data.output !== undefined && data.output !== null
        ? 'COMPLETED'
        : 'UNKNOWN';
    const error = this.errorText(data.error);
    return {
      status,
      final: FINAL_STATES.has(status),
      output: data.output,
      error: status === 'FAILED' ? (error ?? 'Segmind reported the job as FAILED') : (error ?? null),
      metrics: data.metrics ?? undefined,
      raw: json as Record<string, unknown>,
    };
  }

  /** POST the files to the upload endpoint; returns one URL per input, in order. Never re-sent after an ambiguous failure. */
  async uploadAsset(inputs: UploadInput[], opts: CallOptions = {}): Promise<string[]> {
    if (!Array.isArray(inputs)) {
      throw new SegmindError({ code: 'bad_request', retryable: false, message: `uploadAsset needs an array of inputs; got ${describe(inputs)}` });
    }
    if (inputs.length === 0) return [];
    // Checked and typed now (bad input sends nothing); the base64 body is built only when the budget
    // lets the request go, so calls queued for the budget hold their Buffers and nothing more.
    const parts = await Promise.all(inputs.map((input, i) => uploadPart(input, i)));
    const ctx = this.context('upload', `the upload of ${inputs.length} file${inputs.length === 1 ? '' : 's'}`);
    const body = () => `{"data_urls":[${parts.map(dataUrlJson).join(',')}]}`;
    const { answer, json } = await this.callJson(ctx, 'POST', this.uploadUrl, body, opts, PRIORITY.submit, is2xx, JSON_BODY_LIMIT);
    const parsed = uploadAnswer.safeParse(json);
    const urls = parsed.success ? (parsed.data.urls ?? parsed.data.file_urls) : undefined;
    if (!urls) throw invalidResponse(ctx, 'JSON without a urls or file_urls list', answer.res.status);
    if (urls.length !== inputs.length || urls.some((u) => !parseFetchableUrl(u))) {
      throw invalidResponse(
        ctx,
        `${urls.length} URL(s) for ${inputs.length} file(s)${urls.some((u) => !parseFetchableUrl(u)) ? ', not all of them http(s) URLs' : ''}`,
        answer.res.status,
      );
    }
    return urls;
  }

  /**
   * GET an output file as a stream. The key goes only to the API origins and never across a
   * redirect to another origin; redirects are followed by hand (at most 5).
   */
  async download(url: string, opts: CallOptions = {}): Promise<Download> {
    const first = parseFetchableUrl(url);
    if (!first) {
      throw new SegmindError({
        code: 'bad_request',
        retryable: false,
        message: scrub(`download URL must be an http or https URL; got ${describe(url)}`, this.apiKey),
      });
    }
    let current: URL = first;
    // The key may travel only while every hop so far stayed on one API origin.
    let keyAllowed = this.apiOrigins.has(current.origin);
    const startOrigin = current.origin;
    for (let hop = 0; ; hop++) {
      const isApi = this.apiOrigins.has(current.origin);
      if (current.origin !== startOrigin) keyAllowed = false;
      const ctx = this.context('download', `the download of ${displayUrl(current)}`);
      ctx.keySent = keyAllowed && isApi;
      const answer = await this.exchange({
        ctx,
        method: 'GET',
        url: current.toString(),
        sendKey: keyAllowed && isApi,
        budgeted: isApi,
        call: opts,
        priority: opts.priority ?? PRIORITY.fetch,
        signal: opts.signal,
        readBody: false,
        maxBody: 0,
        bodyTimeout: this.timeouts.downloadBody,
        accept: (s) => is2xx(s) || isRedirect(s),
      });
      const { res } = answer;
      if (isRedirect(res.status)) {
        await res.body.dump().catch(() => undefined);
        answer.release();
        const location = headerValue(res.headers, 'location');
        const next: URL | undefined = location ? safeResolve(location, current) : undefined;
        if (!next) {
          throw new SegmindError({
            code: 'invalid_response',
            httpStatus: res.status,
            retryable: false,
            message: `The download of ${displayUrl(current)} was redirected (HTTP ${res.status}) ${location ? `to a location that is not an http(s) URL` : 'without a Location header'}.`,
          });
        }
        if (hop + 1 > MAX_REDIRECTS) {
          throw new SegmindError({
            code: 'bad_request',
            httpStatus: res.status,
            retryable: false,
            message: `The download of ${displayUrl(first)} was redirected more than ${MAX_REDIRECTS} times; giving up.`,
          });
        }
        current = next;
        continue;
      }
      const lengthHeader = headerValue(res.headers, 'content-length');
      const contentLength = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
      const finalUrl = current.toString();
      const where = displayUrl(current);
      const stream = lengthCheckedStream(res.body, contentLength, (cause, received) => {
        const aborted = this.closed || opts.signal?.aborted;
        if (aborted) {
          return transportError({ kind: 'aborted', detail: 'aborted' }, ctx, { target: where, closed: this.closed });
        }
        const failure = cause ? classifyTransportError(cause) : undefined;
        const code = failure?.kind === 'timeout' ? 'timeout' : 'network';
        return downloadBrokeOff(where, received, contentLength, {
          code,
          detail: failure?.detail,
          cause: safeCause(cause, this.apiKey),
          secret: this.apiKey,
        });
      });
      stream.once('close', answer.release);
      return {
        stream,
        contentType: headerValue(res.headers, 'content-type'),
        contentLength,
        url: finalUrl,
      };
    }
  }

  /**
   * Aborts every queued call and every call in flight but submits on the wire, which get up to
   * SUBMIT_DRAIN_MS to be answered (Segmind has created and billed their jobs: their ids must
   * arrive); then closes the connection pool. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    const reason = new Error('Segmind client closed');
    reason.name = 'AbortError';
    for (const attempt of this.inflight) attempt.abort(reason);
    this.inflight.clear();
    this.gate.stop(reason);
    this.closer.abort(reason);
    this.budget.stop(reason);
    const drained = this.submitsInFlight.size
      ? new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, SUBMIT_DRAIN_MS);
          this.submitsDrained = () => {
            clearTimeout(timer);
            resolve();
          };
        })
      : Promise.resolve();
    this.closing = drained.then(() => {
      for (const attempt of this.submitsInFlight) attempt.abort(reason);
      this.submitsInFlight.clear();
      return this.agent.destroy().catch(() => undefined);
    });
    return this.closing;
  }

  // ---- the one request path: budget, send, classify, retry ----

  private async exchange(x: Exchange): Promise<Answer> {
    if (x.sendKey) this.checkKey();
    const signal = x.signal;
    // waiting (budget, socket, retry pauses) ends on either signal; the request itself only on `signal`
    const waitSignal = x.stopBeforeSend && signal ? AbortSignal.any([signal, x.stopBeforeSend]) : (x.stopBeforeSend ?? signal);

    for (let attempt = 1; ; attempt++) {
      if (this.closed || waitSignal?.aborted) throw this.abortedError(x, attempt - 1);
      let dispatchedAt = Date.now();
      let ticket: Ticket | undefined;
      if (x.budgeted) {
        // close() stops the budget, which rejects every queued call
        x.call.onBudgetWait?.(true);
        try {
          ticket = await this.budget.acquire({ priority: x.priority, deadline: x.call.deadline, value: x.call.value, signal: waitSignal });
          dispatchedAt = ticket.dispatchedAt;
        } catch {
          throw this.abortedError(x, attempt - 1);
        } finally {
          x.call.onBudgetWait?.(false);
        }
      }
      // API-host requests wait their turn for a socket here, holding little (see RequestGate)
      const gated = x.budgeted;
      if (gated) {
        const turn = this.gate.enter(waitSignal);
        if (turn) {
          try {
            await turn;
          } catch {
            if (ticket) this.budget.cancelled(ticket);
            throw this.abortedError(x, attempt - 1);
          }
        }
      }
      // Nothing may start after close(), even if the budget released this call in the same tick.
      if (this.closed || waitSignal?.aborted) {
        if (gated) this.gate.leave();
        if (ticket) this.budget.cancelled(ticket);
        throw this.abortedError(x, attempt - 1);
      }

      let body: string | undefined;
      try {
        body = typeof x.body === 'function' ? x.body() : x.body;
      } catch (err) {
        if (gated) this.gate.leave();
        throw err;
      }
      const control = new AttemptAbort();
      // a submit on the wire is let finish by close() (its job exists and is billed): see close()
      if (isPost(x.ctx) && x.ctx.kind === 'submit') this.submitsInFlight.add(control);
      else this.inflight.add(control);
      let res: WireResponse;
      let text: string | undefined;
      let over: number | undefined;
      try {
        res = await send(
          this.agent,
          {
            method: x.method,
            url: x.url,
            headers: this.headersFor(x),
            body,
            signal,
            abort: control,
            bodyTimeout: x.bodyTimeout,
          },
          this.timeouts.headers,
        );
        body = undefined; // sent: a retry builds its own
        if (x.readBody || !x.accept(res.status)) {
          // answers are read with a cap: a broken or hostile server cannot fill the memory
          const read = await readCapped(res, x.accept(res.status) ? x.maxBody : ERROR_BODY_LIMIT);
          text = read.text;
          over = read.over;
        }
      } catch (err) {
        body = undefined;
        this.done(control, gated);
        // it may have reached the server: its slot counts until a window after now
        if (ticket) this.budget.answered(ticket, 'failed');
        if (signal?.aborted || this.closed) throw this.abortedError(x, attempt, err);
        const failure = classifyTransportError(err);
        if (failure.kind === 'aborted') throw this.abortedError(x, attempt, err);
        // A POST is re-sent only when the connection was refused: then nothing reached the server.
        const mayRetry = isPost(x.ctx) ? failure.kind === 'refused' : true;
        if (mayRetry && attempt < this.maxAttempts) {
          await this.pause(x, attempt, failure.detail, undefined);
          continue;
        }
        const timeoutMs =
          failure.kind === 'timeout'
            ? failure.phase === 'connect'
              ? this.timeouts.connect
              : failure.phase === 'headers'
                ? this.timeouts.headers
                : x.bodyTimeout
            : undefined;
        throw transportError(failure, x.ctx, { target: targetOf(x.url), timeoutMs, attempts: attempt, cause: err });
      }
      // a body read to the end needs no aborting any more; a streamed one is released by its reader
      const streaming = text === undefined;
      if (!streaming) this.done(control, gated);

      if (res.status === 429) {
        const now = Date.now();
        const hint = retryHintTime(res.headers, this.timeScale, now);
        if (ticket) this.budget.answered(ticket, 'limited', hint);
        const tooLong = hint !== undefined && hint - now > MAX_HINT_WAIT_API_MS * this.timeScale;
        if (attempt < this.maxAttempts && !tooLong) {
          await this.pause(x, attempt, 'HTTP 429 rate limited', hint);
          continue;
        }
        throw httpError(429, text ?? '', headerValue(res.headers, 'content-type'), x.ctx, {
          retryAt: hint,
          attempts: attempt,
        });
      }
      if (ticket) this.budget.answered(ticket, 'ok');
      if (x.accept(res.status)) {
        const release = streaming ? this.releaser(control, gated) : NO_RELEASE;
        return { res, text, over, attempts: attempt, dispatchedAt, release };
      }
      if (!isPost(x.ctx) && RETRY_STATUSES.has(res.status) && attempt < this.maxAttempts) {
        const hint = retryHintTime(res.headers, this.timeScale);
        await this.pause(x, attempt, `HTTP ${res.status}`, hint);
        continue;
      }
      throw httpError(res.status, text ?? '', headerValue(res.headers, 'content-type'), x.ctx, { attempts: attempt });
    }
  }

  /** The attempt's request and body are over: close() need not abort it, and its gate turn passes on. */
  private done(control: AttemptAbort, gated: boolean): void {
    this.inflight.delete(control);
    if (this.submitsInFlight.delete(control) && this.submitsInFlight.size === 0) this.submitsDrained?.();
    if (gated) this.gate.leave();
  }

  /** done() for a streamed body, safe to call more than once (redirect hops and the stream's close). */
  private releaser(control: AttemptAbort, gated: boolean): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.done(control, gated);
    };
  }

  private abortedError(x: Exchange, attempts: number, cause?: unknown): SegmindError {
    return transportError({ kind: 'aborted', detail: 'aborted' }, x.ctx, {
      target: targetOf(x.url),
      attempts,
      cause,
      closed: this.closed,
    });
  }

  /** Sleeps before retry number `attempt`: full-jitter backoff, but never before the server's hint. */
  private async pause(x: Exchange, attempt: number, reason: string, hint: number | undefined): Promise<void> {
    const now = Date.now();
    const delay = Math.max(backoffDelay(attempt, this.timeScale), hint !== undefined ? hint - now : 0);
    this.log(
      'warn',
      `Segmind: ${x.ctx.what} got ${reason}; retry ${attempt} of ${this.maxAttempts - 1} in ${formatSeconds(delay)}`,
    );
    // the caller's signal and close() both end the pause; the link lasts only while it sleeps
    const link = linkSignals(this.closer.signal, x.signal);
    try {
      await sleep(delay, link.signal);
    } catch {
      throw this.abortedError(x, attempt);
    } finally {
      link.dispose();
    }
  }

  private headersFor(x: Exchange): Record<string, string> {
    if (x.readBody && x.sendKey && x.body === undefined) return this.jsonGetHeaders;
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      accept: x.readBody ? 'application/json' : '*/*',
    };
    if (x.body !== undefined) headers['content-type'] = 'application/json';
    if (x.sendKey) headers['x-api-key'] = this.apiKey;
    return headers;
  }

  private checkKey(): void {
    if (!this.apiKey) {
      throw new SegmindError({
        code: 'auth',
        retryable: false,
        message: 'No Segmind API key is configured. Enter your key (it starts with SG_) in the Segmind config node.',
      });
    }
    if (!/^[\x21-\x7e]+$/.test(this.apiKey)) {
      throw new SegmindError({
        code: 'auth',
        retryable: false,
        message: 'The Segmind API key contains spaces or characters that cannot be sent in an HTTP header. Paste the key again in the Segmind config node.',
      });
    }
  }

  private context(kind: Kind, what: string, extra: { model?: string; requestId?: string; submittedAt?: number } = {}): CallContext {
    return {
      kind,
      what,
      model: extra.model,
      requestId: extra.requestId,
      submittedAt: extra.submittedAt,
      timeScale: this.timeScale,
      secret: this.apiKey,
    };
  }

  private parseJson(answer: Answer, ctx: CallContext, maxBody: number): unknown {
    if (answer.over !== undefined) throw invalidResponse(ctx, ct('body.tooLarge', { limit: formatBytes(maxBody) }), answer.res.status);
    const text = answer.text ?? '';
    if (text.trim() === '') throw invalidResponse(ctx, 'an empty body', answer.res.status);
    try {
      return JSON.parse(text);
    } catch {
      const ct = headerValue(answer.res.headers, 'content-type') ?? '';
      const what = /html/i.test(ct) || /^\s*</.test(text) ? 'an HTML page instead of JSON' : 'a body that is not valid JSON';
      throw invalidResponse(ctx, what, answer.res.status);
    }
  }

  private failedOutcome(json: unknown, answer: Answer, ctx: CallContext): StatusResult {
    const parsed = failedFields.safeParse(json);
    if (!parsed.success) throw invalidResponse(ctx, 'HTTP 422 whose body is not a JSON object', answer.res.status);
    return {
      status: 'FAILED',
      final: true,
      error: this.errorText(parsed.data.error) ?? 'Segmind reported the job as FAILED without an error text',
      metrics: parsed.data.metrics ?? undefined,
      raw: json as Record<string, unknown>,
    };
  }

  private errorText(e: unknown): string | undefined {
    const text = errorToText(e);
    return text === undefined ? undefined : scrub(text, this.apiKey);
  }

  private resolveJob(job: JobRef): { requestId: string; submittedAt?: number; model?: string } {
    const ref = typeof job === 'string' ? { requestId: job } : job;
    const requestId = ref && typeof ref === 'object' ? ref.requestId : undefined;
    // '.' and '..' would survive encodeURIComponent and change the path
    if (typeof requestId !== 'string' || requestId.trim() === '' || requestId.length > 200 || /^\.{1,2}$/.test(requestId) || /[\x00-\x1f]/.test(requestId)) {
      throw new SegmindError({
        code: 'bad_request',
        retryable: false,
        message: `A Segmind job needs a requestId (the request_id Segmind returned on submit); got ${describe(requestId)}`,
      });
    }
    const submitted = ref && typeof ref === 'object' && typeof ref.submittedAt === 'string' ? Date.parse(ref.submittedAt) : NaN;
    const model = (ref as { model?: unknown }).model;
    return {
      requestId,
      submittedAt: Number.isFinite(submitted) ? submitted : undefined,
      model: typeof model === 'string' ? model : undefined,
    };
  }

  /** The job's own status or response URL when it points at a configured API origin (only the one a call needs is parsed). */
  private jobUrl(job: JobRef, field: 'statusUrl' | 'responseUrl'): string | undefined {
    if (typeof job !== 'object' || job === null) return undefined;
    const value = (job as { statusUrl?: unknown; responseUrl?: unknown })[field];
    return typeof value === 'string' ? this.trustedUrl(value) : undefined;
  }

  /** A URL from a message or an answer, used only when it points at a configured API origin. */
  private trustedUrl(value: string): string | undefined {
    const url = parseFetchableUrl(value);
    if (!url || url.username || url.password || !this.apiOrigins.has(url.origin)) return undefined;
    return url.toString();
  }

  private statusUrlFor(requestId: string): string {
    return `${this.baseUrl}/v2/requests/${encodeURIComponent(requestId)}/status`;
  }

  private responseUrlFor(requestId: string): string {
    return `${this.baseUrl}/v2/requests/${encodeURIComponent(requestId)}`;
  }

  private log(level: 'debug' | 'info' | 'warn', message: string, text?: ClientText): void {
    if (!this.logSink) return;
    try {
      this.logSink(level, scrub(message, this.apiKey), text && scrubText(text, this.apiKey));
    } catch {
      // a failing log sink must not break a call
    }
  }
}

// ---- helpers ----

function is2xx(s: number): boolean {
  return s >= 200 && s < 300;
}

/** A job endpoint's answers: 2xx, and 422 for a FAILED job. */
function isJobAnswer(s: number): boolean {
  return is2xx(s) || s === 422;
}

/** The host named in transport errors; parsed only when an error is built. */
function targetOf(url: string): string {
  return originOf(url) ?? 'the server';
}

function isRedirect(s: number): boolean {
  return s === 301 || s === 302 || s === 303 || s === 307 || s === 308;
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function safeResolve(location: string, base: URL): URL | undefined {
  try {
    return parseFetchableUrl(new URL(location, base).toString());
  } catch {
    return undefined;
  }
}

/** A URL for messages: origin and path, no query (signed URLs carry tokens there). */
function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname.length > 80 ? `${url.pathname.slice(0, 80)}…` : url.pathname}`;
}

function normaliseState(s: string): JobState {
  const upper = s.trim().toUpperCase();
  return KNOWN_STATES.has(upper) ? upper : s;
}

function positive(field: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${field} must be a positive number; got ${describe(value)}`);
  }
  return value;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 100 ? `${v.slice(0, 100)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return `a ${Array.isArray(v) ? 'array' : typeof v}`;
}

function toJson(value: unknown, field: string): string {
  try {
    const s = JSON.stringify(value);
    if (s === undefined) throw new Error('not serialisable');
    return s;
  } catch (e) {
    throw new SegmindError({
      code: 'bad_request',
      retryable: false,
      message: `${field} could not be turned into JSON (${(e as Error).message}); it must be a plain object of strings, numbers and booleans`,
    });
  }
}

/** One upload input, checked: a data URL as given, or bytes with their MIME type (its base64 is made later). */
type UploadPart = { dataUrl: string } | { mime: string; data: Buffer };

async function uploadPart(input: UploadInput, index: number): Promise<UploadPart> {
  if (typeof input === 'string') {
    if (/^data:[^,]*,/.test(input)) return { dataUrl: input };
    throw new SegmindError({
      code: 'bad_request',
      retryable: false,
      message: `upload input ${index} must be a Buffer, {data, mime} or a data: URL; got a string starting ${JSON.stringify(input.slice(0, 30))}`,
    });
  }
  if (Buffer.isBuffer(input)) return { mime: await sniffMime(input), data: input };
  if (input && typeof input === 'object' && Buffer.isBuffer(input.data)) {
    const mime = typeof input.mime === 'string' && MIME.test(input.mime) ? input.mime : await sniffMime(input.data);
    return { mime, data: input.data };
  }
  throw new SegmindError({
    code: 'bad_request',
    retryable: false,
    message: `upload input ${index} must be a Buffer, {data, mime} or a data: URL; got ${describe(input)}`,
  });
}

const MIME = /^[\w.+-]+\/[\w.+-]+$/;

/** A part as a JSON string. Base64 and a checked MIME type need no escaping, so no second copy is made. */
function dataUrlJson(part: UploadPart): string {
  if ('dataUrl' in part) return JSON.stringify(part.dataUrl);
  return `"data:${part.mime};base64,${part.data.toString('base64')}"`;
}

async function sniffMime(data: Buffer): Promise<string> {
  try {
    const found = await sniffFileType(data);
    return found?.mime ?? 'application/octet-stream';
  } catch {
    return 'application/octet-stream';
  }
}
