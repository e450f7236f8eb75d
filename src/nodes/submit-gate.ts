// The gate a submitting node's message passes before any request: the account's spending cap and
// admission control (src/jobs/account.ts), with their refusals worded for the user (codes
// budget_full and spend_limit; nothing was sent, so sending the message again later is safe).
import { accountFor, AdmissionRefused, type Account } from '../jobs/account';
import { basePrior, GENERIC_PRIOR } from '../jobs/priors';
import { specs } from '../models/specs';
import type { SegmindConfigNode } from './config-node';
import { NodeInputError } from './input-errors';
import type { Translate } from './runtime-text';
import type { SubmitGate } from './submit-job';

/** USD per second of run time for models without a price of their own (the Hallo page's rate). */
export const DEFAULT_PRICE_PER_SECOND = 0.00139;

const bySlug = new Map(specs.map((s) => [s.slug, s]));

/** A model's price per run (USD, estimated) and its typical run time. */
export function priceOf(model: string): number {
  const spec = bySlug.get(model);
  if (spec?.priceUsd !== undefined) return spec.priceUsd;
  return (spec?.typicalSeconds ?? GENERIC_PRIOR.median) * DEFAULT_PRICE_PER_SECOND;
}

/** Shows a message waiting for the budget in the node's status. */
export interface WaitDisplay {
  waiting(token: object, ahead: number): void;
  done(token: object): void;
}

export function accountOf(config: SegmindConfigNode): Account {
  return accountFor(config.client.account);
}

export function submitGate(config: SegmindConfigNode, t: Translate, model: string, display: WaitDisplay): SubmitGate {
  return {
    async admit(signal, requests) {
      const account = accountOf(config);
      const typical = bySlug.get(model)?.typicalSeconds;
      const belief = account.belief(model) ?? basePrior(model, typical !== undefined ? { [model]: typical } : undefined);
      const token = {};
      try {
        return await account.admit({
          model,
          price: priceOf(model),
          belief,
          requests,
          signal,
          onWait: (ahead) => display.waiting(token, ahead),
        });
      } catch (err) {
        if (err instanceof AdmissionRefused) throw refusal(t, config, err);
        throw err;
      } finally {
        display.done(token);
      }
    },
  };
}

function refusal(t: Translate, config: SegmindConfigNode, err: AdmissionRefused): NodeInputError {
  const d = err.details;
  const time = (ms: number | undefined) => (ms !== undefined && Number.isFinite(ms) ? new Date(ms).toISOString() : '');
  const usd = (n: number | undefined) => (n ?? 0).toFixed(2);
  const message =
    err.code === 'budget_full'
      ? t(`errors.budgetFull.${err.reason}`, { rpm: config.rpm, queue: d.queue, seconds: d.seconds })
      : err.reason === 'jobs'
        ? t('errors.spendLimit.jobs', { count: d.count, limit: d.limit, time: time(d.nextAt) })
        : t('errors.spendLimit.money', { spent: usd(d.spent), price: usd(d.price), limit: usd(d.limit), time: time(d.nextAt) });
  return new NodeInputError(message, t('status.last.failed', { reason: t(`status.reason.${err.code}`) }), { code: err.code });
}

/** Jobs in the last hour and spend in the last 24 hours, for the node status; undefined without a cap. */
export function usageText(t: Translate, config: SegmindConfigNode | null): string | undefined {
  if (!config?.client) return undefined;
  const u = accountOf(config).usage();
  if (!(u.limits.jobsPerHour || u.limits.maxSpendPerDay)) return undefined;
  return t('status.usage', { jobs: u.jobsLastHour, spent: u.spentToday.toFixed(2) });
}
