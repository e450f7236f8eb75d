// Sliding-window request limit per API key, like Segmind's requests-per-minute plans.

interface Window {
  /** accepted request times (ms), oldest first, from index `head` on */
  times: number[];
  head: number;
}

export type RateDecision = { ok: true } | { ok: false; resetAt: number };

export class SlidingWindowLimiter {
  private windows = new Map<string, Window>();

  /**
   * @param perMinute requests allowed per window, or null for no limit
   * @param windowMs  the window length (60 s times the time scale)
   */
  constructor(
    private perMinute: number | null,
    private readonly windowMs: () => number,
  ) {}

  set(perMinute: number | null): void {
    if (perMinute !== null && !(Number.isInteger(perMinute) && perMinute > 0)) {
      throw new Error(`rate limit: expected a positive integer per minute or null, got ${JSON.stringify(perMinute)}`);
    }
    this.perMinute = perMinute;
  }

  get limit(): number | null {
    return this.perMinute;
  }

  reset(): void {
    this.windows.clear();
  }

  /** Counts the request if a slot is free; otherwise says when the oldest slot frees. */
  take(key: string, now: number): RateDecision {
    const limit = this.perMinute;
    if (limit === null) return { ok: true };
    const windowMs = this.windowMs();
    let w = this.windows.get(key);
    if (!w) {
      w = { times: [], head: 0 };
      this.windows.set(key, w);
    }
    const since = now - windowMs;
    while (w.head < w.times.length && w.times[w.head] <= since) w.head++;
    if (w.head > 1024 && w.head * 2 > w.times.length) {
      w.times = w.times.slice(w.head); // compact now and then instead of shifting every time
      w.head = 0;
    }
    const used = w.times.length - w.head;
    if (used >= limit) return { ok: false, resetAt: w.times[w.times.length - limit] + windowMs };
    w.times.push(now);
    return { ok: true };
  }
}
