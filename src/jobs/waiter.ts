// Drives Segmind jobs to one of their ends: completed (output delivered), failed, timed out, stopped,
// or closed (the node is going away: nothing is delivered, the job stays persisted).
// One poll loop per request id, however many messages wait for it; each message has its own deadline.
// No Node-RED here: the await node adapts this to messages, outputs and context.

import type { CallOptions, Download, ResultBody, StatusResult } from '../client/types';
import { PRIORITY } from '../client/budget';
import { ct, englishText, type ClientText } from '../client/errors';
import type { JobTracker } from './account';
import { deliverOutput, OutputError, outputUrl, type ResultMode } from './deliver';
import type { Prior } from './priors';
import { baseInterval, DEFAULT_SCHEDULE, finishedChance, nextPollDelay, type ScheduleOptions } from './schedule';

/** A job as the client accepts it: URLs missing (bare id) or on another origin are rebuilt from its base URL. */
export interface JobRef {
  requestId: string;
  statusUrl?: string;
  responseUrl?: string;
  /** ISO 8601 */
  submittedAt?: string;
  model?: string;
}

/** What the waiter needs of SegmindClient. */
export interface JobClient {
  status(job: JobRef, opts?: CallOptions): Promise<StatusResult>;
  result(job: JobRef, opts?: CallOptions): Promise<ResultBody>;
  download(url: string, opts?: CallOptions): Promise<Download>;
  /** real ms between two paced requests of the budget now (polls cannot come faster) */
  pacingMs?(): number;
}

/** Segmind keeps status and result for one hour (API time) after submission. */
export const RETENTION_SECONDS = 3600;

export interface WatchedJob {
  requestId: string;
  model?: string;
  statusUrl?: string;
  responseUrl?: string;
  /** epoch ms of submission; undefined for a bare request id */
  submittedAt?: number;
  /** when the submission time is unknown: epoch ms by which the job certainly existed (for the retention check) */
  knownSince?: number;
}

export interface JobFailure {
  message: string;
  /** the message as a template and parameters, so the node can say it in its language */
  text?: ClientText;
  /** 'failed' for a FAILED job, else the client's error code, or 'bad_output' / 'expired' */
  code: string;
  httpStatus?: number;
}

/**
 * `output`: the output URL of a COMPLETED job whose output was not delivered (a deadline during its
 * download, a size limit, an output host that would not serve it).
 */
export type JobEnd =
  | { kind: 'completed'; payload: string | Buffer; result: Record<string, unknown> }
  | { kind: 'failed'; error: JobFailure; result?: Record<string, unknown>; status?: string; output?: string }
  | { kind: 'timeout'; status?: string; output?: string }
  | { kind: 'stopped'; status?: string }
  | { kind: 'closed' };

export interface WaiterOptions {
  client: JobClient;
  /** API-time multiplier (1 in production) */
  timeScale: number;
  resultMode: ResultMode;
  /** folder for result mode 'file' */
  folder: string;
  /** the folder is the node's default one (made private when used) */
  defaultFolder?: boolean;
  /** largest output kept in bytes (Buffer limit in buffer mode, file limit in file mode); default deliver.ts's */
  maxBytes?: number;
  /** current belief about a model's run time */
  belief(model: string | undefined): Prior;
  /** a completed job's run time (API seconds) from Segmind's metrics, to refine the belief */
  observed?(model: string, seconds: number): void;
  /**
   * A job whose run time is only known to lie in (lo, hi] API seconds (no metrics: between the last
   * poll that saw it running and the answer that saw it done, however long the budget held that
   * poll back; hi Infinity: still running when its last message timed out). A censored observation.
   */
  observedInterval?(model: string, lo: number, hi: number): void;
  /** the account's register of jobs under way (admission control, spending) */
  tracker?: JobTracker;
  /** called whenever the queued/running counts may have changed */
  onChange?(): void;
  schedule?: ScheduleOptions;
  random?: () => number;
  /** the text for a job past Segmind's one-hour retention (localised by the caller); default English */
  expiredText?(job: WatchedJob): string;
}

interface Watcher {
  deadline: number;
  resolve(end: JobEnd): void;
}

interface Active {
  job: WatchedJob;
  watchers: Set<Watcher>;
  abort: AbortController;
  /** the job as the client takes it, built once rather than on every poll */
  ref: JobRef;
  /** last status Segmind reported; undefined before the first answer */
  status?: string;
  /** fetching the result or the output file */
  fetching: boolean;
  /** while fetching: what a message whose deadline passes gets (default: timed out) */
  deadlineEnd?: JobEnd;
  /** while fetching: ends messages at their deadline */
  fetchTimer?: ReturnType<typeof setTimeout>;
  /** the fetch under way, settled once it has cleaned up (a partial file removed) */
  fetchDone?: Promise<unknown>;
  /** the pause between polls under way: its timer and how to end it (see pause()) */
  timer?: ReturnType<typeof setTimeout>;
  wake?: (goOn: boolean) => void;
  /** ends the current pause with true; made once per job, not per poll */
  onTimer: () => void;
  /** the options of every status poll, made once per job: deadline refreshed before each poll */
  pollOptions: CallOptions;
  fetchOptions: CallOptions;
  /** API seconds after submission (or the start of the wait) at which the job was last seen running */
  lastRunning: number;
  /** epoch ms since when its poll or fetch waits for the request budget; undefined when not waiting */
  budgetSince?: number;
}

/** Largest pause after repeated retryable errors, API seconds. */
const MAX_ERROR_BACKOFF = 60;
/** Base64 in a result answer: 4 characters per 3 bytes, plus the rest of the JSON. */
const INLINE_JSON_MARGIN = 1024 * 1024;
/**
 * A garbled answer to a poll (HTML from a proxy, cut-off JSON) is tried again, as GETs are safe,
 * but this many in a row end the wait: the API is then answering something we do not understand.
 */
const MAX_INVALID_IN_A_ROW = 3;

export class Waiter {
  private readonly active = new Map<string, Active>();
  private closed = false;
  private readonly random: () => number;
  private readonly schedule: ScheduleOptions;

  constructor(private readonly opts: WaiterOptions) {
    this.random = opts.random ?? Math.random;
    this.schedule = opts.schedule ?? DEFAULT_SCHEDULE;
  }

  /**
   * Waits for the job until it ends or `deadline` (epoch ms) passes. A request id already being
   * watched is not polled twice: this message joins the running loop with its own deadline.
   */
  watch(job: WatchedJob, deadline: number): Promise<JobEnd> {
    if (this.closed) return Promise.resolve({ kind: 'closed' });
    const since = job.submittedAt ?? job.knownSince;
    if (since !== undefined && Date.now() > since + RETENTION_SECONDS * 1000 * this.opts.timeScale) {
      return Promise.resolve(expiredEnd(job, this.opts.expiredText));
    }
    return new Promise<JobEnd>((resolve) => {
      const watcher: Watcher = { deadline, resolve };
      const existing = this.active.get(job.requestId);
      if (existing) {
        existing.watchers.add(watcher);
        if (existing.fetching) this.armFetchDeadline(existing); // its deadline may be the earliest now
        this.opts.tracker?.update(job.requestId, { deadline: this.pollDeadline(existing) });
        return;
      }
      const abort = new AbortController();
      const prior = this.opts.belief(job.model);
      const since = job.submittedAt ?? Date.now();
      const a: Active = {
        job,
        watchers: new Set([watcher]),
        abort,
        ref: toRef(job),
        fetching: false,
        onTimer: () => wake(a, true),
        lastRunning: 0,
        // what a poll is worth when the budget must choose: the chance the job finished since it was last seen running
        pollOptions: {
          signal: abort.signal,
          priority: PRIORITY.poll,
          value: () => finishedChance(prior, a.lastRunning, (Date.now() - since) / this.unit, this.schedule),
        },
        fetchOptions: { signal: abort.signal, priority: PRIORITY.fetch },
      };
      const onBudgetWait = (waiting: boolean) => {
        a.budgetSince = waiting ? Date.now() : undefined;
      };
      a.pollOptions.onBudgetWait = onBudgetWait;
      a.fetchOptions.onBudgetWait = onBudgetWait;
      // one abort listener per job, however many pauses it takes
      a.abort.signal.addEventListener('abort', () => wake(a, false), { once: true });
      this.active.set(job.requestId, a);
      this.opts.tracker?.track(job.requestId, { model: job.model, submittedAt: since, deadline: this.pollDeadline(a), belief: prior });
      this.opts.onChange?.();
      this.run(a, prior).catch((err: unknown) => {
        // a bug, not a job outcome: surface it on the failed output rather than hang
        this.finish(a, { kind: 'failed', error: { message: `Internal error while waiting: ${String(err)}`, code: 'internal' } });
      });
    });
  }

  /** Ends every wait for `requestId` with 'stopped'. Returns how many messages were waiting. */
  stop(requestId: string): number {
    const a = this.active.get(requestId);
    if (!a) return 0;
    const n = a.watchers.size;
    this.finish(a, { kind: 'stopped', status: a.status });
    return n;
  }

  /** Stops everything at once: aborts requests, clears timers, ends every wait with 'closed'. */
  close(): void {
    this.closed = true;
    for (const a of [...this.active.values()]) this.finish(a, { kind: 'closed' });
  }

  isWatching(requestId: string): boolean {
    return this.active.has(requestId);
  }

  /** The jobs being waited for, as the progress line needs them (src/jobs/progress.ts). */
  *jobs(): IterableIterator<{ requestId: string; model?: string; since: number; status?: string; budgetSince?: number }> {
    for (const a of this.active.values()) {
      const { job } = a;
      yield {
        requestId: job.requestId,
        model: job.model,
        since: job.submittedAt ?? job.knownSince ?? Date.now(),
        status: a.status,
        budgetSince: a.budgetSince,
      };
    }
  }

  /** Jobs by what Segmind last said: queued (or not asked yet) and running (incl. fetching the result). */
  counts(): { queued: number; running: number } {
    let queued = 0;
    let running = 0;
    for (const a of this.active.values()) {
      if (a.fetching || (a.status !== undefined && a.status !== 'QUEUED')) running++;
      else queued++;
    }
    return { queued, running };
  }

  private finish(a: Active, end: JobEnd): void {
    if (this.active.get(a.job.requestId) === a) {
      this.active.delete(a.job.requestId);
      // closed: the job is not over, the next instance takes it on
      if (end.kind !== 'closed') this.opts.tracker?.untrack(a.job.requestId, costOf(end));
    }
    this.disarmFetchDeadline(a);
    a.abort.abort();
    const watchers = [...a.watchers];
    a.watchers.clear();
    for (const w of watchers) w.resolve(end);
    this.opts.onChange?.();
  }

  private ended(a: Active): boolean {
    return a.abort.signal.aborted || this.closed;
  }

  private get unit(): number {
    return 1000 * this.opts.timeScale;
  }

  private elapsedSeconds(job: WatchedJob, since: number): number {
    return (Date.now() - since) / this.unit;
  }

  /** The last moment a poll is of use: the earliest message deadline, or Segmind's retention if sooner. */
  private pollDeadline(a: Active): number {
    const since = a.job.submittedAt ?? a.job.knownSince;
    const retention = since !== undefined ? since + RETENTION_SECONDS * this.unit : Infinity;
    return Math.min(earliestDeadline(a), retention);
  }

  private async run(a: Active, prior: ReturnType<WaiterOptions['belief']>): Promise<void> {
    const { job } = a;
    // Schedule from submission when known; a bare id is polled at once and then scheduled from now.
    const origin = job.submittedAt ?? Date.now();
    const firstPollAt = baseInterval(0, prior, this.schedule);
    let pollNow = job.submittedAt === undefined || this.elapsedSeconds(job, origin) >= firstPollAt;
    // The last moment the job was known not to be done: its submission when the schedule starts
    // there, so jobs already COMPLETED at the first poll are learned from too (as simulate.ts
    // does); otherwise a belief fed only by slower jobs drifts long and polls ever later.
    let lastRunningAt: number | undefined = pollNow ? undefined : job.submittedAt;
    let errors = 0;
    let invalid = 0; // garbled status answers in a row
    let invalidResults = 0; // garbled result answers (status polls in between do not reset it)
    let notBefore = 0; // epoch ms: a 429's hint

    for (;;) {
      if (this.ended(a)) return;
      let wait = 0;
      if (errors > 0) {
        wait = Math.max(this.errorBackoff(errors), notBefore - Date.now());
      } else if (!pollNow) {
        const elapsed = this.elapsedSeconds(job, origin);
        wait = nextPollDelay({ elapsed, prior, rand: this.random() }, this.schedule) * this.unit;
        wait = this.scarceWait(wait, elapsed, prior);
      }
      pollNow = false;
      wait = Math.min(wait, Math.max(0, earliestDeadline(a) - Date.now()));
      if (!(await this.pause(a, wait))) return;

      let status: StatusResult | undefined;
      // A poll can hang for the client's whole headers timeout (and its retries): messages whose
      // deadline passes meanwhile leave on time instead of after it. A poll made at the deadline
      // still gets a few API seconds to answer.
      const deadlineTimer = setTimeout(
        () => this.sweepTimedOut(a),
        Math.max(0, earliestDeadline(a) - Date.now()) + DEADLINE_GRACE_S * this.unit,
      );
      // the server looked at the job after this moment (later, if the budget held the poll back)
      const polledAt = Date.now();
      try {
        a.pollOptions.deadline = this.pollDeadline(a);
        status = await this.opts.client.status(a.ref, a.pollOptions);
        errors = 0;
        invalid = 0;
      } catch (err) {
        clearTimeout(deadlineTimer);
        if (this.ended(a)) return;
        const failure = asFailure(err);
        if (failure.kind === 'failed-job' || failure.kind === 'closed') return this.finish(a, failure.end);
        if (failure.error.code === 'invalid_response' && failure.retryable) invalid++;
        if (!failure.retryable || invalid >= MAX_INVALID_IN_A_ROW) {
          return this.finish(a, { kind: 'failed', error: failure.error, status: a.status });
        }
        errors++;
        notBefore = retryAtOf(err);
      }
      clearTimeout(deadlineTimer);
      if (this.ended(a)) return;

      if (status) {
        const changed = a.status !== status.status;
        a.status = status.status;
        if (changed) this.opts.onChange?.();
        if (status.status === 'FAILED') {
          return this.finish(a, {
            kind: 'failed',
            error: textFailure(failedText(job, status.error), 'failed', 422),
            result: status.raw,
            status: 'FAILED',
          });
        }
        if (status.status === 'COMPLETED') {
          const seenAt = Date.now();
          this.opts.tracker?.update(job.requestId, { completed: true });
          const fetch = this.fetchResult(a);
          a.fetchDone = fetch;
          const end = await fetch;
          if (!end) return; // ended (stop/close) while fetching
          if (end.kind === 'completed' && job.model && job.submittedAt !== undefined) {
            // Segmind's own timing where it gives one; else only an interval is known (censored)
            const seconds = runSeconds(status.metrics) ?? runSeconds(end.result.metrics as Record<string, unknown> | undefined);
            if (seconds !== undefined) this.opts.observed?.(job.model, seconds);
            else if (lastRunningAt !== undefined) {
              this.opts.observedInterval?.(job.model, (lastRunningAt - job.submittedAt) / this.unit, (seenAt - job.submittedAt) / this.unit);
            }
          }
          if (end.kind === 'retry') {
            if (end.invalid && ++invalidResults >= MAX_INVALID_IN_A_ROW) return this.finish(a, { kind: 'failed', error: end.invalid, status: 'COMPLETED' });
            errors++;
            notBefore = end.notBefore;
            continue;
          }
          if (end.kind === 'notFinal') {
            // the result endpoint says the job still runs: back to polling on the usual schedule
            if (a.status !== end.status) {
              a.status = end.status;
              this.opts.onChange?.();
            }
          } else return this.finish(a, end);
        }
        lastRunningAt = polledAt;
        a.lastRunning = (lastRunningAt - origin) / this.unit;
      }

      // Not final (or a retryable error): messages whose deadline has passed leave as timed out.
      if (this.sweepTimedOut(a)) return;
    }
  }

  /**
   * Messages whose deadline has passed leave: timed out, or (while an output host keeps failing)
   * with the fetch's deadline end. True when none is left: the wait ends and its requests (a
   * download too) are aborted.
   */
  private sweepTimedOut(a: Active): boolean {
    if (this.ended(a)) return true;
    const now = Date.now();
    const end: JobEnd = (a.fetching && a.deadlineEnd) || { kind: 'timeout', status: a.status };
    const leaving: Watcher[] = [];
    // deleting the entry being visited is safe while iterating a Set
    for (const w of a.watchers) {
      if (w.deadline <= now) {
        a.watchers.delete(w);
        leaving.push(w);
      }
    }
    if (a.watchers.size > 0) {
      if (leaving.length) this.opts.tracker?.update(a.job.requestId, { deadline: this.pollDeadline(a) });
      for (const w of leaving) w.resolve(end);
      return false;
    }
    if (this.active.get(a.job.requestId) === a) {
      this.active.delete(a.job.requestId);
      this.opts.tracker?.untrack(a.job.requestId);
      // given up while still running: its run time is longer than this (right-censored)
      const { model, submittedAt } = a.job;
      if (model && submittedAt !== undefined && a.status !== undefined && a.status !== 'COMPLETED' && a.lastRunning > 0) {
        this.opts.observedInterval?.(model, a.lastRunning, Infinity);
      }
    }
    this.disarmFetchDeadline(a);
    const fetchDone = a.fetching ? a.fetchDone : undefined;
    a.abort.abort();
    this.opts.onChange?.();
    if (!fetchDone) {
      for (const w of leaving) w.resolve(end);
    } else {
      // the aborted download first removes its partial file: the messages leave after that
      const leave = () => {
        for (const w of leaving) w.resolve(this.closed ? { kind: 'closed' } : end);
      };
      fetchDone.then(leave, leave);
    }
    return true;
  }

  /**
   * While the result and output are fetched, each message still leaves at its deadline (plus the
   * grace a poll gets): a slow or endless download cannot hold it. Re-armed for the next deadline.
   */
  private armFetchDeadline(a: Active): void {
    this.disarmFetchDeadline(a);
    const at = earliestDeadline(a);
    if (!Number.isFinite(at)) return;
    a.fetchTimer = setTimeout(() => {
      a.fetchTimer = undefined;
      if (!this.sweepTimedOut(a)) this.armFetchDeadline(a);
    }, Math.max(0, at - Date.now()) + DEADLINE_GRACE_S * this.unit);
  }

  private disarmFetchDeadline(a: Active): void {
    if (a.fetchTimer === undefined) return;
    clearTimeout(a.fetchTimer);
    a.fetchTimer = undefined;
  }

  /** The largest result answer read: room for an inline (base64) output up to the size limit. */
  private resultMaxBytes(): number | undefined {
    if (this.opts.resultMode === 'url' || this.opts.maxBytes === undefined) return undefined;
    return Math.ceil(this.opts.maxBytes / 3) * 4 + INLINE_JSON_MARGIN;
  }

  /** Fetches the result body and the output; undefined when the wait ended meanwhile. */
  private async fetchResult(
    a: Active,
  ): Promise<JobEnd | { kind: 'retry'; notBefore: number; invalid?: JobFailure } | { kind: 'notFinal'; status: string } | undefined> {
    const signal = a.abort.signal;
    a.fetching = true;
    a.deadlineEnd = undefined;
    this.armFetchDeadline(a);
    this.opts.onChange?.();
    try {
      let body: ResultBody;
      try {
        body = await this.opts.client.result(a.ref, { ...a.fetchOptions, maxBytes: this.resultMaxBytes() });
      } catch (err) {
        if (this.ended(a)) return undefined;
        const failure = asFailure(err);
        if (failure.kind === 'failed-job' || failure.kind === 'closed') return failure.end;
        if (failure.retryable) return { kind: 'retry', notBefore: retryAtOf(err), invalid: failure.error.code === 'invalid_response' ? failure.error : undefined };
        return { kind: 'failed', error: failure.error, status: 'COMPLETED' };
      }
      if (body.status === 'FAILED') {
        return {
          kind: 'failed',
          error: textFailure(failedText(a.job, body.error ?? undefined), 'failed', 422),
          result: body.raw,
          status: 'FAILED',
        };
      }
      // Segmind itself said the job is not done (QUEUED, PROCESSING, any other state string): the
      // status endpoint ran ahead of the result one. A body without any status is judged by its output.
      if (!body.final && typeof body.raw.status === 'string' && body.raw.status.trim() !== '') {
        return { kind: 'notFinal', status: body.status };
      }
      // The job is done (and billed): an output host that fails is tried again until the message's
      // deadline, and what leaves then says the output is unavailable, not that the job failed.
      const output = outputUrl(body.raw);
      if (output && this.opts.resultMode !== 'url') a.deadlineEnd = { kind: 'timeout', status: 'COMPLETED', output };
      for (let attempt = 1; ; attempt++) {
        try {
          const payload = await deliverOutput(body.raw, {
            mode: this.opts.resultMode,
            folder: this.opts.folder,
            defaultFolder: this.opts.defaultFolder,
            requestId: a.job.requestId,
            downloader: this.opts.client,
            signal,
            maxBytes: this.opts.maxBytes,
          });
          return { kind: 'completed', payload, result: body.raw };
        } catch (err) {
          if (this.ended(a)) return undefined;
          if (err instanceof OutputError) {
            return { kind: 'failed', error: { message: err.message, text: err.text, code: err.code }, result: body.raw, status: 'COMPLETED', output };
          }
          const failure = asFailure(err);
          if (failure.kind === 'closed') return failure.end;
          const retryable = failure.kind === 'error' ? failure.retryable : false;
          const error =
            failure.kind === 'error'
              ? failure.error
              : { message: String((err as Error)?.message ?? err), code: 'download' };
          const detail = 'text' in error && error.text ? error.text : error.message;
          const httpStatus = 'httpStatus' in error ? error.httpStatus : undefined;
          if (!retryable) {
            return {
              kind: 'failed',
              error: { ...textFailure(ct('job.outputNotFetched', { detail }), OUTPUT_UNAVAILABLE), httpStatus },
              result: body.raw,
              status: 'COMPLETED',
              output,
            };
          }
          // messages whose deadline comes before the next try leave with this
          a.deadlineEnd = {
            kind: 'failed',
            error: { ...textFailure(ct('job.outputUnavailable', { attempts: attempt, detail }), OUTPUT_UNAVAILABLE), httpStatus },
            result: body.raw,
            status: 'COMPLETED',
            output,
          };
          if (!(await this.pause(a, this.errorBackoff(attempt)))) return undefined;
        }
      }
    } finally {
      a.fetching = false;
      a.deadlineEnd = undefined;
      this.disarmFetchDeadline(a);
    }
  }

  /**
   * Resolves true after ms, false at once if the job's wait ends (its signal aborts; the timer is
   * cleared). Per pause only the promise and its timer are new: thousands of jobs pause at once
   * for seconds, long enough for whatever a pause allocates to outlive V8's young generation.
   */
  private pause(a: Active, ms: number): Promise<boolean> {
    if (a.abort.signal.aborted) return STOPPED;
    if (ms <= 0) return GO_ON;
    return new Promise<boolean>((resolve) => {
      a.wake = resolve;
      a.timer = setTimeout(a.onTimer, ms);
    });
  }

  /**
   * When the budget paces polls further apart than the schedule's own intervals (a plan of a few
   * requests per minute), polls cannot follow the schedule anyway: the budget's allocator then
   * decides which job's poll goes. A slot left unused is lost, so a job asks for a poll every pacing
   * interval as soon as it may have finished within one (not only from the schedule's first poll
   * on, which is placed for an unlimited budget); the allocator gives it a slot only when no poll
   * more likely to find a job done is waiting.
   */
  private scarceWait(wait: number, elapsed: number, prior: ReturnType<WaiterOptions['belief']>): number {
    const pace = this.opts.client.pacingMs?.();
    if (pace === undefined || !(pace > 0)) return wait;
    const paceSeconds = pace / this.unit;
    // not scarce: the schedule's own intervals near the median are longer than the pacing
    if (paceSeconds < SCARCE_PACE_SECONDS) return wait;
    if (wait <= pace) return wait;
    // the first moment within the schedule's wait from which a pacing interval may hold the end
    const waitSeconds = wait / this.unit;
    for (let ahead = 0; ahead < waitSeconds; ahead += paceSeconds / 4) {
      if (finishedChance(prior, elapsed + ahead, elapsed + ahead + paceSeconds, this.schedule) >= SCARCE_MIN_CHANCE) {
        return Math.min(wait, Math.max(ahead * this.unit, pace));
      }
    }
    return wait;
  }

  /** Exponential pause after consecutive retryable errors, with jitter, in real ms. */
  private errorBackoff(errors: number): number {
    const seconds = Math.min(MAX_ERROR_BACKOFF, 2 ** Math.min(errors, 10));
    return seconds * (0.5 + this.random() / 2) * this.unit;
  }
}

function toRef(job: WatchedJob): JobRef {
  return {
    requestId: job.requestId,
    model: job.model,
    statusUrl: job.statusUrl,
    responseUrl: job.responseUrl,
    submittedAt: job.submittedAt !== undefined ? new Date(job.submittedAt).toISOString() : undefined,
  };
}

/** Segmind's timing of a finished job: queue_time + inference_time, else total_time (API seconds). */
export function runSeconds(metrics: Record<string, unknown> | undefined): number | undefined {
  if (!metrics) return undefined;
  const n = (k: string) => (typeof metrics[k] === 'number' && Number.isFinite(metrics[k]) && (metrics[k] as number) >= 0 ? (metrics[k] as number) : undefined);
  const queue = n('queue_time');
  const inference = n('inference_time');
  const seconds = queue !== undefined && inference !== undefined ? queue + inference : (n('total_time') ?? undefined);
  return seconds !== undefined && seconds > 0 ? seconds : undefined;
}

/** What Segmind charged for a job that ended, when its answer says (metrics.cost, USD). */
function costOf(end: JobEnd): number | undefined {
  const result = end.kind === 'completed' || end.kind === 'failed' ? end.result : undefined;
  const metrics = result?.metrics as Record<string, unknown> | undefined;
  const cost = metrics?.cost;
  return typeof cost === 'number' && Number.isFinite(cost) && cost >= 0 ? cost : undefined;
}

function earliestDeadline(a: Active): number {
  let earliest = Infinity;
  for (const w of a.watchers) if (w.deadline < earliest) earliest = w.deadline;
  return earliest;
}

function expiredEnd(job: WatchedJob, text?: (job: WatchedJob) => string): JobEnd {
  return {
    kind: 'failed',
    error: {
      code: 'expired',
      message: text ? text(job) :
        `Request ${job.requestId} was submitted more than one hour ago${job.submittedAt !== undefined ? ` (at ${new Date(job.submittedAt).toISOString()})` : ''}; ` +
        'Segmind keeps status and results for one hour after submission, so its result can no longer be fetched.',
    },
  };
}

function textFailure(text: ClientText, code: string, httpStatus?: number): JobFailure {
  return { message: englishText(text), text, code, httpStatus };
}

function failedText(job: WatchedJob, error: unknown): ClientText {
  // Segmind's own reason is its words, not ours: it stays as it came
  const reason = typeof error === 'string' && error.trim() ? error.trim() : ct('job.noReason');
  return ct('job.failed', { requestId: job.requestId, model: job.model ? ct('job.model', { model: job.model }) : '', reason });
}

/** A 429's "not before" time (epoch ms) carried by the client's error, else 0. */
function retryAtOf(err: unknown): number {
  const at = (err as { retryAt?: unknown })?.retryAt;
  return typeof at === 'number' && Number.isFinite(at) ? at : 0;
}

type Failure =
  | { kind: 'failed-job'; end: JobEnd }
  | { kind: 'closed'; end: JobEnd }
  | { kind: 'error'; retryable: boolean; error: JobFailure };

/** Classifies a thrown error: a FAILED job served as 422, a retryable hiccup, or the end of polling. */
function asFailure(err: unknown): Failure {
  const e = (err ?? {}) as { code?: unknown; httpStatus?: unknown; retryable?: unknown; message?: unknown; segmindError?: unknown; text?: ClientText };
  const httpStatus = typeof e.httpStatus === 'number' ? e.httpStatus : undefined;
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (httpStatus === 422) {
    const text = typeof e.segmindError === 'string' ? e.segmindError : message;
    return { kind: 'failed-job', end: { kind: 'failed', error: { message: text, code: 'failed', httpStatus }, status: 'FAILED' } };
  }
  const code = typeof e.code === 'string' ? e.code : 'error';
  // the client was closed under us (the config node went first on a redeploy): not a job outcome
  if (code === 'aborted') return { kind: 'closed', end: { kind: 'closed' } };
  // A garbled 2xx answer to a GET may be a passing hiccup: worth another try (capped by the caller).
  // Anything else we do not understand (a redirect: the API never redirects) is not.
  const garbled = code === 'invalid_response' && (httpStatus === undefined || (httpStatus >= 200 && httpStatus < 300));
  const retryable = e.retryable === true || garbled;
  return { kind: 'error', retryable, error: { message, text: e.text, code, httpStatus } };
}

/** Pacing (API s) from which the budget, not the schedule, sets the pace of polls. */
const SCARCE_PACE_SECONDS = 5;
/** ...and from which chance of having finished within one pacing interval a job asks for polls. */
const SCARCE_MIN_CHANCE = 0.005;

/** API seconds a poll made at a message's deadline may still take before the message times out */
const DEADLINE_GRACE_S = 5;

/** A COMPLETED job whose output could not be fetched (msg.error.code): never a failed job. */
export const OUTPUT_UNAVAILABLE = 'output_unavailable';

const GO_ON = Promise.resolve(true);
const STOPPED = Promise.resolve(false);

/** Ends the job's current pause, if any: true to go on polling, false when its wait has ended. */
function wake(a: Active, goOn: boolean): void {
  if (a.timer !== undefined) {
    clearTimeout(a.timer);
    a.timer = undefined;
  }
  const resolve = a.wake;
  a.wake = undefined;
  resolve?.(goOn);
}
