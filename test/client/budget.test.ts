// The request budget: a sliding window that never lets rpm + 1 requests share a window, the
// allocator's order when requests are scarce, 429s (pause, learned limit with its floor, recovery),
// sharing between clients of one account, and a redeploy. Logic on a virtual clock; the wire
// against a rate-limited sandbox.
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { PRIORITY, SharedBudget, type Ticket } from '../../src/client/budget';
import { registeredBudgets } from '../../src/client/budget-registry';
import { MAX_CONNECTIONS_PER_ORIGIN } from '../../src/client/http';
import { seededRandom } from '../../src/jobs/simulate';
import { VirtualClock } from '../support/virtual-clock';
import { CANARY, SADTALKER, delay, rejectsWith, times, useSandbox } from './helpers';

/** The largest number of timestamps inside any half-open window of `windowMs`, as the sandbox counts. */
function maxInWindow(ts: number[], windowMs: number): number {
  const sorted = [...ts].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

const WINDOW = 60_000; // virtual ms: time scale 1

describe('client: sliding-window budget (virtual clock)', () => {
  it('never lets rpm + 1 requests into one window, whatever the latencies, under 40 concurrent callers', async () => {
    const clock = new VirtualClock();
    const rand = seededRandom(7);
    const RPM = 5;
    const budget = new SharedBudget({ rpm: RPM, timeScale: 1, clock });
    const h = budget.handle(RPM);
    const sent: { d: number; a: number }[] = [];
    let running = 0;
    const caller = async (i: number) => {
      for (let k = 0; k < 6; k++) {
        const priority = [PRIORITY.fetch, PRIORITY.poll, PRIORITY.submit][(i + k) % 3];
        running++;
        const ticket = await h.acquire({ priority });
        running--;
        const d = clock.now();
        // answered after 0-3 virtual seconds: the server saw it at some moment in between
        const latency = Math.floor(rand() * 3000);
        await new Promise<void>((resolve) => clock.setTimer(resolve, latency));
        h.answered(ticket, 'ok');
        sent.push({ d, a: clock.now() });
      }
    };
    const all = Promise.all(Array.from({ length: 40 }, (_, i) => caller(i)));
    for (let i = 0; i < 400 && sent.length < 240; i++) await clock.advance(10_000);
    await all;
    assert.equal(sent.length, 240);
    assert.equal(running, 0);
    // the server may have seen each request anywhere between its dispatch and its answer: try the
    // earliest, the latest and random points; no window may ever hold more than rpm
    for (const pick of [(s: { d: number; a: number }) => s.d, (s: { d: number; a: number }) => s.a, (s: { d: number; a: number }) => s.d + rand() * (s.a - s.d)]) {
      for (let trial = 0; trial < 5; trial++) {
        const max = maxInWindow(sent.map(pick), WINDOW);
        assert.ok(max <= RPM, `${max} requests in one window (limit ${RPM})`);
      }
    }
    // and the window is used: 4 paced + the slot kept for fetches, less the answers' latency
    const span = (Math.max(...sent.map((s) => s.d)) - Math.min(...sent.map((s) => s.d))) / WINDOW;
    assert.ok(span < 240 / (RPM - 1) + 4, `240 requests took ${span.toFixed(1)} windows`);
  });

  it('keeps a slot of every window for result fetches: a fetch follows a poll at once, polls are paced', async () => {
    const clock = new VirtualClock();
    const budget = new SharedBudget({ rpm: 5, timeScale: 1, clock });
    const h = budget.handle(5);
    const polls: number[] = [];
    // a lone job's waiter asks for a poll every second; the budget spaces them about 15 s apart
    let stop = false;
    const poller = (async () => {
      while (!stop) {
        const t = await h.acquire({ priority: PRIORITY.poll });
        polls.push(clock.now());
        h.answered(t, 'ok');
        await new Promise<void>((r) => clock.setTimer(r, 1000));
      }
    })();
    await clock.advance(5 * WINDOW);
    const gaps = polls.slice(1).map((t, i) => t - polls[i]);
    assert.ok(gaps.every((g) => g >= 15_000 && g < 16_500), `poll gaps ${gaps.join(', ')}`);
    // a fetch now goes without waiting, though polls keep the pacing busy
    const before = clock.now();
    const fetch = h.acquire({ priority: PRIORITY.fetch });
    await clock.advance(0);
    const ticket = await fetch;
    assert.equal(ticket.dispatchedAt, before, 'the fetch went out at once');
    h.answered(ticket, 'ok');
    stop = true;
    await clock.advance(WINDOW);
    await poller;
    assert.ok(maxInWindow([...polls, ticket.dispatchedAt], WINDOW) <= 5);
  });

  it('allocates scarce slots: fetches, then calls near their deadline, then polls by value, submits last', async () => {
    const clock = new VirtualClock();
    const budget = new SharedBudget({ rpm: 5, timeScale: 1, clock });
    const h = budget.handle(5);
    // fill the window
    for (let i = 0; i < 5; i++) h.answered(await acquireNow(clock, h.acquire({ priority: PRIORITY.fetch })), 'ok');
    const order: string[] = [];
    const track = (name: string, p: Promise<Ticket>) =>
      p.then((t) => {
        order.push(name);
        h.answered(t, 'ok');
      });
    let lateValue = 0.1;
    const calls = [
      track('submit', h.acquire({ priority: PRIORITY.submit })),
      track('poll 0.3', h.acquire({ priority: PRIORITY.poll, value: () => 0.3 })),
      // its value grows while it waits: asked when the slot frees, not when it was queued
      track('poll late', h.acquire({ priority: PRIORITY.poll, value: () => lateValue })),
      track('poll 0.5', h.acquire({ priority: PRIORITY.poll, value: () => 0.5 })),
      track('poll at risk', h.acquire({ priority: PRIORITY.poll, value: () => 0, deadline: clock.now() + 30_000 })),
      track('fetch', h.acquire({ priority: PRIORITY.fetch })),
    ];
    lateValue = 0.9;
    for (let i = 0; i < 12 && order.length < 6; i++) await clock.advance(WINDOW / 2);
    await Promise.all(calls);
    assert.deepEqual(order, ['fetch', 'poll at risk', 'poll late', 'poll 0.5', 'poll 0.3', 'submit']);
  });

  it('a call aborted while queued leaves at once; a cancelled ticket frees its slot', async () => {
    const clock = new VirtualClock();
    const budget = new SharedBudget({ rpm: 2, timeScale: 1, clock });
    const h = budget.handle(2);
    const first = await acquireNow(clock, h.acquire({ priority: PRIORITY.fetch }));
    const second = await acquireNow(clock, h.acquire({ priority: PRIORITY.fetch }));
    const ac = new AbortController();
    const queued = h.acquire({ priority: PRIORITY.poll, signal: ac.signal });
    assert.equal(budget.stats.queued, 1);
    ac.abort(new Error('gone'));
    assert.equal(budget.stats.queued, 0, 'removed synchronously');
    await assert.rejects(queued, /gone/);
    h.answered(first, 'ok');
    h.cancelled(second); // never sent
    assert.equal(budget.inWindow(), 1);
    assert.equal(budget.stats.sent, 1);
  });

  it('a 429 pauses everything until the reset, lowers the limit to what the window held, never below what was served, and recovers', async () => {
    const clock = new VirtualClock();
    const logs: string[] = [];
    const budget = new SharedBudget({ rpm: 40, timeScale: 1, clock, log: (_l, m) => logs.push(m) });
    const h = budget.handle(40);
    // the account served 8 in one window earlier
    for (let i = 0; i < 8; i++) h.answered(await acquireNow(clock, h.acquire({ priority: PRIORITY.fetch })), 'ok');
    assert.equal(budget.demonstratedRpm, 8);
    await clock.advance(WINDOW + 10);
    // now the server (shared with another program) refuses our third request of the window
    const a = await acquireNow(clock, h.acquire({ priority: PRIORITY.fetch }));
    const b = await acquireNow(clock, h.acquire({ priority: PRIORITY.fetch }));
    const c = await acquireNow(clock, h.acquire({ priority: PRIORITY.fetch }));
    h.answered(a, 'ok');
    h.answered(b, 'ok');
    const resetAt = clock.now() + 20_000;
    h.answered(c, 'limited', resetAt);
    assert.equal(budget.stats.effectiveRpm, 8, 'lowered to 2 (what the window held), floored at the 8 served before');
    assert.match(logs.join('\n'), /429/);
    // nothing is released before the reset
    const waiting = h.acquire({ priority: PRIORITY.fetch });
    await clock.advance(19_000);
    assert.equal(budget.stats.queued, 1, 'still paused');
    await clock.advance(1_100);
    const released = await waiting;
    assert.ok(released.dispatchedAt >= resetAt);
    h.answered(released, 'ok');
    // a window without 429 raises it step by step back to 40
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      await clock.advance(WINDOW + 1);
      h.answered(await acquireNow(clock, h.acquire({ priority: PRIORITY.fetch })), 'ok');
      seen.push(budget.stats.effectiveRpm);
    }
    assert.deepEqual(seen, [12, 16, 20, 24, 28, 32, 36, 40, 40, 40]);
  });

  it('with nothing served yet a 429 at the limit lowers it by what the window held, to at least 1', async () => {
    const clock = new VirtualClock();
    const budget = new SharedBudget({ rpm: 3, timeScale: 1, clock });
    const h = budget.handle(3);
    const t = await acquireNow(clock, h.acquire({ priority: PRIORITY.fetch }));
    h.answered(t, 'limited');
    assert.equal(budget.stats.effectiveRpm, 1);
    assert.equal(budget.pausedUntilMs, clock.now() + WINDOW, 'no hint: one window');
  });

  it('clients sharing a budget: the lowest rate applies, stop() ends only its own calls, the window outlives them', async () => {
    const clock = new VirtualClock();
    const budget = new SharedBudget({ rpm: 10, timeScale: 1, clock });
    const a = budget.handle(10);
    const b = budget.handle(4);
    assert.equal(budget.stats.effectiveRpm, 4);
    for (let i = 0; i < 4; i++) a.answered(await acquireNow(clock, a.acquire({ priority: PRIORITY.fetch })), 'ok');
    const fromA = a.acquire({ priority: PRIORITY.fetch });
    const fromB = b.acquire({ priority: PRIORITY.fetch });
    a.stop(new Error('closed'));
    await assert.rejects(fromA, /closed/);
    assert.equal(budget.stats.queued, 1);
    // a new client (the redeployed config node) finds the window as it was
    const c = budget.handle(4);
    const fromC = c.acquire({ priority: PRIORITY.fetch });
    await clock.advance(WINDOW / 2);
    assert.equal(budget.stats.queued, 2, 'the window is still full');
    await clock.advance(WINDOW / 2 + 10);
    const tb = await fromB;
    const tc = await fromC;
    assert.ok(tb.dispatchedAt >= clock.now() - 20 && tc.dispatchedAt >= clock.now() - 20);
    b.stop(new Error('x'));
    c.stop(new Error('x'));
  });
});

/** Awaits a call the budget releases at once (runs the virtual clock's due timers). */
async function acquireNow(clock: VirtualClock, p: Promise<Ticket>): Promise<Ticket> {
  await clock.advance(0);
  return p;
}

describe('client: budget against a rate-limited sandbox', () => {
  // one API minute = 600 ms
  const TS = 0.01;
  const WIN = 60_000 * TS;
  const RPM = 5;
  const h = useSandbox({ timeScale: TS });

  it('calls at once from two clients of one account: zero 429s, never more than rpm in any window', async () => {
    h.sb.setRateLimit(RPM);
    const a = h.client({ requestsPerMinute: RPM, shareBudget: true });
    const b = h.client({ requestsPerMinute: RPM, shareBudget: true });
    const job = await a.submit('sadtalker', SADTALKER);
    const calls = Array.from({ length: 11 }, (_, i) => (i % 2 ? a : b)[i % 3 === 0 ? 'result' : 'status'](job));
    await Promise.all(calls);
    const recorded = h.sb.requests;
    assert.equal(recorded.length, 12);
    assert.equal(recorded.filter((r) => r.status === 429).length, 0, 'no 429 at all');
    assert.ok(maxInWindow(times(h.sb), WIN) <= RPM, `max ${maxInWindow(times(h.sb), WIN)} in a window`);
  });

  it('a redeploy (clients closed, new ones made) keeps the window: the sixth request waits, no 429', async () => {
    h.sb.setRateLimit(RPM);
    const old = h.client({ requestsPerMinute: RPM, shareBudget: true });
    const job = await old.submit('sadtalker', SADTALKER);
    await Promise.all([old.status(job), old.status(job), old.result(job), old.result(job)]);
    await old.close();
    const fresh = h.client({ requestsPerMinute: RPM, shareBudget: true });
    await fresh.status(job);
    assert.equal(h.sb.requests.filter((r) => r.status === 429).length, 0);
    assert.ok(maxInWindow(times(h.sb), WIN) <= RPM);
    const ts = times(h.sb);
    assert.ok(ts[5] - ts[0] >= WIN, `the sixth went ${ts[5] - ts[0]} ms after the first`);
  });

  it('without the budget the same burst is refused: the checks above can fail', async () => {
    h.sb.setRateLimit(RPM);
    const client = h.client({ requestsPerMinute: 10_000, maxAttempts: 1 });
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => client.status({ requestId: 'x' })));
    assert.ok(h.sb.requests.some((r) => r.status === 429));
    assert.ok(results.some((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'rate_limited'));
  });

  it('learns the server limit from 429s and pauses until the reset: later requests are not refused', async () => {
    h.sb.setRateLimit(RPM);
    // the client believes it may send 40/min; the server allows 5
    const client = h.client({ requestsPerMinute: 40, maxAttempts: 10 });
    await Promise.all(Array.from({ length: 14 }, () => client.status({ requestId: 'x' }).catch((e) => e)));
    const statuses = h.sb.requests.map((r) => r.status);
    const limited = statuses.filter((s) => s === 429).length;
    assert.equal(statuses.filter((s) => s !== 429).length, 14, 'every call got through in the end');
    assert.ok(limited >= 1 && limited <= 3, `the refusals stay few (${limited})`);
    // lowered to the 5 the window held, then raised a step (4) after a window without 429
    assert.ok(client.stats.effectiveRpm >= 5 && client.stats.effectiveRpm < 40, `learned ${client.stats.effectiveRpm}`);
    // after the first 429 nothing is sent until the reset the sandbox gave
    const first429 = h.sb.requests.find((r) => r.status === 429)!;
    const resetAt = times(h.sb, (r) => r.status !== 429)[0] + WIN;
    const inPause = h.sb.requests.filter((r) => r.time > first429.time + 3 && r.time < resetAt - 1);
    assert.deepEqual(inPause.map((r) => r.status), [], 'requests sent during the pause');
  });

  it('an abort while queued leaves the queue at once and sends nothing', async () => {
    const client = h.client({ requestsPerMinute: RPM });
    const job = { requestId: 'q', submittedAt: new Date().toISOString() };
    const first = client.status(job).catch(() => undefined);
    await first;
    const ac = new AbortController();
    const queued = [1, 2, 3, 4, 5, 6].map(() => client.status(job, { signal: ac.signal }));
    const settled = Promise.allSettled(queued);
    await delay(WIN / RPM);
    ac.abort();
    const outcomes = await settled;
    const sent = h.sb.count({ endpoint: 'status' });
    for (const o of outcomes.filter((x) => x.status === 'rejected')) {
      await rejectsWith(Promise.reject((o as PromiseRejectedResult).reason), 'aborted');
    }
    await delay(2 * WIN);
    assert.equal(h.sb.count({ endpoint: 'status' }), sent, 'the aborted calls were never sent');
    assert.ok(sent < 7);
  });

  it('downloads from the API origin count; downloads from the files origin do not', async () => {
    const client = h.client();
    const job = await client.submit('sadtalker', { ...SADTALKER });
    const before = client.stats.sent;
    await client.download(`${h.sb.filesUrl}/outputs/${job.requestId}.mp4`).catch(() => undefined);
    assert.equal(client.stats.sent, before);
    await client.download(`${h.sb.url}/outputs/${job.requestId}.mp4`).catch(() => undefined);
    assert.equal(client.stats.sent, before + 1);
  });

  it('the shared budget registry keeps no API key and forgets budgets nobody needs', async () => {
    const n = registeredBudgets();
    const c = h.client({ requestsPerMinute: 7, shareBudget: true });
    assert.ok(registeredBudgets() >= 1);
    assert.ok(!JSON.stringify(Object.keys(c)).includes(CANARY));
    assert.ok(!c.account.includes(CANARY) && /^[0-9a-f]{32}$/.test(c.account));
    assert.ok(n >= 0);
  });
});

describe('client: a burst released at once at a high rate', () => {
  const h = useSandbox({ timeScale: 0.001 });

  it(`opens at most ${MAX_CONNECTIONS_PER_ORIGIN} sockets to the API, not one per call`, async () => {
    let sockets = 0;
    const onSocket = () => sockets++;
    diagnostics.subscribe('net.client.socket', onSocket);
    try {
      const client = h.client({ requestsPerMinute: 1e9, maxAttempts: 1 });
      const job = await client.submit('sadtalker', SADTALKER);
      const calls = Array.from({ length: 3 * MAX_CONNECTIONS_PER_ORIGIN }, () => client.status(job));
      await Promise.all(calls);
      assert.equal(h.sb.count({ endpoint: 'status' }), calls.length);
      assert.ok(sockets >= 1 && sockets <= MAX_CONNECTIONS_PER_ORIGIN, `${sockets} sockets opened`);
    } finally {
      diagnostics.unsubscribe('net.client.socket', onSocket);
    }
  });

  it('700 calls at 600/min against the sandbox limit: zero 429s, never more than rpm in a window', async () => {
    h.sb.setRateLimit(600);
    const TS = 0.001;
    const client = h.client({ requestsPerMinute: 600, maxAttempts: 1 });
    const job = await client.submit('sadtalker', SADTALKER);
    await Promise.all(Array.from({ length: 699 }, () => client.status(job)));
    assert.equal(h.sb.requests.filter((r) => r.status === 429).length, 0);
    assert.ok(maxInWindow(times(h.sb), 60_000 * TS) <= 600);
  });
});
