// One request budget per Segmind account in this process, so that config nodes with the same key
// share it and a redeploy (which closes every client and makes new ones) keeps its window, its
// pause and its learned limit. Keyed by a hash of key, API URL and time scale: the key itself is
// never kept here.
import { createHash } from 'node:crypto';
import { SharedBudget, type BudgetOptions } from './budget';

const budgets = new Map<string, SharedBudget>();

/** A stable, non-reversible id of an account (key + API base URL); safe to use as a map key or in logs. */
export function accountId(apiKey: string, baseUrl: string): string {
  return createHash('sha256').update(`segmind-account\n${apiKey}\n${baseUrl}`).digest('hex').slice(0, 32);
}

/** The shared budget of `account` at this time scale, made on first use. */
export function sharedBudget(account: string, opts: BudgetOptions): SharedBudget {
  forgetIdle();
  const key = `${account}|${opts.timeScale}`;
  let budget = budgets.get(key);
  if (!budget) {
    budget = new SharedBudget(opts);
    budgets.set(key, budget);
  }
  return budget;
}

/** Budgets nobody uses whose state is that of a new one: nothing would be lost by making them again. */
function forgetIdle(): void {
  for (const [key, budget] of budgets) if (budget.idle) budgets.delete(key);
}

/** For tests: how many budgets the registry holds. */
export function registeredBudgets(): number {
  return budgets.size;
}
