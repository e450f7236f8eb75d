// A deterministic simulator of the polling schedule, shared by the tests and the benchmark:
// given job durations, how many status requests each job costs and how late its completion is seen.

import { compileSchedule, DEFAULT_SCHEDULE, jittered, type ScheduleOptions } from './schedule';
import { observe, observeInterval, posterior, type ModelStats, type Prior } from './priors';

export interface JobOutcome {
  /** status requests made, including the one that saw COMPLETED */
  requests: number;
  /** API seconds from completion to the poll that saw it */
  delay: number;
}

export interface SimulationSummary {
  jobs: number;
  meanRequests: number;
  meanDelay: number;
  p95Delay: number;
  maxDelay: number;
}

export interface SimulationResult extends SimulationSummary {
  outcomes: JobOutcome[];
}

export interface SimulateOptions {
  /** schedule tuning; default DEFAULT_SCHEDULE */
  schedule?: ScheduleOptions;
  /** uniform [0,1) source for jitter; default a fixed-seed PRNG, so runs repeat exactly */
  rand?: () => number;
  /** refine the prior with each completed job's observed duration, as the await node does; default true */
  learn?: boolean;
  /**
   * What the node learns from: 'metrics' the exact run time (Segmind's metrics, as the sandbox
   * reports them; the default), 'interval' only that the job finished between the last poll that
   * saw it running and the one that saw it done (a censored observation).
   */
  observe?: 'metrics' | 'interval';
}

/** Mulberry32: small, fast, good enough for jitter and test durations. */
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

/** n lognormal durations (median, sigma) from a seeded PRNG (Box-Muller). */
export function lognormalDurations(n: number, median: number, sigma: number, seed = 1): number[] {
  const rand = seededRandom(seed);
  const out: number[] = [];
  while (out.length < n) {
    const u1 = Math.max(rand(), 1e-12);
    const u2 = rand();
    const r = Math.sqrt(-2 * Math.log(u1));
    out.push(median * Math.exp(sigma * r * Math.cos(2 * Math.PI * u2)));
    if (out.length < n) out.push(median * Math.exp(sigma * r * Math.sin(2 * Math.PI * u2)));
  }
  return out;
}

export function summarize(outcomes: JobOutcome[]): SimulationSummary {
  const n = outcomes.length;
  if (n === 0) return { jobs: 0, meanRequests: 0, meanDelay: 0, p95Delay: 0, maxDelay: 0 };
  const delays = outcomes.map((o) => o.delay).sort((a, b) => a - b);
  return {
    jobs: n,
    meanRequests: outcomes.reduce((s, o) => s + o.requests, 0) / n,
    meanDelay: delays.reduce((s, d) => s + d, 0) / n,
    p95Delay: delays[Math.min(n - 1, Math.ceil(0.95 * n) - 1)],
    maxDelay: delays[n - 1],
  };
}

/** One job under the schedule: poll until a poll at or after `duration` sees it complete. */
export function simulateJob(duration: number, prior: Prior, rand: () => number, schedule: ScheduleOptions = DEFAULT_SCHEDULE): JobOutcome & { seenAt: number; lastRunningAt: number } {
  // the same rule as nextPollDelay, compiled once per job
  const interval = compileSchedule(prior, schedule);
  let t = 0;
  let lastRunningAt = 0;
  let requests = 0;
  for (;;) {
    t += jittered(interval(t), rand(), schedule);
    requests++;
    if (t >= duration) return { requests, delay: t - duration, seenAt: t, lastRunningAt };
    lastRunningAt = t;
  }
}

/** Runs every duration through the schedule, in order, learning from each as the node would. */
export function simulate(prior: Prior, durations: readonly number[], options: SimulateOptions = {}): SimulationResult {
  const schedule = options.schedule ?? DEFAULT_SCHEDULE;
  const rand = options.rand ?? seededRandom(12345);
  const learn = options.learn ?? true;
  let stats: ModelStats | undefined;
  const outcomes: JobOutcome[] = [];
  // each job is submitted when the previous one's result came (API seconds, as ms for the learner)
  let submittedAt = 0;
  for (const d of durations) {
    const belief = learn ? posterior(prior, stats) : prior;
    const o = simulateJob(d, belief, rand, schedule);
    outcomes.push({ requests: o.requests, delay: o.delay });
    if (learn) {
      const at = { submittedAt: submittedAt * 1000, now: (submittedAt + o.seenAt) * 1000, unit: 1000 };
      stats = options.observe === 'interval' ? observeInterval(stats, o.lastRunningAt, o.seenAt, prior, at) : observe(stats, d, prior, at);
    }
    submittedAt += o.seenAt;
  }
  return { ...summarize(outcomes), outcomes };
}

/** The baseline: a fixed interval (Segmind's pages poll every 2 s), first poll one interval after submit. */
export function simulateFixed(durations: readonly number[], interval = 2): SimulationResult {
  const outcomes = durations.map((d) => {
    const requests = Math.max(1, Math.ceil(d / interval));
    return { requests, delay: requests * interval - d };
  });
  return { ...summarize(outcomes), outcomes };
}
