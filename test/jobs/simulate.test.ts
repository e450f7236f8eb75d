// The schedule against its targets, by deterministic simulation: for every model, 10,000 jobs with
// lognormal run times (median = the page's time, 5th-95th about 0.55x-1.8x), the default schedule
// uses at most 25 % of the status requests of fixed 2 s polling, with a mean detection delay of at
// most 3 s.
import assert from 'node:assert/strict';
import { lognormalDurations, seededRandom, simulate, simulateFixed, simulateJob } from '../../src/jobs/simulate';
import { basePrior, PAGE_SECONDS, PAGE_SIGMA } from '../../src/jobs/priors';

const JOBS = 10_000;

describe('jobs/simulate: schedule targets (10,000 jobs per model)', function () {
  this.timeout(60_000);
  const rows: string[] = [];
  after(() => {
    if (process.env.SEGMIND_SIM_REPORT) console.log(rows.join('\n'));
  });

  for (const [model, median] of Object.entries(PAGE_SECONDS)) {
    it(`${model}: <= 25 % of fixed-2 s requests, mean delay <= 3 s`, () => {
      const durations = lognormalDurations(JOBS, median, PAGE_SIGMA, 2024);
      const smart = simulate(basePrior(model), durations);
      const fixed = simulateFixed(durations, 2);
      const ratio = smart.meanRequests / fixed.meanRequests;
      rows.push(
        `${model.padEnd(16)} requests/job ${smart.meanRequests.toFixed(2)} vs fixed-2s ${fixed.meanRequests.toFixed(2)} ` +
          `(${(ratio * 100).toFixed(1)} %), delay mean ${smart.meanDelay.toFixed(2)} s p95 ${smart.p95Delay.toFixed(2)} s`,
      );
      assert.equal(smart.jobs, JOBS);
      assert.ok(ratio <= 0.25, `${model}: ${smart.meanRequests.toFixed(2)} requests/job is ${(ratio * 100).toFixed(1)} % of fixed 2 s`);
      assert.ok(smart.meanDelay <= 3, `${model}: mean delay ${smart.meanDelay.toFixed(2)} s`);
      assert.ok(smart.outcomes.every((o) => o.delay >= 0 && o.requests >= 1));
    });
  }

  it('without learning (page prior only) the targets still hold on the longest model', () => {
    const durations = lognormalDurations(JOBS, PAGE_SECONDS['sync.so-react-1'], PAGE_SIGMA, 99);
    const smart = simulate(basePrior('sync.so-react-1'), durations, { learn: false });
    const fixed = simulateFixed(durations, 2);
    assert.ok(smart.meanRequests / fixed.meanRequests <= 0.25);
    assert.ok(smart.meanDelay <= 3);
  });

  for (const factor of [0.5, 2]) {
    it(`learning repairs a wrong prior: jobs ${factor}x as long as the page says`, () => {
      const durations = lognormalDurations(3000, factor * PAGE_SECONDS.sadtalker, PAGE_SIGMA, 5);
      const tail = <T>(xs: T[]) => xs.slice(-1000);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const fixed = mean(tail(simulateFixed(durations).outcomes).map((o) => o.requests));
      const score = (learn: boolean) => {
        const r = tail(simulate(basePrior('sadtalker'), durations, { learn }).outcomes);
        return { ratio: mean(r.map((o) => o.requests)) / fixed, delay: mean(r.map((o) => o.delay)) };
      };
      const learned = score(true);
      const stuck = score(false);
      // the page prior alone misses a target (too many requests, or too late); after learning both hold
      assert.ok(stuck.ratio > 0.25 || stuck.delay > 3, `page prior alone: ${JSON.stringify(stuck)}`);
      assert.ok(learned.ratio <= 0.25 && learned.delay <= 3, `after learning: ${JSON.stringify(learned)}`);
    });
  }

  it('is deterministic: the same inputs give the same numbers', () => {
    const durations = lognormalDurations(500, 100, 0.36, 3);
    const a = simulate(basePrior('sadtalker'), durations, { rand: seededRandom(1) });
    const b = simulate(basePrior('sadtalker'), durations, { rand: seededRandom(1) });
    assert.deepEqual(a, b);
  });

  it('one job: counts the poll that sees completion and measures the delay from completion', () => {
    const o = simulateJob(100, basePrior('sadtalker'), () => 0.5);
    assert.ok(o.seenAt >= 100 && o.lastRunningAt < 100);
    assert.equal(o.delay, o.seenAt - 100);
  });

  it('the fixed baseline polls every 2 s from 2 s on', () => {
    const r = simulateFixed([0.5, 2, 3, 10.1]);
    assert.deepEqual(r.outcomes.map((o) => o.requests), [1, 1, 2, 6]);
    assert.ok(Math.abs(r.outcomes[3].delay - 1.9) < 1e-9);
  });
});
