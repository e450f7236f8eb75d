// Part (a): polling efficiency of the await node's schedule against fixed intervals, by simulation
// (>= 10,000 jobs per model, the node's real scheduling code) and end to end (real node, sandbox).
import { MAX_CONNECTIONS_PER_ORIGIN } from '../../src/client/http';
import { basePrior } from '../../src/jobs/priors';
import { baseInterval, DEFAULT_SCHEDULE } from '../../src/jobs/schedule';
import { simulate, simulateFixed } from '../../src/jobs/simulate';
import type { Point } from '../lib/chart';
import { target, type PartReport, type Target } from '../lib/part';
import { MODELS } from '../lib/payloads';
import { fmt, mean } from '../lib/stats';
import type { Table } from '../lib/table';
import { runPollingE2E } from './polling-e2e';
import { FIXED_CLIENTS, NODE_CLIENT, runPollingSim, WAITER_CLIENT } from './polling-sim';

const MAX_REQUEST_SHARE = 0.25;
const MAX_MEAN_DELAY = 3;

export async function run({ quick }: { quick: boolean }): Promise<PartReport> {
  const started = Date.now();
  const jobsPerModel = quick ? 2_000 : 10_000;
  const e2eJobs = quick ? 15 : 50;
  const fixedJobs = quick ? 4 : 10;
  const timeScale = 0.05;
  const spreadSeconds = quick ? 400 : 1200;

  const sim = await runPollingSim(jobsPerModel);
  const e2e = await runPollingE2E({ jobsPerModel: e2eJobs, fixedPerModel: fixedJobs, timeScale, spreadSeconds });

  const waiterRows = sim.pooled.some((c) => c.client === WAITER_CLIENT);
  const clients = [NODE_CLIENT, ...(waiterRows ? [WAITER_CLIENT] : []), ...FIXED_CLIENTS.map((f) => f.label)];
  const cell = (model: string, client: string) => sim.models.find((m) => m.model === model)!.clients.find((c) => c.client === client)!;
  const pooled = (client: string) => sim.pooled.find((c) => c.client === client)!;
  const who = (client: string) =>
    client === NODE_CLIENT ? 'this package, src/jobs/simulate.ts' : client === WAITER_CLIENT ? 'see notes' : FIXED_CLIENTS.find((f) => f.label === client)!.who;

  const simTable = (title: string, pick: (c: { requests: number; meanDelay: number; p95Delay: number }) => number, digits: number): Table => ({
    title,
    headers: ['Client', ...MODELS, 'all models'],
    rows: clients.map((client) => [`${client} (${who(client)})`, ...MODELS.map((m) => fmt(pick(cell(m, client)), digits)), fmt(pick(pooled(client)), digits)]),
  });
  const requestsTable = simTable(`Simulation: status requests per job (${jobsPerModel.toLocaleString('en')} jobs per model)`, (c) => c.requests, 1);
  for (const client of waiterRows ? [NODE_CLIENT, WAITER_CLIENT] : [NODE_CLIENT]) {
    requestsTable.rows.push([
      `${client} / fixed 2 s`,
      ...MODELS.map((m) => `${fmt((100 * cell(m, client).requests) / cell(m, 'fixed 2 s').requests, 1)} %`),
      `${fmt((100 * pooled(client).requests) / pooled('fixed 2 s').requests, 1)} %`,
    ]);
  }
  const meanTable = simTable('Simulation: mean detection delay (s)', (c) => c.meanDelay, 2);
  const p95Table = simTable('Simulation: 95th percentile detection delay (s)', (c) => c.p95Delay, 2);

  // the same durations through the simulation, scheduled from the page's prior (no learning): the
  // end-to-end jobs overlap, so most of them start before the node has seen any finish
  const e2eRows = (runs: typeof e2e.spread, withRatio: boolean): string[][] =>
    MODELS.map((model) => {
      const n = runs.find((f) => f.model === model)!;
      const durations = e2e.durations[model].slice(0, n.jobs);
      const s = simulate(basePrior(model), durations, { learn: false });
      const fixed2Sim = simulateFixed(durations, 2);
      const row = [model, `${n.completed}/${n.jobs}`, fmt(n.requests, 1), fmt(s.meanRequests, 1), fmt(n.meanDelay, 2), fmt(s.meanDelay, 2), fmt(n.p95Delay, 2), fmt(s.p95Delay, 2)];
      if (withRatio) row.push(`${fmt((100 * n.requests) / fixed2Sim.meanRequests, 1)} %`);
      return row;
    });
  const e2eHeaders = ['Model', 'completed', 'req/job e2e', 'req/job sim', 'mean delay e2e (s)', 'mean delay sim (s)', 'p95 e2e (s)', 'p95 sim (s)'];
  const e2eTargets: Target[] = [];
  for (const model of MODELS) {
    const n = e2e.spread.find((f) => f.model === model)!;
    const fixed2Sim = simulateFixed(e2e.durations[model].slice(0, n.jobs), 2);
    e2eTargets.push(
      target(`${model}, end to end: status requests vs fixed 2 s`, (100 * n.requests) / fixed2Sim.meanRequests, 100 * MAX_REQUEST_SHARE, ' %', 1, '<='),
      target(`${model}, end to end: mean detection delay`, n.meanDelay, MAX_MEAN_DELAY, ' s', 2, '<='),
    );
  }
  const e2eTable: Table = {
    title: `End to end: the await node in Node-RED against the sandbox (time scale ${timeScale}), jobs arriving at random over ${spreadSeconds} API s, beside the simulation of the same durations`,
    headers: [...e2eHeaders, 'vs fixed 2 s'],
    rows: e2eRows(e2e.spread, true),
  };
  const burstTable: Table = {
    title: `End to end, the same ${e2eJobs * MODELS.length} jobs all submitted in the same instant (no target: see the notes)`,
    headers: e2eHeaders,
    rows: e2eRows(e2e.burst, false),
  };
  const fixedRows = e2e.fixed2.map((f) => {
    const d = e2e.durations[f.model].slice(0, f.jobs);
    const s = simulateFixed(d, 2);
    return [f.model, `${f.completed}/${f.jobs}`, fmt(f.requests, 1), fmt(s.meanRequests, 1), fmt(f.meanDelay, 2), fmt(s.meanDelay, 2), fmt(f.p95Delay, 2), fmt(s.p95Delay, 2)];
  });
  const fixedTable: Table = {
    title: 'End to end: a plain fixed-2 s loop (fetch, no budget) on the same durations, all at once, beside its simulation',
    headers: e2eHeaders,
    rows: fixedRows,
  };

  const targets: Target[] = [];
  for (const client of waiterRows ? [NODE_CLIENT, WAITER_CLIENT] : [NODE_CLIENT]) {
    const tag = client === NODE_CLIENT ? 'simulation' : 'simulation, waiter.ts learning';
    for (const model of MODELS) {
      targets.push(
        target(`${model} (${tag}): status requests vs fixed 2 s`, (100 * cell(model, client).requests) / cell(model, 'fixed 2 s').requests, 100 * MAX_REQUEST_SHARE, ' %', 1, '<='),
        target(`${model} (${tag}): mean detection delay`, cell(model, client).meanDelay, MAX_MEAN_DELAY, ' s', 2, '<='),
      );
    }
  }
  targets.push(...e2eTargets);

  // chart: all models pooled, one point per client; end-to-end points as diamonds
  const points: Point[] = clients.map((client) => ({
    label: client === NODE_CLIENT ? 'await node' : client === WAITER_CLIENT ? 'await node, waiter.ts learning' : client,
    x: pooled(client).requests,
    y: pooled(client).meanDelay,
    anchor: client === NODE_CLIENT || client === 'fixed 2 s' ? 'left' : client === 'fixed 10 s' || client === WAITER_CLIENT ? 'right' : 'above',
  }));
  const e2eNodeReq = mean(e2e.spread.map((f) => f.requests));
  const e2eNodeDelay = mean(e2e.spread.map((f) => f.meanDelay));
  points.push({ label: 'await node, e2e', x: e2eNodeReq, y: e2eNodeDelay, series: 'alt', anchor: 'right' });
  if (e2e.fixed2.length) {
    points.push({ label: 'fixed 2 s, e2e', x: mean(e2e.fixed2.map((f) => f.requests)), y: mean(e2e.fixed2.map((f) => f.meanDelay)), series: 'alt', anchor: 'right' });
  }

  const allTargetsPass = targets.every((t) => t.pass);
  const notes: string[] = [];
  if (waiterRows) {
    notes.push(
      `Learning differs between the simulator and the node. src/jobs/simulate.ts learns from every job (a job seen COMPLETED on its first poll counts as the midpoint of submission and that poll). The real Waiter (src/jobs/waiter.ts), run by this benchmark against a stand-in client, learns only from jobs that were seen running at least once: ${sim.waiterProbe.afterRunning ? 'a job seen PROCESSING then COMPLETED was learned from' : 'no job was learned from'}, a job COMPLETED at its first poll was ${sim.waiterProbe.firstPollHit ? '' : 'not '}learned from. The rows "${WAITER_CLIENT}" simulate that rule: the fastest jobs never reach the belief, so its median drifts up and its spread narrows, the first poll moves later, more jobs finish before it, and the drift feeds itself. Fix (src/jobs/waiter.ts, where it calls observed): when the job was watched from its submission, learn from a first-poll hit as the midpoint of submission and that poll, as simulate.ts does (or treat it as censored); skip only jobs picked up late (bare ids, resumed jobs).`,
    );
  }
  notes.push(
    `Durations: lognormal per model, median = the page's typical time, sigma ${sim.sigma} (5th-95th percentile of the samples: ${fmt(Math.min(...sim.models.map((m) => m.p5x)), 2)}x-${fmt(Math.max(...sim.models.map((m) => m.p95x)), 2)}x the median). Every client sees the same seeded durations.`,
    'What the simulation counts: status requests only (each client makes the same one submit and one result fetch per job, so they are left out of the comparison); detection delay = time of the first status poll at or after completion minus completion, i.e. network time counted as zero for every client alike. A fixed-interval client polls at k x interval after submit, so its delay is the next multiple of the interval minus the duration.',
    'The await node learns each model\'s run time from the jobs it sees (simulated in order, one job after another); its schedule also jitters each interval by ±5 % so that jobs submitted together do not poll in lockstep.',
    `End to end, the delay runs from the job's completion in the sandbox (its doneAt) to the moment the await node sends the message (Node-RED's onSend hook): it includes the status and result round trips, timer lateness and event-loop time, all magnified by the time scale (1 ms of wall time = ${fmt(0.001 / timeScale, 2)} API s at ${timeScale}). The simulation column beside it runs the same durations from the page's prior without learning, since the end-to-end jobs overlap and most start before the node has seen one finish.`,
    `All at once: ${e2eJobs * MODELS.length} jobs submitted in one instant poll in bunches (jobs of one model share one schedule, only ±5 % jitter apart). The client's request budget (a token bucket, src/client/budget.ts) does not hold a bunch back at this benchmark's rpm: each timer tick releases every call that is due. A bunch of up to ${e2eJobs} polls still goes out at once and shares the sockets (at most ${MAX_CONNECTIONS_PER_ORIGIN} per origin, src/client/http.ts), the sandbox and the event loop, so its last polls land a few ms after its first, and this time scale turns each ms into ${fmt(0.001 / timeScale, 2)} API s. Late polls also mean fewer polls per job, hence the lower request counts. At the real time scale the same wait costs about ${fmt(timeScale * 100, 0)} % of what is shown here; more jitter between jobs of one model (src/jobs/schedule.ts) would spread the bunches.`,
    e2e.otherOutputs ? `${e2e.otherOutputs} end-to-end messages left on the failed or timed-out outputs.` : 'Every end-to-end job left on the completed output.',
  );
  if (e2e.beliefAfterSpread.length) {
    const page = (m: string) => basePrior(m);
    notes.push(
      `What the node believed after the spread run (learned from the jobs it saw), against the page's prior: ${e2e.beliefAfterSpread
        .map((b) => `${b.model} median ${fmt(b.median, 0)} s, spread ${fmt(b.sigma, 2)}, first poll at ${fmt(b.firstPoll, 0)} s (page: ${fmt(page(b.model).median, 0)} s, ${fmt(page(b.model).sigma, 2)}, ${fmt(baseInterval(0, page(b.model)), 0)} s)`)
        .join('; ')}.`,
    );
  }
  if (!allTargetsPass) {
    const missed = targets.filter((t) => !t.pass);
    const waiterMiss = missed.some((t) => t.name.includes('waiter.ts learning'));
    const e2eMiss = missed.some((t) => t.name.includes('end to end'));
    const simMiss = missed.some((t) => t.name.includes('(simulation)'));
    if (simMiss) {
      notes.push(`MISSED in the simulation itself: the schedule aims at a mean delay of ${DEFAULT_SCHEDULE.targetDelay} s (src/jobs/schedule.ts DEFAULT_SCHEDULE.targetDelay) and costs about median x J(sigma)^2 / (2 x targetDelay) polls per job; a request share above 25 % needs a larger targetDelay or a tighter prior, a delay above 3 s a smaller targetDelay.`);
    }
    if (waiterMiss) {
      notes.push('MISSED with the waiter\'s learning rule: see the first note. The schedule is fine while the belief is right (the simulate.ts rows); the miss comes from the belief drifting once jobs finishing at the first poll stop being learned from. The fix is the one-line change in src/jobs/waiter.ts described there.');
    }
    if (e2eMiss) {
      notes.push(`MISSED end to end: two causes, both visible above. (1) Learning from few jobs: in the spread run later jobs start from a belief learned from the ${e2eJobs} earlier ones of their model (see the belief note), and with that few a model's learned median or spread can sit off the page's, finding some jobs later than the page's prior would; the simulation column, which keeps the page's prior, does not have it, and the 10,000-job simulation with learning (first table) shows the schedule meets the target once the belief has settled. (2) Time outside the schedule (round trips, timer lateness, event-loop time) is magnified ${fmt(1 / timeScale, 0)}-fold at this time scale: the fixed-2 s loop, which has no budget and no learning, shows about 0.1 s of it. (2) shrinks ${fmt(1 / timeScale, 0)}-fold at the real time scale; (1) would shrink with a slower-moving belief (more prior weight in src/jobs/priors.ts) at the cost of adapting more slowly when a model's real run time differs from its page.`);
    }
  }

  return {
    part: 'a',
    title: '(a) Polling efficiency',
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
    method: [
      `Simulation: ${jobsPerModel.toLocaleString('en')} jobs per model through src/jobs/simulate.ts, which drives the await node's own nextPollDelay (src/jobs/schedule.ts) with its priors (src/jobs/priors.ts), against fixed intervals of 0.5 s (Replicate and fal clients), 1 s (Segmind's SDK default), 2 s (Segmind's examples), 5 s (OpenAI's poll helper) and 10 s (Google's samples).`,
      `End to end: ${e2eJobs} jobs per model (${e2eJobs * MODELS.length} in all) scripted with the first durations of the same samples run on the sandbox (its own process, time scale ${timeScale}: a 107.5 s job takes ${fmt(107.5 * timeScale, 2)} s). Each handle goes into one 'segmind await' node (result mode url, budget unlimited) in the real Node-RED runtime the moment its submit is answered; status requests per job are counted by the sandbox. Two arrival patterns, each in a fresh runtime: submissions spread uniformly at random over ${spreadSeconds} API s (as independent users would send them; the targets apply to this one), and all in the same instant. A plain fixed-2 s loop (fetch, no budget) ran ${fixedJobs} jobs per model on the same durations.`,
    ],
    tables: [requestsTable, meanTable, p95Table, e2eTable, burstTable, fixedTable],
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
