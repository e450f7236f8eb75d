// The request budget: never over the plan's rate, priorities, backing off after 429, abort in queue.
import assert from 'node:assert/strict';
import { RequestBudget } from '../../src/client/budget';
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
