import { SharedBudget, PRIORITY } from '../src/client/budget';
import { Account } from '../src/jobs/account';
import { basePrior } from '../src/jobs/priors';
import { VirtualClock } from '../test/support/virtual-clock';
(async () => {
  const clock = new VirtualClock();
  const budget = new SharedBudget({ rpm: 5, timeScale: 1, clock });
  const h = budget.handle(5);
  const acc = new Account('x', clock);
  acc.join({ rate: () => budget.snapshot(), unit: 1000, limits: {} });
  const admittedAt: number[] = []; const refused: string[] = [];
  const t0 = clock.now();
  for (let i = 0; i < 300; i++) {
    acc.admit({ model: 'sadtalker', price: 0.18, belief: basePrior('sadtalker'), requests: 1 }).then(async (adm) => {
      admittedAt.push((clock.now() - t0) / 1000);
      const t = await h.acquire({ priority: PRIORITY.submit });
      h.answered(t, 'ok');
      adm.submitted({ requestId: 'r' + i, submittedAt: clock.now(), model: 'sadtalker' });
    }, (e) => refused.push(e.reason));
  }
  await clock.advance(0);
  console.log('at once admitted', admittedAt.length, 'refused', refused.length);
  await clock.advance(3600_000);
  const counts: Record<string, number> = {}; for (const r of refused) counts[r] = (counts[r] ?? 0) + 1;
  console.log('after an hour admitted', admittedAt.length, counts, admittedAt.slice(0, 20).map((x) => x.toFixed(0)).join(' '));
})();
