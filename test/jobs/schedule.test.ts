// The polling schedule as a pure function: bounds, shape (first poll near the early completions,
// intervals shrinking while completion is likely, backing off past the expected range), jitter.
import assert from 'node:assert/strict';
import { baseInterval, DEFAULT_SCHEDULE, nextPollDelay } from '../../src/jobs/schedule';
import { basePrior, GENERIC_PRIOR, PAGE_SECONDS, predictiveSigma } from '../../src/jobs/priors';
import { lognormalHazard, lognormalSurvival, sqrtDensitySurvivalIntegral } from '../../src/jobs/lognormal';

describe('jobs/lognormal', () => {
  it('hazard and survival agree with the lognormal at known points', () => {
    // at the median, S = 0.5 and h = phi(0) / (sigma * m * 0.5)
    assert.ok(Math.abs(lognormalSurvival(100, 100, 0.36) - 0.5) < 1e-6);
    const expected = 0.3989422804 / (0.36 * 100 * 0.5);
    assert.ok(Math.abs(lognormalHazard(100, 100, 0.36) - expected) / expected < 1e-5);
    // 95th percentile: z = 1.6449
    assert.ok(Math.abs(lognormalSurvival(100 * Math.exp(0.36 * 1.6449), 100, 0.36) - 0.05) < 1e-5);
  });

  it('stays finite far in the tails', () => {
    for (const t of [1e-6, 1, 1e4, 1e9]) {
      const h = lognormalHazard(t, 100, 0.36);
      assert.ok(Number.isFinite(h) && h >= 0, `hazard at ${t}: ${h}`);
    }
  });

  it('J(sigma) grows with the spread', () => {
    assert.ok(sqrtDensitySurvivalIntegral(0.2) < sqrtDensitySurvivalIntegral(0.36));
    assert.ok(sqrtDensitySurvivalIntegral(0.36) < sqrtDensitySurvivalIntegral(0.9));
  });
});

describe('jobs/schedule', () => {
  const prior = basePrior('sadtalker');

  it('every delay lies within the bounds, jitter included (before the median only the first wait may be longer)', () => {
    const { minInterval, maxInterval, jitter } = DEFAULT_SCHEDULE;
    for (const model of [...Object.keys(PAGE_SECONDS), 'unknown']) {
      const p = basePrior(model);
      for (let elapsed = 0; elapsed < 20 * p.median; elapsed += p.median / 97) {
        for (const rand of [0, 0.5, 0.999]) {
          const d = nextPollDelay({ elapsed, prior: p, rand });
          const upper = Math.max(maxInterval, p.median - elapsed) * (1 + jitter / 2);
          assert.ok(d >= minInterval * (1 - jitter / 2) - 1e-9 && d <= upper + 1e-9, `${model} elapsed ${elapsed}: ${d}`);
          if (elapsed >= p.median) assert.ok(d <= maxInterval * (1 + jitter / 2) + 1e-9);
        }
      }
    }
  });

  it('puts the first poll near the low end of the expected run time', () => {
    for (const [model, median] of Object.entries(PAGE_SECONDS)) {
      const p = basePrior(model);
      const first = nextPollDelay({ elapsed: 0, prior: p, rand: 0.5 });
      const sigma = predictiveSigma(p);
      const q005 = median * Math.exp(-2.5758 * sigma);
      const q10 = median * Math.exp(-1.2816 * sigma);
      assert.ok(first > q005 && first < q10, `${model}: first poll ${first.toFixed(1)} s not within 0.5th-10th percentile ${q005.toFixed(1)}-${q10.toFixed(1)}`);
    }
  });

  it('shrinks intervals as completion becomes likely and backs off past the expected range', () => {
    const m = prior.median;
    const early = baseInterval(0.65 * m, prior);
    const middle = baseInterval(1.0 * m, prior);
    const late = baseInterval(3 * m, prior);
    const veryLate = baseInterval(10 * m, prior);
    assert.ok(middle < early, `interval at the median ${middle} should be below the one at 0.65x ${early}`);
    assert.ok(late > 1.5 * middle, `interval at 3x ${late} should well exceed the one at the median ${middle}`);
    assert.ok(veryLate > 3 * middle, `interval at 10x ${veryLate} should be far above the one at the median ${middle}`);
    // without the overrun part the lognormal's hazard stays high far out: no back-off at all
    const noOverrun = { ...DEFAULT_SCHEDULE, overrunWeight: 0 };
    assert.ok(baseInterval(3 * m, prior, noOverrun) < late);
    assert.equal(baseInterval(1e6, prior), DEFAULT_SCHEDULE.maxInterval);
  });

  it('jitter spreads delays around the unjittered interval', () => {
    const base = baseInterval(100, prior);
    assert.equal(nextPollDelay({ elapsed: 100, prior, rand: 0.5 }), base);
    assert.ok(nextPollDelay({ elapsed: 100, prior, rand: 0 }) < base);
    assert.ok(nextPollDelay({ elapsed: 100, prior, rand: 0.99 }) > base);
  });

  it('a longer model gets a later first poll', () => {
    const a = nextPollDelay({ elapsed: 0, prior: basePrior('sadtalker') });
    const b = nextPollDelay({ elapsed: 0, prior: basePrior('sync.so-react-1') });
    assert.ok(b > 2 * a, `${b} vs ${a}`);
  });

  it('an unknown model uses the generic prior and still polls within bounds', () => {
    assert.deepEqual(basePrior('no-such-model'), GENERIC_PRIOR);
    const d = nextPollDelay({ elapsed: 0, prior: basePrior(undefined) });
    assert.ok(d >= 1 && d <= 60);
  });

  it('treats a negative or non-finite elapsed time as zero', () => {
    const zero = nextPollDelay({ elapsed: 0, prior });
    assert.equal(nextPollDelay({ elapsed: -5, prior }), zero);
    assert.equal(nextPollDelay({ elapsed: Number.NaN, prior }), zero);
  });
});
