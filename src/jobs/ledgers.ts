// One ledger per account in this process, whatever node instances come and go. A redeploy closes the
// config node and makes a new one with the same id: both must see the same ledger (its whole
// messages, what was sent), and the journal admits one writer. So ledgers live here, counted by
// their users, and close a while after the last one has gone (a redeploy comes back well within).

import type { JobLedger } from './ledger';

interface Slot {
  ledger: JobLedger;
  users: number;
  closeTimer?: NodeJS.Timeout;
}

/** How long a ledger nobody uses stays open (real ms). */
export const IDLE_CLOSE_MS = 30_000;

const slots = new Map<string, Slot>();

/** The ledger for `id` (e.g. its journal path), made by `create` if none is open. */
export function acquireLedger(id: string, create: () => JobLedger): JobLedger {
  let slot = slots.get(id);
  if (!slot) {
    slot = { ledger: create(), users: 0 };
    slots.set(id, slot);
  }
  if (slot.closeTimer) {
    clearTimeout(slot.closeTimer);
    slot.closeTimer = undefined;
  }
  slot.users++;
  return slot.ledger;
}

/** One user fewer; the ledger closes IDLE_CLOSE_MS after its last user, unless taken again. */
export function releaseLedger(id: string, ledger: JobLedger): void {
  const slot = slots.get(id);
  if (!slot || slot.ledger !== ledger) return;
  slot.users = Math.max(0, slot.users - 1);
  if (slot.users > 0 || slot.closeTimer) return;
  slot.closeTimer = setTimeout(() => {
    if (slots.get(id) !== slot || slot.users > 0) return;
    slots.delete(id);
    void slot.ledger.close();
  }, IDLE_CLOSE_MS);
  slot.closeTimer.unref();
}
