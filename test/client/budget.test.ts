// The request budget: never over the plan's rate, priorities, backing off after 429, abort in queue.
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { RequestBudget } from '../../src/client/budget';
import { MAX_CONNECTIONS_PER_ORIGIN } from '../../src/client/http';
import { SADTALKER, delay, rejectsWith, times, useSandbox } from './helpers';

/** The largest number of timestamps inside any window of `windowMs` (half-open, like the sandbox). */
function maxInWindow(ts: number[], windowMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < ts.length; end++) {
    while (ts[end] - ts[start] >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

describe('client: request budget against a rate-limited sandbox', () => {
  // one API minute = 600 ms
  const TS = 0.01;
  const WINDOW = 60_000 * TS;
  const RPM = 5;
  const h = useSandbox({ timeScale: TS });

  it('N parallel calls at the plan rate: zero 429s, never more than rpm in any window', async () => {
    h.sb.setRateLimit(RPM);
    const client = h.client({ requestsPerMinute: RPM });
    const job = await client.submit('sadtalker', SADTALKER);
    const calls = Array.from({ length: 11 }, (_, i) => (i % 3 === 0 ? client.result(job) : client.status(job)));
    assert.ok(client.stats.queued >= 9, `calls wait in the budget (queued ${client.stats.queued})`);
    await Promise.all(calls);
    const recorded = h.sb.requests;
    assert.equal(recorded.length, 12, JSON.stringify(recorded.map((r) => [r.endpoint, r.status])));
    assert.equal(recorded.filter((r) => r.status === 429).length, 0, 'no 429 at all');
    assert.ok(maxInWindow(times(h.sb), WINDOW) <= RPM, `max ${maxInWindow(times(h.sb), WINDOW)} in a window`);
    assert.deepEqual(client.stats, { sent: 12, queued: 0, rateLimited: 0, effectiveRpm: RPM });
  });

  it('without the budget the same burst is refused: the check above can fail', async () => {
    h.sb.setRateLimit(RPM);
    const client = h.client({ requestsPerMinute: 10_000, maxAttempts: 1 });
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => client.status({ requestId: 'x' })));
    assert.ok(h.sb.requests.some((r) => r.status === 429));
    assert.ok(maxInWindow(times(h.sb, (r) => r.status !== 429), WINDOW) <= RPM);
    assert.ok(results.some((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'rate_limited'));
  });

  it('backs off by itself after a 429 burst: pauses everything until the reset, then runs slower', async () => {
    h.sb.setRateLimit(RPM);
    // the client believes it may send 40/min; the server allows 5
    const client = h.client({ requestsPerMinute: 40, maxAttempts: 10 });
    const calls = Array.from({ length: 12 }, () => client.status({ requestId: 'x' }).catch((e) => e));
    await Promise.all(calls);
    const statuses = h.sb.requests.map((r) => r.status);
    const ok = statuses.filter((s) => s !== 429).length;
    const limited = statuses.filter((s) => s === 429).length;
    assert.equal(ok, 12, 'every call got through in the end');
    assert.ok(limited >= 1, 'the server did refuse some');
    assert.ok(limited <= 8, `adaptive backoff keeps the refusals few (${limited})`);
    assert.ok(client.stats.effectiveRpm < 40, `effective rate lowered to ${client.stats.effectiveRpm}`);
    assert.ok(client.stats.effectiveRpm >= 1);
    assert.equal(client.stats.rateLimited, limited);

    // After the first 429 nothing is sent until the reset time the sandbox gave.
    const first429 = h.sb.requests.find((r) => r.status === 429)!;
    const windowStart = times(h.sb, (r) => r.status !== 429)[0];
    const resetAt = windowStart + WINDOW;
    const inPause = h.sb.requests.filter((r) => r.time > first429.time + 3 && r.time < resetAt - 1);
    assert.deepEqual(inPause.map((r) => r.status), [], 'requests sent during the pause');
  });

  it('sends lower priority numbers first', async () => {
    const client = h.client({ requestsPerMinute: RPM });
    const job = { requestId: 'p', submittedAt: new Date().toISOString() };
    const first = client.status(job).catch(() => undefined);
    const polls = [client.status(job), client.status(job), client.status(job)].map((p) => p.catch(() => undefined));
    await first;
    const submit = client.submit('sadtalker', SADTALKER);
    await Promise.all([submit, ...polls]);
    assert.deepEqual(
      h.sb.requests.map((r) => r.endpoint),
      ['status', 'submit', 'status', 'status', 'status'],
    );
  });

  it('an abort while queued leaves the queue at once and sends nothing', async () => {
    const client = h.client({ requestsPerMinute: RPM });
    const job = { requestId: 'q', submittedAt: new Date().toISOString() };
    const first = client.status(job).catch(() => undefined);
    const ac = new AbortController();
    const queued = [1, 2, 3].map(() => client.status(job, { signal: ac.signal }));
    const settled = Promise.allSettled(queued);
    assert.equal(client.stats.queued, 4);
    ac.abort();
    assert.equal(client.stats.queued, 1, 'removed from the queue synchronously');
    const outcomes = await settled;
    for (const o of outcomes) {
      assert.equal(o.status, 'rejected');
      await rejectsWith(Promise.reject((o as PromiseRejectedResult).reason), 'aborted');
    }
    await first;
    await delay(4 * (WINDOW / RPM));
    assert.equal(h.sb.count({ endpoint: 'status' }), 1, 'the aborted calls were never sent');
    assert.equal(client.stats.sent, 1);
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
});

describe('client: budget recovery', () => {
  it('raises the rate step by step, one per successful window, back to the configured rpm', async () => {
    const TS = 0.0005; // window 30 ms
    const budget = new RequestBudget({ rpm: 20, timeScale: TS });
    try {
      const sentAt = await budget.acquire(3);
      budget.rateLimited(sentAt, Date.now() + 5);
      assert.equal(budget.stats.effectiveRpm, 10);
      // a second 429 from a request sent before the decrease is the same burst
      budget.rateLimited(sentAt, Date.now() + 5);
      assert.equal(budget.stats.effectiveRpm, 10);
      budget.succeeded();
      assert.equal(budget.stats.effectiveRpm, 10, 'no increase within the same window');
      const seen = [10];
      for (let i = 0; i < 8 && budget.stats.effectiveRpm < 20; i++) {
        await delay(35);
        budget.succeeded();
        seen.push(budget.stats.effectiveRpm);
      }
      assert.deepEqual(seen, [10, 12, 14, 16, 18, 20]);
    } finally {
      budget.stop(new Error('done'));
    }
  });

  it('never goes below 1 request per minute', async () => {
    const budget = new RequestBudget({ rpm: 3, timeScale: 0.001 });
    try {
      for (let i = 0; i < 5; i++) budget.rateLimited(Date.now() + 1000 * i, Date.now() + 1);
      assert.equal(budget.stats.effectiveRpm, 1);
    } finally {
      budget.stop(new Error('done'));
    }
  });

  it('spaces releases at least window / rpm apart', async () => {
    const TS = 0.002; // window 120 ms
    const budget = new RequestBudget({ rpm: 6, timeScale: TS });
    try {
      const released = await Promise.all(Array.from({ length: 6 }, () => budget.acquire(5)));
      for (let i = 1; i < released.length; i++) {
        assert.ok(released[i] - released[i - 1] >= (60_000 * TS) / 6 - 1, `gap ${released[i] - released[i - 1]}`);
      }
    } finally {
      budget.stop(new Error('done'));
    }
  });
});

describe('client: budget batching (spacing below timer resolution)', () => {
  /** Resolves every acquire in order of release, recording the dispatch times. */
  function acquireAll(budget: RequestBudget, priorities: number[], signal?: AbortSignal) {
    const order: number[] = [];
    const times: number[] = [];
    const done = Promise.all(
      priorities.map((p, i) =>
        budget.acquire(p, signal).then((t) => {
          order.push(i);
          times.push(t);
        }),
      ),
    );
    return { order, times, done };
  }

  it('releases 2,000 queued calls in one pass when the rate allows them all (not one per timer tick)', async () => {
    // rpm 1e6 with a 6 s window: a token every ~0.007 ms, far below the 1 ms a timer can wait
    const budget = new RequestBudget({ rpm: 1e6, timeScale: 0.1 });
    try {
      assert.ok(budget.burstSize >= 2000, `burst ${budget.burstSize}`);
      const run = acquireAll(budget, Array.from({ length: 2000 }, () => 5));
      assert.equal(budget.stats.queued, 2000, 'nothing is released synchronously');
      await run.done;
      assert.equal(budget.stats.sent, 2000);
      assert.equal(budget.stats.queued, 0);
      // the old budget needed one Bottleneck slot (>= 1 ms timer) per call: 2,000 passes
      assert.equal(budget.releaseBatches, 1, 'every due call went out in the same pass');
      assert.equal(new Set(run.times).size, 1, 'one dispatch time for the whole batch');
    } finally {
      budget.stop(new Error('done'));
    }
  });

  it('a pass releases every call due by then, and a banked burst stays within 1 % of the rate', async () => {
    // window 60 ms, rpm 1000: a token every ~0.067 ms, at most 10 banked
    const WINDOW = 60;
    const RPM = 1000;
    const budget = new RequestBudget({ rpm: RPM, timeScale: WINDOW / 60_000 });
    try {
      assert.equal(budget.burstSize, RPM / 100);
      const run = acquireAll(budget, Array.from({ length: 3000 }, () => 5));
      await run.done;
      assert.equal(budget.stats.sent, 3000);
      assert.ok(budget.releaseBatches * 2 < 3000, `${budget.releaseBatches} passes for 3000 calls`);
      const max = maxInWindow(run.times, WINDOW);
      assert.ok(max <= RPM, `${max} releases in one ${WINDOW} ms window (rpm ${RPM})`);
    } finally {
      budget.stop(new Error('done'));
    }
  });

  it('within one batch, lower priority numbers go first, first come first served within a priority', async () => {
    const budget = new RequestBudget({ rpm: 1e6, timeScale: 0.1 });
    try {
      const priorities = [5, 3, 5, 1, 3, 9, 0, 5, 1, 3.5];
      const run = acquireAll(budget, priorities);
      await run.done;
      assert.equal(budget.releaseBatches, 1);
      const expected = priorities
        .map((p, i) => ({ p, i }))
        .sort((a, b) => a.p - b.p || a.i - b.i)
        .map((x) => x.i);
      assert.deepEqual(run.order, expected);
    } finally {
      budget.stop(new Error('done'));
    }
  });

  it('an aborted call leaves the middle of its queue at once; the others keep their order', async () => {
    // window 60 ms, rpm 60: one call per ~1.1 ms, one banked
    const budget = new RequestBudget({ rpm: 60, timeScale: 0.001 });
    try {
      const ac = new AbortController();
      const order: string[] = [];
      const calls = ['a', 'b', 'c', 'd', 'e'].map((name) =>
        budget.acquire(5, name === 'b' || name === 'd' ? ac.signal : undefined).then(
          () => order.push(name),
          (e: Error) => order.push(`${name}:${e.message}`),
        ),
      );
      assert.equal(budget.stats.queued, 5);
      ac.abort(new Error('aborted'));
      assert.equal(budget.stats.queued, 3, 'removed synchronously');
      await Promise.all(calls);
      assert.deepEqual(order, ['b:aborted', 'd:aborted', 'a', 'c', 'e']);
      assert.equal(budget.stats.sent, 3);
    } finally {
      budget.stop(new Error('done'));
    }
  });

  it('releases nothing after stop, and rejects what was waiting', async () => {
    const budget = new RequestBudget({ rpm: 1e6, timeScale: 0.1 });
    const calls = Array.from({ length: 50 }, () => budget.acquire(5));
    budget.stop(new Error('closed'));
    const outcomes = await Promise.allSettled(calls);
    assert.ok(outcomes.every((o) => o.status === 'rejected' && (o.reason as Error).message === 'closed'));
    await delay(5);
    assert.equal(budget.stats.sent, 0);
    assert.equal(budget.releaseBatches, 0);
    await assert.rejects(budget.acquire(5), /stopped/);
  });

  it('a 429 pauses a batching budget too: nothing is released until the reset', async () => {
    const budget = new RequestBudget({ rpm: 1e6, timeScale: 0.1 });
    try {
      const first = await budget.acquire(5);
      const resetAt = budget.rateLimited(first, Date.now() + 40);
      const run = acquireAll(budget, Array.from({ length: 100 }, () => 5));
      await run.done;
      assert.ok(Math.min(...run.times) >= resetAt, `released ${resetAt - Math.min(...run.times)} ms before the reset`);
      assert.equal(budget.stats.effectiveRpm, 5e5);
    } finally {
      budget.stop(new Error('done'));
    }
  });
});

describe('client: batching budget against a rate-limited sandbox', () => {
  // one API minute = 600 ms; the plan allows 600 per minute, one per ~1 ms
  const TS = 0.01;
  const WINDOW = 60_000 * TS;
  const RPM = 600;
  const h = useSandbox({ timeScale: TS });

  it('700 calls at once at the plan rate: zero 429s, never more than rpm in any window', async () => {
    h.sb.setRateLimit(RPM);
    const client = h.client({ requestsPerMinute: RPM, maxAttempts: 1 });
    const job = await client.submit('sadtalker', SADTALKER);
    await Promise.all(Array.from({ length: 699 }, () => client.status(job)));
    assert.equal(h.sb.requests.length, 700);
    assert.equal(h.sb.requests.filter((r) => r.status === 429).length, 0, 'no 429 at all');
    const max = maxInWindow(times(h.sb), WINDOW);
    assert.ok(max <= RPM, `max ${max} in a window`);
  });
});

describe('client: a burst released at once', () => {
  // retention far beyond the burst, however long a busy machine takes for it (3.6 s by default at this scale)
  const h = useSandbox({ timeScale: 0.001, retentionSeconds: 1e7 });

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
});
