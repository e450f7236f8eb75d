// The ledger in a Node-RED context store, for hosts whose file system does not persist. One context
// key per entry (an update rewrites one entry, not the whole ledger). Only a store that writes
// through (every set reaches its storage before its callback) keeps the promise of the journal:
// storeSafety() tells the owner which stores are and which are not.

import { isLedgerEntry, type LedgerEntry, type LedgerStorage } from './ledger';

/** Node-RED's context API in its callback form (works with sync and async stores alike). */
export interface ContextApi {
  get(key: string, store: string | undefined, cb: (err: Error | null, value?: unknown) => void): void;
  set(key: string, value: unknown, store: string | undefined, cb: (err?: Error | null) => void): void;
  keys(store: string | undefined, cb: (err: Error | null, keys?: string[]) => void): void;
}

export class ContextLedgerStorage implements LedgerStorage {
  readonly label: string;
  private readonly entries = new Map<string, LedgerEntry>();

  constructor(
    private readonly ctx: ContextApi,
    private readonly store: string,
    /** key prefix, one per ledger (config node) */
    private readonly prefix: string,
  ) {
    this.label = `context store '${store}'`;
  }

  async load(): Promise<LedgerEntry[]> {
    const keys = (await this.keys()).filter((k) => k.startsWith(this.prefix));
    for (const k of keys) {
      const value = await this.get(k);
      if (isLedgerEntry(value) && `${this.prefix}${value.key}` === k) this.entries.set(value.key, value);
      else await this.set(k, undefined); // unreadable leftovers would otherwise linger forever
    }
    return [...this.entries.values()].map((e) => JSON.parse(JSON.stringify(e)) as LedgerEntry);
  }

  put(entry: LedgerEntry): Promise<void> {
    const copy = JSON.parse(JSON.stringify(entry)) as LedgerEntry;
    this.entries.set(entry.key, copy);
    return this.set(`${this.prefix}${entry.key}`, copy);
  }

  update(key: string, patch: Partial<LedgerEntry>): Promise<void> {
    const e = this.entries.get(key);
    if (!e) return Promise.resolve();
    const next = JSON.parse(JSON.stringify({ ...e, ...patch })) as LedgerEntry;
    this.entries.set(key, next);
    return this.set(`${this.prefix}${key}`, next);
  }

  remove(key: string): Promise<void> {
    this.entries.delete(key);
    return this.set(`${this.prefix}${key}`, undefined);
  }

  async close(): Promise<void> {}

  private get(key: string): Promise<unknown> {
    return new Promise((resolve, reject) => this.ctx.get(key, this.store, (err, value) => (err ? reject(err) : resolve(value))));
  }

  private set(key: string, value: unknown): Promise<void> {
    return new Promise((resolve, reject) => this.ctx.set(key, value, this.store, (err) => (err ? reject(err) : resolve())));
  }

  private keys(): Promise<string[]> {
    return new Promise((resolve, reject) => this.ctx.keys(this.store, (err, keys) => (err ? reject(err) : resolve(keys ?? []))));
  }
}

export type StoreSafety = 'safe' | 'cached' | 'memory' | 'unknown' | 'missing';

/**
 * Whether a context store named in settings.js keeps the ledger's promise: 'safe' for a
 * localfilesystem store with `cache: false` (every set on disk before its callback); 'cached' for
 * localfilesystem with its default cache (flushed every 30 s: a crash loses the last changes);
 * 'memory' for the memory store (a restart loses everything); 'unknown' for other modules.
 */
export function storeSafety(contextStorage: unknown, store: string): StoreSafety {
  const stores = contextStorage && typeof contextStorage === 'object' ? (contextStorage as Record<string, unknown>) : {};
  let conf = stores[store] as { module?: unknown; config?: { cache?: unknown } } | undefined;
  // settings.js may alias the default store by name ("default": "file")
  if (typeof conf === 'string') conf = stores[conf] as typeof conf;
  if (!conf) return store === 'default' || store === 'memory' ? 'memory' : 'missing';
  const module = typeof conf.module === 'string' ? conf.module : 'unknown';
  if (module === 'memory') return 'memory';
  if (module === 'localfilesystem') return conf.config?.cache === false ? 'safe' : 'cached';
  return 'unknown';
}
