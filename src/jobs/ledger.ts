// The job ledger of one account (config node): every paid job from just before its submit to its
// delivery, so that none is lost and none is submitted twice, whatever Node-RED does in between.
//
//   intent     written (durably) before the submit POST leaves
//   submitted  the answer: request id, URLs, a bounded copy of the message; then the model node sends
//   claimed    an await node took the job (its node id and the message's deadline)
//   delivering written before the await node sends the message on
//   (removed)  the message left: delivered, and a moment passed for the flow after the await node
//              to act on it (SETTLE_MS), or the await node closed
//
// After a restart: claimed jobs resume in their await node; submitted but unclaimed ones are sent
// on again by their model node; an intent without an answer is reported as a submit that may have
// been billed, never re-sent; a job found 'delivering' is delivered again, flagged as redelivered
// (a crash just after the send, before the next nodes got the message out, loses nothing).
// Within one process the ledger outlives node instances (see ledgers.ts), so a redeploy hands each
// job on with its whole message (Buffers included); the storage only holds the bounded copy.
// No Node-RED here: storage is behind LedgerStorage; texts are the caller's (reports are data).

import { randomBytes } from 'node:crypto';
import { storedMessage } from './stored-message';

export type EntryState = 'intent' | 'submitted' | 'claimed' | 'delivering';

/** One job (one message waiting for it), as stored. Plain JSON. */
export interface LedgerEntry {
  /** format version */
  v: 1;
  /** unique per entry */
  key: string;
  state: EntryState;
  model?: string;
  /** id of the node that submitted the job (model or generic node) */
  origin?: string;
  /** epoch ms the intent was written */
  intentAt?: number;
  requestId?: string;
  statusUrl?: string;
  responseUrl?: string;
  /** epoch ms of the submit (or, for a bare request id, undefined) */
  submittedAt?: number;
  /** the bounded copy of the message */
  msg?: Record<string, unknown>;
  /** what the copy left out (property paths) */
  dropped?: string[];
  /** id of the await node waiting for it */
  claimedBy?: string;
  /** epoch ms the await node took it */
  receivedAt?: number;
  /** epoch ms after which the message leaves on the timed-out output */
  deadline?: number;
}

/** Where a ledger keeps its entries. Every method resolves once the change is durable. */
export interface LedgerStorage {
  /** for logs: where the entries are */
  readonly label: string;
  load(): Promise<LedgerEntry[]>;
  put(entry: LedgerEntry): Promise<void>;
  update(key: string, patch: Partial<LedgerEntry>): Promise<void>;
  remove(key: string): Promise<void>;
  close(): Promise<void>;
}

/** What the ledger tells its owner, who words it (locales) and logs it. */
export type LedgerReport =
  /** intents found after a restart with no answer recorded: the submit may have been billed */
  | { kind: 'unanswered'; entries: LedgerEntry[] }
  /** jobs nobody waits for any more, past Segmind's retention: dropped */
  | { kind: 'expired'; entries: LedgerEntry[] }
  /** the storage could not be read or written */
  | { kind: 'storageError'; error: unknown; during: string };

/** A job handed to a node to go on with. */
export interface Pending {
  entry: LedgerEntry;
  /** the message: the live one when this process has it, else the stored copy */
  msg: Record<string, unknown>;
  /** true when a crash may have let this message out before (deliver again, flagged) */
  redelivered: boolean;
  /** the message is the stored copy (Buffers and long strings left out: see entry.dropped) */
  fromCopy: boolean;
}

export interface JobHandleFields {
  requestId: string;
  model?: string;
  statusUrl?: string;
  responseUrl?: string;
  /** epoch ms */
  submittedAt?: number;
}

export interface LedgerOptions {
  /** opens the storage (takes its lock); the ledger is unusable if this fails */
  open(): Promise<LedgerStorage>;
  /** API-time multiplier: Segmind's one-hour retention lasts 3600 s x 1000 x timeScale real ms */
  timeScale: number;
  report?(report: LedgerReport): void;
  now?(): number;
  /** real ms a delivered job stays 'delivering' in storage; default SETTLE_MS */
  settleMs?: number;
}

/**
 * How long (real ms) a delivered message stays redeliverable after a crash: the nodes after the
 * await node get it asynchronously, and a kill before they have written or sent it on would
 * otherwise lose a paid result. Node-RED cannot tell when a whole downstream flow is done.
 */
export const SETTLE_MS = 2000;

/** Segmind keeps status and result for one hour (API seconds) after submission. */
export const RETENTION_SECONDS = 3600;
/** How often jobs nobody waits for are checked against the retention (real ms, scaled). */
const SWEEP_EVERY_API_SECONDS = 60;

export class LedgerUnavailableError extends Error {
  readonly code = 'ledger_unavailable';
  constructor(readonly cause: unknown) {
    super(`the job ledger could not be opened: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'LedgerUnavailableError';
  }
}

export class JobLedger {
  /** resolves once the storage is open and loaded; rejects with LedgerUnavailableError */
  readonly ready: Promise<void>;
  private storage: LedgerStorage | undefined;
  private readonly entries = new Map<string, LedgerEntry>();
  private readonly byRequest = new Map<string, Set<string>>();
  /** whole messages of this process, by entry key (never stored) */
  private readonly live = new Map<string, Record<string, unknown>>();
  /** entries loaded from storage at start: a previous process may have sent them already */
  private readonly inherited = new Set<string>();
  /** submitted entries whose message the model node has sent in this process */
  private readonly sent = new Set<string>();
  /** await nodes running now, with how to hand them a job */
  private readonly attached = new Map<string, (p: Pending) => void>();
  private readonly now: () => number;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** delivered entries still in storage, oldest first, with when they are removed (real ms) */
  private readonly settling: Array<{ key: string; at: number }> = [];
  private settleTimer: NodeJS.Timeout | undefined;
  /** the removals under way (one at a time, so close waits for them) */
  private settleRun: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly opts: LedgerOptions) {
    this.now = opts.now ?? Date.now;
    this.ready = this.start();
    // an unhandled rejection would crash Node-RED; callers await ready and see the error there
    this.ready.catch(() => undefined);
  }

  get label(): string {
    return this.storage?.label ?? '';
  }

  private async start(): Promise<void> {
    let storage: LedgerStorage;
    let loaded: LedgerEntry[];
    try {
      storage = await this.opts.open();
      loaded = await storage.load();
    } catch (err) {
      throw new LedgerUnavailableError(err);
    }
    this.storage = storage;
    const unanswered: LedgerEntry[] = [];
    for (const e of loaded) {
      if (e.state === 'intent') unanswered.push(e);
      else {
        this.index(e);
        this.inherited.add(e.key);
      }
    }
    if (unanswered.length) {
      this.opts.report?.({ kind: 'unanswered', entries: unanswered });
      // reported once: the user has been told, and the submit is never re-sent
      for (const e of unanswered) await this.write('remove', () => storage.remove(e.key));
    }
    this.sweep();
    const every = SWEEP_EVERY_API_SECONDS * 1000 * this.opts.timeScale;
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(1000, every));
    this.sweepTimer.unref();
  }

  // ---- the model node's side ----

  /** Written before the submit POST. Resolves with the entry's key once durable. */
  async intent(origin: string, model: string): Promise<string> {
    const storage = await this.usable();
    const entry: LedgerEntry = { v: 1, key: newKey(), state: 'intent', origin, model, intentAt: this.now() };
    await storage.put(entry);
    this.index(entry);
    return entry.key;
  }

  /** The submit certainly or possibly failed and the caller reported it: the intent is closed. */
  async abandon(key: string): Promise<void> {
    await this.drop(key);
  }

  /** The submit was answered: records the job and the message, durably, before the message moves on. */
  async submitted(key: string, job: JobHandleFields, msg: Record<string, unknown>): Promise<void> {
    const storage = await this.usable();
    const copy = storedMessage(msg);
    const patch: Partial<LedgerEntry> = {
      state: 'submitted',
      requestId: job.requestId,
      model: job.model ?? this.entries.get(key)?.model,
      statusUrl: job.statusUrl,
      responseUrl: job.responseUrl,
      submittedAt: job.submittedAt,
      msg: copy.msg,
      dropped: copy.dropped.length ? copy.dropped : undefined,
    };
    // the job exists and is billed: a storage failure is reported, the message still goes on
    await this.write('submitted', () => storage.update(key, patch));
    const entry = this.entries.get(key);
    if (entry) {
      this.unindexRequest(entry);
      Object.assign(entry, patch);
      this.indexRequest(entry);
    }
    this.live.set(key, msg);
  }

  /** The model node sent the message in this process (a later instance must not send it again). */
  markSent(key: string): void {
    if (this.entries.get(key)?.state === 'submitted') this.sent.add(key);
  }

  /**
   * Submitted jobs of `origin` no await node has taken and this process has not sent: the model
   * node sends them (again). Each is handed out once per process.
   */
  takeUnsent(origin: string): Pending[] {
    const out: Pending[] = [];
    for (const e of this.entries.values()) {
      if (e.state !== 'submitted' || e.origin !== origin || this.sent.has(e.key)) continue;
      this.sent.add(e.key);
      out.push(this.pending(e, this.inherited.has(e.key)));
    }
    return out;
  }

  // ---- the await node's side ----

  /** An await node is running: its claimed jobs are its own, not orphans; `resume` takes late ones. */
  attach(awaitId: string, resume: (p: Pending) => void): void {
    this.attached.set(awaitId, resume);
  }

  /** The await node stopped (a later instance with the same id may have attached already). */
  detach(awaitId: string, resume: (p: Pending) => void): void {
    if (this.attached.get(awaitId) === resume) this.attached.delete(awaitId);
  }

  /**
   * A job claimed by an instance that is closing: the running instance with the same id (after a
   * redeploy) takes it now; with none running, it waits in the ledger for the next start.
   */
  handOver(key: string): void {
    const e = this.entries.get(key);
    const resume = e?.claimedBy ? this.attached.get(e.claimedBy) : undefined;
    if (e && resume) resume(this.pending(e, e.state === 'delivering'));
  }

  /** Jobs claimed by `awaitId`, to resume: after a redeploy, a restart, or being enabled again. */
  claimedBy(awaitId: string): Pending[] {
    const out: Pending[] = [];
    for (const e of this.entries.values()) {
      if ((e.state === 'claimed' || e.state === 'delivering') && e.claimedBy === awaitId) {
        out.push(this.pending(e, e.state === 'delivering'));
      }
    }
    return out.sort((a, b) => (a.entry.receivedAt ?? 0) - (b.entry.receivedAt ?? 0));
  }

  /**
   * An await node takes a job for a message. Takes over the entry its model node recorded (or one
   * an await node that no longer runs left), else records a new one (a bare request id). Durable.
   */
  async claim(
    awaitId: string,
    job: JobHandleFields,
    wait: { receivedAt: number; deadline: number },
    msg: Record<string, unknown>,
  ): Promise<LedgerEntry> {
    const storage = await this.usable();
    const existing = this.claimable(job.requestId);
    const patch: Partial<LedgerEntry> = { state: 'claimed', claimedBy: awaitId, receivedAt: wait.receivedAt, deadline: wait.deadline };
    if (existing) {
      // fill in what the message knows and the entry does not (a bare id left by an old await node)
      for (const k of ['model', 'statusUrl', 'responseUrl', 'submittedAt'] as const) {
        if (existing[k] === undefined && job[k] !== undefined) (patch as Record<string, unknown>)[k] = job[k];
      }
      await this.write('claim', () => storage.update(existing.key, patch));
      Object.assign(existing, patch);
      this.sent.delete(existing.key);
      this.inherited.delete(existing.key);
      this.live.set(existing.key, msg);
      return existing;
    }
    const copy = storedMessage(msg);
    const entry: LedgerEntry = {
      v: 1,
      key: newKey(),
      requestId: job.requestId,
      model: job.model,
      statusUrl: job.statusUrl,
      responseUrl: job.responseUrl,
      submittedAt: job.submittedAt,
      msg: copy.msg,
      dropped: copy.dropped.length ? copy.dropped : undefined,
      ...patch,
    } as LedgerEntry;
    await this.write('claim', () => storage.put(entry));
    this.index(entry);
    this.live.set(entry.key, msg);
    return entry;
  }

  /** Written before the message is sent on: a crash after the send delivers it again, flagged. */
  async delivering(key: string): Promise<void> {
    const storage = await this.usable();
    const entry = this.entries.get(key);
    if (!entry) return;
    await this.write('delivering', () => storage.update(key, { state: 'delivering' }));
    entry.state = 'delivering';
  }

  /**
   * The message left the await node: the job is done with here at once, and in storage after
   * SETTLE_MS (a crash before then delivers it again, flagged). A redelivery had its grace in the
   * life that first sent it: it is removed at once, so crashes in a loop cannot repeat it forever.
   */
  delivered(key: string, redelivery = false): void {
    const entry = this.entries.get(key);
    if (!entry || this.closed) return;
    this.unindex(entry);
    if (redelivery) {
      void this.removeStored([key]);
      return;
    }
    this.settling.push({ key, at: Date.now() + (this.opts.settleMs ?? SETTLE_MS) });
    this.scheduleSettle();
  }

  /** Removes every delivered entry from storage now (the await node closes: no crash to cover). */
  async settleNow(): Promise<void> {
    await this.settle(Infinity);
  }

  /** Jobs claimed by `awaitId` right now (for the log when the node is removed). */
  pendingOf(awaitId: string): LedgerEntry[] {
    return [...this.entries.values()].filter((e) => e.claimedBy === awaitId);
  }

  /** How many entries are in each state (tests, status). */
  counts(): Record<EntryState, number> {
    const out: Record<EntryState, number> = { intent: 0, submitted: 0, claimed: 0, delivering: 0 };
    for (const e of this.entries.values()) out[e.state]++;
    return out;
  }

  get(key: string): LedgerEntry | undefined {
    return this.entries.get(key);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.settleTimer) clearTimeout(this.settleTimer);
    await this.ready.catch(() => undefined);
    await this.settle(Infinity, true);
    await this.storage?.close().catch(() => undefined);
  }

  // ---- internals ----

  private async usable(): Promise<LedgerStorage> {
    await this.ready;
    if (this.closed || !this.storage) throw new LedgerUnavailableError(new Error('closed'));
    return this.storage;
  }

  private async drop(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.unindex(entry);
    const storage = await this.usable();
    await this.write('remove', () => storage.remove(key));
  }

  private scheduleSettle(): void {
    if (this.settleTimer || !this.settling.length) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      void this.settle(Date.now()).then(() => this.scheduleSettle());
    }, Math.max(0, this.settling[0].at - Date.now()));
    this.settleTimer.unref();
  }

  /** Removes from storage the delivered entries due by `until`. */
  private settle(until: number, closing = false): Promise<void> {
    const due: string[] = [];
    while (this.settling.length && this.settling[0].at <= until) due.push(this.settling.shift()!.key);
    return this.removeStored(due, closing);
  }

  /** Removes delivered entries from storage, after the removals already under way. */
  private removeStored(keys: string[], closing = false): Promise<void> {
    const storage = this.storage;
    if (!keys.length || !storage || (this.closed && !closing)) return this.settleRun;
    this.settleRun = this.settleRun.then(async () => {
      for (const key of keys) await this.write('remove', () => storage.remove(key));
    });
    return this.settleRun;
  }

  private async write(during: string, op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (error) {
      this.opts.report?.({ kind: 'storageError', error, during });
    }
  }

  /** An entry for this request id that no running await node holds. */
  private claimable(requestId: string): LedgerEntry | undefined {
    const keys = this.byRequest.get(requestId);
    if (!keys) return undefined;
    let orphan: LedgerEntry | undefined;
    for (const k of keys) {
      const e = this.entries.get(k);
      if (!e) continue;
      if (e.state === 'submitted') return e;
      if ((e.state === 'claimed' || e.state === 'delivering') && e.claimedBy && !this.attached.has(e.claimedBy)) orphan ??= e;
    }
    return orphan;
  }

  private pending(e: LedgerEntry, redelivered: boolean): Pending {
    const live = this.live.get(e.key);
    if (live) return { entry: e, msg: live, redelivered, fromCopy: false };
    const msg: Record<string, unknown> = JSON.parse(JSON.stringify(e.msg ?? {}));
    if (e.dropped?.length) {
      const seg = msg.segmind && typeof msg.segmind === 'object' ? (msg.segmind as Record<string, unknown>) : {};
      msg.segmind = { ...seg, dropped: e.dropped };
    }
    this.live.set(e.key, msg);
    return { entry: e, msg, redelivered, fromCopy: true };
  }

  /** Drops jobs nobody waits for once Segmind has forgotten them (their results cannot be fetched). */
  private sweep(): void {
    if (this.closed || !this.storage) return;
    const now = this.now();
    const retention = RETENTION_SECONDS * 1000 * this.opts.timeScale;
    const expired: LedgerEntry[] = [];
    for (const e of this.entries.values()) {
      if (e.state === 'intent') continue;
      const held = e.claimedBy !== undefined && this.attached.has(e.claimedBy);
      if (held) continue; // its await node delivers it (as expired, if it comes to that)
      const since = e.submittedAt ?? e.receivedAt ?? e.intentAt;
      if (since !== undefined && now > since + retention) expired.push(e);
    }
    if (!expired.length) return;
    this.opts.report?.({ kind: 'expired', entries: expired });
    const storage = this.storage;
    for (const e of expired) {
      this.unindex(e);
      void this.write('remove', () => storage.remove(e.key));
    }
  }

  private index(e: LedgerEntry): void {
    this.entries.set(e.key, e);
    this.indexRequest(e);
  }

  private indexRequest(e: LedgerEntry): void {
    if (!e.requestId) return;
    let keys = this.byRequest.get(e.requestId);
    if (!keys) this.byRequest.set(e.requestId, (keys = new Set()));
    keys.add(e.key);
  }

  private unindexRequest(e: LedgerEntry): void {
    if (!e.requestId) return;
    const keys = this.byRequest.get(e.requestId);
    keys?.delete(e.key);
    if (keys && keys.size === 0) this.byRequest.delete(e.requestId);
  }

  private unindex(e: LedgerEntry): void {
    this.entries.delete(e.key);
    this.unindexRequest(e);
    this.live.delete(e.key);
    this.sent.delete(e.key);
    this.inherited.delete(e.key);
  }
}

function newKey(): string {
  return randomBytes(8).toString('hex');
}

/** Validates an entry read back from storage; anything malformed is refused, not trusted. */
export function isLedgerEntry(v: unknown): v is LedgerEntry {
  if (!v || typeof v !== 'object') return false;
  const r = v as Record<string, unknown>;
  const optString = (x: unknown) => x === undefined || typeof x === 'string';
  const optNumber = (x: unknown) => x === undefined || (typeof x === 'number' && Number.isFinite(x));
  return (
    r.v === 1 &&
    typeof r.key === 'string' && r.key.length > 0 &&
    (r.state === 'intent' || r.state === 'submitted' || r.state === 'claimed' || r.state === 'delivering') &&
    optString(r.model) && optString(r.origin) && optString(r.requestId) && optString(r.statusUrl) &&
    optString(r.responseUrl) && optString(r.claimedBy) &&
    optNumber(r.intentAt) && optNumber(r.submittedAt) && optNumber(r.receivedAt) && optNumber(r.deadline) &&
    (r.state === 'intent' || (typeof r.requestId === 'string' && r.requestId.length > 0)) &&
    (r.msg === undefined || (!!r.msg && typeof r.msg === 'object' && !Array.isArray(r.msg))) &&
    (r.dropped === undefined || (Array.isArray(r.dropped) && r.dropped.every((d) => typeof d === 'string')))
  );
}

/** A ledger in memory only (tests, the simulator): durable for the life of the process. */
export class MemoryLedgerStorage implements LedgerStorage {
  readonly label = 'memory';
  readonly entries = new Map<string, LedgerEntry>();
  async load(): Promise<LedgerEntry[]> {
    return [...this.entries.values()].map((e) => JSON.parse(JSON.stringify(e)) as LedgerEntry);
  }
  async put(entry: LedgerEntry): Promise<void> {
    this.entries.set(entry.key, JSON.parse(JSON.stringify(entry)) as LedgerEntry);
  }
  async update(key: string, patch: Partial<LedgerEntry>): Promise<void> {
    const e = this.entries.get(key);
    if (e) this.entries.set(key, JSON.parse(JSON.stringify({ ...e, ...patch })) as LedgerEntry);
  }
  async remove(key: string): Promise<void> {
    this.entries.delete(key);
  }
  async close(): Promise<void> {}
}
