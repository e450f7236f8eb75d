// The progress line's numbers: expected total run time given the job still runs (checked against a
// numerical integral of the lognormal), the job chosen among several, and the formats shown.
import assert from 'node:assert/strict';
import { formatCost, formatDuration, jobProgress, progressLine, reportedCost } from '../../src/jobs/progress';
import { predictiveSigma, type Prior } from '../../src/jobs/priors';

const SADTALKER: Prior = { median: 107.5, sigma: 0.36, n: 5 };

/** E[T | T > t] of a lognormal by Simpson's rule over ln T (independent of the code under test). */
function conditionalMean(median: number, sigma: number, t: number): number {
  const mu = Math.log(median);
  const lo = Math.max(Math.log(Math.max(t, 1e-9)), mu - 12 * sigma);
  const hi = mu + 12 * sigma;
  const steps = 4000;
  const h = (hi - lo) / steps;
  let num = 0;
  let den = 0;
  for (let i = 0; i <= steps; i++) {
    const y = lo + i * h;
    const w = i === 0 || i === steps ? 1 : i % 2 ? 4 : 2;
    const density = Math.exp(-0.5 * ((y - mu) / sigma) ** 2); // density of ln T, unnormalised
    num += w * Math.exp(y) * density;
    den += w * density;
  }
  return num / den;
}

describe('job progress (lognormal belief)', () => {
  it('at submission: 0 %, and the mean run time remains', () => {
    const p = jobProgress(SADTALKER, 0);
    assert.equal(p.fraction, 0);
    const s = predictiveSigma(SADTALKER);
    assert.ok(Math.abs(p.remainingSeconds - 107.5 * Math.exp((s * s) / 2)) < 1e-9);
  });

  it('expected total = E[T | T > elapsed], as a numerical integral gives it', () => {
    const s = predictiveSigma(SADTALKER);
    for (const t of [1, 30, 80, 107.5, 150, 300, 600]) {
      const p = jobProgress(SADTALKER, t);
      const expected = conditionalMean(107.5, s, t);
      const total = t + p.remainingSeconds;
      assert.ok(Math.abs(total - expected) / expected < 1e-4, `t=${t}: ${total} vs ${expected}`);
      assert.ok(Math.abs(p.fraction - Math.min(0.99, t / expected)) < 1e-4, `t=${t}`);
    }
  });

  it('moves forward with time and never reaches 100 % while the job runs, even far in the tail', () => {
    let last = -1;
    for (let t = 0; t <= 20 * 107.5; t += 5) {
      const p = jobProgress(SADTALKER, t);
      assert.ok(Number.isFinite(p.fraction) && Number.isFinite(p.remainingSeconds), `t=${t}`);
      assert.ok(p.fraction >= last - 1e-12, `monotone at t=${t}`);
      assert.ok(p.fraction <= 0.99);
      last = p.fraction;
    }
    const far = jobProgress(SADTALKER, 1e7).fraction;
    assert.ok(far > 0.95 && far <= 0.99, String(far));
  });

  it('a learned belief shifts the progress: a model seen to be 3x faster is further along', () => {
    const fast: Prior = { median: 107.5 / 3, sigma: 0.3, n: 50 };
    assert.ok(jobProgress(fast, 30).fraction > jobProgress(SADTALKER, 30).fraction + 0.3);
  });
});

describe('progress line', () => {
  const belief = (model: string | undefined): Prior => (model === 'hallo' ? { median: 303.3, sigma: 0.36, n: 5 } : SADTALKER);

  it('shows the job expected to finish first, counts the others, in real seconds at the time scale', () => {
    const now = 1_000_000;
    const unit = 50; // time scale 0.05: an API second lasts 50 ms
    const line = progressLine(
      [
        { model: 'hallo', since: now - 10 * unit },
        { model: 'sadtalker', since: now - 60 * unit },
        { model: 'sadtalker', since: now - 5 * unit },
      ],
      belief,
      now,
      unit,
    );
    assert.ok(line);
    assert.equal(line.model, 'sadtalker');
    assert.equal(line.more, 2);
    const p = jobProgress(SADTALKER, 60);
    assert.equal(line.percent, Math.floor(p.fraction * 100));
    assert.ok(Math.abs(line.remainingRealSeconds - p.remainingSeconds * 0.05) < 1e-9);
    assert.equal(progressLine([], belief, now, unit), undefined);
  });

  it('counts the jobs whose requests have waited for the request budget a whole API second or more', () => {
    const now = 1_000_000;
    const unit = 50;
    const jobs = [
      { model: 'sadtalker', since: now - 60 * unit, budgetSince: now - 2 * unit },
      { model: 'sadtalker', since: now - 30 * unit, budgetSince: now - unit },
      { model: 'sadtalker', since: now - 30 * unit, budgetSince: now - unit + 1 }, // its usual turn
      { model: 'sadtalker', since: now - 30 * unit },
    ];
    assert.equal(progressLine(jobs, belief, now, unit)?.waitingForBudget, 2);
    assert.equal(progressLine(jobs.slice(2), belief, now, unit)?.waitingForBudget, 0);
  });

  it('formats durations and costs briefly', () => {
    assert.equal(formatDuration(0.2), '1 s');
    assert.equal(formatDuration(40.4), '40 s');
    assert.equal(formatDuration(125), '2 min');
    assert.equal(formatDuration(5400), '1.5 h');
    assert.equal(formatDuration(NaN), '?');
    assert.equal(formatCost(0.184), '$0.184');
    assert.equal(formatCost(0.42112), '$0.421');
    assert.equal(formatCost(0.0016), '$0.0016');
    assert.equal(formatCost(12.3456), '$12.35');
    assert.equal(formatCost(0), '$0');
  });

  it("reads Segmind's cost from metrics.cost only when it is a number", () => {
    assert.equal(reportedCost({ metrics: { cost: 0.184 } }), 0.184);
    assert.equal(reportedCost({ metrics: { cost: '0.42' } }), 0.42);
    assert.equal(reportedCost({ metrics: {} }), undefined);
    assert.equal(reportedCost({ metrics: { cost: 'n/a' } }), undefined);
    assert.equal(reportedCost({ metrics: { cost: -1 } }), undefined);
    assert.equal(reportedCost(undefined), undefined);
  });
});
