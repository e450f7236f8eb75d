// The request budget shared by every call of one client: at most `rpm` requests per minute of API
// time, spaced evenly (so no 60 s window, sliding or fixed, holds more than rpm), lower priority
// numbers first, and a self-imposed slowdown when Segmind answers 429 anyway.
//
// Spacing is a token bucket: a token every `minTime` ms, at most `burst` tokens banked. Each pass
// releases as many waiting calls as there are whole tokens, so when the spacing is below timer
// resolution (high rpm, compressed time) one timer tick releases every call that is due instead of
// one call per tick. The bucket is kept small (one token at ordinary rates, which is plain minTime
// spacing; at most ~1 % of the rate otherwise), so no window ever holds more than rpm.
//
// Waiting calls live in a FIFO per priority level: taking the next call and removing an aborted
// one are O(1), however many calls wait.

export interface BudgetOptions {
  /** configured requests per minute (of API time) */
  rpm: number;
  /** API-time multiplier: a minute lasts 60000 * timeScale ms */
  timeScale: number;
  log?: (level: 'debug' | 'info' | 'warn', message: string) => void;
}

export interface BudgetStats {
  /** requests released to the network */
  sent: number;
  /** calls waiting for a slot */
  queued: number;
  /** 429 answers reported */
  rateLimited: number;
  /** current rate after adaptive slowdown (<= configured rpm) */
  effectiveRpm: number;
}

/**
 * Spacing is stretched by 2 % plus a few real milliseconds (at most 10 % of the spacing) so that
 * jitter between release and arrival at the server cannot put rpm + 1 requests in one window.
 */
const SPACING_MARGIN = 1.02;
const JITTER_CUSHION_MS = 5;
/**
 * The bucket banks at most this much time's worth of tokens (covers a late timer or a busy event
 * loop) and at most this share of the rate: releases in any window stay below
 * burst + window / minTime <= 1 % + 98 % of the rate.
 */
const BURST_SPAN_MS = 20;
const BURST_SHARE = 0.01;
/** On a 429 the rate is multiplied by this (never below MIN_RPM). */
const DECREASE_FACTOR = 0.5;
const MIN_RPM = 1;
/** The longest the whole budget pauses for one 429, in windows, whatever the server says. */
const MAX_PAUSE_WINDOWS = 10;
const DEFAULT_PRIORITY = 5;

interface Waiter {
  prev: Waiter | undefined;
  next: Waiter | undefined;
  level: Level | undefined;
  release: (dispatchedAt: number) => void;
  fail: (reason: unknown) => void;
}

/** The calls waiting at one priority, oldest first (a doubly linked list, for O(1) removal). */
interface Level {
  priority: number;
  head: Waiter | undefined;
  tail: Waiter | undefined;
}

/** Waiting calls: lowest priority number first, first come first served within a priority. */
class PriorityFifo {
  /** non-empty levels, sorted by priority (priorities in use are few) */
  private levels: Level[] = [];
  size = 0;

  push(w: Waiter, priority: number): void {
    let i = 0;
    while (i < this.levels.length && this.levels[i].priority < priority) i++;
    let level = this.levels[i];
    if (!level || level.priority !== priority) {
      level = { priority, head: undefined, tail: undefined };
      this.levels.splice(i, 0, level);
    }
    w.level = level;
    w.prev = level.tail;
    w.next = undefined;
    if (level.tail) level.tail.next = w;
    else level.head = w;
    level.tail = w;
    this.size++;
  }

  shift(): Waiter | undefined {
    const w = this.levels[0]?.head;
    if (w) this.remove(w);
    return w;
  }

  /** Removes a waiting call; a no-op for one already taken. */
  remove(w: Waiter): void {
    const level = w.level;
    if (!level) return;
    if (w.prev) w.prev.next = w.next;
    else level.head = w.next;
    if (w.next) w.next.prev = w.prev;
    else level.tail = w.prev;
    w.prev = w.next = w.level = undefined;
    this.size--;
    if (!level.head) this.levels.splice(this.levels.indexOf(level), 1);
  }

  drain(): Waiter[] {
    const all: Waiter[] = [];
    for (let w = this.shift(); w; w = this.shift()) all.push(w);
    return all;
  }
}

export class RequestBudget {
  private readonly rpm: number;
  private readonly windowMs: number;
  private readonly step: number;
  private readonly log?: BudgetOptions['log'];
  private effective: number;
  private readonly waiting = new PriorityFifo();
  private pausedUntil = 0;
  /** the one pending pass: an immediate when tokens are ready, a timeout otherwise */
  private timer: { kind: 'immediate'; handle: NodeJS.Immediate } | { kind: 'timeout'; handle: NodeJS.Timeout } | undefined;
  /** ms between tokens (fractional: may be far below timer resolution) */
  private minTime: number;
  /** most tokens banked */
  private burst: number;
  private tokens: number;
  /** monotonic time of the last token count */
  private refilledAt = performance.now();
  private lastRateChange = 0;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  private stopped = false;
  private sent = 0;
  private rateLimitedCount = 0;
  private passes = 0;

  constructor(opts: BudgetOptions) {
    if (!(opts.rpm > 0) || !Number.isFinite(opts.rpm)) {
      throw new Error(`requestsPerMinute must be a positive number; got ${String(opts.rpm)}`);
    }
    if (!(opts.timeScale > 0) || !Number.isFinite(opts.timeScale)) {
      throw new Error(`timeScale must be a positive number; got ${String(opts.timeScale)}`);
    }
    this.rpm = opts.rpm;
    this.effective = opts.rpm;
    this.windowMs = 60_000 * opts.timeScale;
    this.step = Math.max(1, opts.rpm / 10);
    this.log = opts.log;
    this.minTime = this.minTimeFor(this.effective);
    this.burst = this.burstFor(this.effective, this.minTime);
    this.tokens = this.burst;
  }

  get stats(): BudgetStats {
    return {
      sent: this.sent,
      queued: this.waiting.size,
      rateLimited: this.rateLimitedCount,
      effectiveRpm: this.effective,
    };
  }

  /** How many passes released calls (each pass releases every call due by then): for tests. */
  get releaseBatches(): number {
    return this.passes;
  }

  /** Most calls one pass may release at the current rate. */
  get burstSize(): number {
    return this.burst;
  }

  /** epoch ms until which nothing is released, 0 when not paused */
  get pausedUntilMs(): number {
    return this.pausedUntil > Date.now() ? this.pausedUntil : 0;
  }

  /**
   * Waits for a slot. Resolves with the dispatch time; rejects with the signal's reason as soon as
   * the signal aborts (the call leaves the queue), or with `reason` of stop().
   */
  acquire(priority = DEFAULT_PRIORITY, signal?: AbortSignal): Promise<number> {
    if (this.stopped) return Promise.reject(new Error('request budget stopped'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<number>((resolve, reject) => {
      const onAbort = () => {
        this.waiting.remove(waiter);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        prev: undefined,
        next: undefined,
        level: undefined,
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
      this.waiting.push(waiter, Number.isFinite(priority) ? priority : DEFAULT_PRIORITY);
      this.schedule();
    });
  }

  /**
   * Reports a 429 for a request dispatched at `dispatchedAt`. Pauses every call until `resetAt`
   * (or one window) and halves the rate, once per burst. Returns the end of the pause.
   */
  rateLimited(dispatchedAt: number, resetAt?: number): number {
    const now = Date.now();
    this.rateLimitedCount++;
    const until = Math.min(resetAt && resetAt > now ? resetAt : now + this.windowMs, now + MAX_PAUSE_WINDOWS * this.windowMs);
    if (until > this.pausedUntil) this.pausedUntil = until;
    // Requests sent before the last decrease were sent at the old rate: one burst, one decrease.
    if (dispatchedAt > this.lastDecreaseAt) {
      const next = Math.max(MIN_RPM, this.effective * DECREASE_FACTOR);
      this.lastDecreaseAt = now;
      this.lastRateChange = now;
      if (next !== this.effective) {
        this.setRate(next);
      }
      this.log?.(
        'warn',
        `Segmind answered 429 (rate limited): pausing all requests for ${Math.round((this.pausedUntil - now) / 100) / 10} s and lowering the budget to ${round1(this.effective)} requests/min (configured ${this.rpm})`,
      );
    }
    return this.pausedUntil;
  }

  /** Reports an answer that was not a 429: after a full window without 429, raise the rate a step. */
  succeeded(): void {
    if (this.effective >= this.rpm) return;
    const now = Date.now();
    if (now - this.lastRateChange < this.windowMs) return;
    this.lastRateChange = now;
    this.setRate(Math.min(this.rpm, this.effective + this.step));
    this.log?.('info', `Segmind request budget raised to ${round1(this.effective)} requests/min (configured ${this.rpm})`);
  }

  /** Rejects every waiting call with `reason` and releases nothing more. */
  stop(reason: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimer();
    for (const w of this.waiting.drain()) w.fail(reason);
  }

  private minTimeFor(rpm: number): number {
    const spacing = this.windowMs / rpm;
    return spacing * SPACING_MARGIN + Math.min(JITTER_CUSHION_MS, spacing * 0.1);
  }

  private burstFor(rpm: number, minTime: number): number {
    return Math.max(1, Math.min(Math.floor(BURST_SPAN_MS / minTime), Math.floor(rpm * BURST_SHARE)));
  }

  private setRate(rpm: number): void {
    this.refill();
    this.effective = rpm;
    this.minTime = this.minTimeFor(rpm);
    this.burst = this.burstFor(rpm, this.minTime);
    this.tokens = Math.min(this.tokens, this.burst);
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.refilledAt) / this.minTime);
    this.refilledAt = now;
  }

  /** Arms the next pass unless one is armed: at once when a token is ready, else when one will be. */
  private schedule(): void {
    if (this.stopped || this.timer || this.waiting.size === 0) return;
    const pauseLeft = this.pausedUntil - Date.now();
    if (pauseLeft > 0) {
      this.timer = { kind: 'timeout', handle: setTimeout(() => this.pass(), pauseLeft) };
      return;
    }
    this.refill();
    if (this.tokens >= 1) {
      // not synchronous: calls queued in the same turn are ordered by priority first
      this.timer = { kind: 'immediate', handle: setImmediate(() => this.pass()) };
    } else {
      this.timer = { kind: 'timeout', handle: setTimeout(() => this.pass(), (1 - this.tokens) * this.minTime) };
    }
  }

  /** Releases every waiting call there is a whole token for, best priority first. */
  private pass(): void {
    this.timer = undefined;
    if (this.stopped) return;
    if (Date.now() >= this.pausedUntil) {
      this.refill();
      let released = 0;
      const now = Date.now();
      while (this.tokens >= 1) {
        const w = this.waiting.shift();
        if (!w) break;
        this.tokens--;
        this.sent++;
        released++;
        w.release(now);
      }
      if (released > 0) this.passes++;
    }
    this.schedule();
  }

  private clearTimer(): void {
    if (this.timer?.kind === 'immediate') clearImmediate(this.timer.handle);
    else if (this.timer) clearTimeout(this.timer.handle);
    this.timer = undefined;
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
