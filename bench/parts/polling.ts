// Part (a): polling efficiency of the await node's schedule: by simulation (10,000 jobs per model,
// the node's real scheduling and learning code) against the optimal requests/delay frontier
// (dynamic programming over the lognormal, bench/lib/frontier.ts) and against fixed intervals, the
// latter also compared at equal mean delay; and end to end (real node, sandbox), for information.
import { MAX_CONNECTIONS_PER_ORIGIN } from '../../src/client/http';
import { basePrior } from '../../src/jobs/priors';
import { baseInterval } from '../../src/jobs/schedule';
import { simulate, simulateFixed } from '../../src/jobs/simulate';
import { delayAt, requestsAt } from '../lib/frontier';
import type { Point } from '../lib/chart';
import { target, type PartReport, type Target } from '../lib/part';
import { MODELS } from '../lib/payloads';
import { fmt, mean } from '../lib/stats';
import type { Table } from '../lib/table';
import { runPollingE2E } from './polling-e2e';
import { CENSORED_CLIENT, FIXED_CLIENTS, NODE_CLIENT, pooledFrontier, runPollingSim } from './polling-sim';

/** The node's schedule, learning included, within this factor of the optimal frontier, both ways. */
const MAX_FRONTIER_RATIO = 1.05;

export async function run({ quick }: { quick: boolean }): Promise<PartReport> {
  const started = Date.now();
  const jobsPerModel = quick ? 2_000 : 10_000;
  const e2eJobs = quick ? 15 : 50;
  const fixedJobs = quick ? 4 : 10;
  const timeScale = 0.05;
  const spreadSeconds = quick ? 400 : 1200;

  const sim = await runPollingSim(jobsPerModel);
  const e2e = await runPollingE2E({ jobsPerModel: e2eJobs, fixedPerModel: fixedJobs, timeScale, spreadSeconds });

  const clients = [NODE_CLIENT, CENSORED_CLIENT, ...FIXED_CLIENTS.map((f) => f.label)];
  const cell = (model: string, client: string) => sim.models.find((m) => m.model === model)!.clients.find((c) => c.client === client)!;
  const pooled = (client: string) => sim.pooled.find((c) => c.client === client)!;
  const who = (client: string) =>
    client === NODE_CLIENT ? 'this package, learning from metrics' : client === CENSORED_CLIENT ? 'learning from poll intervals only' : FIXED_CLIENTS.find((f) => f.label === client)!.who;
  const pooledFr = pooledFrontier(sim.models);

  const simTable = (title: string, pick: (c: { requests: number; meanDelay: number; p95Delay: number }) => number, digits: number): Table => ({
    title,
    headers: ['Client', ...MODELS, 'all models'],
    rows: clients.map((client) => [`${client} (${who(client)})`, ...MODELS.map((m) => fmt(pick(cell(m, client)), digits)), fmt(pick(pooled(client)), digits)]),
  });
  const requestsTable = simTable(`Simulation: status requests per job (${jobsPerModel.toLocaleString('en')} jobs per model)`, (c) => c.requests, 1);
  const meanTable = simTable('Simulation: mean detection delay (s)', (c) => c.meanDelay, 2);
  const p95Table = simTable('Simulation: 95th percentile detection delay (s)', (c) => c.p95Delay, 2);

  // the node against the optimal frontier, both ways
  const node = pooled(NODE_CLIENT);
  const frontierRows = sim.models.map((m) => {
    const n = cell(m.model, NODE_CLIENT);
    return [
      m.model,
      fmt(n.requests, 2),
      fmt(n.meanDelay, 2),
      fmt(delayAt(m.frontier, n.requests), 2),
      fmt(m.delayRatio, 3),
      fmt(requestsAt(m.frontier, n.meanDelay), 2),
      fmt(m.requestRatio, 3),
      `${fmt(m.censoredDelayRatio, 3)} / ${fmt(m.censoredRequestRatio, 3)}`,
    ];
  });
  const pooledDelayRatio = node.meanDelay / delayAt(pooledFr, node.requests);
  const pooledRequestRatio = node.requests / requestsAt(pooledFr, node.meanDelay);
  frontierRows.push(['all models', fmt(node.requests, 2), fmt(node.meanDelay, 2), fmt(delayAt(pooledFr, node.requests), 2), fmt(pooledDelayRatio, 3), fmt(requestsAt(pooledFr, node.meanDelay), 2), fmt(pooledRequestRatio, 3), '']);
  const frontierTable: Table = {
    title: 'Simulation: the await node against the optimal frontier (the least mean delay for a number of polls, and the fewest polls for a mean delay, computed by dynamic programming for the true run-time distribution)',
    headers: ['Model', 'node: polls/job', 'node: mean delay (s)', 'frontier delay at these polls (s)', 'delay / frontier', 'frontier polls at this delay', 'polls / frontier', 'without metrics (delay / polls ratios)'],
    rows: frontierRows,
  };
  // the fixed pollers at the node's own mean delay: a fixed interval of twice that delay
  const equalRows = sim.models.map((m) => {
    const n = cell(m.model, NODE_CLIENT);
    return [m.model, fmt(n.meanDelay, 2), fmt(m.equalDelayInterval, 2), fmt(m.equalDelayRequests, 1), fmt(n.requests, 1), `${fmt((100 * n.requests) / m.equalDelayRequests, 1)} %`, `${fmt((100 * n.requests) / cell(m.model, 'fixed 2 s').requests, 1)} %`];
  });
  const equalTable: Table = {
    title: "Simulation: the await node against a fixed poller with the same mean delay (a fixed interval's mean delay is half the interval)",
    headers: ['Model', 'node: mean delay (s)', 'fixed interval with that delay (s)', 'its polls/job', 'node: polls/job', 'node / fixed, same delay', 'node / fixed 2 s (2.6x less delay)'],
    rows: equalRows,
  };

  const targets: Target[] = [];
  for (const m of sim.models) {
    targets.push(target(`${m.model} (simulation): mean delay / frontier's at the same polls`, m.delayRatio, MAX_FRONTIER_RATIO, 'x', 3, '<='));
    targets.push(target(`${m.model} (simulation): polls / frontier's at the same mean delay`, m.requestRatio, MAX_FRONTIER_RATIO, 'x', 3, '<='));
  }

  // the same durations end to end, scheduled from the page's prior (no learning) in the simulation column
  const e2eRows = (runs: typeof e2e.spread): string[][] =>
    MODELS.map((model) => {
      const n = runs.find((f) => f.model === model)!;
      const durations = e2e.durations[model].slice(0, n.jobs);
      const s = simulate(basePrior(model), durations, { learn: false });
      return [model, `${n.completed}/${n.jobs}`, fmt(n.requests, 1), fmt(s.meanRequests, 1), fmt(n.meanDelay, 2), fmt(s.meanDelay, 2), fmt(n.p95Delay, 2), fmt(s.p95Delay, 2)];
    });
  const e2eHeaders = ['Model', 'completed', 'req/job e2e', 'req/job sim', 'mean delay e2e (s)', 'mean delay sim (s)', 'p95 e2e (s)', 'p95 sim (s)'];
  const e2eTable: Table = {
    title: `End to end (no target; see the notes): the await node in Node-RED against the sandbox (time scale ${timeScale}), jobs arriving at random over ${spreadSeconds} API s, beside the simulation of the same durations`,
    headers: e2eHeaders,
    rows: e2eRows(e2e.spread),
  };
  const burstTable: Table = {
    title: `End to end, the same ${e2eJobs * MODELS.length} jobs all submitted in the same instant (no target)`,
    headers: e2eHeaders,
    rows: e2eRows(e2e.burst),
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

  // chart: all models pooled, one point per client, the pooled frontier as a curve; end-to-end as diamonds
  const points: Point[] = [NODE_CLIENT, ...FIXED_CLIENTS.map((f) => f.label)].map((client) => ({
    label: client,
    x: pooled(client).requests,
    y: pooled(client).meanDelay,
  }));
  points.push({ label: 'await node, e2e', x: mean(e2e.spread.map((f) => f.requests)), y: mean(e2e.spread.map((f) => f.meanDelay)), series: 'alt' });
  if (e2e.fixed2.length) points.push({ label: 'fixed 2 s, e2e', x: mean(e2e.fixed2.map((f) => f.requests)), y: mean(e2e.fixed2.map((f) => f.meanDelay)), series: 'alt' });

  const notes: string[] = [
    `The frontier: for each price of a second of delay (in polls), the poll schedule with the least E[polls] + price x E[delay] for the true run-time distribution of each model (lognormal, median the page's time, spread ${sim.sigma}), found by dynamic programming on a time grid of median/2000 (bench/lib/frontier.ts); sweeping the price traces the least mean delay any schedule can reach for a given mean number of polls. Its polls x delay is about 0.31 x the median wherever the node operates. The node's figures are compared with the frontier at the node's own polls (delay ratio) and at the node's own delay (polls ratio). "All models" pools the five models (the average of their optima at each price, the pooled optimum of a sum of separate problems).`,
    `The node's schedule (src/jobs/schedule.ts) is Keller's sqrt-hazard rule aimed at a mean delay of 2.6 s, with the belief it learns as it goes (src/jobs/priors.ts: recent run times weighted by 0.99^age, a change detector, the page's prior fading). "${NODE_CLIENT}" learns the exact run time of each finished job from Segmind's metrics (queue_time + inference_time, which the sandbox reports); "${CENSORED_CLIENT}" learns only that the job finished between the last poll that saw it running and the one that saw it done, treated as a censored observation.`,
    `Each model is compared with its own frontier (the targets). The "all models" row compares the pooled figures with the pooled frontier, which spends one price of delay across all models; the node instead aims at the same mean delay for every model, not the pooled optimum, so its pooled ratio (${fmt(pooledDelayRatio, 3)}) is above every model's own.`,
    `Compared at equal mean delay, a fixed poller needs the fixed interval of twice the node's delay (its mean delay is half its interval): the node needs ${fmt((100 * node.requests) / mean(sim.models.map((m) => m.equalDelayRequests)), 0)} % of its polls over all models (second table). The older comparison with a fixed 2 s poller (${fmt((100 * node.requests) / pooled('fixed 2 s').requests, 1)} % of its polls) compares at ${fmt(node.meanDelay / pooled('fixed 2 s').meanDelay, 1)}x the delay.`,
    'What the simulation counts: status requests only (each client makes the same one submit and one result fetch per job, so they are left out of the comparison); detection delay = time of the first status poll at or after completion minus completion, network time counted as zero for every client alike. A fixed-interval client polls at k x interval after submit.',
    `End to end (for information, no target): the delay runs from the job's completion in the sandbox (its doneAt) to the moment the await node sends the message (Node-RED's onSend hook): it includes the status and result round trips, timer lateness and event-loop time, all magnified by the time scale (1 ms of wall time = ${fmt(0.001 / timeScale, 2)} API s at ${timeScale}). The simulation column beside it runs the same durations from the page's prior without learning, since the end-to-end jobs overlap and most start before the node has seen one finish. All at once, jobs of one model poll in bunches (one schedule, ±5 % jitter) that share the ${MAX_CONNECTIONS_PER_ORIGIN} sockets per origin, the sandbox and the event loop.`,
    e2e.otherOutputs ? `${e2e.otherOutputs} end-to-end messages left on the failed or timed-out outputs.` : 'Every end-to-end job left on the completed output.',
  ];
  if (e2e.beliefAfterSpread.length) {
    const page = (m: string) => basePrior(m);
    notes.push(
      `What the node believed after the spread run, against the page's prior: ${e2e.beliefAfterSpread
        .map((b) => `${b.model} median ${fmt(b.median, 0)} s, spread ${fmt(b.sigma, 2)}, first poll at ${fmt(b.firstPoll, 0)} s (page: ${fmt(page(b.model).median, 0)} s, ${fmt(page(b.model).sigma, 2)}, ${fmt(baseInterval(0, page(b.model)), 0)} s)`)
        .join('; ')}.`,
    );
  }
  const missed = targets.filter((t) => !t.pass);
  if (missed.length) {
    notes.push(`MISSED: ${missed.map((t) => t.name).join('; ')}. The node's figure without learning (the page's prior is the truth here) is the schedule's own distance from the frontier; the rest comes from learning: the belief's median and spread wander with the last ~100 jobs (±4 % median at 5th-95th percentile), and each wander costs a little.`);
  }

  return {
    part: 'a',
    title: '(a) Polling efficiency',
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
    method: [
      `Simulation: ${jobsPerModel.toLocaleString('en')} jobs per model, one after another, through src/jobs/simulate.ts, which drives the await node's own schedule (src/jobs/schedule.ts) with the belief it learns (src/jobs/priors.ts), against the optimal frontier and against fixed intervals of 0.5 s (Replicate and fal clients), 1 s (Segmind's SDK default), 2 s (Segmind's examples), 5 s (OpenAI's poll helper) and 10 s (Google's samples).`,
      `End to end: ${e2eJobs} jobs per model (${e2eJobs * MODELS.length} in all) scripted with the first durations of the same samples run on the sandbox (its own process, time scale ${timeScale}). Each handle goes into one 'segmind await' node (result mode url, budget unlimited) in the real Node-RED runtime the moment its submit is answered; status requests per job are counted by the sandbox. Two arrival patterns, each in a fresh runtime: submissions spread uniformly at random over ${spreadSeconds} API s, and all in the same instant. A plain fixed-2 s loop (fetch, no budget) ran ${fixedJobs} jobs per model on the same durations.`,
    ],
    tables: [frontierTable, equalTable, requestsTable, meanTable, p95Table, e2eTable, burstTable, fixedTable],
    targets,
    notes,
    chart: {
      title: 'Polling: mean detection delay against status requests per job',
      subtitle: `five models pooled, ${(jobsPerModel * MODELS.length).toLocaleString('en')} simulated jobs per client; curve: the optimal frontier; diamonds: end to end`,
      points,
      line: { label: 'optimal frontier (dynamic programming)', points: pooledFr.map((p) => ({ x: p.requests, y: p.delay })) },
    },
    data: { sim: { ...sim, models: sim.models.map((m) => ({ ...m, frontier: m.frontier })) }, e2e: { ...e2e, durations: undefined } },
  };
}
