// The request budget shared by every call of one client: at most `rpm` requests per minute of API
// time, spaced evenly (so no 60 s window, sliding or fixed, holds more than rpm), lower priority
// numbers first, and a self-imposed slowdown when Segmind answers 429 anyway.
//
// Bottleneck does the spacing (minTime). Waiting calls live in our own priority queue and Bottleneck
// only ever holds one "slot" job: Bottleneck cannot remove a queued job, and a call aborted while
// waiting must leave the queue at once instead of burning a slot later.
import Bottleneck from 'bottleneck';

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
/** On a 429 the rate is multiplied by this (never below MIN_RPM). */
const DECREASE_FACTOR = 0.5;
const MIN_RPM = 1;
/** The longest the whole budget pauses for one 429, in windows, whatever the server says. */
const MAX_PAUSE_WINDOWS = 10;

interface Waiter {
  priority: number;
  seq: number;
  release: (dispatchedAt: number) => void;
  fail: (reason: unknown) => void;
}

export class RequestBudget {
  private readonly rpm: number;
  private readonly windowMs: number;
  private readonly step: number;
  private readonly limiter: Bottleneck;
  private readonly log?: BudgetOptions['log'];
  private effective: number;
  private waiting: Waiter[] = [];
  private seq = 0;
  private slotScheduled = false;
  private pausedUntil = 0;
  private wakeTimer: NodeJS.Timeout | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  private minTime: number;
  /** when the last call was released (real time), to keep spacing even if a timer fired late */
  private lastReleaseAt = Number.NEGATIVE_INFINITY;
  private lastRateChange = 0;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  private stopped = false;
  private sent = 0;
  private rateLimitedCount = 0;

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
    this.limiter = new Bottleneck({ maxConcurrent: null, minTime: this.minTime });
  }

  get stats(): BudgetStats {
    return {
      sent: this.sent,
      queued: this.waiting.length,
      rateLimited: this.rateLimitedCount,
      effectiveRpm: this.effective,
    };
  }

  /** epoch ms until which nothing is released, 0 when not paused */
  get pausedUntilMs(): number {
    return this.pausedUntil > Date.now() ? this.pausedUntil : 0;
  }

  /**
   * Waits for a slot. Resolves with the dispatch time; rejects with the signal's reason as soon as
   * the signal aborts (the call leaves the queue), or with `reason` of stop().
   */
  acquire(priority = 5, signal?: AbortSignal): Promise<number> {
    if (this.stopped) return Promise.reject(new Error('request budget stopped'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<number>((resolve, reject) => {
      const onAbort = () => {
        this.remove(waiter);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        priority: Number.isFinite(priority) ? priority : 5,
        seq: this.seq++,
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
      this.waiting.push(waiter);
      this.ensureSlot();
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
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.wakeTimer = this.holdTimer = undefined;
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w.fail(reason);
    this.limiter.stop({ dropWaitingJobs: true }).catch(() => undefined);
  }

  private minTimeFor(rpm: number): number {
    const spacing = this.windowMs / rpm;
    return Math.ceil(spacing * SPACING_MARGIN + Math.min(JITTER_CUSHION_MS, spacing * 0.1));
  }

  private setRate(rpm: number): void {
    this.effective = rpm;
    this.minTime = this.minTimeFor(rpm);
    this.limiter.updateSettings({ minTime: this.minTime });
  }

  private remove(waiter: Waiter): void {
    const i = this.waiting.indexOf(waiter);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  private takeBest(): Waiter | undefined {
    if (this.waiting.length === 0) return undefined;
    let best = 0;
    for (let i = 1; i < this.waiting.length; i++) {
      const w = this.waiting[i];
      const b = this.waiting[best];
      if (w.priority < b.priority || (w.priority === b.priority && w.seq < b.seq)) best = i;
    }
    return this.waiting.splice(best, 1)[0];
  }

  private ensureSlot(): void {
    if (this.stopped || this.slotScheduled || this.waiting.length === 0) return;
    if (Date.now() < this.pausedUntil) {
      this.wakeAt(this.pausedUntil);
      return;
    }
    this.slotScheduled = true;
    this.limiter
      .schedule(() => {
        this.onSlot();
        return Promise.resolve();
      })
      .catch(() => {
        // only when the limiter is stopped
        this.slotScheduled = false;
      });
  }

  private onSlot(): void {
    if (this.stopped) return;
    const now = Date.now();
    if (now < this.pausedUntil) {
      this.slotScheduled = false;
      this.wakeAt(this.pausedUntil);
      return;
    }
    // Bottleneck spaces scheduled times; a slot whose timer fired late must not shorten the next
    // gap, so the slot is held (not given back to Bottleneck, which would space it again).
    const earliest = this.lastReleaseAt + this.minTime;
    if (now < earliest) {
      this.holdTimer = setTimeout(() => {
        this.holdTimer = undefined;
        this.onSlot();
      }, earliest - now);
      return;
    }
    this.slotScheduled = false;
    const waiter = this.takeBest();
    if (waiter) {
      this.sent++;
      this.lastReleaseAt = now;
      waiter.release(now);
    }
    this.ensureSlot();
  }

  private wakeAt(at: number): void {
    if (this.wakeTimer) return;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.ensureSlot();
      },
      Math.max(0, at - Date.now()),
    );
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
