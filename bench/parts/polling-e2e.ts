// Part (a), end to end: jobs with scripted durations run on the sandbox (own process) at a compressed
// time scale; their handles go into the real await node in the real Node-RED runtime. Requests per
// job come from the sandbox's own count; delay = when the node sent the message minus the job's
// completion time, in API seconds. A plain fixed-2 s loop runs on the same durations for comparison.
import type { JobHandle } from '../../src/client/types';
import { priorFor, isModelStats, type ModelStats } from '../../src/jobs/priors';
import { baseInterval } from '../../src/jobs/schedule';
import { seededRandom } from '../../src/jobs/simulate';
import { benchFlow, IDS } from '../lib/flows';
import { MODELS, payloadFor } from '../lib/payloads';
import { sleep } from '../lib/probes';
import { startRuntime } from '../lib/runtime';
import { startSandboxProcess, type SandboxProcess } from '../lib/sandbox-proc';
import { mean, percentile } from '../lib/stats';
import { durationsFor, seedFor } from './polling-sim';

export interface E2EFigures {
  model: string;
  jobs: number;
  /** jobs that reached the completed output */
  completed: number;
  requests: number;
  meanDelay: number;
  p95Delay: number;
}

/** What the node believed about a model after a run (from its learned run times). */
export interface Belief {
  model: string;
  median: number;
  sigma: number;
  /** API seconds after submission of the first poll this belief gives */
  firstPoll: number;
}

export interface PollingE2E {
  timeScale: number;
  /** the node's belief at the end of the spread run, when readable */
  beliefAfterSpread: Belief[];
  /** API seconds over which the spread scenario's submissions arrive */
  spreadSeconds: number;
  /** arrivals spread uniformly at random over spreadSeconds */
  spread: E2EFigures[];
  /** the same jobs all submitted in the same instant */
  burst: E2EFigures[];
  fixed2: E2EFigures[];
  /** durations used per model (API seconds), in the order of the jobs */
  durations: Record<string, number[]>;
  /** messages on the node's other outputs (failed / timed out), if any */
  otherOutputs: number;
}

const payloads = Object.fromEntries(MODELS.map((m) => [m, payloadFor(m)]));

function figures(model: string, handles: JobHandle[], doneAt: Map<string, number>, seenAt: Map<string, number>, perId: Record<string, { status: number }>, timeScale: number): E2EFigures {
  const ids = handles.map((h) => h.requestId);
  const delays = ids.filter((id) => seenAt.has(id)).map((id) => (seenAt.get(id)! - doneAt.get(id)!) / 1000 / timeScale);
  return {
    model,
    jobs: ids.length,
    completed: delays.length,
    requests: mean(ids.map((id) => perId[id]?.status ?? 0)),
    meanDelay: mean(delays),
    p95Delay: percentile(delays, 95),
  };
}

async function summarise(sandbox: SandboxProcess, handles: JobHandle[], seenAt: Map<string, number>, ts: number): Promise<E2EFigures[]> {
  const jobs = await sandbox.jobs(handles.map((h) => h.requestId));
  const doneAt = new Map(jobs.map((j) => [j.requestId, j.doneAt]));
  const { perId } = await sandbox.counters();
  return MODELS.map((model) => figures(model, handles.filter((h) => h.model === model), doneAt, seenAt, perId, ts));
}

/** Waits until `done()` or until `limitMs` passes. */
async function until(done: () => boolean, limitMs: number): Promise<void> {
  const end = Date.now() + limitMs;
  while (!done() && Date.now() < end) await sleep(20);
}

/**
 * The run-time belief the await node ended with: it keeps its learned stats in its node context
 * (key 'segmindDurations' in src/nodes/await-node.ts); empty if that ever changes.
 */
function learnedBeliefs(node: { context(): { get(key: string): unknown } }): Belief[] {
  const raw = node.context().get('segmindDurations');
  if (!raw || typeof raw !== 'object') return [];
  const learned: Record<string, ModelStats> = {};
  for (const [model, stats] of Object.entries(raw as Record<string, unknown>)) if (isModelStats(stats)) learned[model] = stats;
  return MODELS.filter((m) => learned[m]).map((model) => {
    const p = priorFor(model, learned);
    return { model, median: p.median, sigma: p.sigma, firstPoll: baseInterval(0, p) };
  });
}

/** One run of the await node in a fresh Node-RED runtime (fresh learned state). */
async function nodeScenario(
  sandbox: SandboxProcess,
  jobs: { model: string; durationSeconds: number }[],
  offsetsMs: number[] | undefined,
  ts: number,
  counts: { other: number },
  beliefs?: Belief[],
): Promise<E2EFigures[]> {
  const runtime = await startRuntime(benchFlow({ sandbox, rpm: 1_000_000, timeScale: ts, resultMode: 'url', timeoutSeconds: 3600 }));
  try {
    const seenAt = new Map<string, number>();
    runtime.onSend(IDS.await, (m) => {
      const id = m.msg?.segmind?.requestId as string | undefined;
      if (m.port === 0 && id) seenAt.set(id, m.time);
      else counts.other++;
    });
    const inject = (h: JobHandle) => runtime.inject(IDS.await, { segmind: h, payload: h.requestId });
    const handles = offsetsMs
      ? await sandbox.submitSpread({ jobs, payloads, offsetsMs }, inject)
      : await sandbox.submitMany({ jobs, payloads, concurrency: 16 });
    if (!offsetsMs) handles.forEach(inject);
    const longest = Math.max(...jobs.map((j) => j.durationSeconds));
    await until(() => seenAt.size >= handles.length, (longest * 1.5 + 120) * 1000 * ts + 10_000);
    if (beliefs) beliefs.push(...learnedBeliefs(runtime.node(IDS.await)));
    return await summarise(sandbox, handles, seenAt, ts);
  } finally {
    await runtime.stop();
  }
}

export async function runPollingE2E(o: { jobsPerModel: number; fixedPerModel: number; timeScale: number; spreadSeconds: number }): Promise<PollingE2E> {
  const ts = o.timeScale;
  const durations: Record<string, number[]> = {};
  // the first n durations of each model's simulation sample: the same jobs the simulation starts with
  for (const m of MODELS) durations[m] = durationsFor(m, Math.max(o.jobsPerModel, o.fixedPerModel), seedFor(m));
  const counts = { other: 0 };

  const sandbox = await startSandboxProcess({ timeScale: ts, rateLimitPerMinute: null });
  try {
    const jobs = MODELS.flatMap((model) => durations[model].slice(0, o.jobsPerModel).map((d) => ({ model, durationSeconds: d })));
    // arrivals uniformly at random over the window, as independent users would submit
    const rand = seededRandom(77);
    const offsetsMs = jobs.map(() => rand() * o.spreadSeconds * 1000 * ts);
    const beliefAfterSpread: Belief[] = [];
    const spread = await nodeScenario(sandbox, jobs, offsetsMs, ts, counts, beliefAfterSpread);
    const burst = await nodeScenario(sandbox, jobs, undefined, ts, counts);

    // a plain fixed-2 s poller (Segmind's examples) on the same durations, all at once
    const fixed2: E2EFigures[] = [];
    if (o.fixedPerModel > 0) {
      const fixedJobs = MODELS.flatMap((model) => durations[model].slice(0, o.fixedPerModel).map((d) => ({ model, durationSeconds: d })));
      const handles = await sandbox.submitMany({ jobs: fixedJobs, payloads, concurrency: 16 });
      const seenAt = new Map<string, number>();
      await Promise.all(handles.map((h) => pollFixed(h, 2, ts, sandbox.apiKey).then((t) => t !== undefined && seenAt.set(h.requestId, t))));
      fixed2.push(...(await summarise(sandbox, handles, seenAt, ts)));
    }
    return {
      timeScale: ts,
      beliefAfterSpread,
      spreadSeconds: o.spreadSeconds,
      spread,
      burst,
      fixed2,
      durations: Object.fromEntries(MODELS.map((m) => [m, durations[m]])),
      otherOutputs: counts.other,
    };
  } finally {
    await sandbox.close();
  }
}

/** Polls status at submit + k * interval (API seconds); on COMPLETED fetches the result. Returns when that answer arrived. */
async function pollFixed(h: JobHandle, interval: number, ts: number, apiKey: string): Promise<number | undefined> {
  const start = Date.parse(h.submittedAt);
  const headers = { 'x-api-key': apiKey };
  for (let k = 1; k < 100_000; k++) {
    const at = start + k * interval * 1000 * ts;
    await sleep(Math.max(0, at - Date.now()));
    const res = await fetch(h.statusUrl, { headers });
    const body = (await res.json()) as { status?: string };
    if (body.status === 'COMPLETED') {
      const r = await fetch(h.responseUrl, { headers });
      await r.arrayBuffer();
      return Date.now();
    }
    if (body.status === 'FAILED' || res.status >= 400) return undefined;
  }
  return undefined;
}
