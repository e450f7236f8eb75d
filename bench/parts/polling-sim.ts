// Part (a), simulation: the await node's real scheduling code (src/jobs/simulate.ts driving
// src/jobs/schedule.ts nextPollDelay with the node's priors) against fixed-interval pollers, on the
// same seeded lognormal durations.

import { basePrior, PAGE_SECONDS, PAGE_SIGMA } from '../../src/jobs/priors';
import { lognormalDurations, simulate, simulateFixed } from '../../src/jobs/simulate';
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

export function runPollingSim(jobsPerModel = 10_000): PollingSim {
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
    // the node learns from each finished job, as it does in Node-RED (learn: true is the default)
    const node = simulate(basePrior(model), durations);
    clients.push({ client: NODE_CLIENT, requests: node.meanRequests, meanDelay: node.meanDelay, p95Delay: node.p95Delay });
    pool(NODE_CLIENT, node.outcomes.map((o) => o.requests), node.outcomes.map((o) => o.delay));
    for (const f of FIXED_CLIENTS) {
      const r = simulateFixed(durations, f.interval);
      clients.push({ client: f.label, requests: r.meanRequests, meanDelay: r.meanDelay, p95Delay: r.p95Delay });
      pool(f.label, r.outcomes.map((o) => o.requests), r.outcomes.map((o) => o.delay));
    }
    models.push({
      model,
      median,
      jobs: durations.length,
      p5x: percentile(durations, 5) / median,
      p95x: percentile(durations, 95) / median,
      clients,
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
