// Lognormal run-time maths for the polling schedule: hazard and the sqrt(f*S) integral.
// Computed in log space so the far tail neither underflows nor divides 0 by 0.

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * ln(erfc(x)) for x >= 0 minus the -x^2 term, i.e. ln(erfc(x)) + x^2.
 * Chebyshev fit from Numerical Recipes (erfcc), fractional error below 1.2e-7 everywhere.
 */
function logErfcPlusSquare(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) + poly;
}

/** ln Q(z), Q = standard normal upper tail (survival). */
export function logNormalTail(z: number): number {
  const x = z / Math.SQRT2;
  if (x >= 0) return Math.log(0.5) + logErfcPlusSquare(x) - x * x;
  // erfc(x) = 2 - erfc(-x) for x < 0; no cancellation since erfc(-x) <= 1
  const e = Math.exp(logErfcPlusSquare(-x) - x * x);
  return Math.log(0.5 * (2 - e));
}

/** ln phi(z), standard normal density. */
export function logNormalDensity(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}

/** Hazard (completion rate given still running) of a lognormal at time t > 0, per second. */
export function lognormalHazard(t: number, median: number, sigma: number): number {
  if (t <= 0) return 0;
  const z = (Math.log(t) - Math.log(median)) / sigma;
  return Math.exp(logNormalDensity(z) - logNormalTail(z)) / (sigma * t);
}

/** Survival S(t) = P(T > t). */
export function lognormalSurvival(t: number, median: number, sigma: number): number {
  if (t <= 0) return 1;
  return Math.exp(logNormalTail((Math.log(t) - Math.log(median)) / sigma));
}

const jCache = new Map<number, number>();

/**
 * J(sigma) = integral of sqrt(f(u) * S(u)) du for the unit-median lognormal.
 * It sets the exchange rate between requests and delay: with interval 1/sqrt(hazard) scaled for a
 * target mean delay D, a job costs about median * J^2 / (2 D) polls (Keller's continuous optimum).
 */
export function sqrtDensitySurvivalIntegral(sigma: number): number {
  const key = Math.round(sigma * 1e4) / 1e4;
  const hit = jCache.get(key);
  if (hit !== undefined) return hit;
  // substitute u = exp(sigma z): integrand becomes sqrt(sigma * u * phi(z) * Q(z)) dz; Simpson on [-9, 9]
  const a = -9;
  const b = 9;
  const steps = 720;
  const h = (b - a) / steps;
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    const z = a + i * h;
    const v = Math.exp(0.5 * (Math.log(key) + key * z + logNormalDensity(z) + logNormalTail(z)));
    sum += v * (i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2);
  }
  const j = (sum * h) / 3;
  jCache.set(key, j);
  return j;
}

/** One part of a lognormal mixture. */
export interface LognormalPart {
  weight: number;
  median: number;
  sigma: number;
}

/** The hazard function of a lognormal mixture (f / S, each summed in log space so the tails stay exact). */
export function mixtureHazardOf(parts: readonly LognormalPart[]): (t: number) => number {
  const n = parts.length;
  const mu = parts.map((p) => Math.log(p.median));
  const inv = parts.map((p) => 1 / p.sigma);
  const logW = parts.map((p) => Math.log(p.weight));
  const logWOverSigma = parts.map((p) => Math.log(p.weight) - Math.log(p.sigma));
  const lf = new Array<number>(n);
  const ls = new Array<number>(n);
  return (t: number) => {
    if (t <= 0) return 0;
    const logT = Math.log(t);
    let maxF = -Infinity;
    let maxS = -Infinity;
    for (let i = 0; i < n; i++) {
      const z = (logT - mu[i]) * inv[i];
      lf[i] = logWOverSigma[i] + logNormalDensity(z) - logT;
      ls[i] = logW[i] + logNormalTail(z);
      if (lf[i] > maxF) maxF = lf[i];
      if (ls[i] > maxS) maxS = ls[i];
    }
    let sf = 0;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      sf += Math.exp(lf[i] - maxF);
      ss += Math.exp(ls[i] - maxS);
    }
    return Math.exp(maxF - maxS) * (sf / ss);
  };
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0)) return -Infinity;
  if (!(p < 1)) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** The p-quantile of a lognormal run time given it has already lasted `elapsed` (same units as median). */
export function lognormalQuantileAfter(p: number, elapsed: number, median: number, sigma: number): number {
  const survivedLog = elapsed > 0 ? logNormalTail((Math.log(elapsed) - Math.log(median)) / sigma) : 0;
  // S(t) = (1 - p) S(elapsed); in log space so a far tail stays finite
  const target = Math.log(1 - p) + survivedLog;
  // upper tail q = exp(target): z = -Phi^-1(q)
  const z = target > Math.log(1e-300) ? -normalQuantile(Math.exp(target)) : Math.sqrt(-2 * target);
  return Math.max(elapsed, median * Math.exp(sigma * z));
}
