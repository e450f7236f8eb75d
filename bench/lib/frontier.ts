// The optimal requests/delay frontier of polling one job whose run time is lognormal (median m,
// spread sigma), by dynamic programming: for a price lambda of a second of delay in polls, the
// schedule minimising E[polls] + lambda * E[delay] is found on a time grid, then followed to read off
// its E[polls] and E[delay]. Sweeping lambda traces the frontier: no schedule, however clever,
// gets a lower mean delay for the same mean number of polls (up to the grid's resolution).
//
// DP: G(t) = S(t) * (cost to go given the job still ran at the poll at t)
//   = min over the next poll s > t of  S(t) + lambda * integral_t^s (s - u) f(u) du + G(s),
// with the integral from prefix sums of F and of u f(u). O(grid x longest interval).
import { lognormalSurvival } from '../../src/jobs/lognormal';

export interface FrontierPoint {
  lambda: number;
  /** mean polls per job of the optimal schedule at this price */
  requests: number;
  /** mean detection delay (s) */
  delay: number;
}

export interface FrontierOptions {
  /** grid step as a share of the median; default 1/2000 */
  step?: number;
  /** longest interval between polls considered, s; default 90 */
  maxInterval?: number;
  /** lambdas (polls per second of delay) to sweep; default a log sweep */
  lambdas?: number[];
}

export function frontier(median: number, sigma: number, options: FrontierOptions = {}): FrontierPoint[] {
  const h = median * (options.step ?? 1 / 2000);
  const tMax = median * Math.exp(5.5 * sigma);
  const n = Math.ceil(tMax / h) + 1;
  const maxJ = Math.max(2, Math.ceil((options.maxInterval ?? 90) / h));
  // S, F and M(x) = integral_0^x u f(u) du on the grid
  const S = new Float64Array(n);
  const M = new Float64Array(n);
  for (let i = 0; i < n; i++) S[i] = lognormalSurvival(i * h, median, sigma);
  for (let i = 1; i < n; i++) {
    // mass in (t_{i-1}, t_i] at its midpoint
    M[i] = M[i - 1] + (S[i - 1] - S[i]) * (i - 0.5) * h;
  }
  const lambdas = options.lambdas ?? Array.from({ length: 25 }, (_, k) => 0.02 * Math.pow(1.35, k));
  const G = new Float64Array(n);
  const next = new Int32Array(n);
  const points: FrontierPoint[] = [];
  for (const lambda of lambdas) {
    // terminal: at the end of the grid, one more poll right away catches the (negligible) rest
    G[n - 1] = S[n - 1];
    next[n - 1] = n - 1;
    for (let i = n - 2; i >= 0; i--) {
      let best = Infinity;
      let arg = n - 1;
      const jEnd = Math.min(n - 1, i + maxJ);
      for (let j = i + 1; j <= jEnd; j++) {
        const s = j * h;
        const waited = s * (S[i] - S[j]) - (M[j] - M[i]);
        const c = lambda * waited + G[j];
        if (c < best) {
          best = c;
          arg = j;
        }
      }
      G[i] = S[i] + best;
      next[i] = arg;
    }
    // follow the policy from submission
    let requests = 0;
    let delay = 0;
    let i = 0;
    while (i < n - 1) {
      const j = next[i];
      requests += S[i];
      delay += j * h * (S[i] - S[j]) - (M[j] - M[i]);
      i = j;
    }
    points.push({ lambda, requests, delay });
  }
  return points.sort((a, b) => a.requests - b.requests);
}

/** The frontier's least mean delay at `requests` polls per job (log-log interpolation). */
export function delayAt(points: FrontierPoint[], requests: number): number {
  return interpolate(points.map((p) => [p.requests, p.delay]), requests);
}

/** The frontier's fewest polls per job for mean delay `delay` (log-log interpolation). */
export function requestsAt(points: FrontierPoint[], delay: number): number {
  const byDelay = [...points].sort((a, b) => a.delay - b.delay).map((p) => [p.delay, p.requests] as [number, number]);
  return interpolate(byDelay, delay);
}

function interpolate(xy: Array<[number, number] | number[]>, x: number): number {
  const pts = xy.filter((p) => p[0] > 0 && p[1] > 0).sort((a, b) => a[0] - b[0]);
  if (pts.length === 0) return NaN;
  if (x <= pts[0][0]) return extrapolate(pts[0], pts[1] ?? pts[0], x);
  for (let k = 1; k < pts.length; k++) {
    if (x <= pts[k][0]) return extrapolate(pts[k - 1], pts[k], x);
  }
  return extrapolate(pts[pts.length - 2] ?? pts[pts.length - 1], pts[pts.length - 1], x);
}

function extrapolate(a: number[], b: number[], x: number): number {
  if (a[0] === b[0]) return a[1];
  const t = (Math.log(x) - Math.log(a[0])) / (Math.log(b[0]) - Math.log(a[0]));
  return Math.exp(Math.log(a[1]) + t * (Math.log(b[1]) - Math.log(a[1])));
}
