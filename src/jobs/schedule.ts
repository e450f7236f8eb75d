// The polling schedule: what is known about a job -> API seconds until its next status poll.
// Pure (no clock, no I/O, randomness passed in), so it can be simulated and tested exactly.
//
// Keller (1974, "Optimum checking schedules for systems subject to random failure") shows that the
// check density minimising  E[detection delay] + lambda * E[checks]  is n(t) = sqrt(h(t) / (2 lambda)),
// h = hazard: the interval is proportional to 1/sqrt(hazard) (for a memoryless tail 1/h is the expected
// remaining time, hence the "sqrt of expected remaining time" reading). With a lognormal belief
// (median m, spread sigma) this schedule picks lambda per job so that the expected delay is
// `targetDelay`: interval(t) = 2 D / (J(sigma) * sqrt(m * h(t))), where J = integral sqrt(f S) for
// the unit-median lognormal (see lognormal.ts). Then a job costs about m J^2 / (2 D) polls while
// fixed 2 s polling costs about mean/2: for sigma 0.36 and D = 2.6 s, under a quarter.
// The first poll falls out of the same rule (the hazard is tiny early on, so the first interval is long).
// A plain lognormal's hazard stays high far past its range, so the belief is a mixture: 2 % of jobs
// may overrun (4x the median, wide); past the expected range that part dominates, the hazard falls and
// the intervals back off, up to maxInterval. Constants tuned by simulation (test/jobs/simulate.test.ts).

import { lognormalHazard, lognormalSurvival, mixtureHazardOf, sqrtDensitySurvivalIntegral } from './lognormal';
import { predictiveSigma, type Prior } from './priors';

export interface ScheduleOptions {
  /** mean detection delay aimed for, API seconds */
  targetDelay: number;
  /** shortest interval, API seconds */
  minInterval: number;
  /** longest interval (reached far past the expected range), API seconds */
  maxInterval: number;
  /** relative jitter: each delay is multiplied by 1 +- jitter/2 (so jobs started together spread out) */
  jitter: number;
  /**
   * Share of jobs assumed to overrun the belief (queues, outages, a wrong prior): a second, wide
   * lognormal at `overrunFactor` x the median with spread `overrunSigma`. Past the expected range it
   * dominates, its hazard falls, and the intervals back off instead of staying tight for ever.
   */
  overrunWeight: number;
  overrunFactor: number;
  overrunSigma: number;
}

export const DEFAULT_SCHEDULE: Readonly<ScheduleOptions> = {
  targetDelay: 2.6,
  minInterval: 1,
  maxInterval: 45,
  jitter: 0.1,
  overrunWeight: 0.02,
  overrunFactor: 4,
  overrunSigma: 1,
};

export interface ScheduleInput {
  /** API seconds since the job was submitted, now */
  elapsed: number;
  /** belief about this model's run time */
  prior: Prior;
  /** uniform [0, 1) for jitter; 0.5 = none */
  rand?: number;
}

/**
 * The unjittered interval rule for one belief, compiled once: elapsed API seconds -> interval to the
 * next poll. The simulator compiles once per job; nextPollDelay once per call.
 */
export function compileSchedule(prior: Prior, opts: ScheduleOptions = DEFAULT_SCHEDULE): (elapsed: number) => number {
  const sigma = predictiveSigma(prior);
  const m = prior.median;
  const scale = (2 * opts.targetDelay) / (sqrtDensitySurvivalIntegral(sigma) * Math.sqrt(m));
  const hazard =
    opts.overrunWeight > 0
      ? mixtureHazardOf([
          { weight: 1 - opts.overrunWeight, median: m, sigma },
          { weight: opts.overrunWeight, median: m * opts.overrunFactor, sigma: opts.overrunSigma },
        ])
      : (t: number) => lognormalHazard(t, m, sigma);
  const logMin = Math.log(opts.minInterval);
  // The rule at the middle of the interval it defines: solve d = F(elapsed + d/2).
  // (F at the start would overshoot the first poll far past the point where jobs start finishing.)
  // Defined once here, not per call: the simulator calls the schedule millions of times.
  const rule = (elapsed: number, d: number): number => {
    const h = hazard(elapsed + d / 2);
    return h > 0 ? scale / Math.sqrt(h) : Infinity;
  };
  const clamp = (upper: number, d: number): number => Math.min(upper, Math.max(opts.minInterval, d));
  return (elapsed: number) => {
    // maxInterval bounds the wait once jobs may be finishing; before the median the rule alone decides
    // (the first poll of a 5-minute model may rightly come after 3 minutes).
    const upper = Math.max(opts.maxInterval, m - elapsed);
    // Where the rule changes slowly (everywhere but before the first poll) plain iteration converges
    // in a few steps; otherwise fall back to bisection.
    let d = clamp(upper, rule(elapsed, 0));
    for (let i = 0; i < 5; i++) {
      const next = clamp(upper, rule(elapsed, d));
      if (Math.abs(next - d) <= 1e-3 * d) return next;
      d = next;
    }
    // excess > 0: x is too short
    if (rule(elapsed, opts.minInterval) - opts.minInterval <= 0) return opts.minInterval;
    if (rule(elapsed, upper) - upper >= 0) return upper;
    // bisection on a log scale: 14 halvings give well under 0.1 % precision on [1 s, a few minutes]
    let lo = logMin;
    let hi = Math.log(upper);
    for (let i = 0; i < 14; i++) {
      const mid = (lo + hi) / 2;
      const x = Math.exp(mid);
      if (rule(elapsed, x) - x > 0) lo = mid;
      else hi = mid;
    }
    return Math.exp((lo + hi) / 2);
  };
}

/** Unjittered interval to use for the stretch starting at `elapsed`. */
export function baseInterval(elapsed: number, prior: Prior, opts: ScheduleOptions = DEFAULT_SCHEDULE): number {
  return compileSchedule(prior, opts)(Math.max(0, Number.isFinite(elapsed) ? elapsed : 0));
}

/** Applies the jitter to an interval: rand uniform in [0, 1), 0.5 = none. */
export function jittered(interval: number, rand: number, opts: ScheduleOptions = DEFAULT_SCHEDULE): number {
  return interval * (1 + opts.jitter * (rand - 0.5));
}

/** API seconds from now until the next status poll. */
export function nextPollDelay(input: ScheduleInput, opts: ScheduleOptions = DEFAULT_SCHEDULE): number {
  return jittered(baseInterval(input.elapsed, input.prior, opts), input.rand ?? 0.5, opts);
}

/**
 * The chance that a job still running `from` API seconds after submission has finished by `to`,
 * under the same belief the schedule uses (the overrun part included): what a status poll at `to`
 * is worth. The budget's allocator gives scarce requests to the polls most likely to find a job done.
 */
export function finishedChance(prior: Prior, from: number, to: number, opts: ScheduleOptions = DEFAULT_SCHEDULE): number {
  if (!(to > from)) return 0;
  const sigma = predictiveSigma(prior);
  const m = prior.median;
  const w = opts.overrunWeight;
  const survival = (t: number) =>
    (1 - w) * lognormalSurvival(t, m, sigma) + (w > 0 ? w * lognormalSurvival(t, m * opts.overrunFactor, opts.overrunSigma) : 0);
  const before = survival(Math.max(0, from));
  if (!(before > 0)) return 1;
  return Math.min(1, Math.max(0, 1 - survival(to) / before));
}
