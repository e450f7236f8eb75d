// Contract of the Segmind-compatible sandbox (src/sandbox). The sandbox never imports
// src/client, src/models or src/jobs: it is the other side of the wire.

export interface SandboxOptions {
  /** default '127.0.0.1' */
  host?: string;
  /** API port, default 0 (ephemeral) */
  port?: number;
  /** port of the second listener that serves output files (another origin, like a CDN); default 0 */
  filesPort?: number;
  /**
   * Address of the files listener. Segmind's outputs live on another host than its API, so by
   * default, when `host` is 127.0.0.1, it is 127.0.0.2 where the system allows (Linux, Windows),
   * else `host` (another port: still another origin).
   */
  filesHost?: string;
  /** the sandbox's clock in ms since epoch (job phases, retention, rate windows); default Date.now */
  clock?: () => number;
  /**
   * Account credits: every job's cost is taken from them, and a submit once they are used up is
   * answered 406 "Insufficient credits" (no job). Default null: 1000 reported, never refused.
   */
  credits?: number | null;
  /**
   * Every API answer (not output files, not the control API) leaves this many ms after the request
   * was handled, like a real server's round trip: a submit's job exists while its answer is on the
   * wire. Default 0.
   */
  latencyMs?: number;
  /**
   * A submit missing a required field: 'reject' (default) answers 400 and creates no job; 'fail-later'
   * accepts it (200, billed) and the job ends FAILED naming the field, as some Segmind endpoints do.
   */
  invalidBody?: 'reject' | 'fail-later';
  /** accepted x-api-key values; default ['SG_sandbox'] */
  apiKeys?: string[];
  /** multiplies every API-time duration (job run times, retention, rate window); default 1 */
  timeScale?: number;
  /** typical run time per model slug in API seconds; defaults to the five pages' times, 20 s for others */
  typicalSeconds?: Record<string, number>;
  /** job durations: lognormal around typical, sigma (default 0.36 => 5th-95th ~0.55x-1.8x); 0 = exact */
  durationSigma?: number;
  /** PRNG seed for durations; default 1 */
  seed?: number;
  /** retention in API seconds after submission; default 3600. After it status and result answer 404. */
  retentionSeconds?: number;
  /** requests per minute per key (every endpoint but output files counts); default null = unlimited */
  rateLimitPerMinute?: number | null;
  /** model slugs answered 404 'model not found'; default [] */
  unknownModels?: string[];
  /** model slugs answered 410 'model retired'; default [] */
  retiredModels?: string[];
  /** bytes served as every job's output; default the MP4 shipped in assets/sample.mp4 */
  output?: Buffer;
  /**
   * Stream a generated output of this many bytes (the output bytes, then zero padding) without
   * holding it in memory, e.g. 1 GB for a download benchmark. Default: the output's own length.
   */
  outputBytes?: number;
  /**
   * Where output URLs point: 'files' (default) the files listener (another origin, like a CDN);
   * 'api' the API origin itself; 'api-redirect' the API origin answering 302 to the files origin.
   */
  outputVia?: 'files' | 'api' | 'api-redirect';
  /** @deprecated use outputVia: 'api' */
  outputsOnApiOrigin?: boolean;
  /** which key(s) the upload answer carries: docs show `urls`, the SDK reads `file_urls`; default 'both' */
  uploadAnswerKey?: 'urls' | 'file_urls' | 'both';
  /** record requests (sandbox.requests); default true. false for benchmarks. */
  record?: boolean;
  /** quiet: no console logging; default true */
  quiet?: boolean;
}

export type Endpoint = 'submit' | 'status' | 'result' | 'upload' | 'v1' | 'output' | 'other';

export interface RecordedRequest {
  seq: number;
  /** ms since epoch */
  time: number;
  method: string;
  /** path including query */
  path: string;
  endpoint: Endpoint;
  /** 'api' or 'files' listener */
  listener: 'api' | 'files';
  /** model slug for submit/v1, request id for status/result and for a submit that created a job */
  model?: string;
  requestId?: string;
  /** all headers except x-api-key, lower-case names */
  headers: Record<string, string>;
  /** whether an x-api-key header was present, and whether it was an accepted key */
  apiKeyPresent: boolean;
  apiKeyValid: boolean;
  /** parsed JSON body, or undefined; bodies over 64 KiB recorded as { bytes: n } */
  body?: unknown;
  /** HTTP status answered, or 0 while no answer went out (yet, or ever) */
  status: number;
  /** true while a `hold` fault holds the answer */
  held?: boolean;
  /** the client went away before the answer was written (a submit's job exists all the same) */
  clientGone?: boolean;
}

/** An answer a `hold` fault is holding back: the request was handled (a submit's job exists). */
export interface HeldRequest {
  /** the recorded request's seq (a counter of held requests when recording is off) */
  seq: number;
  endpoint: Endpoint;
  method: string;
  path: string;
  model?: string;
  /** the job a held submit created, or the request id of a held status/result */
  requestId?: string;
  /** ms since epoch (sandbox clock) when the hold began */
  since: number;
}

/** Which held answers `release` lets go; all when empty. */
export interface ReleaseFilter {
  requestId?: string;
  endpoint?: Endpoint;
  model?: string;
}

/** A scripted fault for the next matching request(s). */
export interface RequestFault {
  /** which endpoint(s) it applies to; default any except 'output' */
  endpoint?: Endpoint | Endpoint[];
  /** only for this model (submit) or request id (status/result) */
  model?: string;
  requestId?: string;
  /** how many matching requests it applies to; default 1; Infinity for all */
  times?: number;
  kind:
    // e.g. 401 {error}. With afterHandling the request is handled first (a submit creates and bills
    // its job) and this answer replaces the real one: a gateway 502/504 after the backend accepted.
    | { type: 'http'; status: number; body?: unknown; headers?: Record<string, string>; afterHandling?: boolean }
    | { type: 'rate_limit'; retryAfterSeconds?: number; resetInSeconds?: number } // 429 with x-rate-limit-reset-at-utc (+Retry-After if given)
    | { type: 'reset_before' } // destroy the socket before the request is handled (no job created)
    | { type: 'reset_after' } // handle the request (a submit creates the job) then destroy the socket, no answer
    // handle the request (a submit creates the job at once, as a real server does once it has read
    // the body), then wait before answering; a client giving up meanwhile gets nothing, the job stays
    | { type: 'slow_headers'; delayMs: number }
    // like slow_headers, but the answer waits until release() (or maxMs), for tests that must act
    // while a request is on the wire: whenHeld() / GET /__sandbox/held tell when it is
    | { type: 'hold'; maxMs?: number }
    | { type: 'malformed_json' } // 200, content-type json, body not JSON
    | { type: 'empty_body' } // 200 with an empty body
    | { type: 'html_405' } // 405 with an HTML page
    | { type: 'truncate_body'; afterBytes?: number } // output only: send headers with full length, then destroy midway
    // output only: 200 with no content-length, the output's bytes then zeros without end (chunks of
    // chunkBytes, default 64 KiB, every intervalMs, default as fast as the client reads) until the client goes away
    | { type: 'endless_body'; chunkBytes?: number; intervalMs?: number }
    // handle the request, then change its JSON answer: drop keys, set keys, another HTTP status
    // (e.g. a submit answer without URLs, or a result answer still PROCESSING)
    | { type: 'reshape'; drop?: string[]; set?: Record<string, unknown>; status?: number };
}

/** Scripted behaviour for the next submitted job(s). */
export interface JobScript {
  model?: string;
  /** how many next jobs; default 1 */
  times?: number;
  outcome: 'complete' | 'fail' | 'never' | 'unknown_status';
  /** FAILED error text; default 'Sandbox: job failed' */
  error?: string;
  /** override run time in API seconds */
  durationSeconds?: number;
  /** for unknown_status: the string reported while running; default 'STARTING' */
  statusString?: string;
}

export interface SandboxJob {
  requestId: string;
  model: string;
  payload: unknown;
  submittedAt: number;
  /** when it completes (ms since epoch) */
  doneAt: number;
  outcome: JobScript['outcome'];
  error?: string;
  /** when it leaves QUEUED for PROCESSING (ms since epoch): about 10% into its run */
  startedAt?: number;
  /** its run time in API seconds (Infinity for 'never') */
  durationSeconds?: number;
}

export interface Sandbox {
  /** e.g. http://127.0.0.1:43123 (no trailing slash) */
  url: string;
  /** url + '/upload-asset' */
  uploadUrl: string;
  /** origin of the files listener, e.g. http://127.0.0.1:43124 */
  filesUrl: string;
  apiKeys: string[];
  requests: RecordedRequest[];
  jobs: Map<string, SandboxJob>;
  fault(f: RequestFault): void;
  scriptJob(s: JobScript): void;
  clearFaults(): void;
  /** finish every running job now (or those of `ids`), 'never' ones included; returns how many */
  finishJobs(ids?: Iterable<string>): number;
  /** forget recorded requests (jobs stay) */
  resetRequests(): void;
  setRateLimit(perMinute: number | null): void;
  /** forget faults, job scripts, recorded requests and rate windows, release held answers; with jobs: true also jobs and uploads */
  reset(options?: { jobs?: boolean }): void;
  /** count of recorded requests matching a filter */
  count(filter?: Partial<Pick<RecordedRequest, 'endpoint' | 'method' | 'listener' | 'model'>>): number;
  /** answers a `hold` fault is holding back now */
  held(): HeldRequest[];
  /** resolves once at least `count` answers are held (default 1) */
  whenHeld(count?: number): Promise<HeldRequest[]>;
  /** sends the held answers matching the filter (all without one); returns how many */
  release(filter?: ReleaseFilter): number;
  close(): Promise<void>;
}

