// The sandbox: two HTTP listeners (the API, and a files origin standing in for Segmind's CDN)
// speaking Segmind's wire format as /work/shared/segmind-api/WIRE.md describes it.

import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { handleControl, type ControlTarget } from './control';
import { FaultQueue, JobScriptQueue, type FaultKind } from './faults';
import { HoldTable } from './holds';
import { JobTable, type JobRecord } from './jobs';
import { DEFAULT_TYPICAL_SECONDS, TYPICAL_SECONDS, missingRequiredField } from './models';
import { OutputSource, sampleMp4 } from './output';
import { SlidingWindowLimiter } from './ratelimit';
import { Recorder, type RecordFilter } from './recorder';
import { routeApi, routeFiles, type Route } from './routes';
import { BodyTooLarge, errorReply, html405, isJsonContentType, json, readBody, type Reply } from './reply';
import type { HeldRequest, JobScript, RecordedRequest, ReleaseFilter, RequestFault, Sandbox, SandboxJob, SandboxOptions } from './types';
import { AssetStore, parseDataUrl } from './uploads';

/** Largest request body accepted (uploads carry whole media files as data URLs). */
const MAX_BODY_BYTES = 256 * 1024 * 1024;
const EMPTY: Buffer = Buffer.alloc(0);
/** setTimeout's ceiling (~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

function urlHost(host: string): string {
  if (host === '' || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function headerText(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Segmind's outputs come from another host than its API: on loopback, 127.0.0.2 stands for it. */
const DEFAULT_FILES_HOST: Record<string, string> = { '127.0.0.1': '127.0.0.2' };

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** A server that remembers its sockets so close() can end keep-alive connections at once. */
function createTrackedServer(handler: (req: IncomingMessage, res: ServerResponse) => void): { server: Server; sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  const server = http.createServer(handler);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return { server, sockets };
}

class SandboxServer implements ControlTarget {
  url = '';
  uploadUrl = '';
  filesUrl = '';
  readonly apiKeys: string[];
  private readonly keySet: Set<string>;
  readonly timeScale: number;
  private readonly retentionSeconds: number;
  private readonly unknownModels: Set<string>;
  private readonly retiredModels: Set<string>;
  private readonly outputVia: 'files' | 'api' | 'api-redirect';
  private readonly uploadAnswerKey: 'urls' | 'file_urls' | 'both';
  private readonly quiet: boolean;
  private readonly output: OutputSource;
  /** the sandbox clock (ms since epoch) */
  readonly now: () => number;
  /** whether used-up credits refuse submits (406) */
  private readonly creditsLimited: boolean;
  private readonly latencyMs: number;
  private readonly invalidBody: 'reject' | 'fail-later';

  readonly table: JobTable;
  private readonly faults = new FaultQueue();
  private readonly scripts = new JobScriptQueue();
  private readonly limiter: SlidingWindowLimiter;
  readonly recorder: Recorder;
  private readonly assets = new AssetStore();
  private readonly holds = new HoldTable();
  /** numbers held requests when recording is off */
  private holdSeq = 0;

  private readonly api = createTrackedServer((req, res) => this.onApi(req, res));
  private readonly files = createTrackedServer((req, res) => this.onFiles(req, res));
  /** cancel functions of pending waits (v1 runs, slow_headers), run on close */
  private readonly waits = new Set<() => void>();
  private closed?: Promise<void>;

  constructor(private readonly options: SandboxOptions) {
    this.apiKeys = [...(options.apiKeys ?? ['SG_sandbox'])];
    this.keySet = new Set(this.apiKeys);
    const timeScale = options.timeScale ?? 1;
    if (!(typeof timeScale === 'number' && timeScale > 0 && Number.isFinite(timeScale))) {
      throw new Error(`timeScale: expected a finite number > 0, got ${JSON.stringify(options.timeScale)}`);
    }
    this.timeScale = timeScale;
    this.retentionSeconds = options.retentionSeconds ?? 3600;
    this.unknownModels = new Set(options.unknownModels ?? []);
    this.retiredModels = new Set(options.retiredModels ?? []);
    this.outputVia = options.outputVia ?? (options.outputsOnApiOrigin ? 'api' : 'files');
    this.uploadAnswerKey = options.uploadAnswerKey ?? 'both';
    this.quiet = options.quiet ?? true;
    this.output = new OutputSource(options.output ?? sampleMp4(), options.outputBytes);
    this.now = options.clock ?? Date.now;
    const credits = options.credits ?? null;
    if (credits !== null && !(typeof credits === 'number' && Number.isFinite(credits))) {
      throw new Error(`credits: expected a finite number or null, got ${JSON.stringify(options.credits)}`);
    }
    this.creditsLimited = credits !== null;
    const latencyMs = options.latencyMs ?? 0;
    if (!(typeof latencyMs === 'number' && latencyMs >= 0 && Number.isFinite(latencyMs))) {
      throw new Error(`latencyMs: expected a number of ms >= 0, got ${JSON.stringify(options.latencyMs)}`);
    }
    this.latencyMs = latencyMs;
    const invalidBody = options.invalidBody ?? 'reject';
    if (invalidBody !== 'reject' && invalidBody !== 'fail-later') {
      throw new Error(`invalidBody: expected 'reject' or 'fail-later', got ${JSON.stringify(options.invalidBody)}`);
    }
    this.invalidBody = invalidBody;
    const typical = { ...TYPICAL_SECONDS, ...(options.typicalSeconds ?? {}) };
    const msPerSecond = (): number => 1000 * this.timeScale;
    this.table = new JobTable({
      typicalSeconds: (model) => typical[model] ?? DEFAULT_TYPICAL_SECONDS,
      sigma: options.durationSigma ?? 0.36,
      seed: options.seed ?? 1,
      msPerSecond,
      retentionSeconds: () => this.retentionSeconds,
      startCredits: credits ?? undefined,
    });
    this.limiter = new SlidingWindowLimiter(null, () => 60 * msPerSecond());
    this.limiter.set(options.rateLimitPerMinute ?? null);
    this.recorder = new Recorder(options.record ?? true, (key) => this.keySet.has(key), this.now);
  }

  async start(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    const apiPort = await listen(this.api.server, this.options.port ?? 0, host);
    try {
      let filesHost = this.options.filesHost ?? DEFAULT_FILES_HOST[host] ?? host;
      let filesPort: number;
      try {
        filesPort = await listen(this.files.server, this.options.filesPort ?? 0, filesHost);
      } catch (err) {
        // a system that routes only 127.0.0.1 to loopback (macOS): another port is still another origin
        if (this.options.filesHost !== undefined || filesHost === host || (err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw err;
        filesHost = host;
        filesPort = await listen(this.files.server, this.options.filesPort ?? 0, filesHost);
      }
      this.url = `http://${urlHost(host)}:${apiPort}`;
      this.uploadUrl = `${this.url}/upload-asset`;
      this.filesUrl = `http://${urlHost(filesHost)}:${filesPort}`;
    } catch (err) {
      this.api.server.close();
      throw err;
    }
  }

  // ---- public API (Sandbox) ----

  get requests(): RecordedRequest[] {
    return this.recorder.list;
  }

  get jobs(): Map<string, SandboxJob> {
    return this.table.jobs;
  }

  fault(f: RequestFault): void {
    this.faults.add(f);
  }

  scriptJob(s: JobScript): void {
    this.scripts.add(s);
  }

  /** Finishes every running job now (or those of `ids`); see JobTable.finishNow. */
  finishJobs(ids?: Iterable<string>): number {
    return this.table.finishNow(this.now(), ids);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  resetRequests(): void {
    this.recorder.clear();
  }

  setRateLimit(perMinute: number | null): void {
    this.limiter.set(perMinute);
  }

  reset(options: { jobs?: boolean } = {}): void {
    this.holds.release();
    this.faults.clear();
    this.scripts.clear();
    this.recorder.clear();
    this.limiter.reset();
    if (options.jobs) {
      this.table.clear();
      this.assets.clear();
    }
  }

  count(filter?: RecordFilter): number {
    return this.recorder.count(filter);
  }

  held(): HeldRequest[] {
    return this.holds.list();
  }

  whenHeld(count = 1, signal?: AbortSignal): Promise<HeldRequest[]> {
    return this.holds.whenHeld(count, signal);
  }

  release(filter?: ReleaseFilter): number {
    return this.holds.release(filter);
  }

  close(): Promise<void> {
    if (!this.closed) {
      for (const cancel of [...this.waits]) cancel();
      this.holds.cancelAll();
      const closeOne = ({ server, sockets }: { server: Server; sockets: Set<Socket> }): Promise<void> =>
        new Promise((resolve) => {
          server.close(() => resolve());
          for (const s of sockets) s.destroy();
        });
      this.closed = Promise.all([closeOne(this.api), closeOne(this.files)]).then(() => undefined);
    }
    return this.closed;
  }

  // ---- listeners ----

  private onApi(req: IncomingMessage, res: ServerResponse): void {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const pathname = q < 0 ? raw : raw.slice(0, q);
    if (pathname.startsWith('/__sandbox/')) {
      handleControl(this, req, res, pathname, q < 0 ? '' : raw.slice(q + 1)).catch((err) => this.fail(res, err));
      return;
    }
    this.handle(req, res, 'api', routeApi(pathname)).catch((err) => this.fail(res, err));
  }

  private onFiles(req: IncomingMessage, res: ServerResponse): void {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    this.handle(req, res, 'files', routeFiles(q < 0 ? raw : raw.slice(0, q))).catch((err) => this.fail(res, err));
  }

  private fail(res: ServerResponse, err: unknown): void {
    if (!this.quiet) console.error('sandbox: internal error:', err);
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const body = Buffer.from(JSON.stringify({ error: `Sandbox internal error: ${(err as Error)?.message ?? String(err)}` }));
    res.writeHead(500, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse, listener: 'api' | 'files', route: Route): Promise<void> {
    const rec = this.recorder.start(req, listener, route.endpoint, { model: route.model, requestId: route.requestId });
    if (!this.quiet) {
      res.once('close', () => console.log(`${listener} ${req.method} ${req.url} -> ${rec?.status ?? res.statusCode}`));
    }
    let body = EMPTY;
    if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
      try {
        body = await readBody(req, MAX_BODY_BYTES);
      } catch (err) {
        if (err instanceof BodyTooLarge) return this.send(req, res, rec, errorReply(413, `Payload too large: ${err.message}`));
        res.destroy(); // the client went away mid-body
        return;
      }
      if (rec) rec.body = Recorder.bodyOf(body);
    } else {
      req.resume();
    }

    // Asset downloads are not Segmind API traffic: scripted faults never hit them.
    const fault = route.asset === undefined ? this.faults.take(route) : undefined;
    if (fault) {
      const early = this.faultBeforeHandling(fault);
      if (early === 'destroy') return this.destroy(req);
      if (early) return this.send(req, res, rec, early);
    }

    // Handled as soon as the body is read, as a real server does: a submit creates (and bills) its
    // job whether or not the client stays for the answer. Faults below only change the answer.
    const handled: Handled = {};
    const reply = await this.answer(req, res, listener, route, body, handled);
    if (rec && handled.requestId !== undefined) rec.requestId = handled.requestId;
    if (!reply) return this.gone(rec); // the client or the sandbox went away during a v1 run

    // a real server's round trip: the request is handled, its answer not yet received
    if (this.latencyMs > 0 && listener === 'api' && route.endpoint !== 'output' && !(await this.wait(this.latencyMs, res))) return this.gone(rec);
    if (fault?.type === 'slow_headers' && !(await this.wait(fault.delayMs, res))) return this.gone(rec);
    if (fault?.type === 'hold') {
      const info: HeldRequest = {
        seq: rec?.seq ?? ++this.holdSeq,
        endpoint: route.endpoint,
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        since: this.now(),
      };
      if (route.model !== undefined) info.model = route.model;
      const requestId = handled.requestId ?? route.requestId;
      if (requestId !== undefined) info.requestId = requestId;
      if (rec) rec.held = true;
      const answer = await this.holds.hold(info, res, fault.maxMs);
      if (rec) delete rec.held;
      if (!answer) return this.gone(rec);
    }
    if (fault?.type === 'http') return this.send(req, res, rec, this.httpFault(fault));
    if (fault?.type === 'reset_after') return this.destroy(req);
    if (fault?.type === 'reshape') return this.send(req, res, rec, reshaped(reply, fault));
    if (fault?.type === 'malformed_json') {
      return this.send(req, res, rec, { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"status": "COMPLETED", "output": ') });
    }
    if (fault?.type === 'empty_body') {
      return this.send(req, res, rec, { status: 200, headers: { 'content-type': 'application/json' }, body: EMPTY });
    }
    if (fault?.type === 'endless_body' && reply.status === 200 && reply.body instanceof OutputSource) {
      if (rec) rec.status = 200;
      res.writeHead(200, { ...reply.headers });
      reply.body.pipeEndless(res, fault.chunkBytes, fault.intervalMs);
      return;
    }
    if (fault?.type === 'truncate_body') {
      const length = reply.body?.length ?? 0;
      return this.send(req, res, rec, reply, Math.max(0, Math.min(length - 1, fault.afterBytes ?? Math.floor(length / 2))));
    }
    this.send(req, res, rec, reply);
  }

  /** No answer went out: the client went away (or the sandbox closed) first. */
  private gone(rec: RecordedRequest | null): void {
    if (rec && rec.status === 0) rec.clientGone = true;
  }

  /** Faults answered without handling the request (a submit creates no job). */
  private faultBeforeHandling(fault: FaultKind): Reply | 'destroy' | undefined {
    switch (fault.type) {
      case 'reset_before':
        return 'destroy';
      case 'http':
        return fault.afterHandling ? undefined : this.httpFault(fault);
      case 'rate_limit': {
        const resetMs = (fault.resetInSeconds ?? 60) * 1000 * this.timeScale;
        const headers: Record<string, string> = { 'x-rate-limit-reset-at-utc': new Date(this.now() + resetMs).toISOString() };
        if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
        return errorReply(429, 'Rate limit exceeded', headers);
      }
      case 'html_405':
        return html405();
      default:
        return undefined;
    }
  }

  /** The answer of an `http` fault. */
  private httpFault(fault: Extract<FaultKind, { type: 'http' }>): Reply {
    const headers = { ...(fault.headers ?? {}) };
    const lower = Object.keys(headers).map((h) => h.toLowerCase());
    let body: Buffer;
    if (fault.body === undefined) {
      body = fault.status === 204 || fault.status === 304 ? EMPTY : Buffer.from(JSON.stringify({ error: `Sandbox fault: HTTP ${fault.status}` }));
      if (body.length && !lower.includes('content-type')) headers['content-type'] = 'application/json';
    } else if (typeof fault.body === 'string' || Buffer.isBuffer(fault.body)) {
      body = Buffer.from(fault.body as string);
      if (!lower.includes('content-type')) headers['content-type'] = 'text/plain; charset=utf-8';
    } else {
      body = Buffer.from(JSON.stringify(fault.body));
      if (!lower.includes('content-type')) headers['content-type'] = 'application/json';
    }
    return { status: fault.status, headers, body };
  }

  /** The normal answer to a request: routing, auth, rate limit, then the endpoint. */
  private async answer(req: IncomingMessage, res: ServerResponse, listener: 'api' | 'files', route: Route, body: Buffer, handled: Handled): Promise<Reply | undefined> {
    if (route.notFound) return errorReply(404, 'Not found');
    if (!route.methods.includes(req.method ?? '')) return html405();
    const now = this.now();

    if (route.endpoint === 'output') return this.outputFile(listener, route.requestId ?? '', now);
    if (route.asset !== undefined) return this.assetFile(route.asset);

    const key = headerText(req.headers['x-api-key']);
    if (key === undefined || key === '') return errorReply(401, 'Unauthorized: missing x-api-key header');
    if (!this.keySet.has(key)) return errorReply(401, 'Unauthorized: invalid API key');
    const slot = this.limiter.take(key, now);
    if (!slot.ok) return errorReply(429, 'Rate limit exceeded', { 'x-rate-limit-reset-at-utc': new Date(slot.resetAt).toISOString() });

    switch (route.endpoint) {
      case 'submit':
        return this.submit(req, route.model ?? '', body, now, handled);
      case 'status':
        return this.status(route.requestId ?? '', now, false);
      case 'result':
        return this.status(route.requestId ?? '', now, true);
      case 'v1':
        return this.runSync(req, res, route.model ?? '', body);
      case 'upload':
        return this.upload(req, body);
      default:
        return errorReply(404, 'Not found');
    }
  }

  /** Shared checks of submit and v1: the payload, or the error reply. */
  private payloadOf(req: IncomingMessage, model: string, body: Buffer): { payload: Record<string, unknown>; invalid?: string } | { error: Reply } {
    if (this.unknownModels.has(model)) return { error: errorReply(404, 'Model not found') };
    if (this.retiredModels.has(model)) return { error: errorReply(410, `Model ${model} has been retired`) };
    if (!isJsonContentType(req.headers['content-type'])) return { error: errorReply(406, 'Invalid content type') };
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch (err) {
      return { error: errorReply(400, `Invalid JSON body: ${(err as Error).message}`) };
    }
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
      const got = Array.isArray(payload) ? 'an array' : payload === null ? 'null' : typeof payload;
      return { error: errorReply(400, `Request body must be a JSON object, got ${got}`) };
    }
    if (this.creditsLimited && this.table.credits <= 0) return { error: errorReply(406, 'Insufficient credits') };
    const missing = missingRequiredField(model, payload as Record<string, unknown>);
    if (missing) {
      const error = `Missing required field: ${missing}`;
      if (this.invalidBody === 'reject') return { error: errorReply(400, error) };
      return { payload: payload as Record<string, unknown>, invalid: error };
    }
    return { payload: payload as Record<string, unknown> };
  }

  private submit(req: IncomingMessage, model: string, body: Buffer, now: number, handled: Handled): Reply {
    const checked = this.payloadOf(req, model, body);
    if ('error' in checked) return checked.error;
    // accepted though invalid ('fail-later'): billed, and FAILED naming the field once it ran
    const script = checked.invalid !== undefined ? { outcome: 'fail' as const, error: checked.invalid } : this.scripts.take(model);
    const job = this.table.create(model, checked.payload, script, now);
    const id = job.requestId;
    handled.requestId = id;
    return json(200, {
      request_id: id,
      status: 'QUEUED',
      poll_url: `${this.url}/v1/requests/${id}`,
      status_url: this.statusUrl(id),
      response_url: this.responseUrl(id),
    });
  }

  private statusUrl(id: string): string {
    return `${this.url}/v2/requests/${id}/status`;
  }

  private responseUrl(id: string): string {
    return `${this.url}/v2/requests/${id}`;
  }

  outputUrl(id: string): string {
    return `${this.outputVia === 'files' ? this.filesUrl : this.url}/outputs/${id}.mp4`;
  }

  /** Status, or with `result` the result body; FAILED is 422 on both. */
  private status(id: string, now: number, result: boolean): Reply {
    const job = this.table.get(id, now);
    if (!job) return errorReply(404, `Request ${id} not found`);
    const phase = this.table.phase(job, now);
    if (phase.kind === 'failed') {
      return json(422, { status: 'FAILED', error: phase.error, metrics: phase.metrics, request_id: id });
    }
    if (phase.kind === 'running' || !result) {
      return json(200, {
        status: phase.kind === 'running' ? phase.status : 'COMPLETED',
        request_id: id,
        status_url: this.statusUrl(id),
        response_url: this.responseUrl(id),
        metrics: phase.kind === 'running' ? {} : phase.metrics,
      });
    }
    return json(200, this.resultBody(job, phase.metrics));
  }

  private resultBody(job: JobRecord, metrics: Record<string, number>): Record<string, unknown> {
    // Segmind's result bodies are model-specific: keys beyond `output` that a client must not trip on
    const body: Record<string, unknown> = { status: 'COMPLETED', error: null, metrics, request_id: job.requestId, model: job.model };
    if (job.base64) {
      body.output = this.output.toBuffer().toString('base64');
      return body;
    }
    const url = this.outputUrl(job.requestId);
    body.output = url;
    body.video = { url, content_type: 'video/mp4', file_name: `${job.requestId}.mp4`, file_size: this.output.length };
    return body;
  }

  /** v1: synchronous; waits the scaled run time and answers the video bytes. */
  private async runSync(req: IncomingMessage, res: ServerResponse, model: string, body: Buffer): Promise<Reply | undefined> {
    const checked = this.payloadOf(req, model, body);
    if ('error' in checked) return checked.error;
    if (checked.invalid !== undefined) return errorReply(400, checked.invalid); // v1 answers at once
    const seconds = this.table.sampleSeconds(model);
    if (!(await this.wait(seconds * 1000 * this.timeScale, res))) return undefined;
    const { cost, remainingCredits } = this.table.charge(seconds);
    return {
      status: 200,
      headers: {
        'content-type': 'video/mp4',
        'x-cost': String(cost),
        'x-remaining-credits': String(remainingCredits),
        'x-request-id': randomUUID(),
        'x-generation-time': seconds.toFixed(2),
      },
      body: this.output,
    };
  }

  private upload(req: IncomingMessage, body: Buffer): Reply {
    if (!isJsonContentType(req.headers['content-type'])) return errorReply(406, 'Invalid content type');
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      return errorReply(400, `Invalid JSON body: ${(err as Error).message}`);
    }
    const dataUrls = (parsed as { data_urls?: unknown } | null)?.data_urls;
    if (!Array.isArray(dataUrls) || dataUrls.length === 0) return errorReply(400, 'Missing required field: data_urls (a non-empty array of data URLs)');
    const urls: string[] = [];
    try {
      const assets = dataUrls.map((u, i) => parseDataUrl(u, i));
      for (const a of assets) urls.push(`${this.filesUrl}/assets/${encodeURIComponent(this.assets.put(a))}`);
    } catch (err) {
      return errorReply(400, (err as Error).message);
    }
    const answer: Record<string, string[]> = {};
    if (this.uploadAnswerKey !== 'file_urls') answer.urls = urls;
    if (this.uploadAnswerKey !== 'urls') answer.file_urls = urls;
    return json(200, answer);
  }

  private outputFile(listener: 'api' | 'files', id: string, now: number): Reply {
    if (listener === 'api' && this.outputVia === 'files') return errorReply(404, 'Not found');
    if (!this.table.outputReady(id, now)) return errorReply(404, `Output ${id}.mp4 not found`);
    if (listener === 'api' && this.outputVia === 'api-redirect') {
      return { status: 302, headers: { location: `${this.filesUrl}/outputs/${encodeURIComponent(id)}.mp4` }, body: EMPTY };
    }
    return { status: 200, headers: { 'content-type': 'video/mp4', 'cache-control': 'public, max-age=604800' }, body: this.output };
  }

  private assetFile(name: string): Reply {
    const asset = this.assets.get(name);
    if (!asset) return errorReply(404, `Asset ${name} not found`);
    return { status: 200, headers: { 'content-type': asset.mime }, body: asset.bytes };
  }

  // ---- wire ----

  /** Writes a reply; with `stopAfter`, cuts the connection after that many body bytes. */
  private send(req: IncomingMessage, res: ServerResponse, rec: RecordedRequest | null, reply: Reply, stopAfter?: number): void {
    if (res.destroyed) return this.gone(rec);
    if (rec) rec.status = reply.status;
    const body = reply.body;
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(body?.length ?? 0) });
    if (req.method === 'HEAD' || !body || body.length === 0) {
      res.end();
      return;
    }
    if (body instanceof OutputSource) {
      body.pipeTo(res, stopAfter);
    } else if (stopAfter === undefined) {
      res.end(body);
    } else {
      res.write(body.subarray(0, stopAfter), () => res.socket?.destroy());
    }
  }

  private destroy(req: IncomingMessage): void {
    req.socket.destroy();
  }

  /** Waits `ms` (tracked so close() can cancel it). Resolves false if the sandbox closed or the client went away. */
  private wait(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.waits.delete(cancel);
        res.off('close', onClose);
        resolve(ok);
      };
      const cancel = (): void => done(false);
      const onClose = (): void => done(false);
      const timer = setTimeout(() => done(true), Math.min(MAX_TIMER_MS, Math.max(0, ms)));
      this.waits.add(cancel);
      res.once('close', onClose);
    });
  }
}

/** A JSON answer changed by a `reshape` fault (an answer that is not JSON goes out unchanged). */
function reshaped(reply: Reply, fault: Extract<FaultKind, { type: 'reshape' }>): Reply {
  if (!Buffer.isBuffer(reply.body)) return reply;
  let value: unknown;
  try {
    value = JSON.parse(reply.body.toString('utf8'));
  } catch {
    return reply;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return reply;
  const obj = { ...(value as Record<string, unknown>) };
  for (const key of fault.drop ?? []) delete obj[key];
  Object.assign(obj, fault.set ?? {});
  return { status: fault.status ?? reply.status, headers: reply.headers, body: Buffer.from(JSON.stringify(obj)) };
}

/** What handling a request did, for the recorder and for holds. */
interface Handled {
  /** the job a submit created */
  requestId?: string;
}

/** Starts both listeners; resolves once they accept connections. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const sb = new SandboxServer(options);
  await sb.start();
  return sb;
}
