// The job table. A job's state is a pure function of the clock: no per-job timers, so tens of
// thousands of jobs cost one Map entry each.

import { randomUUID } from 'node:crypto';
import type { JobScript, SandboxJob } from './types';

/** Fraction of a job's run time it spends QUEUED before PROCESSING. */
const QUEUED_FRACTION = 0.1;
/** Sandbox credits at start unless configured; every submitted job's cost is taken from them. */
const START_CREDITS = 1000;
/** Sandbox price per API second of run time. */
const COST_PER_SECOND = 0.0016;

export interface JobRecord extends SandboxJob {
  startedAt: number;
  durationSeconds: number;
  /** the payload asked for base64 output */
  base64: boolean;
  /** for 'unknown_status': the string reported while running */
  statusString?: string;
  cost: number;
  remainingCredits: number;
}

export type JobPhase =
  | { kind: 'running'; status: string } // QUEUED, PROCESSING or a scripted unknown string
  | { kind: 'completed'; metrics: Record<string, number> }
  | { kind: 'failed'; error: string; metrics: Record<string, number> };

/** mulberry32: small, fast, seedable; good enough for run-time jitter. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviate (Box-Muller) from a uniform source. */
function normal(rand: () => number): number {
  const u1 = 1 - rand(); // (0, 1]: log stays finite
  const u2 = rand();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

export interface JobTableOptions {
  typicalSeconds: (model: string) => number;
  sigma: number;
  seed: number;
  /** ms per API second: 1000 * timeScale */
  msPerSecond: () => number;
  retentionSeconds: () => number;
  /** credits at start; default 1000 */
  startCredits?: number;
}

/** Output files outlive status and result, as Segmind's CDN keeps them about 7 days. */
const OUTPUT_RETENTION_SECONDS = 7 * 24 * 3600;

export class JobTable {
  readonly jobs = new Map<string, JobRecord>();
  /** request id -> when its output file exists (ms since epoch); kept past the job's retention */
  private readonly outputs = new Map<string, { readyAt: number; submittedAt: number }>();
  private rand: () => number;
  private left: number;

  constructor(private readonly opts: JobTableOptions) {
    this.rand = seededRandom(opts.seed);
    this.left = opts.startCredits ?? START_CREDITS;
  }

  /** credits left */
  get credits(): number {
    return this.left;
  }

  /** Run time in API seconds: lognormal with median `typical`, clamped to 0.2x-5x. */
  sampleSeconds(model: string): number {
    const typical = this.opts.typicalSeconds(model);
    if (this.opts.sigma <= 0) return typical;
    const f = Math.exp(this.opts.sigma * normal(this.rand));
    return typical * Math.min(5, Math.max(0.2, f));
  }

  create(model: string, payload: Record<string, unknown>, script: JobScript | undefined, now: number): JobRecord {
    this.sweep(now);
    const outcome = script?.outcome ?? 'complete';
    const sampled = script?.durationSeconds ?? this.sampleSeconds(model);
    // a 'never' job still leaves QUEUED as a normal one would, then runs forever
    const seconds = outcome === 'never' ? Infinity : sampled;
    const ms = seconds * this.opts.msPerSecond();
    const { cost, remainingCredits } = this.charge(seconds);
    const job: JobRecord = {
      requestId: randomUUID(),
      model,
      payload,
      submittedAt: now,
      startedAt: now + sampled * this.opts.msPerSecond() * QUEUED_FRACTION,
      doneAt: now + ms,
      durationSeconds: seconds,
      outcome,
      base64: payload.base64 === true,
      cost,
      remainingCredits,
    };
    if (outcome === 'fail') job.error = script?.error ?? 'Sandbox: job failed';
    if (outcome === 'unknown_status') job.statusString = script?.statusString ?? 'STARTING';
    this.jobs.set(job.requestId, job);
    if (outcome !== 'fail' && outcome !== 'never') this.outputs.set(job.requestId, { readyAt: job.doneAt, submittedAt: now });
    return job;
  }

  /**
   * Ends the run of every job still running (or of `ids`) now: tests that must know a job is still
   * running at some point make it 'never' and finish it when they are ready. Returns how many.
   */
  finishNow(now: number, ids?: Iterable<string>): number {
    let n = 0;
    const which = ids ? [...ids].map((id) => this.jobs.get(id)).filter((j): j is JobRecord => !!j) : [...this.jobs.values()];
    for (const job of which) {
      if (now >= job.doneAt || job.outcome === 'fail') continue;
      job.doneAt = now;
      job.durationSeconds = Math.max(0, (now - job.submittedAt) / this.opts.msPerSecond());
      if (job.outcome === 'never') job.outcome = 'complete';
      this.outputs.set(job.requestId, { readyAt: now, submittedAt: job.submittedAt });
      n++;
    }
    return n;
  }

  /** Takes the price of a run from the sandbox's credits. */
  charge(seconds: number): { cost: number; remainingCredits: number } {
    const cost = Number.isFinite(seconds) ? round(seconds * COST_PER_SECOND, 4) : 0;
    this.left = round(this.left - cost, 4);
    return { cost, remainingCredits: this.left };
  }

  /** The job if it exists and is within retention. */
  get(id: string, now: number): JobRecord | undefined {
    const job = this.jobs.get(id);
    if (!job || this.expired(job, now)) return undefined;
    return job;
  }

  expired(job: SandboxJob, now: number): boolean {
    return now >= job.submittedAt + this.opts.retentionSeconds() * this.opts.msPerSecond();
  }

  phase(job: JobRecord, now: number): JobPhase {
    if (now < job.doneAt) {
      if (job.statusString !== undefined) return { kind: 'running', status: job.statusString };
      return { kind: 'running', status: now < job.startedAt ? 'QUEUED' : 'PROCESSING' };
    }
    const queue = job.durationSeconds * QUEUED_FRACTION;
    const timing = {
      inference_time: round(job.durationSeconds - queue),
      queue_time: round(queue),
      total_time: round(job.durationSeconds),
    };
    if (job.outcome === 'fail') return { kind: 'failed', error: job.error ?? 'Sandbox: job failed', metrics: timing };
    return { kind: 'completed', metrics: { ...timing, cost: job.cost, remaining_credits: job.remainingCredits } };
  }

  /** Whether the output file of this request id can be downloaded now. */
  outputReady(id: string, now: number): boolean {
    const out = this.outputs.get(id);
    return out !== undefined && now >= out.readyAt && now < out.submittedAt + OUTPUT_RETENTION_SECONDS * this.opts.msPerSecond();
  }

  /** Drop expired jobs from the front of the table (insertion order = submission order): amortised O(1). */
  sweep(now: number): void {
    for (const job of this.jobs.values()) {
      if (!this.expired(job, now)) break;
      this.jobs.delete(job.requestId);
    }
    const outputLimit = now - OUTPUT_RETENTION_SECONDS * this.opts.msPerSecond();
    for (const [id, out] of this.outputs) {
      if (out.submittedAt > outputLimit) break;
      this.outputs.delete(id);
    }
  }

  clear(): void {
    this.left = this.opts.startCredits ?? START_CREDITS;
    this.jobs.clear();
    this.outputs.clear();
  }
}
