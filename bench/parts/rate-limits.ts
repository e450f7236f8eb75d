// Part (b): 20 jobs submitted at once against a sandbox that enforces Segmind's plan limits
// (5 requests/minute Free, 50 Pro), through this package (model node -> await node, one config
// node whose budget is set to the plan) and through a plain fixed-2 s poller with no budget that,
// like Segmind's SDK, gives a job up on its first 429.
import type { JobHandle } from '../../src/client/types';
import { benchFlow, IDS } from '../lib/flows';
import { target, type PartReport, type Target } from '../lib/part';
import { payloadFor } from '../lib/payloads';
import { sleep } from '../lib/probes';
import { startRuntime } from '../lib/runtime';
import { startSandboxProcess, type Counters } from '../lib/sandbox-proc';
import { fmt } from '../lib/stats';
import type { Table } from '../lib/table';

const MODEL = 'sadtalker';
const MODEL_NODE = 'segmind sadtalker';
const JOBS = 20;
const PLANS = [
  { rpm: 5, name: 'Free' },
  { rpm: 50, name: 'Pro' },
];
/** the budget has "settled" once one full rate window (a minute of API time) has passed */
const SETTLE_SECONDS = 60;

export interface RateRun {
  client: 'this package' | 'plain 2 s poller';
  rpm: number;
  completed: number;
  lost: number;
  /** why jobs were lost, by error text (shortened) */
  lostReasons: Record<string, number>;
  rateLimited: number;
  rateLimitedAfterSettle: number;
  /** API seconds from the first submit to the last completed result; NaN when none completed */
  lastResultSeconds: number;
  /** requests the sandbox answered (all endpoints but output files) */
  requests: number;
  /** API seconds the run was given before it was cut off, if it was */
  cutOffAfter?: number;
}

function tally(c: Counters, start: number, ts: number): { rateLimited: number; afterSettle: number; requests: number } {
  const settledAt = start + SETTLE_SECONDS * 1000 * ts;
  const requests = Object.entries(c.byEndpoint).filter(([e]) => e !== 'output').reduce((s, [, n]) => s + n, 0);
  return { rateLimited: c.rateLimited.length, afterSettle: c.rateLimited.filter((r) => r.time >= settledAt).length, requests };
}

const shorten = (s: string) => s.replace(/[0-9a-f]{8}-[0-9a-f-]{27,}/g, '<id>').slice(0, 110);

async function runPackage(rpm: number, ts: number, limitSeconds: number): Promise<RateRun> {
  const sandbox = await startSandboxProcess({ timeScale: ts, rateLimitPerMinute: rpm, seed: 21 });
  const runtime = await startRuntime(benchFlow({ sandbox, rpm, timeScale: ts, resultMode: 'url', timeoutSeconds: 6 * 3600, modelNodeType: MODEL_NODE }));
  const completedAt: number[] = [];
  const lostReasons: Record<string, number> = {};
  let ended = 0;
  const lose = (why: string) => {
    lostReasons[why] = (lostReasons[why] ?? 0) + 1;
    ended++;
  };
  try {
    runtime.onSend(IDS.await, (m) => {
      if (m.port === 0) {
        completedAt.push(m.time);
        ended++;
      } else lose(shorten(`await output ${m.port + 1}: ${m.msg?.error?.message ?? 'no msg.error'}`));
    });
    runtime.onComplete(IDS.model, (e) => {
      if (e.error) lose(shorten(`model node: ${(e.error as Error)?.message ?? String(e.error)}`));
    });
    await sandbox.resetCounters();
    const start = Date.now();
    const payload = payloadFor(MODEL);
    for (let i = 0; i < JOBS; i++) runtime.inject(IDS.model, { image: payload.input_image, audio: payload.input_audio, benchJob: i });
    const cutOff = start + limitSeconds * 1000 * ts;
    while (ended < JOBS && Date.now() < cutOff) await sleep(20);
    const c = await sandbox.counters();
    const t = tally(c, start, ts);
    return {
      client: 'this package',
      rpm,
      completed: completedAt.length,
      lost: ended - completedAt.length,
      lostReasons,
      rateLimited: t.rateLimited,
      rateLimitedAfterSettle: t.afterSettle,
      lastResultSeconds: completedAt.length ? (Math.max(...completedAt) - start) / 1000 / ts : NaN,
      requests: t.requests,
      cutOffAfter: ended < JOBS ? limitSeconds : undefined,
    };
  } finally {
    await runtime.stop();
    await sandbox.close();
  }
}

/** Submit all at once, then GET status every 2 s; any non-2xx answer ends the job as lost (Segmind's SDK raises). */
async function runPlain(rpm: number, ts: number, limitSeconds: number): Promise<RateRun> {
  const sandbox = await startSandboxProcess({ timeScale: ts, rateLimitPerMinute: rpm, seed: 21 });
  const headers = { 'x-api-key': sandbox.apiKey, 'content-type': 'application/json' };
  const lostReasons: Record<string, number> = {};
  const completedAt: number[] = [];
  const lose = (why: string) => {
    lostReasons[why] = (lostReasons[why] ?? 0) + 1;
  };
  try {
    const start = Date.now();
    const cutOff = start + limitSeconds * 1000 * ts;
    const payload = JSON.stringify(payloadFor(MODEL));
    await Promise.all(
      Array.from({ length: JOBS }, async () => {
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
            completedAt.push(Date.now());
            return;
          }
        }
      }),
    );
    const t = tally(await sandbox.counters(), start, ts);
    return {
      client: 'plain 2 s poller',
      rpm,
      completed: completedAt.length,
      lost: JOBS - completedAt.length,
      lostReasons,
      rateLimited: t.rateLimited,
      rateLimitedAfterSettle: t.afterSettle,
      lastResultSeconds: completedAt.length ? (Math.max(...completedAt) - start) / 1000 / ts : NaN,
      requests: t.requests,
    };
  } finally {
    await sandbox.close();
  }
}

export async function run({ quick }: { quick: boolean }): Promise<PartReport> {
  const started = Date.now();
  const ts = quick ? 0.01 : 0.05;
  const limitSeconds = 4 * 3600; // API seconds; far beyond what 20 jobs need even at 5/min
  const runs: RateRun[] = [];
  for (const plan of PLANS) {
    runs.push(await runPackage(plan.rpm, ts, limitSeconds));
    runs.push(await runPlain(plan.rpm, ts, limitSeconds));
  }

  const table: Table = {
    title: `${JOBS} ${MODEL} jobs submitted at once (sandbox time scale ${ts})`,
    headers: ['Plan', 'Client', 'completed', 'lost', '429s', '429s after 1st minute', 'last result (API min)', 'requests'],
    rows: runs.map((r) => [
      `${PLANS.find((p) => p.rpm === r.rpm)!.name} (${r.rpm}/min)`,
      r.client,
      `${r.completed}/${JOBS}`,
      String(r.lost),
      String(r.rateLimited),
      String(r.rateLimitedAfterSettle),
      Number.isFinite(r.lastResultSeconds) ? fmt(r.lastResultSeconds / 60, 1) : 'none completed',
      String(r.requests),
    ]),
  };
  const targets: Target[] = [];
  for (const r of runs.filter((x) => x.client === 'this package')) {
    targets.push(target(`${r.rpm}/min: jobs completed by this package`, r.completed, JOBS, ` of ${JOBS}`, 0, '>='));
    targets.push(target(`${r.rpm}/min: 429s after the budget settled (first minute)`, r.rateLimitedAfterSettle, 0, '', 0, '<='));
  }
  const notes: string[] = [];
  for (const r of runs) {
    const reasons = Object.entries(r.lostReasons).map(([k, n]) => `${n} x ${k}`).join('; ');
    if (r.lost) notes.push(`${r.client} at ${r.rpm}/min lost ${r.lost} job(s): ${reasons}.`);
  }
  const pkg = runs.filter((r) => r.client === 'this package');
  for (const r of pkg) {
    // the floor: every job needs its submit, at least one status poll and its result fetch
    const floor = (3 * JOBS) / r.rpm;
    if (Number.isFinite(r.lastResultSeconds)) {
      notes.push(`At ${r.rpm}/min this package needed ${r.requests} requests (${fmt(r.requests / JOBS, 1)} per job); the last result came after ${fmt(r.lastResultSeconds / 60, 1)} API minutes, against a floor of ${fmt(floor, 1)} minutes for 3 requests per job at the plan's rate${r.rpm === 5 ? ' plus the jobs\' own run time' : ''}.`);
    }
  }
  if (targets.some((t) => !t.pass)) {
    notes.push('MISSED: see the table. A 429 after the first minute means the budget (src/client/budget.ts) let more than the plan\'s rate through, e.g. because requests outside the budget (downloads counted by the server, retries) or timer jitter at this compressed time scale; a lost job means a 429 or other error reached the node instead of being waited out.');
  }
  return {
    part: 'b',
    title: '(b) Rate limits',
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
    method: [
      `The sandbox (its own process) enforces a sliding window of 5, then 50 requests per minute per key on every API endpoint, at time scale ${ts} (a minute lasts ${fmt(60 * ts, 2)} s). This package: one '${MODEL_NODE}' node wired to one 'segmind await' node, sharing one segmind-config whose budget is set to the plan (rpm 5, then 50); ${JOBS} messages enter the model node at once. Plain poller: ${JOBS} POSTs at once, then GET status every 2 s (API time) per job with no budget; like Segmind's SDK it gives a job up on the first 429 or other error. Job durations are the sandbox's lognormal draws around ${MODEL}'s 107.5 s.`,
      `"After the budget settled" counts 429s answered later than one rate window (60 API seconds) after the first request.`,
    ],
    tables: [table],
    targets,
    notes,
    data: runs,
  };
}
