// How far a running job probably is, from the belief about its model's run time (a lognormal) and
// the time since submission: the await node's "sadtalker 60 % · ~40 s". Pure functions.
import { logNormalTail } from './lognormal';
import { predictiveSigma, type Prior } from './priors';

export interface Progress {
  /** elapsed / expected total run time given the job is still running; in [0, 0.99] */
  fraction: number;
  /** expected remaining run time, API seconds */
  remainingSeconds: number;
}

/** Progress is never shown as done before the job is: the job may run long. */
const MAX_FRACTION = 0.99;

/**
 * Progress after `elapsed` API seconds of a job whose run time follows `belief`: the expected total
 * is E[T | T > elapsed] (the job is known to be still running), which for a lognormal is
 * exp(mu + s^2/2) * Q(z - s) / Q(z) with z = (ln elapsed - mu) / s, in log space for the far tail.
 */
export function jobProgress(belief: Prior, elapsed: number): Progress {
  const sigma = predictiveSigma(belief);
  const mu = Math.log(belief.median);
  const t = Number.isFinite(elapsed) && elapsed > 0 ? elapsed : 0;
  let logTotal = mu + (sigma * sigma) / 2;
  if (t > 0) {
    const z = (Math.log(t) - mu) / sigma;
    logTotal += logNormalTail(z - sigma) - logNormalTail(z);
  }
  const total = Math.max(Math.exp(logTotal), t);
  return {
    fraction: total > 0 ? Math.min(MAX_FRACTION, t / total) : 0,
    remainingSeconds: Math.max(0, total - t),
  };
}

/** A job as the progress line needs it. */
export interface ProgressJob {
  model?: string;
  /** epoch ms since when the job runs: its submission, else when it was first seen */
  since: number;
  /** epoch ms since when its next request waits for the account's request budget, if it does */
  budgetSince?: number;
}

/** A request held by the budget for this many API seconds counts as waiting for it; less is the usual turn. */
export const BUDGET_WAIT_SHOWN_SECONDS = 1;

export interface ProgressLine {
  /** the job shown: the one expected to finish first */
  model: string;
  percent: number;
  /** expected remaining time in real seconds (API seconds x time scale) */
  remainingRealSeconds: number;
  /** how many other jobs are running */
  more: number;
  /** how many jobs' requests have waited for the request budget for BUDGET_WAIT_SHOWN_SECONDS or longer */
  waitingForBudget: number;
}

/**
 * The line for a set of running jobs: the job expected to finish first, and how many others there
 * are. `unitMs` is real ms per API second (1000 x time scale). Undefined when there are no jobs.
 */
export function progressLine(
  jobs: Iterable<ProgressJob>,
  belief: (model: string | undefined) => Prior,
  now: number,
  unitMs: number,
): ProgressLine | undefined {
  let best: { job: ProgressJob; p: Progress } | undefined;
  let count = 0;
  let waitingForBudget = 0;
  for (const job of jobs) {
    count++;
    if (job.budgetSince !== undefined && now - job.budgetSince >= BUDGET_WAIT_SHOWN_SECONDS * unitMs) waitingForBudget++;
    const p = jobProgress(belief(job.model), (now - job.since) / unitMs);
    if (!best || p.remainingSeconds < best.p.remainingSeconds) best = { job, p };
  }
  if (!best) return undefined;
  return {
    model: best.job.model ?? '?',
    percent: Math.floor(best.p.fraction * 100),
    remainingRealSeconds: (best.p.remainingSeconds * unitMs) / 1000,
    more: count - 1,
    waitingForBudget,
  };
}

/** "40 s", "3 min", "1.5 h": short, for a node status. */
export function formatDuration(seconds: number): string {
  if (!(seconds >= 0) || !Number.isFinite(seconds)) return '?';
  if (seconds < 59.5) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3570) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 360) / 10} h`;
}

/** Segmind's cost of a job from its result (metrics.cost, when it reports one), as a number of dollars. */
export function reportedCost(result: Record<string, unknown> | undefined): number | undefined {
  const metrics = result?.metrics;
  if (!metrics || typeof metrics !== 'object') return undefined;
  const cost = (metrics as Record<string, unknown>).cost;
  const n = typeof cost === 'number' ? cost : typeof cost === 'string' && cost.trim() !== '' ? Number(cost) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** "$0.184", "$0.0016": enough digits to be meaningful, no more. */
export function formatCost(dollars: number): string {
  if (dollars === 0) return '$0';
  const digits = dollars >= 1 ? 2 : Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(dollars)) + 1));
  return `$${Number(dollars.toFixed(digits))}`;
}
