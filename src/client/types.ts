// Contract of the Segmind client. Everything above src/client talks to Segmind only through this.
import type { ClientText } from './errors';

export type ErrorCode =
  | 'auth' // 401, 403
  | 'credits' // 406 (insufficient credits, spend limit, invalid content type)
  | 'rate_limited' // 429
  | 'not_found' // 404 unknown model or request id
  | 'expired' // 404 for a request older than Segmind's 1 h retention
  | 'retired' // 410
  | 'bad_request' // 400, 405 and any other 4xx
  | 'server' // 5xx
  | 'not_sent' // connection refused or host name not found (DNS): nothing reached the server
  | 'network' // connection reset or broken after the request may have been sent
  | 'timeout' // connect/headers/body timeout
  | 'invalid_response' // HTML, empty body, malformed JSON, schema mismatch
  | 'access_denied' // 401/403 from a host that is not an API host (an output CDN): no key was sent there
  | 'aborted' // the caller's AbortSignal fired
  // refusals of the account's budget before anything is sent (src/client/budget.ts)
  | 'budget_full'
  | 'spend_limit';

export interface ClientOptions {
  /** Secret. Sent only as `x-api-key` to the origins of baseUrl and uploadUrl. */
  apiKey: string;
  /** Default https://api.segmind.com. https only except loopback hosts. */
  baseUrl?: string;
  /** Default https://workflows-api.segmind.com/upload-asset. https only except loopback hosts. */
  uploadUrl?: string;
  /** Request budget shared by every call of this client. Default 5 (Segmind Free). */
  requestsPerMinute?: number;
  /**
   * Share the budget with every other client of this process that has the same key, base URL and
   * time scale (and keep it when clients close and new ones start, as on a redeploy). The lowest
   * requestsPerMinute of the clients alive applies. Default false: a budget of its own.
   */
  shareBudget?: boolean;
  /**
   * The account the budget is shared by (with shareBudget); default: derived from the key and the
   * base URL. The built-in sandbox names its own, as its key and port exist only once it listens.
   */
  accountId?: string;
  /**
   * Multiplies every API-time constant (budget window, backoff, Retry-After seconds) so that tests
   * and the sandbox can run a minute in 60 ms. Real network timeouts are not scaled. Default 1.
   */
  timeScale?: number;
  /** ms; defaults connect 10 s, headers 30 s, body 60 s (download body 5 min). */
  timeouts?: { connect?: number; headers?: number; body?: number; downloadBody?: number };
  /** Max attempts for retryable calls (GETs, and submits before the server got them). Default 5. */
  maxAttempts?: number;
  /** Optional log sink; never receives the key. `text` is the message as a template, when it has one (to translate). */
  log?: (level: 'debug' | 'info' | 'warn', message: string, text?: ClientText) => void;
}

export interface CallOptions {
  signal?: AbortSignal;
  /**
   * Budget priority, lower first when requests are scarce: result fetches and output downloads
   * from an API host default 0 (PRIORITY.fetch: never paced, a slot of each window is kept for
   * them), status polls 2, submits and uploads 3.
   */
  priority?: number;
  /**
   * Ends the call while it waits (budget, socket) but not once the request is on the wire: a
   * submit that has left is let finish (its job exists and is billed), governed by `signal` only.
   */
  stopBeforeSend?: AbortSignal;
  /**
   * result() only: the largest answer read, in bytes (default 300 MiB, at most 500 MiB); a larger
   * one fails with invalid_response without being read further. Other calls read at most 1 MiB.
   */
  maxBytes?: number;
  /** epoch ms by which the call must have gone out to be of use: calls within a window of theirs go first */
  deadline?: number;
  /**
   * What sending the call now is worth (e.g. a poll's chance of finding its job finished); asked
   * when a slot frees and more calls wait than can go; higher first within a priority.
   */
  value?: () => number;
  /** told when the call starts and stops waiting for the request budget (each attempt): "waiting for budget" */
  onBudgetWait?: (waiting: boolean) => void;
}

/** What a model node puts on msg and the await node reads. */
export interface JobHandle {
  model: string;
  requestId: string;
  statusUrl: string;
  responseUrl: string;
  /** ISO 8601 */
  submittedAt: string;
}

export type JobState = 'QUEUED' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | string;

export interface StatusResult {
  status: JobState;
  /** true only for COMPLETED and FAILED; unknown strings are not final */
  final: boolean;
  /** Segmind's error text when FAILED */
  error?: string;
  metrics?: Record<string, unknown>;
  /** the whole parsed body */
  raw: Record<string, unknown>;
}

export interface ResultBody {
  status: JobState;
  final: boolean;
  /** URL of the output, or base64 data when base64: true was sent */
  output?: unknown;
  error?: string | null;
  metrics?: Record<string, unknown>;
  raw: Record<string, unknown>;
}

export type UploadInput = Buffer | { data: Buffer; mime: string } | string; // string = data URL

export interface Download {
  stream: NodeJS.ReadableStream;
  contentType?: string;
  contentLength?: number;
  /** the final URL after redirects */
  url: string;
}
