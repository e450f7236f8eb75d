// Part (a), simulation: the await node's real scheduling code (src/jobs/simulate.ts driving
// src/jobs/schedule.ts nextPollDelay with the node's priors) against fixed-interval pollers, on the
// same seeded lognormal durations.

import { basePrior, PAGE_SECONDS, PAGE_SIGMA } from '../../src/jobs/priors';
import { lognormalDurations, simulate, simulateFixed } from '../../src/jobs/simulate';
import { delayAt, frontier, requestsAt, type FrontierPoint } from '../lib/frontier';
import { percentile } from '../lib/stats';
import { MODELS } from '../lib/payloads';

export const FIXED_CLIENTS = [
  { interval: 0.5, label: 'fixed 0.5 s', who: 'Replicate and fal clients' },
  { interval: 1, label: 'fixed 1 s', who: "Segmind's SDK default" },
  { interval: 2, label: 'fixed 2 s', who: "Segmind's examples" },
  { interval: 5, label: 'fixed 5 s', who: "OpenAI's poll helper" },
  { interval: 10, label: 'fixed 10 s', who: "Google's samples" },
] as const;

export const NODE_CLIENT = 'await node';
/** the same, learning without Segmind's metrics: each job only as the interval between two polls (censored) */
export const CENSORED_CLIENT = 'await node, no metrics';

export interface ClientFigures {
  client: string;
  /** status requests per job */
  requests: number;
  meanDelay: number;
  p95Delay: number;
}

export interface ModelSim {
  model: string;
  median: number;
  jobs: number;
  /** empirical 5th and 95th percentile of the durations, as multiples of the median */
  p5x: number;
  p95x: number;
  clients: ClientFigures[];
  /** the optimal requests/delay frontier for the true distribution (dynamic programming) */
  frontier: FrontierPoint[];
  /** the node against the frontier: its delay / the frontier's at its requests, its requests / the frontier's at its delay */
  delayRatio: number;
  requestRatio: number;
  censoredDelayRatio: number;
  censoredRequestRatio: number;
  /** at the node's mean delay: the fixed interval with that delay (2 x delay) and its requests */
  equalDelayInterval: number;
  equalDelayRequests: number;
}

export interface PollingSim {
  jobsPerModel: number;
  sigma: number;
  models: ModelSim[];
  /** all models' jobs pooled (each model the same number of jobs) */
  pooled: ClientFigures[];
}

export function durationsFor(model: string, n: number, seed: number): number[] {
  return lognormalDurations(n, PAGE_SECONDS[model], PAGE_SIGMA, seed);
}

export function seedFor(model: string): number {
  return 1000 + MODELS.indexOf(model as (typeof MODELS)[number]);
}

export async function runPollingSim(jobsPerModel = 10_000): Promise<PollingSim> {
  const models: ModelSim[] = [];
  const pooledOutcomes = new Map<string, { requests: number[]; delays: number[] }>();
  const pool = (client: string, requests: number[], delays: number[]) => {
    const p = pooledOutcomes.get(client) ?? { requests: [], delays: [] };
    p.requests.push(...requests);
    p.delays.push(...delays);
    pooledOutcomes.set(client, p);
  };
  for (const model of MODELS) {
    const durations = durationsFor(model, jobsPerModel, seedFor(model));
    const median = PAGE_SECONDS[model];
    const clients: ClientFigures[] = [];
    // the node learns from each finished job, as it does in Node-RED: from Segmind's metrics (exact)
    const node = simulate(basePrior(model), durations);
    clients.push({ client: NODE_CLIENT, requests: node.meanRequests, meanDelay: node.meanDelay, p95Delay: node.p95Delay });
    pool(NODE_CLIENT, node.outcomes.map((o) => o.requests), node.outcomes.map((o) => o.delay));
    // and without metrics: only the interval between the last poll that saw it running and the one that saw it done
    const censored = simulate(basePrior(model), durations, { observe: 'interval' });
    clients.push({ client: CENSORED_CLIENT, requests: censored.meanRequests, meanDelay: censored.meanDelay, p95Delay: censored.p95Delay });
    pool(CENSORED_CLIENT, censored.outcomes.map((o) => o.requests), censored.outcomes.map((o) => o.delay));
    for (const f of FIXED_CLIENTS) {
      const r = simulateFixed(durations, f.interval);
      clients.push({ client: f.label, requests: r.meanRequests, meanDelay: r.meanDelay, p95Delay: r.p95Delay });
      pool(f.label, r.outcomes.map((o) => o.requests), r.outcomes.map((o) => o.delay));
    }
    const fr = frontier(median, PAGE_SIGMA);
    const equalDelayInterval = 2 * node.meanDelay;
    models.push({
      model,
      median,
      jobs: durations.length,
      p5x: percentile(durations, 5) / median,
      p95x: percentile(durations, 95) / median,
      clients,
      frontier: fr,
      delayRatio: node.meanDelay / delayAt(fr, node.meanRequests),
      requestRatio: node.meanRequests / requestsAt(fr, node.meanDelay),
      censoredDelayRatio: censored.meanDelay / delayAt(fr, censored.meanRequests),
      censoredRequestRatio: censored.meanRequests / requestsAt(fr, censored.meanDelay),
      equalDelayInterval,
      equalDelayRequests: simulateFixed(durations, equalDelayInterval).meanRequests,
    });
  }
  const pooled = [...pooledOutcomes].map(([client, p]) => ({
    client,
    requests: p.requests.reduce((s, x) => s + x, 0) / p.requests.length,
    meanDelay: p.delays.reduce((s, x) => s + x, 0) / p.delays.length,
    p95Delay: percentile(p.delays, 95),
  }));
  return { jobsPerModel, sigma: PAGE_SIGMA, models, pooled };
}

/**
 * The frontier of all models pooled (each the same number of jobs): at one price of delay each
 * model's optimum, averaged; the pooled optimum of a separable problem.
 */
export function pooledFrontier(models: ModelSim[]): FrontierPoint[] {
  const n = models[0].frontier.length;
  const out: FrontierPoint[] = [];
  for (let i = 0; i < n; i++) {
    const pts = models.map((m) => [...m.frontier].sort((a, b) => a.lambda - b.lambda)[i]);
    out.push({ lambda: pts[0].lambda, requests: pts.reduce((s, p) => s + p.requests, 0) / pts.length, delay: pts.reduce((s, p) => s + p.delay, 0) / pts.length });
  }
  return out.sort((a, b) => a.requests - b.requests);
}
