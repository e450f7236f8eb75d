// Which job ledger a config node uses and how its reports reach the log: Node-RED glue for
// src/jobs/ledger.ts. Default: a journal file under Node-RED's user directory; a context store
// when the config node names one (for hosts whose file system does not persist).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, NodeAPI } from 'node-red';
import { ContextLedgerStorage, storeSafety, type ContextApi } from '../jobs/context-storage';
import { JournalStorage } from '../jobs/journal';
import { JobLedger, type LedgerReport } from '../jobs/ledger';
import { acquireLedger, releaseLedger } from '../jobs/ledgers';
import type { Translate } from './runtime-text';

/** The journal of a config node: <userDir>/segmind/ledger-<config id>.jsonl */
export function journalPath(userDir: string | undefined, configId: string): string {
  const dir = userDir || join(tmpdir(), `node-red-segmind-${process.getuid?.() ?? 'user'}`);
  return join(dir, 'segmind', `ledger-${configId.replace(/[^A-Za-z0-9_.-]/g, '_')}.jsonl`);
}

export interface AccountLedger {
  ledger: JobLedger;
  release(): void;
}

/** Opens (or joins) the ledger of config node `node`; `store` names a context store, '' = journal. */
export function openAccountLedger(RED: NodeAPI, node: Node, store: string, timeScale: number, t: Translate): AccountLedger {
  const settings = RED.settings as unknown as { userDir?: string; contextStorage?: unknown };
  const label = node.name ? `${node.name} (${node.id})` : node.id;
  const report = (r: LedgerReport) => RED.log.warn(`[segmind-config:${label}] ${reportText(t, r)}`);
  let id: string;
  let open: () => Promise<ContextLedgerStorage | JournalStorage>;
  if (store) {
    const safety = storeSafety(settings.contextStorage, store);
    if (safety !== 'safe') node.warn(t(`ledger.store.${safety}`, { store }));
    const global = node.context().global as unknown as ContextApi;
    id = `context:${store}:${node.id}`;
    open = async () => new ContextLedgerStorage(global, store, `segmindLedger_${node.id}_`);
  } else {
    id = journalPath(settings.userDir, node.id);
    open = () => JournalStorage.open(id);
  }
  const ledger = acquireLedger(id, () => new JobLedger({ open, timeScale, report }));
  ledger.ready.catch((err) => node.error(t('ledger.unavailable', { error: (err as Error).message })));
  return { ledger, release: () => releaseLedger(id, ledger) };
}

function reportText(t: Translate, r: LedgerReport): string {
  switch (r.kind) {
    case 'unanswered':
      return r.entries
        .map((e) => t('ledger.unanswered', { model: e.model ?? '?', node: e.origin ?? '?', time: new Date(e.intentAt ?? 0).toISOString() }))
        .join('\n');
    case 'expired':
      return t('ledger.expired', { count: r.entries.length, ids: r.entries.map((e) => e.requestId).join(', ') });
    case 'storageError':
      return t('ledger.storageError', { during: r.during, error: r.error instanceof Error ? r.error.message : String(r.error) });
  }
}
