// Admission control and the spending cap, on a virtual clock: the feasibility test, the queue
// (order, positions, its length, its longest wait), a job ending letting the next one in, and the
// spending count (jobs per hour, USD per day, estimates replaced by Segmind's cost, persistence).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRIORITY, SharedBudget } from '../../src/client/budget';
import { Account, AdmissionRefused, type Admitted } from '../../src/jobs/account';
import { feasible, MAX_QUEUE, MAX_WAIT_SECONDS, plannedJob } from '../../src/jobs/admission';
import { basePrior } from '../../src/jobs/priors';
import { SpendCounter } from '../../src/jobs/spend';
import { flush, persistUsage, USAGE_FILE } from '../../src/jobs/usage-file';
import { VirtualClock } from '../support/virtual-clock';

const MIN = 60_000; // virtual ms, time scale 1
const sadtalker = basePrior('sadtalker');

function setup(rpm = 5) {
  const clock = new VirtualClock();
  const budget = new SharedBudget({ rpm, timeScale: 1, clock });
  const handle = budget.handle(rpm);
  const account = new Account('test', clock);
  account.join({ rate: () => budget.snapshot(), unit: 1000, limits: {} });
  return { clock, budget, handle, account };
}

describe('jobs/admission: the feasibility test', () => {
  it('one job fits an empty window; jobs whose requests crowd before their deadlines do not', () => {
    const { budget, clock } = setup(5);
    const now = clock.now();
    const job = plannedJob(now, { submittedAt: now, deadline: now + 900_000, belief: sadtalker }, 1000);
    assert.ok(job.readyAt > now + 107_500, 'planned for after its likely end');
    assert.ok(feasible(budget.snapshot(), [job], 1).ok);
    // 30 jobs all likely done in 3 minutes, due in 10: 90 requests at 4 per minute cannot make it
    const crowd = Array.from({ length: 30 }, () => ({ readyAt: now + 3 * MIN, deadline: now + 10 * MIN, demand: 3 }));
    const r = feasible(budget.snapshot(), crowd, 0);
    assert.equal(r.ok, false);
    assert.equal(r.missedAt, now + 10 * MIN);
    // the same 30 with an hour to go fit
    assert.ok(feasible(budget.snapshot(), crowd.map((j) => ({ ...j, deadline: now + 60 * MIN })), 0).ok);
  });

  it('counts the requests already in the window, and a pause', async () => {
    const { budget, clock, handle } = setup(5);
    for (let i = 0; i < 4; i++) {
      const p = handle.acquire({ priority: PRIORITY.submit });
      await clock.advance(16_000);
      handle.answered(await p, 'ok');
    }
    const now = clock.now();
    // four requests in the last minute: four more within a minute do not fit, one does
    assert.equal(feasible(budget.snapshot(), [], 4).ok, false);
    assert.ok(feasible(budget.snapshot(), [], 1).ok);
    assert.ok(budget.snapshot().freeAt.every((t) => t > now));
  });

  it('a completed job needs only its fetch; a job that cannot meet its own deadline does not block others', () => {
    const { budget, clock } = setup(5);
    const now = clock.now();
    const done = plannedJob(now, { submittedAt: now - 100_000, deadline: now + 30_000, belief: sadtalker, completed: true }, 1000);
    assert.equal(done.demand, 1);
    assert.equal(done.readyAt, now);
    const hopeless = { readyAt: now + 5 * MIN, deadline: now + MIN, demand: 3 };
    assert.ok(feasible(budget.snapshot(), [hopeless, done], 1).ok);
  });
});

describe('jobs/admission: the queue of an account', () => {
  it('lets jobs through while they fit, queues the rest in order (telling each its place), refuses beyond the queue', async () => {
    const { clock, handle, account } = setup(5);
    const admitted: number[] = [];
    const refused: Array<[number, string]> = [];
    const places = new Map<number, number[]>();
    const all: Array<Promise<unknown>> = [];
    for (let i = 0; i < MAX_QUEUE + 20; i++) {
      all.push(
        account
          .admit({ model: 'sadtalker', price: 0.18, belief: sadtalker, requests: 1, onWait: (ahead) => places.set(i, [...(places.get(i) ?? []), ahead]) })
          .then(
            async (a: Admitted) => {
              admitted.push(i);
              // the model node now submits: one request through the budget
              const t = handle.acquire({ priority: PRIORITY.submit });
              await clock.advance(0);
              handle.answered(await t, 'ok');
              a.submitted({ requestId: `job-${i}`, submittedAt: clock.now(), model: 'sadtalker' });
            },
            (e: AdmissionRefused) => refused.push([i, e.reason]),
          ),
      );
    }
    await clock.advance(0);
    assert.deepEqual(admitted, [0, 1, 2, 3], 'the first window takes four submits (one slot is kept for fetches)');
    const atOnce = refused.filter(([, r]) => r === 'queue_full').map(([i]) => i);
    assert.equal(atOnce.length, 16, 'beyond the queue: refused at once');
    assert.ok(atOnce.every((i) => i >= 4 + MAX_QUEUE));
    assert.deepEqual(places.get(4), [0]);
    assert.deepEqual(places.get(10)!.slice(0, 1), [6]);
    // as the window frees, the queue moves in order; each one's place counts down
    await clock.advance(5 * MIN);
    assert.deepEqual(admitted.slice(0, 8), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.ok(admitted.every((x, k) => k === 0 || x > admitted[k - 1]), 'in order');
    const p10 = places.get(10)!;
    assert.ok(p10.every((x, k) => k === 0 || x < p10[k - 1]), `places count down: ${p10.join(',')}`);
    // jobs under way leave no room for more: the rest wait, and after the longest wait are refused
    const before = admitted.length;
    await clock.advance(MAX_WAIT_SECONDS * 1000);
    await Promise.all(all);
    const waitedOut = refused.filter(([, r]) => r === 'waited_too_long').length;
    assert.equal(admitted.length + waitedOut + atOnce.length, MAX_QUEUE + 20);
    assert.ok(waitedOut > 0 && admitted.length >= before, `${admitted.length} admitted, ${waitedOut} waited too long`);
  });

  it('a job that ends makes room for the next message', async () => {
    const { clock, handle, account } = setup(5);
    const admitted: Admitted[] = [];
    const go = () => account.admit({ model: 'sadtalker', price: 0.18, belief: sadtalker, requests: 1 });
    // fill the plan with jobs that are due soon
    for (let i = 0; i < 40; i++) {
      const a = await Promise.race([go(), clock.advance(0).then(() => undefined)]);
      if (!a) break;
      admitted.push(a);
      const t = handle.acquire({ priority: PRIORITY.submit });
      await clock.advance(16_000);
      handle.answered(await t, 'ok');
      a.submitted({ requestId: `j${i}`, submittedAt: clock.now(), model: 'sadtalker' });
      account.update(`j${i}`, { deadline: clock.now() + 4 * MIN });
    }
    let next = false;
    void go().then(() => (next = true), () => undefined);
    await clock.advance(1000);
    assert.equal(next, false, 'no room: it waits');
    for (let i = 0; i < admitted.length; i++) account.untrack(`j${i}`);
    await clock.advance(MIN + 1000);
    assert.equal(next, true, 'the jobs ended: it goes');
  });

  it('an aborted message leaves the queue', async () => {
    const { clock, account } = setup(1);
    const ac = new AbortController();
    const first = account.admit({ price: 0, belief: sadtalker, requests: 1 });
    await clock.advance(0);
    await first;
    const waiting = account.admit({ price: 0, belief: sadtalker, requests: 1, signal: ac.signal });
    await clock.advance(0);
    assert.equal(account.usage().waiting, 1);
    ac.abort(new Error('closed'));
    await assert.rejects(waiting, /closed/);
    assert.equal(account.usage().waiting, 0);
  });
});

describe('jobs/spend: the spending cap', () => {
  it('jobs per hour: the next job is refused until the oldest of the hour leaves it', () => {
    const clock = new VirtualClock();
    const spend = new SpendCounter(() => 1000);
    const limits = { jobsPerHour: 3 };
    for (let i = 0; i < 3; i++) {
      assert.equal(spend.check(clock.now(), 0.2, limits), undefined);
      spend.reserve(clock.now(), 0.2);
      clock.setTimer(() => undefined, 0);
    }
    const r = spend.check(clock.now(), 0.2, limits);
    assert.equal(r?.kind, 'jobs');
    assert.equal(r?.kind === 'jobs' && r.nextAt, clock.now() + 3600_000);
  });

  it('USD per day: estimates count at once, Segmind\'s cost replaces them, a failed submit is taken off', async () => {
    const clock = new VirtualClock();
    const spend = new SpendCounter(() => 1000);
    const limits = { maxSpendPerDay: 1 };
    const a = spend.reserve(clock.now(), 0.4);
    const b = spend.reserve(clock.now(), 0.4);
    assert.equal(spend.check(clock.now(), 0.4, limits)?.kind, 'money', '0.8 + 0.4 > 1');
    spend.cancel(b); // never submitted
    spend.submitted(a, 'req-a');
    spend.actual('req-a', 0.1); // Segmind charged less
    assert.equal(spend.check(clock.now(), 0.4, limits), undefined);
    const s = spend.summary(clock.now(), limits);
    assert.equal(s.spentToday, 0.1);
    assert.equal(s.estimatedToday, 0);
    await clock.advance(86_400_000 + 1);
    assert.equal(spend.summary(clock.now(), limits).spentToday, 0, 'a day later it no longer counts');
  });

  it('an account refuses with spend_limit before queueing, and the count survives in a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segmind-usage-'));
    try {
      const clock = new VirtualClock();
      const budget = new SharedBudget({ rpm: 100, timeScale: 1, clock });
      budget.handle(100);
      const account = new Account('acc-1', clock);
      account.join({ rate: () => budget.snapshot(), unit: 1000, limits: { jobsPerHour: 1 } });
      const stop = persistUsage(account, dir);
      const first = account.admit({ price: 0.2, belief: sadtalker, requests: 1 });
      await clock.advance(0);
      (await first).submitted({ requestId: 'r1', submittedAt: clock.now() });
      await assert.rejects(account.admit({ price: 0.2, belief: sadtalker, requests: 1 }), (e: AdmissionRefused) => e.code === 'spend_limit' && e.reason === 'jobs');
      flush();
      stop();
      const saved = JSON.parse(readFileSync(join(dir, USAGE_FILE), 'utf8'));
      assert.equal(saved.accounts['acc-1'].entries.length, 1);
      assert.equal(saved.accounts['acc-1'].entries[0].id, 'r1');
      // a new process: the count is read back
      const again = new Account('acc-1', clock);
      again.join({ rate: () => budget.snapshot(), unit: 1000, limits: { jobsPerHour: 1 } });
      again.spend.load(saved.accounts['acc-1'], clock.now());
      await assert.rejects(again.admit({ price: 0.2, belief: sadtalker, requests: 1 }), (e: AdmissionRefused) => e.code === 'spend_limit');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
