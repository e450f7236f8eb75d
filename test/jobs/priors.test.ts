// Run-time beliefs: page priors, refinement from observed durations, forgetting, validation.
import assert from 'node:assert/strict';
import { basePrior, GENERIC_PRIOR, isModelStats, MAX_STATS_WEIGHT, observe, PAGE_SECONDS, PAGE_SIGMA, posterior, priorFor, type ModelStats } from '../../src/jobs/priors';
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
    assert.ok(p.n > 100);
  });

  it('a single observation only nudges the page prior', () => {
    const p = posterior(basePrior('sadtalker'), observe(undefined, 1000));
    assert.ok(p.median > 107.5 && p.median < 300, `median ${p.median}`);
  });

  it('forgets slowly: the weight of the past is capped so drift is followed', () => {
    let stats: ModelStats | undefined;
    for (let i = 0; i < 3 * MAX_STATS_WEIGHT; i++) stats = observe(stats, 100);
    assert.ok(stats!.n <= MAX_STATS_WEIGHT);
    for (let i = 0; i < MAX_STATS_WEIGHT; i++) stats = observe(stats, 200);
    const median = Math.exp(stats!.meanLog);
    assert.ok(median > 150, `after a shift the median follows: ${median}`);
  });

  it('ignores non-positive and non-finite durations', () => {
    const s = observe(undefined, 100);
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
    assert.ok(isModelStats({ n: 3, meanLog: 4.2, m2: 0.1 }));
    for (const bad of [null, 'x', { n: -1, meanLog: 1, m2: 0 }, { n: 1, meanLog: 'a', m2: 0 }, { n: 1, meanLog: 1, m2: -1 }, { n: Infinity, meanLog: 1, m2: 0 }]) {
      assert.ok(!isModelStats(bad), JSON.stringify(bad));
    }
  });
});
