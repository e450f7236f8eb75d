// What the await node believes about each model's run time (submit -> COMPLETED, API seconds):
// a lognormal per model, seeded from the model pages and refined by the durations observed.
// Pure functions and plain data, so the learned state can live in Node-RED context as JSON.
import { lognormalQuantileAfter, logNormalDensity, logNormalTail } from './lognormal';

/** A lognormal run-time belief. `n` = how many observations it is worth (its weight). */
export interface Prior {
  /** median run time, API seconds */
  median: number;
  /** standard deviation of ln(duration) */
  sigma: number;
  /** effective sample size behind median/sigma */
  n: number;
}

/**
 * What has been learned of one model's run time: its recent observations, each kept as the mean and
 * the variance of ln(duration) (variance 0 for an exact duration, e.g. from Segmind's metrics; more
 * for a job only known to have finished within an interval) and when the job was submitted, and a
 * change detector (a two-sided CUSUM of the observations against the belief).
 *
 * The detector takes observations in order of SUBMISSION, once they are mature (submitted longer ago
 * than the belief's 99th percentile): jobs submitted together finish shortest first, and taken in
 * the order they finish, their run times would look like a change where there is none.
 */
export interface ModelStats {
  v: 3;
  /** recent observations, oldest first: [mean of ln T, variance of ln T, submitted (epoch ms or a sequence)] */
  obs: Array<[number, number, number]>;
  /** observations not yet mature for the change detector: [submitted, mean of ln T] */
  pending: Array<[number, number]>;
  /** observations ever taken in (the page's prior fades with it) */
  total: number;
  /** CUSUM of standardised residuals, upwards and downwards */
  up: number;
  down: number;
  /** submission time at which each sum last left zero: where a change began */
  upSince: number;
  downSince: number;
  /** a change was detected: the page's prior no longer counts */
  changed?: boolean;
}

/** When and how an observation was made, for the change detector. Without it, arrival order counts. */
export interface ObservedAt {
  /** the job's submission, epoch ms */
  submittedAt: number;
  /** now, epoch ms */
  now: number;
  /** ms per API second */
  unit: number;
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

/** Observations kept per model; each weighs DISCOUNT^(its age) in the belief (effective memory ~ 50 jobs). */
export const MAX_OBSERVATIONS = 200;
const DISCOUNT = 0.99;
/** The page's weight halves every this many observations: evidence takes over. */
const PRIOR_HALF_LIFE = 8;
/** CUSUM: drift allowance and threshold in standard deviations (a 3-sigma shift is caught in 2-3 jobs). */
const CUSUM_K = 0.5;
const CUSUM_H = 10;
/** The page's spread counts as this many observations, however much data there is. */
const SPREAD_WEIGHT = 2;
/** Jobs submitted within this share of the maturity horizon of each other are one cohort for the detector. */
const COHORT_SHARE = 0.02;
/** After a change, at least this many of the newest observations stay. */
const MIN_KEPT_AFTER_CHANGE = 2;

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

function emptyStats(): ModelStats {
  return { v: 3, obs: [], pending: [], total: 0, up: 0, down: 0, upSince: 0, downSince: 0 };
}

/** Adds one exact duration (API seconds), e.g. from Segmind's metrics. `prior` is the page's belief. */
export function observe(stats: ModelStats | undefined, seconds: number, prior?: Prior, at?: ObservedAt): ModelStats {
  if (!Number.isFinite(seconds) || seconds <= 0) return stats ?? emptyStats();
  return add(stats ?? emptyStats(), Math.log(seconds), 0, prior, at);
}

/**
 * Adds a job known only to have finished after `lo` and at or before `hi` API seconds (hi Infinity:
 * still running at lo when it was last seen). Censored, not a duration: it counts as the mean and
 * spread of ln(duration) the current belief gives that interval, so a poll delayed by the budget
 * (a wide interval) neither drags the median up nor narrows the spread.
 */
export function observeInterval(stats: ModelStats | undefined, lo: number, hi: number, prior: Prior, at?: ObservedAt): ModelStats {
  const base = stats ?? emptyStats();
  if (!(lo >= 0) || !(hi > lo) || !Number.isFinite(lo)) return base;
  if (Number.isFinite(hi) && lo > 0 && hi / lo < 1.02) return add(base, Math.log(Math.sqrt(lo * hi)), 0, prior, at);
  const belief = posterior(prior, base);
  const mu = Math.log(belief.median);
  const sigma = predictiveSigma(belief);
  const m = truncatedNormalMoments(mu, sigma, lo > 0 ? Math.log(lo) : -Infinity, Number.isFinite(hi) ? Math.log(hi) : Infinity);
  if (!m) {
    // the belief gives the interval (almost) no chance: it is wrong; take the interval's own middle
    if (!Number.isFinite(hi)) return add(base, Math.log(Math.max(lo, 1e-3)) + sigma, sigma * sigma, prior, at);
    const a = Math.log(Math.max(lo, hi / 100));
    const b = Math.log(hi);
    return add(base, (a + b) / 2, ((b - a) * (b - a)) / 12, prior, at);
  }
  return add(base, m.mean, m.variance, prior, at);
}

function add(stats: ModelStats, x: number, variance: number, prior: Prior | undefined, at: ObservedAt | undefined): ModelStats {
  const submitted = at ? at.submittedAt : stats.total;
  const s: ModelStats = { ...stats, obs: stats.obs.slice(), pending: stats.pending.slice() };
  s.obs.push([x, Math.max(0, variance), submitted]);
  if (s.obs.length > MAX_OBSERVATIONS) s.obs.splice(0, s.obs.length - MAX_OBSERVATIONS);
  s.total = stats.total + 1;
  const reference = prior ?? { median: Math.exp(x), sigma: PAGE_SIGMA, n: 0 };
  if (!at) {
    // no times: the detector takes observations as they come
    detect(s, [[submitted, x]], reference, stats);
    return s;
  }
  s.pending.push([submitted, x]);
  // mature: submitted longer ago than nearly any run takes, so its cohort has (nearly) all finished
  const belief = posterior(reference, s);
  const horizon = lognormalQuantileAfter(0.99, 0, belief.median, predictiveSigma(belief)) * at.unit;
  const ready = s.pending.filter((p) => p[0] + horizon <= at.now).sort((a, b) => a[0] - b[0]);
  if (ready.length) {
    s.pending = s.pending.filter((p) => p[0] + horizon > at.now);
    detect(s, ready, reference, s, horizon * COHORT_SHARE);
  }
  if (s.pending.length > MAX_OBSERVATIONS) s.pending.splice(0, s.pending.length - MAX_OBSERVATIONS);
  return s;
}

/**
 * Runs the CUSUM over `items` ([submitted, ln T], in submission order) against the belief of
 * `basis`. Jobs submitted within `together` ms of each other count as one step, their mean residual
 * scaled by sqrt(count): among them no order says anything.
 */
function detect(s: ModelStats, items: Array<[number, number]>, prior: Prior, basis: ModelStats, together = 0): void {
  const belief = posterior(prior, basis);
  const mu = Math.log(belief.median);
  const sd = Math.max(MIN_SIGMA, belief.sigma);
  for (let i = 0; i < items.length; ) {
    const submitted = items[i][0];
    let sum = 0;
    let k = 0;
    while (i < items.length && items[i][0] - submitted <= together) {
      sum += (items[i][1] - mu) / sd;
      k++;
      i++;
    }
    const z = sum / Math.sqrt(k);
    if (s.up === 0) s.upSince = submitted;
    if (s.down === 0) s.downSince = submitted;
    s.up = Math.max(0, s.up + z - CUSUM_K);
    s.down = Math.max(0, s.down - z - CUSUM_K);
    if (s.up > CUSUM_H || s.down > CUSUM_H) {
      // a change: keep only the jobs submitted since it began (at least the newest few)
      const since = s.up > CUSUM_H ? s.upSince : s.downSince;
      const kept = s.obs.filter((o) => o[2] >= since);
      s.obs = kept.length >= MIN_KEPT_AFTER_CHANGE ? kept : s.obs.slice(-MIN_KEPT_AFTER_CHANGE);
      s.pending = s.pending.filter((p) => p[0] >= since);
      s.up = s.down = 0;
      s.changed = true;
      return;
    }
  }
}

/**
 * Combines the page's prior with the observations (newer ones weigh more; the prior's weight fades
 * as observations accumulate, and vanishes after a detected change) and returns the belief to
 * schedule with: a normal update of the log-median and a pooled spread that also counts the
 * prior's disagreement with the data.
 */
export function posterior(prior: Prior, stats: ModelStats | undefined): Prior {
  if (!stats || stats.obs.length === 0) return prior;
  let w = 0;
  let sx = 0;
  let weight = 1;
  for (let i = stats.obs.length - 1; i >= 0; i--) {
    w += weight;
    sx += weight * stats.obs[i][0];
    weight *= DISCOUNT;
  }
  const mean = sx / w;
  let ss = 0;
  weight = 1;
  for (let i = stats.obs.length - 1; i >= 0; i--) {
    const [x, v] = stats.obs[i];
    ss += weight * ((x - mean) * (x - mean) + v);
    weight *= DISCOUNT;
  }
  const n0 = stats.changed ? 0 : prior.n * Math.pow(0.5, stats.total / PRIOR_HALF_LIFE);
  const mu0 = Math.log(prior.median);
  const mu = (n0 * mu0 + w * mean) / (n0 + w);
  const shift = mean - mu0;
  // a few observations say little of the spread: the page's spread keeps some weight of its own
  const spreadPrior = n0 + SPREAD_WEIGHT;
  const total = ss + spreadPrior * prior.sigma * prior.sigma + ((n0 * w) / (n0 + w)) * shift * shift;
  const sigma = Math.max(MIN_SIGMA, Math.sqrt(total / (spreadPrior + w)));
  return { median: Math.exp(mu), sigma, n: n0 + w };
}

/** Mean and variance of X ~ N(mu, sigma) given a < X <= b; undefined when the interval has (almost) no mass. */
export function truncatedNormalMoments(mu: number, sigma: number, a: number, b: number): { mean: number; variance: number } | undefined {
  const za = (a - mu) / sigma;
  const zb = (b - mu) / sigma;
  // P(za < Z <= zb) in log space, from whichever tail is smaller
  const mass = za > 0 ? Math.exp(logNormalTail(za)) - Math.exp(logNormalTail(zb)) : zb < 0 ? Math.exp(logNormalTail(-zb)) - Math.exp(logNormalTail(-za)) : 1 - Math.exp(logNormalTail(-za)) - Math.exp(logNormalTail(zb));
  if (!(mass > 1e-9)) return undefined;
  const pa = Number.isFinite(za) ? Math.exp(logNormalDensity(za)) : 0;
  const pb = Number.isFinite(zb) ? Math.exp(logNormalDensity(zb)) : 0;
  const ratio = (pa - pb) / mass;
  const second = ((Number.isFinite(za) ? za * pa : 0) - (Number.isFinite(zb) ? zb * pb : 0)) / mass;
  const variance = sigma * sigma * Math.max(0, 1 + second - ratio * ratio);
  return { mean: mu + sigma * ratio, variance };
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
  const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
  return (
    s.v === 3 &&
    Array.isArray(s.obs) &&
    s.obs.length <= MAX_OBSERVATIONS &&
    s.obs.every((o) => Array.isArray(o) && o.length === 3 && finite(o[0]) && finite(o[1]) && o[1] >= 0 && finite(o[2])) &&
    Array.isArray(s.pending) &&
    s.pending.length <= MAX_OBSERVATIONS &&
    s.pending.every((o) => Array.isArray(o) && o.length === 2 && finite(o[0]) && finite(o[1])) &&
    finite(s.total) && s.total >= 0 &&
    finite(s.up) && s.up >= 0 && finite(s.down) && s.down >= 0 &&
    finite(s.upSince) && finite(s.downSince)
  );
}
