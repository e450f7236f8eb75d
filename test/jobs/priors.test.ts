// Run-time beliefs: page priors, refinement from observed durations, forgetting, validation.
import assert from 'node:assert/strict';
import { basePrior, GENERIC_PRIOR, isModelStats, MAX_OBSERVATIONS, observe, observeInterval, PAGE_SECONDS, PAGE_SIGMA, posterior, priorFor, truncatedNormalMoments, type ModelStats } from '../../src/jobs/priors';
import { lognormalDurations } from '../../src/jobs/simulate';

describe('jobs/priors', () => {
  it('seeds each model from its page time, unknown models from the generic prior', () => {
    assert.deepEqual(Object.keys(PAGE_SECONDS).sort(), ['hallo', 'infinite-talk', 'sadtalker', 'sync.so-react-1', 'v-express']);
    assert.equal(basePrior('hallo').median, 303.3);
    assert.equal(basePrior('hallo').sigma, PAGE_SIGMA);
    assert.deepEqual(basePrior('something-else'), GENERIC_PRIOR);
    assert.equal(basePrior('something-else', { 'something-else': 42 }).median, 42);
  });

  it('moves the median to what is observed and learns the spread', () => {
    let stats: ModelStats | undefined;
    for (const d of lognormalDurations(400, 200, 0.2, 11)) stats = observe(stats, d);
    const p = posterior(basePrior('sadtalker'), stats);
    assert.ok(Math.abs(p.median - 200) / 200 < 0.05, `median ${p.median}`);
    assert.ok(p.sigma > 0.15 && p.sigma < 0.3, `sigma ${p.sigma}`);
    assert.ok(p.n > 50, `weight ${p.n}`);
  });

  it('a single observation only nudges the page prior', () => {
    const p = posterior(basePrior('sadtalker'), observe(undefined, 1000));
    assert.ok(p.median > 107.5 && p.median < 300, `median ${p.median}`);
  });

  it('follows a change within a few jobs (change detection), and keeps a bounded memory', () => {
    const page = basePrior('sadtalker');
    let stats: ModelStats | undefined;
    for (const d of lognormalDurations(3 * MAX_OBSERVATIONS, 100, 0.36, 3)) stats = observe(stats, d, page);
    assert.ok(stats!.obs.length <= MAX_OBSERVATIONS);
    assert.ok(Math.abs(posterior(page, stats).median - 100) < 8);
    const after: number[] = [];
    for (const d of lognormalDurations(10, 300, 0.36, 4)) {
      stats = observe(stats, d, page);
      after.push(posterior(page, stats).median);
    }
    assert.ok(after[4] > 220, `five jobs after a 100 s -> 300 s change the median is ${after[4].toFixed(0)} s`);
    assert.ok(Math.abs(after[9] - 300) < 60, `ten jobs after: ${after[9].toFixed(0)} s`);
  });

  it('the page prior fades: 20 jobs 3x longer than the page leave a median near the truth', () => {
    const page = basePrior('sadtalker');
    let stats: ModelStats | undefined;
    for (const d of lognormalDurations(20, 322, 0.36, 5)) stats = observe(stats, d, page);
    const p = posterior(page, stats);
    assert.ok(p.median > 270 && p.median < 380, `median ${p.median}`);
    assert.ok(p.sigma < 0.55, `sigma ${p.sigma}`);
  });

  it('a censored observation (a poll delayed by the budget) is not taken as a duration', () => {
    const page = basePrior('sadtalker');
    // 30 jobs whose completion was seen late: each known only to lie between the last poll that saw
    // it running (just before it finished) and an answer that came 1.5x its run time later
    const durations = lognormalDurations(30, 107.5, 0.36, 6);
    let censored: ModelStats | undefined;
    let midpoints: ModelStats | undefined;
    for (const d of durations) {
      censored = observeInterval(censored, 0.95 * d, 2.5 * d, page);
      midpoints = observe(midpoints, (0.95 * d + 2.5 * d) / 2, page);
    }
    const c = posterior(page, censored);
    const m = posterior(page, midpoints);
    // the intervals cannot tell 107 s from 160 s apart (their likeliest median is about 1.5x the run
    // time), but the censored belief stays within them, far below what midpoints would learn
    assert.ok(c.median < 185, `censored: median ${c.median.toFixed(0)} s`);
    assert.ok(m.median > 175 && c.median < 0.9 * m.median, `midpoints would have learned ${m.median.toFixed(0)} s, censored ${c.median.toFixed(0)} s`);
    // an exact (narrow) interval counts as its middle
    const exact = observeInterval(undefined, 100, 101, page);
    assert.ok(Math.abs(Math.exp(exact.obs[0][0]) - 100.5) < 0.1);
    assert.equal(exact.obs[0][1], 0);
    // still running at 200 s (the message timed out): pushes the median up, never down
    const right = observeInterval(undefined, 200, Infinity, page);
    assert.ok(Math.exp(right.obs[0][0]) > 200);
  });

  it('truncated normal moments match a direct integration', () => {
    const m = truncatedNormalMoments(0, 1, -0.5, 1.5)!;
    let mass = 0;
    let s1 = 0;
    let s2 = 0;
    for (let x = -0.5; x < 1.5; x += 1e-4) {
      const f = Math.exp(-x * x / 2);
      mass += f;
      s1 += f * x;
      s2 += f * x * x;
    }
    const mean = s1 / mass;
    assert.ok(Math.abs(m.mean - mean) < 1e-3);
    assert.ok(Math.abs(m.variance - (s2 / mass - mean * mean)) < 1e-3);
    assert.equal(truncatedNormalMoments(0, 1, 40, 50), undefined);
  });

  it('ignores non-positive and non-finite durations', () => {
    const s = observe(undefined, 100);
    assert.equal(s.total, 1);
    assert.deepEqual(observe(s, 0), s);
    assert.deepEqual(observe(s, Number.NaN), s);
    assert.deepEqual(observe(s, -3), s);
  });

  it('priorFor combines the base prior and the learned table', () => {
    const learned = { sadtalker: observe(observe(undefined, 50), 50) };
    assert.ok(priorFor('sadtalker', learned).median < 107.5);
    assert.equal(priorFor('hallo', learned).median, 303.3);
    assert.deepEqual(priorFor(undefined, learned), GENERIC_PRIOR);
  });

  it('accepts only well-formed stats read back from a store', () => {
    assert.ok(isModelStats(observe(observe(undefined, 50), 70)));
    assert.ok(isModelStats(JSON.parse(JSON.stringify(observeInterval(undefined, 10, 20, basePrior('hallo'))))));
    const good = observe(undefined, 50);
    for (const bad of [null, 'x', { n: 3, meanLog: 4.2, m2: 0.1 }, { ...good, v: 1 }, { ...good, obs: [[1, -1]] }, { ...good, obs: [['a', 0]] }, { ...good, total: -1 }, { ...good, up: Infinity }]) {
      assert.ok(!isModelStats(bad), JSON.stringify(bad));
    }
  });
});
