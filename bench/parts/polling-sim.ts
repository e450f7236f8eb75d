// Part (a), simulation: the await node's real scheduling code (src/jobs/simulate.ts driving
// src/jobs/schedule.ts nextPollDelay with the node's priors) against fixed-interval pollers, on the
// same seeded lognormal durations.

import { basePrior, observe, PAGE_SECONDS, PAGE_SIGMA, posterior, type ModelStats, type Prior } from '../../src/jobs/priors';
import { lognormalDurations, seededRandom, simulate, simulateFixed, simulateJob, summarize, type SimulationResult } from '../../src/jobs/simulate';
import { Waiter, type JobClient } from '../../src/jobs/waiter';
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
export const WAITER_CLIENT = 'await node, as waiter.ts learns';

/**
 * Whether the real Waiter (src/jobs/waiter.ts) learns a run time from a job whose very first poll
 * already answers COMPLETED. simulate.ts does (it takes the midpoint of submission and that poll);
 * if the waiter does not, the short end of the distribution never reaches its belief. Found out by
 * running the Waiter itself on two jobs against a stand-in client at a tiny time scale.
 */
export async function waiterLearnsFirstPollHits(): Promise<{ firstPollHit: boolean; afterRunning: boolean }> {
  const probe = async (answers: string[]): Promise<boolean> => {
    let learned = false;
    const result = { status: 'COMPLETED', final: true, output: 'https://example.com/out.mp4', raw: { status: 'COMPLETED', output: 'https://example.com/out.mp4' } };
    const client: JobClient = {
      status: async () => {
        const status = answers.shift() ?? 'COMPLETED';
        return { status, final: status === 'COMPLETED', raw: { status } };
      },
      result: async () => result,
      download: async () => {
        throw new Error('not used in url mode');
      },
    };
    const waiter = new Waiter({
      client,
      timeScale: 0.0001,
      resultMode: 'url',
      folder: '',
      belief: () => basePrior('sadtalker'),
      observed: () => {
        learned = true;
      },
    });
    const end = await waiter.watch({ requestId: 'probe', model: 'sadtalker', submittedAt: Date.now() }, Date.now() + 5000);
    waiter.close();
    if (end.kind !== 'completed') throw new Error(`waiter probe: expected completed, got ${end.kind}`);
    return learned;
  };
  return { firstPollHit: await probe(['COMPLETED']), afterRunning: await probe(['PROCESSING', 'COMPLETED']) };
}

/** simulate(), except that jobs seen COMPLETED on their first poll teach nothing (what the waiter does when the probe says so). */
export function simulateSkippingFirstPollHits(prior: Prior, durations: readonly number[]): SimulationResult {
  const rand = seededRandom(12345);
  let stats: ModelStats | undefined;
  const outcomes = durations.map((d) => {
    const o = simulateJob(d, posterior(prior, stats), rand);
    if (o.requests > 1) stats = observe(stats, (o.lastRunningAt + o.seenAt) / 2);
    return { requests: o.requests, delay: o.delay };
  });
  return { ...summarize(outcomes), outcomes };
}

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
  /** what the waiter probe found; when it skips first-poll hits, WAITER_CLIENT rows are added */
  waiterProbe: { firstPollHit: boolean; afterRunning: boolean };
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
  const waiterProbe = await waiterLearnsFirstPollHits();
  const skips = waiterProbe.afterRunning && !waiterProbe.firstPollHit;
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
    if (skips) {
      const w = simulateSkippingFirstPollHits(basePrior(model), durations);
      clients.push({ client: WAITER_CLIENT, requests: w.meanRequests, meanDelay: w.meanDelay, p95Delay: w.p95Delay });
      pool(WAITER_CLIENT, w.outcomes.map((o) => o.requests), w.outcomes.map((o) => o.delay));
    }
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
  return { jobsPerModel, waiterProbe, sigma: PAGE_SIGMA, models, pooled };
}
