// The request budget of one Segmind account: never more than `rpm` requests in any window of one
// minute of API time, and the scarce requests given where they matter most.
//
// Why hand-written: a sliding-window log of at most rpm entries is small; none of the well-kept
// limiter libraries cancels a queued call at once (Bottleneck, removed earlier, cannot), learns a
// limit from 429s with a floor, or picks the next call by a value computed when the slot frees.
//
// The window counts a request from the moment it is released until its ANSWER arrived, and then a
// full window more: the server saw it somewhere in between, so no request released later can share
// a server-side window with it, however the network delays either (no spacing margin is needed).
//
// Who goes next when requests are scarce (the allocator, see pick()):
//   1. result fetches (priority FETCH): whenever the window has room; one slot of every window is
//      kept free for them, so a fetch follows the poll that saw COMPLETED at once;
//   2. calls whose deadline is near (a job at risk of its message deadline or Segmind's retention),
//      soonest deadline first;
//   3. the rest by priority (polls before submits), then by the value the caller computes when the
//      slot frees (a poll's chance of finding its job finished), then first come first served.
// Calls other than fetches are also paced (evenly, about window / (rpm - 1) apart, a small burst
// at high rates): released in bursts, a sliding window would repeat the burst every window and
// leave long gaps between (a lone job at 5/min would be polled 4 times in 10 s, then not for 50 s).
//
// A 429 pauses every call until the server's reset time (x-rate-limit-reset-at-utc, Retry-After,
// else one window) and lowers the limit to what the window held when the refused request went out,
// never below what the account demonstrably served in one window; a window without 429 raises it
// a step, back to the configured rate.

export interface Clock {
  now(): number;
  /** runs fn after ms (ms <= 0: as soon as possible, after the current turn) */
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Wall clock; a timer of 0 is an immediate, so calls queued in one turn are ordered before release. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    if (ms <= 0) return { immediate: setImmediate(fn) };
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { timeout: t };
  },
  clearTimer(handle) {
    const h = handle as { immediate?: NodeJS.Immediate; timeout?: NodeJS.Timeout };
    if (h.immediate) clearImmediate(h.immediate);
    if (h.timeout) clearTimeout(h.timeout);
  },
};

/** Budget priorities (lower first). Result fetches are special: they bypass pacing and use the kept slot. */
export const PRIORITY = { fetch: 0, poll: 2, submit: 3 } as const;

export interface BudgetOptions {
  /** configured requests per minute (of API time) */
  rpm: number;
  /** API-time multiplier: a minute lasts 60000 * timeScale ms */
  timeScale: number;
  clock?: Clock;
  log?: (level: 'debug' | 'info' | 'warn', message: string) => void;
}

export interface BudgetStats {
  /** requests released to the network */
  sent: number;
  /** calls waiting for a slot */
  queued: number;
  /** 429 answers reported */
  rateLimited: number;
  /** current limit after 429s (<= configured rpm) */
  effectiveRpm: number;
}

export interface AcquireOptions {
  priority?: number;
  /** epoch ms by which this call must have gone out to be of use (a job's deadline) */
  deadline?: number;
  /** value of sending this call now (higher first), asked when a slot frees */
  value?: () => number;
  signal?: AbortSignal;
}

/** What admission control needs to know about the budget's future capacity. */
export interface RateSnapshot {
  now: number;
  /** current limit per window (learned, <= configured) */
  limit: number;
  /** slots of every window kept for result fetches */
  reserve: number;
  windowMs: number;
  /** when each occupied slot frees, ascending (in-flight requests: as if answered now) */
  freeAt: number[];
  /** nothing is released before this (epoch ms); 0 when not paused */
  pausedUntil: number;
  /** calls waiting, by priority */
  queued: Record<number, number>;
}

/** A released call's slot; handed back with answered() or cancelled(). */
export interface Ticket {
  readonly dispatchedAt: number;
  /** requests in the window (this one included) when it was released */
  readonly inWindow: number;
  /** internal: settled once */
  settled: boolean;
}

interface Waiter {
  seq: number;
  priority: number;
  deadline: number;
  value?: () => number;
  owner: BudgetHandle;
  release(t: Ticket): void;
  fail(reason: unknown): void;
}

/** Pacing: calls other than fetches go out no faster than (limit - reserve) per window, times this. */
const PACE_MARGIN = 1.005;
/** Pacing banks at most this much time's worth of releases (a late timer), and at most this share of the rate. */
const BURST_SPAN_MS = 20;
const BURST_SHARE = 0.01;
/** A slot frees this much after its window ends (Date.now is whole ms; the server's clock may round the other way). */
const SLOT_MARGIN_MS = 2;
/** The longest the whole budget pauses for one 429, in windows, whatever the server says. */
const MAX_PAUSE_WINDOWS = 10;
/** A call whose deadline is nearer than this many windows counts as at risk. */
const RISK_WINDOWS = 1;
/** Above this limit the demonstrated rate is counted cheaply (answers in the window, not dispatch times). */
const EXACT_DEMONSTRATION_LIMIT = 1000;
const MIN_RPM = 1;

/** A growable FIFO of numbers (times), amortised O(1) at both ends. */
class TimeQueue {
  private items: number[] = [];
  private head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  push(t: number): void {
    this.items.push(t);
  }
  peek(i = 0): number {
    return this.items[this.head + i];
  }
  shift(): void {
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
  toArray(): number[] {
    return this.items.slice(this.head);
  }
}

export class SharedBudget {
  readonly windowMs: number;
  readonly clock: Clock;
  private configured: number;
  private effective: number;
  private log?: BudgetOptions['log'];
  private readonly handles = new Set<BudgetHandle>();
  /** waiting calls: fetches apart (released first, unpaced), the rest in arrival order */
  private readonly fetches = new Set<Waiter>();
  private readonly others = new Set<Waiter>();
  private seq = 0;
  /** released, not yet answered */
  private inflight = 0;
  /** answer times of requests still inside the window, ascending */
  private readonly answers = new TimeQueue();
  /** release times of the result fetches of the last window: the pacing leaves them their share */
  private readonly fetchTimes = new TimeQueue();
  /** ok answers within the last window, in answer order: their answer times, and their dispatch times */
  private readonly okAnswered = new TimeQueue();
  private readonly okDispatched = new TimeQueue();
  private demonstrated = 0;
  private pausedUntil = 0;
  private tokens = 1;
  private tokensAt: number;
  private timer: unknown;
  private timerAt = Infinity;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  private lastLimitedAt = Number.NEGATIVE_INFINITY;
  private lastRateChange: number;
  private sentCount = 0;
  private limitedCount = 0;

  constructor(opts: BudgetOptions) {
    checkPositive('requestsPerMinute', opts.rpm);
    checkPositive('timeScale', opts.timeScale);
    this.clock = opts.clock ?? realClock;
    this.windowMs = 60_000 * opts.timeScale;
    this.configured = opts.rpm;
    this.effective = opts.rpm;
    this.log = opts.log;
    this.tokensAt = this.clock.now();
    this.lastRateChange = this.tokensAt;
  }

  /** A handle for one client: its calls, and stop() for them alone. `rpm` joins the configured limit (the lowest wins). */
  handle(rpm: number, log?: BudgetOptions['log']): BudgetHandle {
    checkPositive('requestsPerMinute', rpm);
    const h = new BudgetHandle(this, rpm);
    this.handles.add(h);
    if (log) this.log = log;
    this.reconfigure();
    return h;
  }

  /** @internal a handle goes away: its configured rate stops counting */
  detach(h: BudgetHandle): void {
    this.handles.delete(h);
  }

  get stats(): BudgetStats {
    return { sent: this.sentCount, queued: this.fetches.size + this.others.size, rateLimited: this.limitedCount, effectiveRpm: this.effective };
  }

  get configuredRpm(): number {
    return this.configured;
  }

  /** Most ok answers seen inside one window (the floor of a learned limit). */
  get demonstratedRpm(): number {
    return this.demonstrated;
  }

  /** Requests counted in the window now (in flight included). */
  inWindow(now = this.clock.now()): number {
    this.expire(now);
    return this.inflight + this.answers.size;
  }

  /** epoch ms until which nothing is released, 0 when not paused */
  get pausedUntilMs(): number {
    return this.pausedUntil > this.clock.now() ? this.pausedUntil : 0;
  }

  /** Whether nothing distinguishes this budget from a new one (the registry may forget it). */
  get idle(): boolean {
    const now = this.clock.now();
    return this.handles.size === 0 && this.inWindow(now) === 0 && this.pausedUntil <= now && this.effective >= this.configured;
  }

  snapshot(): RateSnapshot {
    const now = this.clock.now();
    this.expire(now);
    const freeAt: number[] = [];
    for (let i = 0; i < this.inflight; i++) freeAt.push(now + this.windowMs + SLOT_MARGIN_MS);
    for (const t of this.answers.toArray()) freeAt.push(t + this.windowMs + SLOT_MARGIN_MS);
    freeAt.sort((a, b) => a - b);
    const queued: Record<number, number> = {};
    for (const w of this.fetches) queued[w.priority] = (queued[w.priority] ?? 0) + 1;
    for (const w of this.others) queued[w.priority] = (queued[w.priority] ?? 0) + 1;
    return { now, limit: this.effective, reserve: this.reserve, windowMs: this.windowMs, freeAt, pausedUntil: this.pausedUntilMs, queued };
  }

  /** @internal see BudgetHandle.acquire */
  acquire(owner: BudgetHandle, opts: AcquireOptions): Promise<Ticket> {
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Ticket>((resolve, reject) => {
      const priority = Number.isFinite(opts.priority) ? (opts.priority as number) : PRIORITY.poll;
      const queue = priority <= PRIORITY.fetch ? this.fetches : this.others;
      const onAbort = () => {
        queue.delete(waiter);
        owner.waiting.delete(waiter);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        seq: this.seq++,
        priority,
        deadline: Number.isFinite(opts.deadline) ? (opts.deadline as number) : Infinity,
        value: opts.value,
        owner,
        release: (t) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(t);
        },
        fail: (reason) => {
          signal?.removeEventListener('abort', onAbort);
          reject(reason);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.add(waiter);
      owner.waiting.add(waiter);
      this.schedule(0);
    });
  }

  /**
   * The answer to a released call arrived (or its attempt failed after it may have been sent):
   * its slot now frees one window later. `limited`: it was a 429; `resetAt` the server's hint.
   */
  answered(ticket: Ticket, outcome: 'ok' | 'limited' | 'failed', resetAt?: number): void {
    if (ticket.settled) return;
    ticket.settled = true;
    const now = this.clock.now();
    this.inflight = Math.max(0, this.inflight - 1);
    const last = this.answers.size ? this.answers.peek(this.answers.size - 1) : -Infinity;
    this.answers.push(Math.max(now, last));
    if (outcome === 'ok') this.succeeded(ticket, now);
    else if (outcome === 'limited') this.rateLimited(ticket, now, resetAt);
    this.schedule(0);
  }

  /** A released call was never sent (aborted before its request started): its slot is free again. */
  cancelled(ticket: Ticket): void {
    if (ticket.settled) return;
    ticket.settled = true;
    this.inflight = Math.max(0, this.inflight - 1);
    this.sentCount = Math.max(0, this.sentCount - 1);
    this.schedule(0);
  }

  /** @internal rejects the owner's waiting calls */
  stopOwner(owner: BudgetHandle, reason: unknown): void {
    for (const w of owner.waiting) {
      this.fetches.delete(w);
      this.others.delete(w);
      w.fail(reason);
    }
    owner.waiting.clear();
    this.detach(owner);
    if (this.fetches.size + this.others.size === 0) this.clearTimer();
  }

  private get reserve(): number {
    return this.effective >= 2 ? 1 : 0;
  }

  private reconfigure(): void {
    let rpm = Infinity;
    for (const h of this.handles) rpm = Math.min(rpm, h.rpm);
    if (!Number.isFinite(rpm) || rpm === this.configured) return;
    const now = this.clock.now();
    const recentlyLimited = now - this.lastLimitedAt < this.windowMs;
    this.configured = rpm;
    this.demonstrated = Math.min(this.demonstrated, rpm);
    // a new plan applies at once, unless Segmind refused requests within the last window
    this.effective = recentlyLimited ? Math.min(this.effective, rpm) : rpm;
    this.lastRateChange = now;
    this.schedule(0);
  }

  private expire(now: number): void {
    const edge = now - this.windowMs - SLOT_MARGIN_MS;
    while (this.answers.size && this.answers.peek() <= edge) this.answers.shift();
    while (this.fetchTimes.size && this.fetchTimes.peek() <= edge) this.fetchTimes.shift();
  }

  /** Real ms between two paced requests (polls, submits) now: what a poll loop cannot beat. */
  get pacingMs(): number {
    return this.spacing;
  }

  /**
   * Pacing interval of calls other than fetches, ms: the window's slots less those result fetches
   * take (at least the one kept for them), evenly spread.
   */
  private get spacing(): number {
    const fetchShare = Math.max(this.reserve, Math.min(this.fetchTimes.size, this.effective - 1));
    return (this.windowMs * PACE_MARGIN) / Math.max(1, this.effective - fetchShare);
  }

  private get burst(): number {
    const share = Math.floor((this.effective - this.reserve) * BURST_SHARE);
    return Math.max(1, Math.min(Math.floor(BURST_SPAN_MS / this.spacing), share));
  }

  private refill(now: number): void {
    const burst = this.burst;
    if (now > this.tokensAt) this.tokens = Math.min(burst, this.tokens + (now - this.tokensAt) / this.spacing);
    else this.tokens = Math.min(this.tokens, burst);
    this.tokensAt = now;
  }

  /** Arms a pass in `ms` unless one is armed sooner. */
  private schedule(ms: number): void {
    if (this.fetches.size + this.others.size === 0) return;
    const at = this.clock.now() + Math.max(0, ms);
    if (this.timer !== undefined && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pass();
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** Releases what the window and the pacing allow, best first; arms the next pass. */
  private pass(): void {
    const now = this.clock.now();
    if (now < this.pausedUntil) return this.schedule(this.pausedUntil - now);
    this.expire(now);
    let room = this.effective - this.inflight - this.answers.size;
    // 1. result fetches, first come first served, into any free slot (the kept one included)
    for (const w of this.fetches) {
      if (room <= 0) break;
      this.fetches.delete(w);
      this.release(w, now);
      this.fetchTimes.push(now);
      room--;
    }
    // 2. the rest, paced, never into the slot kept for fetches
    this.refill(now);
    const allowed = Math.min(room - this.reserve, Math.floor(this.tokens + 1e-9));
    if (allowed > 0 && this.others.size > 0) {
      const chosen = this.pick(allowed, now);
      for (const w of chosen) {
        this.others.delete(w);
        this.tokens -= 1;
        this.release(w, now);
      }
    }
    this.armNext(now);
  }

  /** The `k` best waiting calls (not fetches), best first. */
  private pick(k: number, now: number): Waiter[] {
    // everything waiting goes this pass (requests are not scarce): no choosing, no sorting
    if (k >= this.others.size) return [...this.others];
    const values = new Map<Waiter, number>();
    for (const w of this.others) values.set(w, safeValue(w));
    const best: Waiter[] = [];
    const compare = (a: Waiter, b: Waiter) => rank(a, b, now, this.windowMs * RISK_WINDOWS, values);
    // k is small whenever requests are scarce: k linear scans beat sorting thousands
    if (k <= 8) {
      const taken = new Set<Waiter>();
      for (let i = 0; i < k; i++) {
        let top: Waiter | undefined;
        for (const w of this.others) if (!taken.has(w) && (!top || compare(w, top) < 0)) top = w;
        if (!top) break;
        taken.add(top);
        best.push(top);
      }
      return best;
    }
    return [...this.others].sort(compare).slice(0, k);
  }

  private release(w: Waiter, now: number): void {
    w.owner.waiting.delete(w);
    this.inflight++;
    this.sentCount++;
    w.release({ dispatchedAt: now, inWindow: this.inflight + this.answers.size, settled: false });
  }

  /** When the next pass can release something: a slot freeing, a pacing token, or an answer (no timer). */
  private armNext(now: number): void {
    if (this.fetches.size + this.others.size === 0) return;
    const used = this.inflight + this.answers.size;
    /** time when the window holds at most `maxUsed`: undefined when only an answer can make it so */
    const roomAt = (maxUsed: number): number | undefined => {
      const excess = used - maxUsed;
      if (excess <= 0) return now;
      if (excess > this.answers.size) return undefined;
      return this.answers.peek(excess - 1) + this.windowMs + SLOT_MARGIN_MS + 1;
    };
    let next = Infinity;
    if (this.fetches.size) {
      const at = roomAt(this.effective - 1);
      if (at !== undefined) next = Math.min(next, at);
    }
    if (this.others.size) {
      const at = roomAt(this.effective - this.reserve - 1);
      if (at !== undefined) {
        const tokenAt = this.tokens >= 1 ? now : now + (1 - this.tokens) * this.spacing;
        next = Math.min(next, Math.max(at, tokenAt));
      }
    }
    if (Number.isFinite(next)) this.schedule(Math.max(0, Math.ceil(next - now)));
  }

  private succeeded(ticket: Ticket, now: number): void {
    this.countDemonstrated(ticket.dispatchedAt, now);
    if (this.effective >= this.configured) return;
    if (now - this.lastRateChange < this.windowMs || now - this.lastLimitedAt < this.windowMs) return;
    this.lastRateChange = now;
    this.effective = Math.min(this.configured, this.effective + Math.max(1, Math.round(this.configured / 10)));
    this.log?.('info', `Segmind request budget raised to ${round1(this.effective)} requests/min (configured ${this.configured})`);
  }

  /** Ok requests that certainly reached the server inside one window (their dispatch within it). */
  private countDemonstrated(dispatchedAt: number, now: number): void {
    if (this.demonstrated >= this.configured) return;
    this.okAnswered.push(now);
    this.okDispatched.push(dispatchedAt);
    const edge = now - this.windowMs;
    while (this.okAnswered.size && this.okAnswered.peek() <= edge) {
      this.okAnswered.shift();
      this.okDispatched.shift();
    }
    let n = this.okAnswered.size;
    if (this.configured <= EXACT_DEMONSTRATION_LIMIT) {
      n = 0;
      for (let i = 0; i < this.okDispatched.size; i++) if (this.okDispatched.peek(i) > edge) n++;
    }
    if (n > this.demonstrated) this.demonstrated = Math.min(n, this.configured);
  }

  private rateLimited(ticket: Ticket, now: number, resetAt: number | undefined): void {
    this.limitedCount++;
    this.lastLimitedAt = now;
    const until = Math.min(resetAt !== undefined && resetAt > now ? resetAt : now + this.windowMs, now + MAX_PAUSE_WINDOWS * this.windowMs);
    if (until > this.pausedUntil) this.pausedUntil = until;
    // requests released before the last decrease belong to the burst that caused it
    if (ticket.dispatchedAt <= this.lastDecreaseAt) return;
    this.lastDecreaseAt = now;
    this.lastRateChange = now;
    const floor = Math.max(MIN_RPM, Math.min(this.configured, this.demonstrated));
    const next = Math.max(floor, Math.min(this.effective - 1, ticket.inWindow - 1));
    this.effective = Math.max(MIN_RPM, next);
    this.log?.(
      'warn',
      `Segmind answered 429 (rate limited): pausing all requests for ${Math.round((this.pausedUntil - now) / 100) / 10} s and lowering the budget to ${round1(this.effective)} requests/min (configured ${this.configured}; ${this.demonstrated} served in one window before)`,
    );
  }
}

/** One client's view of a shared budget. */
export class BudgetHandle {
  /** @internal */
  readonly waiting = new Set<Waiter>();
  private stopped = false;

  constructor(
    readonly budget: SharedBudget,
    readonly rpm: number,
  ) {}

  get stats(): BudgetStats {
    return this.budget.stats;
  }

  /**
   * Waits for a slot; resolves with the ticket to hand back with answered() or cancelled().
   * Rejects with the signal's reason as soon as it aborts (the call leaves the queue), or with
   * stop()'s reason.
   */
  acquire(opts: AcquireOptions = {}): Promise<Ticket> {
    if (this.stopped) return Promise.reject(new Error('request budget stopped'));
    return this.budget.acquire(this, opts);
  }

  answered(ticket: Ticket, outcome: 'ok' | 'limited' | 'failed', resetAt?: number): void {
    this.budget.answered(ticket, outcome, resetAt);
  }

  cancelled(ticket: Ticket): void {
    this.budget.cancelled(ticket);
  }

  /** Rejects this client's waiting calls; the shared state (window, learned limit) stays. */
  stop(reason: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.budget.stopOwner(this, reason);
  }
}

/** Negative when a goes first. `values` is given when values matter (scarce slots). */
function rank(a: Waiter, b: Waiter, now: number, horizon: number, values: Map<Waiter, number> | undefined): number {
  const riskA = a.deadline - now < horizon;
  const riskB = b.deadline - now < horizon;
  if (riskA !== riskB) return riskA ? -1 : 1;
  if (riskA && a.deadline !== b.deadline) return a.deadline - b.deadline;
  if (a.priority !== b.priority) return a.priority - b.priority;
  if (values) {
    const va = values.get(a) ?? 0;
    const vb = values.get(b) ?? 0;
    if (va !== vb) return vb - va;
  }
  return a.seq - b.seq;
}

function safeValue(w: Waiter): number {
  if (!w.value) return 0;
  try {
    const v = w.value();
    return Number.isFinite(v) ? v : 0;
  } catch {
    return 0;
  }
}

function checkPositive(field: string, value: number): void {
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`${field} must be a positive number; got ${String(value)}`);
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
