// What the await node believes about each model's run time (submit -> COMPLETED, API seconds):
// a lognormal per model, seeded from the model pages and refined by the durations observed.
// Pure functions and plain data, so the learned state can live in Node-RED context as JSON.

/** A lognormal run-time belief. `n` = how many observations it is worth (its weight). */
export interface Prior {
  /** median run time, API seconds */
  median: number;
  /** standard deviation of ln(duration) */
  sigma: number;
  /** effective sample size behind median/sigma */
  n: number;
}

/** Observed durations of one model, kept as running moments of ln(duration) (Welford). */
export interface ModelStats {
  n: number;
  meanLog: number;
  /** sum of squared deviations of ln(duration) from meanLog */
  m2: number;
}

/** sigma 0.36 puts the 5th-95th percentiles at about 0.55x-1.8x the median. */
export const PAGE_SIGMA = 0.36;

/** Typical run times from Segmind's model pages (API seconds). */
export const PAGE_SECONDS: Readonly<Record<string, number>> = {
  sadtalker: 107.5,
  'infinite-talk': 283.4,
  'v-express': 196.3,
  hallo: 303.3,
  'sync.so-react-1': 329.7,
};

/** How much a page's figure is worth in observations: a few, so real data takes over quickly. */
export const PAGE_WEIGHT = 5;

/** For a model nobody has told us about: a minute, give or take a lot. */
export const GENERIC_PRIOR: Prior = { median: 60, sigma: 0.9, n: 1 };

/** Old observations fade once this many have been seen, so the belief follows drift (queues, new hardware). */
export const MAX_STATS_WEIGHT = 200;

/** Narrowest belief allowed: a very steady model must not make the schedule overconfident. */
const MIN_SIGMA = 0.1;

/** The prior for `model` before any observation. `typical` adds or overrides page times (e.g. from model specs). */
export function basePrior(model: string | undefined, typical?: Readonly<Record<string, number>>): Prior {
  const seconds = model ? (typical?.[model] ?? PAGE_SECONDS[model]) : undefined;
  if (seconds && Number.isFinite(seconds) && seconds > 0) {
    return { median: seconds, sigma: PAGE_SIGMA, n: PAGE_WEIGHT };
  }
  return { ...GENERIC_PRIOR };
}

/** Adds one observed duration (API seconds) to a model's stats; returns new stats. */
export function observe(stats: ModelStats | undefined, seconds: number): ModelStats {
  if (!Number.isFinite(seconds) || seconds <= 0) return stats ?? { n: 0, meanLog: 0, m2: 0 };
  let { n, meanLog, m2 } = stats ?? { n: 0, meanLog: 0, m2: 0 };
  if (n >= MAX_STATS_WEIGHT) {
    // Exponential forgetting: shrink the weight of the past, keep its mean and spread.
    const keep = (MAX_STATS_WEIGHT - 1) / n;
    m2 *= keep;
    n = MAX_STATS_WEIGHT - 1;
  }
  const x = Math.log(seconds);
  const n1 = n + 1;
  const delta = x - meanLog;
  const mean1 = meanLog + delta / n1;
  return { n: n1, meanLog: mean1, m2: m2 + delta * (x - mean1) };
}

/**
 * Combines a prior with observations (normal update of the log-median, pooled spread that also
 * counts the prior's disagreement with the data) and returns the belief to schedule with.
 */
export function posterior(prior: Prior, stats: ModelStats | undefined): Prior {
  if (!stats || stats.n <= 0) return prior;
  const n0 = prior.n;
  const n = stats.n;
  const mu0 = Math.log(prior.median);
  const mu = (n0 * mu0 + n * stats.meanLog) / (n0 + n);
  const shift = stats.meanLog - mu0;
  const ss = n0 * prior.sigma * prior.sigma + stats.m2 + ((n0 * n) / (n0 + n)) * shift * shift;
  const sigma = Math.max(MIN_SIGMA, Math.sqrt(ss / (n0 + n)));
  return { median: Math.exp(mu), sigma, n: n0 + n };
}

/** Spread of the next duration, including the uncertainty of the median itself. */
export function predictiveSigma(p: Prior): number {
  return p.sigma * Math.sqrt(1 + 1 / Math.max(1, p.n));
}

/** The belief for `model` given the learned stats table (as kept in context). */
export function priorFor(
  model: string | undefined,
  learned?: Readonly<Record<string, ModelStats>>,
  typical?: Readonly<Record<string, number>>,
): Prior {
  return posterior(basePrior(model, typical), model ? learned?.[model] : undefined);
}

/** Validates stats read back from a store (anything else is ignored, never trusted). */
export function isModelStats(v: unknown): v is ModelStats {
  if (!v || typeof v !== 'object') return false;
  const s = v as Record<string, unknown>;
  return (
    typeof s.n === 'number' && Number.isFinite(s.n) && s.n >= 0 &&
    typeof s.meanLog === 'number' && Number.isFinite(s.meanLog) &&
    typeof s.m2 === 'number' && Number.isFinite(s.m2) && s.m2 >= 0
  );
}
