import { frontier, delayAt, requestsAt } from '../bench/lib/frontier';
import { simulate, lognormalDurations } from '../src/jobs/simulate';
import { basePrior } from '../src/jobs/priors';
const t0 = Date.now();
const fr = frontier(107.5, 0.36);
console.log('frontier ms', Date.now() - t0);
for (const p of fr) console.log(p.lambda.toFixed(3), p.requests.toFixed(2), p.delay.toFixed(3), (p.requests*p.delay/107.5).toFixed(3));
const d = lognormalDurations(10000, 107.5, 0.36, 1000);
for (const learn of [false, true]) for (const obs of ['metrics','interval'] as const) {
  const r = simulate(basePrior('sadtalker'), d, { learn, observe: obs });
  console.log(learn, obs, r.meanRequests.toFixed(2), r.meanDelay.toFixed(3), 'ratio delay', (r.meanDelay / delayAt(fr, r.meanRequests)).toFixed(3), 'ratio req', (r.meanRequests / requestsAt(fr, r.meanDelay)).toFixed(3));
}
