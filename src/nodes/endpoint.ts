// Where a config node sends its requests: Segmind's own hosts, the built-in sandbox (a
// Segmind-compatible server started in this process when a node first needs it), or a custom URL.
// Which time scale applies follows from that choice. No Node-RED here: the config node is the glue.
import { randomBytes } from 'node:crypto';
import { SegmindClient } from '../client/client';
import type { CallOptions, ClientOptions, Download, JobHandle, ResultBody, StatusResult, UploadInput } from '../client/types';
import type { BudgetHandle, BudgetStats, RateSnapshot } from '../client/budget';
import { sharedBudget } from '../client/budget-registry';
import { SegmindError } from '../client/errors';
import { DEFAULT_BASE_URL, DEFAULT_UPLOAD_URL, isLoopbackHost, validateApiUrl } from '../client/urls';
import { startSandbox } from '../sandbox';
import type { Sandbox } from '../sandbox/types';
import type { JobRef } from '../client/client';

export const ENDPOINTS = ['segmind', 'sandbox', 'custom'] as const;
export type EndpointKind = (typeof ENDPOINTS)[number];

/**
 * The built-in sandbox runs at 1/20 of Segmind's time: a SadTalker job (~108 s on Segmind) takes
 * about 5 s, the slowest model about 17 s. Its own speed, applied to the client automatically.
 */
export const SANDBOX_TIME_SCALE = 0.05;

/** Spread of the built-in sandbox's run times (sd of ln): most jobs take 0.7x-1.4x the model page's time. */
export const SANDBOX_SIGMA = 0.2;

/** What the config node stores about its endpoint (editor values: strings mostly). */
export interface EndpointSettings {
  endpoint?: unknown;
  baseUrl?: unknown;
  uploadUrl?: unknown;
  timeScale?: unknown;
}

/** Why an endpoint cannot be used: a catalog key of segmind-config.errors with its parameters. */
export interface EndpointProblem {
  key: 'badUrl' | 'timeScale' | 'timeScaleRemote';
  params: Record<string, string>;
}

export interface Endpoint {
  kind: EndpointKind;
  /** the hosts of 'segmind' and 'custom'; empty for 'sandbox' until it listens */
  baseUrl: string;
  uploadUrl: string;
  /** real ms per API ms / 1000: 1 for Segmind, the sandbox's own for the built-in one */
  timeScale: number;
  problem?: EndpointProblem;
}

function text(v: unknown): string {
  return typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : String(v).trim();
}

/** The kind a saved config means: flows from before the choice existed have only URLs. */
export function endpointKind(settings: EndpointSettings): EndpointKind {
  const kind = text(settings.endpoint);
  if ((ENDPOINTS as readonly string[]).includes(kind)) return kind as EndpointKind;
  const base = text(settings.baseUrl);
  const upload = text(settings.uploadUrl);
  const isDefault = (v: string, d: string) => v === '' || v.replace(/\/+$/, '') === d;
  return isDefault(base, DEFAULT_BASE_URL) && isDefault(upload, DEFAULT_UPLOAD_URL) ? 'segmind' : 'custom';
}

function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** The time scale as saved: blank means 1; anything else must be a number in (0, 1]. */
function parseTimeScale(v: unknown): number | undefined {
  const s = text(v);
  if (s === '') return 1;
  const n = Number(s);
  return Number.isFinite(n) && n > 0 && n <= 1 ? n : undefined;
}

/**
 * The endpoint a config node's settings describe, with the reason it cannot be used, if any. A time
 * scale other than 1 is refused unless both hosts are on this machine: against Segmind it would
 * multiply the request budget and shorten every timeout.
 */
export function resolveEndpoint(settings: EndpointSettings): Endpoint {
  const kind = endpointKind(settings);
  if (kind === 'sandbox') return { kind, baseUrl: '', uploadUrl: '', timeScale: SANDBOX_TIME_SCALE };
  const baseUrl = kind === 'segmind' ? DEFAULT_BASE_URL : text(settings.baseUrl) || DEFAULT_BASE_URL;
  const uploadUrl = kind === 'segmind' ? DEFAULT_UPLOAD_URL : text(settings.uploadUrl) || DEFAULT_UPLOAD_URL;
  const endpoint: Endpoint = { kind, baseUrl, uploadUrl, timeScale: 1 };
  for (const [field, url] of [['baseUrl', baseUrl], ['uploadUrl', uploadUrl]] as const) {
    try {
      validateApiUrl(field, url);
    } catch (err) {
      endpoint.problem = { key: 'badUrl', params: { message: (err as Error).message } };
      return endpoint;
    }
  }
  const raw = text(settings.timeScale);
  const scale = parseTimeScale(raw);
  if (scale === undefined) {
    endpoint.problem = { key: 'timeScale', params: { value: JSON.stringify(raw) } };
    return endpoint;
  }
  if (scale !== 1 && !(isLoopbackUrl(baseUrl) && isLoopbackUrl(uploadUrl))) {
    endpoint.problem = { key: 'timeScaleRemote', params: { value: String(scale), url: baseUrl } };
    return endpoint;
  }
  endpoint.timeScale = scale;
  return endpoint;
}

/** What the nodes use of a client; SegmindClient and SandboxClient both are one. */
export interface NodeClient {
  readonly timeScale: number;
  /** the account whose budget this client shares (src/client/budget-registry.ts) */
  readonly account: string;
  readonly stats: BudgetStats;
  rate(): RateSnapshot;
  submit(model: string, payload: unknown, opts?: CallOptions): Promise<JobHandle>;
  uploadAsset(inputs: UploadInput[], opts?: CallOptions): Promise<string[]>;
  status(job: JobRef, opts?: CallOptions): Promise<StatusResult>;
  result(job: JobRef, opts?: CallOptions): Promise<ResultBody>;
  download(url: string, opts?: CallOptions): Promise<Download>;
  close(): Promise<void>;
}

type SandboxClientOptions = Omit<ClientOptions, 'apiKey' | 'baseUrl' | 'uploadUrl' | 'timeScale'> & {
  /** the config node's id: its instances share one sandbox, so a redeploy keeps the sandbox's jobs */
  sandboxId?: string;
};

/** A running built-in sandbox and the key it accepts. */
interface SharedSandbox {
  sandbox: Sandbox;
  key: string;
}

interface SandboxSlot {
  started: Promise<SharedSandbox>;
  users: number;
  idleTimer?: NodeJS.Timeout;
}

/**
 * A redeploy closes the config node and starts a new one with the same id; the jobs its await nodes
 * resume live in the sandbox, so the sandbox must outlive the instance. It stops this long after
 * its last user went (a redeploy comes back well within), or at once when the process exits.
 */
export const SANDBOX_IDLE_MS = 30_000;
/** The idle time in force: SEGMIND_SANDBOX_IDLE_MS may shorten it (tests of the stop). */
function idleMs(): number {
  const n = Number(process.env.SEGMIND_SANDBOX_IDLE_MS);
  return Number.isFinite(n) && n >= 0 ? n : SANDBOX_IDLE_MS;
}
const sandboxes = new Map<string, SandboxSlot>();

async function startBuiltIn(): Promise<SharedSandbox> {
  const key = `SG_sandbox_${randomBytes(12).toString('hex')}`;
  try {
    const sandbox = await startSandbox({
      host: '127.0.0.1',
      port: 0,
      apiKeys: [key],
      timeScale: SANDBOX_TIME_SCALE,
      // run times vary from job to job as on Segmind, a little less widely; every start differs
      durationSigma: SANDBOX_SIGMA,
      seed: randomBytes(4).readUInt32LE(0),
      record: false,
      quiet: true,
    });
    return { sandbox, key };
  } catch (err) {
    throw new SegmindError({
      code: 'network',
      retryable: false,
      message: `The built-in sandbox could not start on 127.0.0.1: ${(err as Error).message}. Nothing was sent.`,
    });
  }
}

function acquireSandbox(id: string): Promise<SharedSandbox> {
  let slot = sandboxes.get(id);
  if (!slot) {
    const started = startBuiltIn();
    slot = { started, users: 0 };
    sandboxes.set(id, slot);
    const s = slot;
    // a failed start is not kept: the next call tries again
    started.catch(() => sandboxes.get(id) === s && sandboxes.delete(id));
  }
  if (slot.idleTimer) {
    clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
  }
  slot.users++;
  return slot.started;
}

function releaseSandbox(id: string): void {
  const slot = sandboxes.get(id);
  if (!slot) return;
  slot.users = Math.max(0, slot.users - 1);
  if (slot.users > 0 || slot.idleTimer) return;
  slot.idleTimer = setTimeout(() => {
    if (sandboxes.get(id) !== slot || slot.users > 0) return;
    sandboxes.delete(id);
    void slot.started.then((s) => s.sandbox.close()).catch(() => undefined);
  }, idleMs());
  slot.idleTimer.unref();
}

/**
 * A client whose server is the built-in sandbox, started on a free loopback port by the first call
 * and shared by every instance of the same config node (see SANDBOX_IDLE_MS). The sandbox accepts
 * only a key made here, so the user's key never reaches it.
 */
export class SandboxClient implements NodeClient {
  readonly timeScale = SANDBOX_TIME_SCALE;
  readonly account: string;
  /** the account's budget, there from the start: admission control plans before the sandbox listens */
  private readonly budget: BudgetHandle;
  private started?: Promise<{ client: SegmindClient; shared: boolean }>;
  private current?: SegmindClient;
  private closing?: Promise<void>;
  private readonly id: string;

  constructor(private readonly options: SandboxClientOptions = {}) {
    this.id = options.sandboxId ?? `anonymous-${randomBytes(6).toString('hex')}`;
    this.account = `sandbox:${this.id}`;
    const rpm = options.requestsPerMinute ?? 5;
    const log = (level: 'debug' | 'info' | 'warn', message: string) => options.log?.(level, message);
    this.budget = sharedBudget(this.account, { rpm, timeScale: SANDBOX_TIME_SCALE, log }).handle(rpm, log);
  }

  get stats(): BudgetStats {
    return this.budget.stats;
  }

  rate(): RateSnapshot {
    return this.budget.budget.snapshot();
  }

  /** The sandbox's API URL once it listens (for tests and logs). */
  get url(): string | undefined {
    return this.current?.baseUrl;
  }

  /** Starts the sandbox (once) and resolves to the client that talks to it. */
  ready(): Promise<SegmindClient> {
    this.started ??= this.closing ? Promise.resolve({ client: closedClient(), shared: false }) : this.start();
    return this.started.then((s) => s.client);
  }

  private async start(): Promise<{ client: SegmindClient; shared: boolean }> {
    let shared: SharedSandbox;
    try {
      shared = await acquireSandbox(this.id);
    } catch (err) {
      this.started = undefined; // the next call tries again
      throw err;
    }
    if (this.closing) {
      releaseSandbox(this.id);
      return { client: closedClient(), shared: false };
    }
    const { sandbox, key } = shared;
    const { sandboxId: _id, ...options } = this.options;
    const client = new SegmindClient({
      ...options,
      apiKey: key,
      baseUrl: sandbox.url,
      uploadUrl: sandbox.uploadUrl,
      timeScale: SANDBOX_TIME_SCALE,
      shareBudget: true,
      accountId: this.account,
    });
    this.current = client;
    return { client, shared: true };
  }

  submit(model: string, payload: unknown, opts?: CallOptions): Promise<JobHandle> {
    return this.ready().then((c) => c.submit(model, payload, opts));
  }

  uploadAsset(inputs: UploadInput[], opts?: CallOptions): Promise<string[]> {
    return this.ready().then((c) => c.uploadAsset(inputs, opts));
  }

  status(job: JobRef, opts?: CallOptions): Promise<StatusResult> {
    return this.ready().then((c) => c.status(job, opts));
  }

  result(job: JobRef, opts?: CallOptions): Promise<ResultBody> {
    return this.ready().then((c) => c.result(job, opts));
  }

  download(url: string, opts?: CallOptions): Promise<Download> {
    return this.ready().then((c) => c.download(url, opts));
  }

  /** Stops the client and lets go of the sandbox (it stops once no instance uses it). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const s = await this.started?.catch(() => undefined);
      await s?.client.close();
      this.budget.stop(new Error('closed'));
      if (s?.shared) releaseSandbox(this.id);
    })();
    return this.closing;
  }
}

/** A client closed before it was used: every call fails as cancelled by close, sending nothing. */
function closedClient(): SegmindClient {
  const client = new SegmindClient({ apiKey: 'SG_closed', baseUrl: 'http://127.0.0.1' });
  void client.close();
  return client;
}
