// The ledger's default storage: an append-only journal file (one JSON record per line) in Node-RED's
// user directory. Each change is one appended line, made durable (fdatasync) before its promise
// resolves; changes that arrive while a sync is under way share the next one (group commit), so a
// burst of jobs costs a few syncs, not one each. When dead lines outnumber live entries the file is
// rewritten from the live entries (compaction: temp file, fsync, rename, fsync of the folder).
// A torn last line (a crash mid-append) is skipped and cut off, not fatal. One process writes a
// journal at a time: a lock file holds the writer's pid.

import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, rm, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isLedgerEntry, type LedgerEntry, type LedgerStorage } from './ledger';

type JournalRecord =
  | { op: 'put'; e: LedgerEntry }
  | { op: 'upd'; k: string; p: Partial<LedgerEntry> }
  | { op: 'del'; k: string };

/** Compaction once the file holds this many lines and four times as many as there are live entries. */
const COMPACT_MIN_LINES = 1000;
const COMPACT_RATIO = 4;

export class JournalLockedError extends Error {
  readonly code = 'journal_locked';
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super(`${path} is in use by another process (pid ${pid}); one Node-RED may write a job ledger at a time`);
    this.name = 'JournalLockedError';
  }
}

export interface JournalStats {
  lines: number;
  live: number;
  syncs: number;
  compactions: number;
  /** torn or unreadable lines skipped at load */
  skipped: number;
}

export class JournalStorage implements LedgerStorage {
  readonly label: string;
  private fh: FileHandle | undefined;
  private readonly live = new Map<string, LedgerEntry>();
  private queue: Array<{ line: string; resolve: () => void; reject: (err: unknown) => void }> = [];
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly stats: JournalStats = { lines: 0, live: 0, syncs: 0, compactions: 0, skipped: 0 };

  private constructor(readonly path: string) {
    this.label = path;
  }

  /** Takes the lock (JournalLockedError when another live process holds it) and opens the file. */
  static async open(path: string): Promise<JournalStorage> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await takeLock(`${path}.lock`);
    const j = new JournalStorage(path);
    return j;
  }

  get journalStats(): JournalStats {
    return { ...this.stats, live: this.live.size };
  }

  async load(): Promise<LedgerEntry[]> {
    let text = '';
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    let offset = 0;
    let lines = 0;
    for (;;) {
      const nl = text.indexOf('\n', offset);
      if (nl < 0) break; // a last line without its newline was torn by a crash
      const line = text.slice(offset, nl);
      offset = nl + 1;
      if (!line.trim()) continue;
      let rec: JournalRecord | undefined;
      try {
        rec = JSON.parse(line) as JournalRecord;
      } catch {
        rec = undefined;
      }
      if (!rec || !this.apply(rec)) {
        this.stats.skipped++;
        continue;
      }
      lines++;
    }
    if (offset < text.length) {
      // cut a torn tail so that the next append starts on a line of its own
      this.stats.skipped++;
      await truncate(this.path, Buffer.byteLength(text.slice(0, offset)));
    }
    this.stats.lines = lines;
    this.fh = await open(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    if (lines > COMPACT_MIN_LINES && lines > COMPACT_RATIO * this.live.size) await this.compact();
    return [...this.live.values()].map((e) => JSON.parse(JSON.stringify(e)) as LedgerEntry);
  }

  put(entry: LedgerEntry): Promise<void> {
    return this.append({ op: 'put', e: entry });
  }

  update(key: string, patch: Partial<LedgerEntry>): Promise<void> {
    return this.append({ op: 'upd', k: key, p: patch });
  }

  remove(key: string): Promise<void> {
    return this.append({ op: 'del', k: key });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing?.catch(() => undefined);
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    await rm(`${this.path}.lock`, { force: true }).catch(() => undefined);
  }

  /** Applies a record to the live entries; false for a record that makes no sense (skipped). */
  private apply(rec: JournalRecord): boolean {
    switch (rec?.op) {
      case 'put':
        if (!isLedgerEntry(rec.e)) return false;
        this.live.set(rec.e.key, rec.e);
        return true;
      case 'upd': {
        const e = this.live.get(rec.k);
        if (!e) return typeof rec.k === 'string'; // updates a removed entry: harmless
        const next = { ...e, ...rec.p };
        for (const [k, v] of Object.entries(next)) if (v === undefined) delete (next as Record<string, unknown>)[k];
        if (!isLedgerEntry(next)) return false;
        this.live.set(rec.k, next);
        return true;
      }
      case 'del':
        this.live.delete(rec.k);
        return typeof rec.k === 'string';
      default:
        return false;
    }
  }

  private append(rec: JournalRecord): Promise<void> {
    if (this.closed || !this.fh) return Promise.reject(new Error(`journal ${this.path} is closed`));
    this.apply(rec);
    const line = `${JSON.stringify(rec)}\n`;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      // an append made while the last batch settled found flushing still set
      if (this.queue.length) this.kick();
    });
  }

  /** Writes and syncs everything queued, batch after batch, until the queue is empty. */
  private async flush(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue;
      this.queue = [];
      try {
        const fh = this.fh;
        if (!fh) throw new Error(`journal ${this.path} is closed`);
        await fh.write(batch.map((b) => b.line).join(''));
        await fh.datasync();
        this.stats.syncs++;
        this.stats.lines += batch.length;
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
        continue;
      }
      if (this.stats.lines > COMPACT_MIN_LINES && this.stats.lines > COMPACT_RATIO * this.live.size) {
        await this.compact().catch(() => undefined); // the long file stays valid; try again later
      }
    }
  }

  /** Rewrites the file from the live entries; called only from flush (no append runs meanwhile). */
  private async compact(): Promise<void> {
    const tmp = `${this.path}.compact`;
    const text = [...this.live.values()].map((e) => `${JSON.stringify({ op: 'put', e })}\n`).join('');
    const out = await open(tmp, 'w', 0o600);
    try {
      await out.writeFile(text);
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(tmp, this.path);
    await syncFolder(dirname(this.path));
    await this.fh?.close().catch(() => undefined);
    this.fh = await open(this.path, constants.O_WRONLY | constants.O_APPEND, 0o600);
    this.stats.lines = this.live.size;
    this.stats.compactions++;
  }
}

async function syncFolder(folder: string): Promise<void> {
  try {
    const fh = await open(folder, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // some file systems cannot sync a folder; the rename is still atomic
  }
}

/** Creates the lock file with our pid; takes over one whose process is gone. */
async function takeLock(lockPath: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(lockPath, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    // our own pid in a lock we did not take in this process: left by an earlier life of this pid
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new JournalLockedError(lockPath.replace(/\.lock$/, ''), pid);
    }
    await rm(lockPath, { force: true });
  }
  throw new Error(`could not take the lock ${lockPath}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
