// What the nodes of one Segmind account share in this process, beyond the client's request budget:
// the jobs under way (model nodes add them when submitted, await nodes keep them while waiting),
// the queue of messages waiting for the budget (admission control) and the spending count. Kept in
// a module registry keyed by the client's account id (a hash, never the key), so config nodes with
// the same key share it and a redeploy keeps it.
import type { RateSnapshot } from '../client/budget';
import { feasible, MAX_QUEUE, MAX_WAIT_SECONDS, plannedJob, type PlannedJob } from './admission';
import type { Prior } from './priors';
import { SpendCounter, type SpendLimits, type SpendRefusal, type SpendSummary } from './spend';
import { RETENTION_SECONDS } from './waiter';

export interface TrackedJob {
  model?: string;
  /** epoch ms */
  submittedAt: number;
  /** epoch ms by which its result must be fetched */
  deadline: number;
  belief: Prior;
  /** Segmind said COMPLETED: only the result fetch is left */
  completed?: boolean;
}

/** How the waiter reports the jobs it watches. */
export interface JobTracker {
  track(requestId: string, job: TrackedJob): void;
  update(requestId: string, patch: { deadline?: number; completed?: boolean }): void;
  /** the job ended (or nobody waits for it any more); `costUsd` when Segmind reported it */
  untrack(requestId: string, costUsd?: number): void;
}

export interface AccountClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Why a message is refused before any request. */
export class AdmissionRefused extends Error {
  constructor(
    readonly code: 'budget_full' | 'spend_limit',
    readonly reason: 'queue_full' | 'waited_too_long' | SpendRefusal['kind'],
    readonly details: Record<string, number>,
  ) {
    super(`${code}: ${reason}`);
    this.name = 'AdmissionRefused';
  }
}

/** A message let through: report what became of its submit. */
export interface Admitted {
  /** epoch ms by which its submit was planned to go out (the budget sends it before polls that are not due) */
  deadline: number;
  submitted(job: { requestId: string; submittedAt: string | number; model?: string }): void;
  /** the submit failed; `maybeBilled`: after it was sent, so the job may exist (its estimated cost stays counted) */
  failed(maybeBilled?: boolean): void;
}

export interface AdmitRequest {
  model?: string;
  /** the model page's price, USD (an estimate until Segmind reports the cost) */
  price: number;
  belief: Prior;
  /** requests needed right now: the submit, plus one for an upload */
  requests: number;
  signal?: AbortSignal;
  /** called while the message waits, with how many wait ahead of it (0: next) */
  onWait?(ahead: number): void;
}

/** One config node's part: its budget's state, its limits. */
export interface AccountMember {
  rate(): RateSnapshot;
  /** ms per API second */
  unit: number;
  limits: SpendLimits;
}

interface Waiting {
  req: AdmitRequest;
  enqueuedAt: number;
  resolve(a: Admitted): void;
  reject(e: unknown): void;
  onAbort(): void;
  lastAhead: number;
}

/** The provisional wait of a job no await node has taken yet (the await node's default timeout). */
const DEFAULT_WAIT_SECONDS = 900;

export class Account implements JobTracker {
  readonly spend: SpendCounter;
  private readonly members = new Set<AccountMember>();
  private readonly jobs = new Map<string, TrackedJob>();
  private readonly reserved = new Map<number, { model?: string; belief: Prior; at: number; requests: number }>();
  private readonly queue: Waiting[] = [];
  private readonly waitSeconds = new Map<object, number>();
  private readonly beliefs = new Map<string, Prior>();
  private reservationSeq = 0;
  private timer: unknown;
  private evaluating = false;
  /** called when the spend count or the queue changes (node status, persistence) */
  readonly listeners = new Set<() => void>();

  constructor(readonly id: string, readonly clock: AccountClock) {
    this.spend = new SpendCounter(() => this.unit, () => this.changed());
  }

  /** A config node joins (and leaves with the returned function). */
  join(member: AccountMember): () => void {
    this.members.add(member);
    this.kick();
    return () => {
      this.members.delete(member);
    };
  }

  /** An await node says how long it waits by default (API seconds): unclaimed jobs are planned with the shortest. */
  noteWait(owner: object, seconds: number | undefined): void {
    if (seconds === undefined) this.waitSeconds.delete(owner);
    else if (Number.isFinite(seconds) && seconds > 0) this.waitSeconds.set(owner, seconds);
  }

  /** What an await node has learned of a model's run time, for planning the jobs of model nodes. */
  noteBelief(model: string, belief: Prior): void {
    this.beliefs.set(model, belief);
  }

  belief(model: string): Prior | undefined {
    return this.beliefs.get(model);
  }

  get limits(): SpendLimits {
    let jobsPerHour = 0;
    let maxSpendPerDay = 0;
    // the strictest of the config nodes sharing the account
    for (const m of this.members) {
      const j = m.limits.jobsPerHour ?? 0;
      const d = m.limits.maxSpendPerDay ?? 0;
      if (j > 0) jobsPerHour = jobsPerHour > 0 ? Math.min(jobsPerHour, j) : j;
      if (d > 0) maxSpendPerDay = maxSpendPerDay > 0 ? Math.min(maxSpendPerDay, d) : d;
    }
    return { jobsPerHour, maxSpendPerDay };
  }

  private get member(): AccountMember | undefined {
    let last: AccountMember | undefined;
    for (const m of this.members) last = m;
    return last;
  }

  private get unit(): number {
    return this.member?.unit ?? 1000;
  }

  usage(): SpendSummary & { waiting: number; running: number } {
    return { ...this.spend.summary(this.clock.now(), this.limits), waiting: this.queue.length, running: this.jobs.size };
  }

  // ---- JobTracker ----

  track(requestId: string, job: TrackedJob): void {
    const known = this.jobs.get(requestId);
    this.jobs.set(requestId, known ? { ...known, ...job, completed: known.completed || job.completed } : job);
    this.kick();
  }

  update(requestId: string, patch: { deadline?: number; completed?: boolean }): void {
    const job = this.jobs.get(requestId);
    if (!job) return;
    if (patch.deadline !== undefined) job.deadline = patch.deadline;
    if (patch.completed) job.completed = true;
    this.kick();
  }

  untrack(requestId: string, costUsd?: number): void {
    this.jobs.delete(requestId);
    if (costUsd !== undefined) this.spend.actual(requestId, costUsd);
    this.kick();
  }

  // ---- admission ----

  /**
   * Waits until the account can take one more job (spending cap first, then the budget), in order
   * of arrival. Rejects with AdmissionRefused (nothing was sent) or with the signal's reason.
   */
  admit(req: AdmitRequest): Promise<Admitted> {
    const now = this.clock.now();
    const refusal = this.spend.check(now, req.price, this.limits);
    if (refusal) return Promise.reject(spendRefusal(refusal));
    if (req.signal?.aborted) return Promise.reject(req.signal.reason);
    if (this.queue.length === 0 && this.fits(req, now)) return Promise.resolve(this.letThrough(req, now));
    if (this.queue.length >= MAX_QUEUE) {
      return Promise.reject(new AdmissionRefused('budget_full', 'queue_full', { queue: MAX_QUEUE }));
    }
    return new Promise<Admitted>((resolve, reject) => {
      const w: Waiting = {
        req,
        enqueuedAt: now,
        resolve,
        reject,
        lastAhead: -1,
        onAbort: () => {
          this.remove(w);
          reject(req.signal!.reason);
        },
      };
      req.signal?.addEventListener('abort', w.onAbort, { once: true });
      this.queue.push(w);
      this.tellPositions();
      this.changed();
      this.arm();
    });
  }

  /** Whether the jobs under way and this one (with its requests now) all fit before their deadlines. */
  private fits(req: AdmitRequest, now: number): boolean {
    const member = this.member;
    if (!member) return false;
    const rate = member.rate();
    const unit = member.unit;
    const planned: PlannedJob[] = [];
    const retentionEdge = now - RETENTION_SECONDS * unit;
    for (const [id, job] of this.jobs) {
      // past retention nobody can fetch it any more: it needs nothing
      if (job.submittedAt <= retentionEdge) {
        this.jobs.delete(id);
        continue;
      }
      planned.push(plannedJob(rate.now, job, unit));
    }
    const wait = this.provisionalWait();
    // messages let through but not yet submitted: their requests now (upload, submit) are not in the window yet
    let now_ = req.requests;
    for (const r of this.reserved.values()) {
      planned.push(plannedJob(rate.now, { submittedAt: r.at, deadline: r.at + wait * unit, belief: r.belief }, unit));
      now_ += r.requests;
    }
    planned.push(plannedJob(rate.now, { submittedAt: rate.now, deadline: rate.now + wait * unit, belief: req.belief }, unit));
    return feasible(rate, planned, now_).ok;
  }

  private provisionalWait(): number {
    let s = Infinity;
    for (const v of this.waitSeconds.values()) s = Math.min(s, v);
    return Math.min(RETENTION_SECONDS, Number.isFinite(s) ? s : DEFAULT_WAIT_SECONDS);
  }

  private letThrough(req: AdmitRequest, now: number): Admitted {
    const spendKey = this.spend.reserve(now, req.price);
    const key = this.reservationSeq++;
    this.reserved.set(key, { model: req.model, belief: req.belief, at: now, requests: req.requests });
    let settled = false;
    const windowMs = this.member?.rate().windowMs ?? 60_000;
    return {
      deadline: now + windowMs,
      submitted: (job) => {
        if (settled) return;
        settled = true;
        this.reserved.delete(key);
        this.spend.submitted(spendKey, job.requestId);
        const submittedAt = typeof job.submittedAt === 'number' ? job.submittedAt : Date.parse(job.submittedAt);
        const at = Number.isFinite(submittedAt) ? submittedAt : this.clock.now();
        // planned with the provisional wait until an await node takes it (and says its deadline)
        if (!this.jobs.has(job.requestId)) {
          this.jobs.set(job.requestId, { model: job.model ?? req.model, submittedAt: at, deadline: at + this.provisionalWait() * this.unit, belief: req.belief });
        }
        this.kick();
      },
      failed: (maybeBilled) => {
        if (settled) return;
        settled = true;
        this.reserved.delete(key);
        if (!maybeBilled) this.spend.cancel(spendKey);
        this.kick();
      },
    };
  }

  /** Something changed: let waiting messages through that now fit (soon, not synchronously). */
  kick(): void {
    if (this.queue.length === 0) return;
    this.arm(0);
  }

  private arm(ms?: number): void {
    const member = this.member;
    const rate = member?.rate();
    // re-check about once per request slot while messages wait
    const every = rate ? Math.max(20, rate.windowMs / Math.max(1, rate.limit)) : 1000;
    const delay = ms ?? every;
    if (this.timer !== undefined) {
      if (delay > 0) return;
      this.clock.clearTimer(this.timer);
    }
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.evaluate();
    }, delay);
  }

  private evaluate(): void {
    if (this.evaluating) return;
    this.evaluating = true;
    try {
      const now = this.clock.now();
      const maxWait = MAX_WAIT_SECONDS * this.unit;
      // messages that waited too long leave, refused
      for (const w of [...this.queue]) {
        if (now - w.enqueuedAt >= maxWait) {
          this.remove(w);
          w.reject(new AdmissionRefused('budget_full', 'waited_too_long', { seconds: MAX_WAIT_SECONDS }));
        }
      }
      // the head goes when it fits; the spending cap is checked again (others may have spent meanwhile)
      while (this.queue.length) {
        const head = this.queue[0];
        const refusal = this.spend.check(now, head.req.price, this.limits);
        if (refusal) {
          this.remove(head);
          head.reject(spendRefusal(refusal));
          continue;
        }
        if (!this.fits(head.req, now)) break;
        this.remove(head);
        head.resolve(this.letThrough(head.req, now));
      }
      this.tellPositions();
    } finally {
      this.evaluating = false;
    }
    if (this.queue.length) this.arm();
  }

  private remove(w: Waiting): void {
    const i = this.queue.indexOf(w);
    if (i >= 0) this.queue.splice(i, 1);
    w.req.signal?.removeEventListener('abort', w.onAbort);
    this.changed();
  }

  private tellPositions(): void {
    this.queue.forEach((w, i) => {
      if (w.lastAhead === i) return;
      w.lastAhead = i;
      try {
        w.req.onWait?.(i);
      } catch {
        // a status callback must not break admission
      }
    });
  }

  private changed(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        // listeners are status displays and file writes: never in the way
      }
    }
  }
}

function spendRefusal(r: SpendRefusal): AdmissionRefused {
  return r.kind === 'jobs'
    ? new AdmissionRefused('spend_limit', 'jobs', { count: r.count, limit: r.limit, nextAt: r.nextAt })
    : new AdmissionRefused('spend_limit', 'money', { spent: r.spent, price: r.price, limit: r.limit, nextAt: r.nextAt });
}

const accounts = new Map<string, Account>();

/** The shared state of account `id` (a client's account hash), made on first use. */
export function accountFor(id: string, clock: AccountClock = wallClock): Account {
  let a = accounts.get(id);
  if (!a) {
    a = new Account(id, clock);
    accounts.set(id, a);
  }
  return a;
}

const wallClock: AccountClock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref?.();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};
