// Part (b): Segmind's Free plan end to end. The real nodes (one 'segmind sadtalker' node wired to one
// 'segmind await' node, one config node set to 5 requests per minute) against the sandbox enforcing
// 5 per minute (its own process, time scaled): one job at a time, 20 messages at once, and 300
// messages at once; beside a plain 2 s poller for the 20.
import { benchFlow, IDS } from '../lib/flows';
import { target, type PartReport, type Target } from '../lib/part';
import { payloadFor } from '../lib/payloads';
import { sleep } from '../lib/probes';
import { startRuntime, type Runtime } from '../lib/runtime';
import { startSandboxProcess, type Counters, type SandboxProcess } from '../lib/sandbox-proc';
import { fmt, mean, percentile } from '../lib/stats';
import type { Table } from '../lib/table';

const MODEL = 'sadtalker';
const MODEL_NODE = 'segmind sadtalker';
const RPM = 5;
const WINDOW_S = 60;
const MAX_SINGLE_DELAY = 8;

interface Outcome {
  /** message index -> what became of it */
  completed: Map<string, number>;
  /** refused before any request at the model node, by error code */
  refused: Record<string, number>;
  /** left the await node on the failed or timed-out output, by reason */
  lost: Record<string, number>;
}

function watch(runtime: Runtime): Outcome & { ended: () => number } {
  const o: Outcome = { completed: new Map(), refused: {}, lost: {} };
  runtime.onSend(IDS.await, (m) => {
    const id = m.msg?.segmind?.requestId as string;
    if (m.port === 0) o.completed.set(id, m.time);
    else {
      const why = `await output ${m.port + 1}: ${String(m.msg?.error?.code ?? m.msg?.error?.message ?? 'no msg.error').slice(0, 80)}`;
      o.lost[why] = (o.lost[why] ?? 0) + 1;
    }
  });
  runtime.onComplete(IDS.model, (e) => {
    if (!e.error) return;
    const code = String((e.error as { code?: unknown }).code ?? (e.error as Error).message).slice(0, 80);
    o.refused[code] = (o.refused[code] ?? 0) + 1;
  });
  const sum = (r: Record<string, number>) => Object.values(r).reduce((s, n) => s + n, 0);
  return { ...o, ended: () => o.completed.size + sum(o.refused) + sum(o.lost) };
}

function msgFor(i: number): Record<string, unknown> {
  const payload = payloadFor(MODEL);
  return { image: payload.input_image, audio: payload.input_audio, benchJob: i };
}

async function withRun<T>(ts: number, seed: number, body: (sandbox: SandboxProcess, runtime: Runtime) => Promise<T>): Promise<T> {
  const sandbox = await startSandboxProcess({ timeScale: ts, rateLimitPerMinute: RPM, seed });
  const runtime = await startRuntime(benchFlow({ sandbox, rpm: RPM, timeScale: ts, resultMode: 'url', timeoutSeconds: 6 * 3600, modelNodeType: MODEL_NODE }));
  try {
    return await body(sandbox, runtime);
  } finally {
    await runtime.stop();
    await sandbox.close();
  }
}

function count429(c: Counters): number {
  return c.rateLimited.length;
}

/**
 * One job at a time, on each of `accounts` independent accounts at once (a key each, so a rate
 * window each: the sandbox limits per key; a config node, model node and await node each): on every
 * account a message enters when the previous result has left. Many accounts in parallel give many
 * samples of "one job alone" in the time of a few.
 */
async function runSingle(ts: number, accounts: number, jobsPerAccount: number) {
  const keys = Array.from({ length: accounts }, (_, i) => `SG_bench_single_${i}`);
  const sandbox = await startSandboxProcess({ timeScale: ts, rateLimitPerMinute: RPM, seed: 31, apiKeys: ['SG_sandbox', ...keys] });
  const flow: Record<string, unknown>[] = [{ id: 'single-tab', type: 'tab', label: 'single' }];
  const credentials: Record<string, Record<string, string>> = {};
  for (let i = 0; i < accounts; i++) {
    flow.push(
      { id: `cfg${i}`, type: 'segmind-config', name: `account ${i}`, baseUrl: sandbox.url, uploadUrl: sandbox.uploadUrl, rpm: String(RPM), timeScale: String(ts) },
      { id: `model${i}`, type: MODEL_NODE, z: 'single-tab', name: '', config: `cfg${i}`, wires: [[`await${i}`]] },
      { id: `await${i}`, type: 'segmind await', z: 'single-tab', name: '', config: `cfg${i}`, result: 'url', folder: '', timeout: String(6 * 3600), wires: [['single-sink'], ['single-sink'], ['single-sink']] },
    );
    credentials[`cfg${i}`] = { apiKey: keys[i] };
  }
  // a disabled debug node: Node-RED routes (and its onSend hook sees) only what goes to a wire
  flow.push({ id: 'single-sink', type: 'debug', z: 'single-tab', active: false, tosidebar: false, console: false, tostatus: false, complete: 'false', wires: [] });
  const runtime = await startRuntime({ flow, credentials });
  try {
    const delays: number[] = [];
    const other: Record<string, number> = {};
    let requests = 0;
    await sandbox.resetCounters();
    await Promise.all(
      keys.map(async (_key, i) => {
        let delivered: { id: string; time: number; port: number } | undefined;
        runtime.onSend(`await${i}`, (m) => (delivered = { id: m.msg?.segmind?.requestId, time: m.time, port: m.port }));
        let refused = false;
        runtime.onComplete(`model${i}`, (e) => {
          if (e.error) refused = true;
        });
        for (let k = 0; k < jobsPerAccount; k++) {
          delivered = undefined;
          refused = false;
          runtime.inject(`model${i}`, msgFor(k));
          const end = Date.now() + 20 * 60_000 * ts;
          while (!delivered && !refused && Date.now() < end) await sleep(5);
          const d = delivered as { id: string; time: number; port: number } | undefined;
          if (!d || d.port !== 0) {
            const why = refused ? 'refused' : d ? `await output ${d.port + 1}` : 'no answer';
            other[why] = (other[why] ?? 0) + 1;
            continue;
          }
          // its timing now: the sandbox forgets a job an hour (API time) after its submit
          const [j] = await sandbox.jobs([d.id]);
          if (j) delays.push((d.time - j.doneAt) / 1000 / ts);
        }
      }),
    );
    const c = await sandbox.counters();
    requests = Object.entries(c.byEndpoint).filter(([e]) => e !== 'output').reduce((s, [, n]) => s + n, 0);
    return { jobs: accounts * jobsPerAccount, accounts, completed: delays.length, delays, rateLimited: count429(c), requests, other };
  } finally {
    await runtime.stop();
    await sandbox.close();
  }
}

/**
 * The least possible time to the last result for jobs of known durations submitted together at a
 * sliding window of `rpm`: submits as early as the window allows, then for each job (in order of
 * its end) a poll at its end and the fetch, each as early as the window allows.
 */
export function leastPossible(durations: number[], rpm: number, windowS = WINDOW_S): number {
  const sent: number[] = [];
  // requests go in order, each as early as it is ready and the window (<= rpm in any windowS) allows
  const slotAt = (ready: number) => {
    let t = Math.max(ready, sent.length ? sent[sent.length - 1] : 0);
    if (sent.length >= rpm) t = Math.max(t, sent[sent.length - rpm] + windowS);
    sent.push(t);
    return t;
  };
  const ends = durations.map((d) => slotAt(0) + d).sort((a, b) => a - b);
  let last = 0;
  for (const end of ends) last = slotAt(slotAt(end)); // the poll at its end, then the fetch
  return last;
}

async function runBurst(ts: number, jobs: number, limitSeconds: number) {
  return withRun(ts, 21, async (sandbox, runtime) => {
    const o = watch(runtime);
    await sandbox.resetCounters();
    const start = Date.now();
    for (let i = 0; i < jobs; i++) runtime.inject(IDS.model, msgFor(i));
    const cutOff = start + limitSeconds * 1000 * ts;
    while (o.ended() < jobs && Date.now() < cutOff) await sleep(20);
    const c = await sandbox.counters();
    const all = await sandbox.jobs();
    const submitted = all.length;
    const completedIds = new Set(o.completed.keys());
    // a paid job wasted: submitted (and billed) but never delivered on the completed output
    const wasted = all.filter((j) => !completedIds.has(j.requestId)).length;
    const times = [...o.completed.values()];
    const requests = Object.entries(c.byEndpoint).filter(([e]) => e !== 'output').reduce((s, [, n]) => s + n, 0);
    return {
      jobs,
      submitted,
      completed: o.completed.size,
      wasted,
      refused: o.refused,
      lost: o.lost,
      unfinished: jobs - o.ended(),
      rateLimited: count429(c),
      requests,
      lastResultSeconds: times.length ? (Math.max(...times) - start) / 1000 / ts : NaN,
      leastPossibleSeconds: leastPossible(all.map((j) => j.durationSeconds ?? 0), RPM),
    };
  });
}

/** Submit all at once, then GET status every 2 s; any non-2xx answer ends the job as lost (Segmind's SDK raises). */
async function runPlain(ts: number, jobs: number, limitSeconds: number) {
  const sandbox = await startSandboxProcess({ timeScale: ts, rateLimitPerMinute: RPM, seed: 21 });
  const headers = { 'x-api-key': sandbox.apiKey, 'content-type': 'application/json' };
  const lost: Record<string, number> = {};
  let completed = 0;
  const lose = (why: string) => {
    lost[why] = (lost[why] ?? 0) + 1;
  };
  try {
    const start = Date.now();
    const cutOff = start + limitSeconds * 1000 * ts;
    const payload = JSON.stringify(payloadFor(MODEL));
    await Promise.all(
      Array.from({ length: jobs }, async () => {
        const res = await fetch(`${sandbox.url}/v2/${MODEL}`, { method: 'POST', headers, body: payload });
        if (res.status !== 200) {
          await res.arrayBuffer();
          return lose(`submit: HTTP ${res.status}`);
        }
        const h = (await res.json()) as { status_url: string; response_url: string };
        const submitted = Date.now();
        for (let k = 1; ; k++) {
          const at = submitted + k * 2000 * ts;
          if (at > cutOff) return lose('still polling at the cut-off');
          await sleep(Math.max(0, at - Date.now()));
          const s = await fetch(h.status_url, { headers });
          const body = (await s.json().catch(() => ({}))) as { status?: string };
          if (s.status !== 200) return lose(`status poll: HTTP ${s.status}`);
          if (body.status === 'COMPLETED') {
            const r = await fetch(h.response_url, { headers });
            await r.arrayBuffer();
            if (r.status !== 200) return lose(`result: HTTP ${r.status}`);
            completed++;
            return;
          }
        }
      }),
    );
    const c = await sandbox.counters();
    const all = await sandbox.jobs();
    return { completed, lost, rateLimited: count429(c), submitted: all.length };
  } finally {
    await sandbox.close();
  }
}

const reasons = (r: Record<string, number>) => Object.entries(r).map(([k, n]) => `${n} x ${k}`).join('; ') || 'none';

export async function run({ quick }: { quick: boolean }): Promise<PartReport> {
  const started = Date.now();
  const tsSingle = 0.05;
  const tsBurst = quick ? 0.01 : 0.02;
  const singleAccounts = quick ? 3 : 10;
  const singlePerAccount = quick ? 3 : 25;
  const singleJobs = singleAccounts * singlePerAccount;
  const single = await runSingle(tsSingle, singleAccounts, singlePerAccount);
  const se = Math.sqrt(single.delays.reduce((s, d) => s + (d - mean(single.delays)) ** 2, 0) / Math.max(1, single.delays.length - 1) / Math.max(1, single.delays.length));
  const twenty = await runBurst(tsBurst, 20, 4 * 3600);
  const plain = await runPlain(tsBurst, 20, 3600);
  const many = await runBurst(tsBurst, quick ? 120 : 300, 4 * 3600);

  const meanDelay = mean(single.delays);
  const tables: Table[] = [
    {
      title: `One job at a time on each of ${singleAccounts} accounts (${singlePerAccount} sadtalker jobs in turn on each, ${singleJobs} in all; sandbox time scale ${tsSingle}): detection delay from the job's completion to the result leaving the await node`,
      headers: ['completed', 'mean delay (API s)', '± (standard error)', 'median', 'p95', 'max', 'requests per job', '429s'],
      rows: [[`${single.completed}/${singleJobs}`, fmt(meanDelay, 2), fmt(se, 2), fmt(percentile(single.delays, 50), 2), fmt(percentile(single.delays, 95), 2), fmt(Math.max(...single.delays), 2), fmt(single.requests / singleJobs, 1), String(single.rateLimited)]],
    },
    {
      title: `Messages at once (sandbox time scale ${tsBurst})`,
      headers: ['Messages', 'Client', 'submitted (billed)', 'completed', 'paid jobs wasted', 'refused before any request', 'other ends', '429s', 'last result (API min)', 'least possible (API min)', 'requests'],
      rows: [
        ['20', 'this package', String(twenty.submitted), String(twenty.completed), String(twenty.wasted), reasons(twenty.refused), reasons(twenty.lost), String(twenty.rateLimited), fmt(twenty.lastResultSeconds / 60, 1), fmt(twenty.leastPossibleSeconds / 60, 1), String(twenty.requests)],
        ['20', 'plain 2 s poller', String(plain.submitted), String(plain.completed), String(plain.submitted - plain.completed), '-', reasons(plain.lost), String(plain.rateLimited), '-', '-', '-'],
        [String(many.jobs), 'this package', String(many.submitted), String(many.completed), String(many.wasted), reasons(many.refused), reasons(many.lost), String(many.rateLimited), fmt(many.lastResultSeconds / 60, 1), '-', String(many.requests)],
      ],
    },
  ];
  const targets: Target[] = [
    target('one job alone: mean detection delay', meanDelay, MAX_SINGLE_DELAY, ' s', 2, '<='),
    target('20 at once: completed', twenty.completed, 20, ' of 20', 0, '>='),
    target('20 at once: answers 429', twenty.rateLimited, 0, '', 0, '<='),
    target(`${many.jobs} at once: paid jobs wasted (submitted, not delivered)`, many.wasted, 0, '', 0, '<='),
    target(`${many.jobs} at once: answers 429`, many.rateLimited, 0, '', 0, '<='),
  ];
  const notes = [
    `One job alone: ${singleAccounts} accounts (own key each; the sandbox limits each key to 5 per minute) run one job at a time side by side, for ${singleJobs} samples in the time of ${singlePerAccount}. The budget (src/client/budget.ts) keeps one slot of every sliding minute free for the result fetch and paces the other requests 15 s apart, so the fetch follows the poll that saw COMPLETED at once; polls start as soon as the job may end within one pacing interval (src/jobs/waiter.ts). With 5 requests a minute and a fetch after the detecting poll, any 4 consecutive polls must span a minute, so evenly spaced polls 15 s apart are the best possible and the detection delay cannot average less than about 7.5 s; the rest is the result's round trip and the time scale (1 ms of wall time = ${fmt(0.001 / tsSingle, 2)} API s). Requests per job include the submit and the fetch. Other ends: ${reasons(single.other)}.`,
    `20 at once: admission control (src/jobs/admission.ts) lets a job be submitted only while every job under way can still be polled and fetched before its deadline (here the await node waits 6 h, so Segmind's one-hour retention binds); the others wait in the model node in order. The least possible time: every job's submit as early as 5 per minute allows, then a poll at the moment it ends and its fetch, each as early as the window allows, for the same durations (bench/parts/rate-limits.ts leastPossible). This package spends ${fmt(twenty.requests / 20, 1)} requests per job (the least is 3).`,
    `${many.jobs} at once: at most ${100} messages wait per account; beyond it a message is refused at once (budget_full), and one that waits 30 minutes without room is refused then; both before any request. A paid job is wasted when it was submitted (billed: only HTTP 200 submits are) but its result never left on the completed output.`,
    `The plain 2 s poller: ${plain.completed} of 20 completed; lost: ${reasons(plain.lost)}. Like Segmind's SDK it gives a job up on the first 429 or other error.`,
  ];
  if (single.rateLimited || twenty.rateLimited || many.rateLimited) notes.push('A 429 here means the budget let more than the plan\'s rate through; see src/client/budget.ts.');
  const missed = targets.filter((t) => !t.pass);
  if (missed.length) notes.push(`MISSED: ${missed.map((t) => `${t.name} (${t.value})`).join('; ')}.`);
  return {
    part: 'b',
    title: '(b) Free plan end to end',
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
    method: [
      `The sandbox (its own process) enforces a sliding window of ${RPM} requests per minute on every API endpoint, at a compressed time scale (one API minute lasts ${fmt(60 * tsSingle, 1)} s at ${tsSingle}, ${fmt(60 * tsBurst, 1)} s at ${tsBurst}). This package: one '${MODEL_NODE}' node wired to one 'segmind await' node (timeout 6 h, result mode url), sharing one segmind-config set to ${RPM} requests per minute, in the real Node-RED runtime. Job durations are the sandbox's lognormal draws around sadtalker's 107.5 s. Delays and times are in API seconds.`,
    ],
    tables,
    targets,
    notes,
    data: { single, twenty, plain, many },
  };
}
