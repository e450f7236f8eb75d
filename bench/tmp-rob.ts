import { frontier, delayAt } from './lib/frontier';
import { lognormalDurations, simulateJob, seededRandom } from '../src/jobs/simulate';
import { basePrior, observe, posterior, type ModelStats, type Prior } from '../src/jobs/priors';
const page = basePrior('sadtalker');
function run(truthMedian: (k: number) => number, jobs: number, reps: number, pick: (k: number) => boolean) {
  let req = 0, del = 0, n = 0;
  const rand = seededRandom(3);
  for (let r = 0; r < reps; r++) {
    let stats: ModelStats | undefined;
    const z = lognormalDurations(jobs, 1, 0.36, 100 + r);
    for (let k = 0; k < jobs; k++) {
      const d = truthMedian(k) * z[k];
      const o = simulateJob(d, posterior(page, stats), rand);
      if (pick(k)) { req += o.requests; del += o.delay; n++; }
      stats = observe(stats, d, page);
    }
  }
  return { req: req / n, del: del / n };
}
for (const [name, m] of [['3x shorter', 107.5/3], ['3x longer', 107.5*3]] as const) {
  const fr = frontier(m, 0.36);
  const first = run(() => m, 1, 3000, (k) => k === 0);
  const after20 = run(() => m, 25, 400, (k) => k >= 20);
  console.log(name, 'first', first.req.toFixed(2), first.del.toFixed(2), 'ratio', (first.del / delayAt(fr, first.req)).toFixed(2), ' after20', after20.req.toFixed(2), after20.del.toFixed(2), 'ratio', (after20.del / delayAt(fr, after20.req)).toFixed(3));
}
const fr300 = frontier(300, 0.36);
const drift = run((k) => (k < 200 ? 100 : 300), 400, 40, (k) => k >= 300);
console.log('drift 100->300, jobs 100-200 after', drift.req.toFixed(2), drift.del.toFixed(2), 'ratio', (drift.del / delayAt(fr300, drift.req)).toFixed(3));
const drift2 = run((k) => (k < 200 ? 100 : 300), 400, 40, (k) => k >= 200 && k < 230);
console.log('drift, first 30 after', drift2.req.toFixed(2), drift2.del.toFixed(2), 'ratio', (drift2.del / delayAt(fr300, drift2.req)).toFixed(3));
