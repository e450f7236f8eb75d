// The spending count on disk (segmind-usage.json in Node-RED's user dir), so a restart does not
// reset the cap: one small JSON file for every account of this process, keyed by account id (a
// hash, never the key), written shortly after each change (to a temporary file, then renamed).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Account } from './account';

export const USAGE_FILE = 'segmind-usage.json';
const WRITE_DELAY_MS = 250;

interface FileState {
  v: 1;
  accounts: Record<string, unknown>;
}

const loaded = new Set<string>();
const dirty = new Map<string, Map<string, Account>>();
let timer: NodeJS.Timeout | undefined;

function read(file: string): FileState {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as FileState;
    if (parsed && parsed.v === 1 && parsed.accounts && typeof parsed.accounts === 'object') return parsed;
  } catch {
    // missing or unreadable: start empty
  }
  return { v: 1, accounts: {} };
}

/**
 * Keeps `account`'s spending count in `dir` (loaded once per process, saved after changes).
 * Returns the function that stops listening.
 */
export function persistUsage(account: Account, dir: string, log?: (message: string) => void): () => void {
  const file = join(dir, USAGE_FILE);
  const key = `${file}\n${account.id}`;
  if (!loaded.has(key)) {
    loaded.add(key);
    account.spend.load(read(file).accounts[account.id], account.clock.now());
  }
  const listener = () => {
    let forFile = dirty.get(file);
    if (!forFile) dirty.set(file, (forFile = new Map()));
    forFile.set(account.id, account);
    if (!timer) {
      timer = setTimeout(() => flush(log), WRITE_DELAY_MS);
      timer.unref?.();
    }
  };
  account.listeners.add(listener);
  return () => {
    account.listeners.delete(listener);
  };
}

/** Writes every changed account now. */
export function flush(log?: (message: string) => void): void {
  timer = undefined;
  for (const [file, accounts] of dirty) {
    dirty.delete(file);
    try {
      const state = read(file);
      for (const [id, account] of accounts) state.accounts[id] = account.spend.toJSON();
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(state));
      renameSync(tmp, file);
    } catch (err) {
      log?.(`could not save the Segmind spending count to ${file}: ${(err as Error).message}`);
    }
  }
}
