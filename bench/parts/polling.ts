// Part (a): polling efficiency of the await node's schedule against fixed intervals, by simulation
// (>= 10,000 jobs per model, the node's real scheduling code) and end to end (real node, sandbox).
import { basePrior } from '../../src/jobs/priors';
import { simulate, simulateFixed } from '../../src/jobs/simulate';
import type { Point } from '../lib/chart';
import { target, type PartReport, type Target } from '../lib/part';
import { MODELS } from '../lib/payloads';
import { fmt, mean } from '../lib/stats';
import type { Table } from '../lib/table';
import { runPollingE2E } from './polling-e2e';
import { FIXED_CLIENTS, NODE_CLIENT, runPollingSim } from './polling-sim';

const MAX_REQUEST_SHARE = 0.25;
const MAX_MEAN_DELAY = 3;

export async function run({ quick }: { quick: boolean }): Promise<PartReport> {
  const started = Date.now();
  const jobsPerModel = quick ? 2_000 : 10_000;
  const e2eJobs = quick ? 15 : 60;
  const fixedJobs = quick ? 4 : 10;
  const timeScale = 0.05;

  const sim = runPollingSim(jobsPerModel);
  const e2e = await runPollingE2E({ jobsPerModel: e2eJobs, fixedPerModel: fixedJobs, timeScale });

  const clients = [NODE_CLIENT, ...FIXED_CLIENTS.map((f) => f.label)];
  const cell = (model: string, client: string) => sim.models.find((m) => m.model === model)!.clients.find((c) => c.client === client)!;
  const pooled = (client: string) => sim.pooled.find((c) => c.client === client)!;
  const who = (client: string) => (client === NODE_CLIENT ? 'this package' : FIXED_CLIENTS.find((f) => f.label === client)!.who);

  const simTable = (title: string, pick: (c: { requests: number; meanDelay: number; p95Delay: number }) => number, digits: number): Table => ({
    title,
    headers: ['Client', ...MODELS, 'all models'],
    rows: clients.map((client) => [`${client} (${who(client)})`, ...MODELS.map((m) => fmt(pick(cell(m, client)), digits)), fmt(pick(pooled(client)), digits)]),
  });
  const requestsTable = simTable(`Simulation: status requests per job (${jobsPerModel.toLocaleString('en')} jobs per model)`, (c) => c.requests, 1);
  requestsTable.rows.push([
    'await node / fixed 2 s',
    ...MODELS.map((m) => `${fmt((100 * cell(m, NODE_CLIENT).requests) / cell(m, 'fixed 2 s').requests, 1)} %`),
    `${fmt((100 * pooled(NODE_CLIENT).requests) / pooled('fixed 2 s').requests, 1)} %`,
  ]);
  const meanTable = simTable('Simulation: mean detection delay (s)', (c) => c.meanDelay, 2);
  const p95Table = simTable('Simulation: 95th percentile detection delay (s)', (c) => c.p95Delay, 2);

  // the same durations through the simulation, without learning: in the end-to-end run all jobs
  // start together, so every one of them is scheduled from the page's prior
  const e2eRows: string[][] = [];
  const e2eTargets: Target[] = [];
  for (const model of MODELS) {
    const n = e2e.node.find((f) => f.model === model)!;
    const durations = e2e.durations[model];
    const s = simulate(basePrior(model), durations, { learn: false });
    const fixed2Sim = simulateFixed(durations, 2);
    e2eRows.push([
      model,
      `${n.completed}/${n.jobs}`,
      fmt(n.requests, 1),
      fmt(s.meanRequests, 1),
      fmt(n.meanDelay, 2),
      fmt(s.meanDelay, 2),
      fmt(n.p95Delay, 2),
      fmt(s.p95Delay, 2),
      `${fmt((100 * n.requests) / fixed2Sim.meanRequests, 1)} %`,
    ]);
    e2eTargets.push(
      target(`${model}, end to end: status requests vs fixed 2 s`, (100 * n.requests) / fixed2Sim.meanRequests, 100 * MAX_REQUEST_SHARE, ' %', 1, '<='),
      target(`${model}, end to end: mean detection delay`, n.meanDelay, MAX_MEAN_DELAY, ' s', 2, '<='),
    );
  }
  const e2eTable: Table = {
    title: `End to end: the await node in Node-RED against the sandbox (time scale ${timeScale}), beside the simulation of the same durations`,
    headers: ['Model', 'completed', 'req/job e2e', 'req/job sim', 'mean delay e2e (s)', 'mean delay sim (s)', 'p95 e2e (s)', 'p95 sim (s)', 'vs fixed 2 s'],
    rows: e2eRows,
  };
  const fixedRows = e2e.fixed2.map((f) => {
    const d = e2e.durations[f.model]?.slice(0, f.jobs) ?? [];
    const s = simulateFixed(d, 2);
    return [f.model, `${f.completed}/${f.jobs}`, fmt(f.requests, 1), fmt(s.meanRequests, 1), fmt(f.meanDelay, 2), fmt(s.meanDelay, 2), fmt(f.p95Delay, 2), fmt(s.p95Delay, 2)];
  });
  const fixedTable: Table = {
    title: 'End to end: a plain fixed-2 s loop on the same durations, beside its simulation',
    headers: ['Model', 'completed', 'req/job e2e', 'req/job sim', 'mean delay e2e (s)', 'mean delay sim (s)', 'p95 e2e (s)', 'p95 sim (s)'],
    rows: fixedRows,
  };

  const targets: Target[] = [];
  for (const model of MODELS) {
    targets.push(
      target(`${model}: status requests vs fixed 2 s`, (100 * cell(model, NODE_CLIENT).requests) / cell(model, 'fixed 2 s').requests, 100 * MAX_REQUEST_SHARE, ' %', 1, '<='),
      target(`${model}: mean detection delay`, cell(model, NODE_CLIENT).meanDelay, MAX_MEAN_DELAY, ' s', 2, '<='),
    );
  }
  targets.push(...e2eTargets);

  // chart: all models pooled, one point per client; end-to-end points as diamonds
  const points: Point[] = clients.map((client) => ({
    label: client === NODE_CLIENT ? 'await node' : client,
    x: pooled(client).requests,
    y: pooled(client).meanDelay,
    anchor: client === NODE_CLIENT || client === 'fixed 2 s' ? 'left' : client === 'fixed 10 s' ? 'right' : 'above',
  }));
  const e2eNodeReq = mean(e2e.node.map((f) => f.requests));
  const e2eNodeDelay = mean(e2e.node.map((f) => f.meanDelay));
  points.push({ label: 'await node, e2e', x: e2eNodeReq, y: e2eNodeDelay, series: 'alt', anchor: 'right' });
  if (e2e.fixed2.length) {
    points.push({ label: 'fixed 2 s, e2e', x: mean(e2e.fixed2.map((f) => f.requests)), y: mean(e2e.fixed2.map((f) => f.meanDelay)), series: 'alt', anchor: 'right' });
  }

  const allTargetsPass = targets.every((t) => t.pass);
  const notes: string[] = [
    `Durations: lognormal per model, median = the page's typical time, sigma ${sim.sigma} (5th-95th percentile of the samples: ${fmt(Math.min(...sim.models.map((m) => m.p5x)), 2)}x-${fmt(Math.max(...sim.models.map((m) => m.p95x)), 2)}x the median). Every client sees the same seeded durations.`,
    'What the simulation counts: status requests only (each client makes the same one submit and one result fetch per job, so they are left out of the comparison); detection delay = time of the first status poll at or after completion minus completion, i.e. network time counted as zero for every client alike. A fixed-interval client polls at k x interval after submit, so its delay is the next multiple of the interval minus the duration.',
    'The await node learns each model\'s run time from the jobs it sees (simulated in order, as the node does); its schedule also jitters each interval by ±5 % so that jobs submitted together do not poll in lockstep.',
    `End to end, the delay is measured from the job's completion in the sandbox (its doneAt) to the moment the await node sends the message (Node-RED's onSend hook), so it includes the status and result round trips and event-loop time, scaled to API seconds (1 ms of wall time = ${fmt(0.001 / timeScale, 2)} API s at time scale ${timeScale}). All end-to-end jobs start together, so each is scheduled from the page's prior: the simulation column beside it is the same durations without learning.`,
    e2e.otherOutputs ? `${e2e.otherOutputs} end-to-end messages left on the failed or timed-out outputs.` : 'Every end-to-end job left on the completed output.',
  ];
  if (!allTargetsPass) {
    const missed = targets.filter((t) => !t.pass).map((t) => t.name);
    notes.push(`MISSED: ${missed.join('; ')}. The schedule aims at a mean delay of 2.8 s (src/jobs/schedule.ts DEFAULT_SCHEDULE.targetDelay); its request count scales as median x J(sigma)^2 / (2 x targetDelay), so a model whose requests exceed 25 % of fixed 2 s polling needs a larger targetDelay or a tighter prior, and a delay above 3 s means the end-to-end round trips or timer lateness add too much on top of the schedule.`);
  }

  return {
    part: 'a',
    title: '(a) Polling efficiency',
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
    method: [
      `Simulation: ${jobsPerModel.toLocaleString('en')} jobs per model through src/jobs/simulate.ts, which drives the await node's own nextPollDelay (src/jobs/schedule.ts) with its priors (src/jobs/priors.ts), against fixed intervals of 0.5 s (Replicate and fal clients), 1 s (Segmind's SDK default), 2 s (Segmind's examples), 5 s (OpenAI's poll helper) and 10 s (Google's samples).`,
      `End to end: ${e2eJobs} jobs per model (${e2eJobs * MODELS.length} in all) scripted with the first durations of the same samples, submitted to the sandbox (its own process, time scale ${timeScale}: a 107.5 s job takes ${fmt(107.5 * timeScale, 2)} s), their handles sent into one 'segmind await' node (result mode url) in the real Node-RED runtime; status requests per job counted by the sandbox. The fixed-2 s loop (plain fetch) ran ${fixedJobs} jobs per model on the same durations.`,
    ],
    tables: [requestsTable, meanTable, p95Table, e2eTable, fixedTable],
    targets,
    notes,
    chart: {
      title: 'Polling: mean detection delay against status requests per job',
      subtitle: `five models pooled, ${(jobsPerModel * MODELS.length).toLocaleString('en')} simulated jobs per client; diamonds: end to end through Node-RED`,
      points,
      target: { xMax: MAX_REQUEST_SHARE * pooled('fixed 2 s').requests, yMax: MAX_MEAN_DELAY, label: 'target: ≤ 25 % of fixed-2 s requests, ≤ 3 s mean delay' },
    },
    data: { sim, e2e: { ...e2e, durations: undefined } },
  };
}
