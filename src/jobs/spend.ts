// The spending cap of one account: at most N jobs in any hour and at most an amount (USD) in any 24
// hours (both rolling, in API time). A job counts from the moment it is let through (so messages at
// once cannot all slip under the cap), at the model page's price as an estimate, replaced by what
// Segmind reports in metrics.cost once the job ends; a job whose submit failed is taken off again.
// Plain data, so it can be written to a file and survive a restart.

export interface SpendLimits {
  /** most jobs in any hour; 0 or undefined: no limit */
  jobsPerHour?: number;
  /** most USD in any 24 hours; 0 or undefined: no limit */
  maxSpendPerDay?: number;
}

interface Entry {
  /** epoch ms it was let through */
  at: number;
  /** USD: the estimate until Segmind reports the cost */
  usd: number;
  estimated: boolean;
  /** Segmind's request id once submitted; a reservation key before */
  id: string;
}

export interface SpendState {
  v: 1;
  entries: Entry[];
}

export interface SpendSummary {
  jobsLastHour: number;
  /** USD in the last 24 hours, estimates included */
  spentToday: number;
  /** of which estimated (not yet reported by Segmind) */
  estimatedToday: number;
  limits: SpendLimits;
}

export type SpendRefusal = { kind: 'jobs'; count: number; limit: number; nextAt: number } | { kind: 'money'; spent: number; price: number; limit: number; nextAt: number };

export class SpendCounter {
  private entries: Entry[] = [];
  private seq = 0;

  constructor(
    /** ms per API second */
    private readonly unit: () => number,
    private readonly onChange?: () => void,
  ) {}

  private get hour(): number {
    return 3600 * this.unit();
  }

  private get day(): number {
    return 86_400 * this.unit();
  }

  private prune(now: number): void {
    const edge = now - this.day;
    let drop = 0;
    while (drop < this.entries.length && this.entries[drop].at <= edge) drop++;
    if (drop) this.entries.splice(0, drop);
  }

  summary(now: number, limits: SpendLimits): SpendSummary {
    this.prune(now);
    const hourEdge = now - this.hour;
    let jobs = 0;
    let spent = 0;
    let estimated = 0;
    for (const e of this.entries) {
      if (e.at > hourEdge) jobs++;
      spent += e.usd;
      if (e.estimated) estimated += e.usd;
    }
    return { jobsLastHour: jobs, spentToday: round(spent), estimatedToday: round(estimated), limits };
  }

  /** Why one more job at `price` USD would break a limit, or undefined when it fits. */
  check(now: number, price: number, limits: SpendLimits): SpendRefusal | undefined {
    const s = this.summary(now, limits);
    const perHour = limits.jobsPerHour ?? 0;
    if (perHour > 0 && s.jobsLastHour >= perHour) {
      const hourEdge = now - this.hour;
      const inHour = this.entries.filter((e) => e.at > hourEdge);
      // the next job may go when the oldest of the last hour's leaves it
      const nextAt = inHour[inHour.length - perHour].at + this.hour;
      return { kind: 'jobs', count: s.jobsLastHour, limit: perHour, nextAt };
    }
    const perDay = limits.maxSpendPerDay ?? 0;
    if (perDay > 0 && s.spentToday + price > perDay + 1e-9) {
      let freed = s.spentToday;
      let nextAt = now + this.day;
      for (const e of this.entries) {
        freed -= e.usd;
        if (freed + price <= perDay) {
          nextAt = e.at + this.day;
          break;
        }
      }
      return { kind: 'money', spent: s.spentToday, price, limit: perDay, nextAt };
    }
    return undefined;
  }

  /** Counts a job let through at its estimated price; returns the key to settle or cancel it with. */
  reserve(now: number, price: number): string {
    const id = `reserved:${this.seq++}:${now}`;
    this.entries.push({ at: now, usd: Math.max(0, price), estimated: true, id });
    this.changed();
    return id;
  }

  /** The reserved job was submitted as `requestId`. */
  submitted(key: string, requestId: string): void {
    const e = this.entries.find((x) => x.id === key);
    if (e) e.id = requestId;
    this.changed();
  }

  /** The reserved job was never submitted (it failed before Segmind took it): it costs nothing. */
  cancel(key: string): void {
    const i = this.entries.findIndex((x) => x.id === key);
    if (i >= 0) this.entries.splice(i, 1);
    this.changed();
  }

  /** Segmind reported what the job cost. */
  actual(requestId: string, usd: number): void {
    if (!Number.isFinite(usd) || usd < 0) return;
    const e = this.entries.find((x) => x.id === requestId);
    if (!e) return;
    e.usd = usd;
    e.estimated = false;
    this.changed();
  }

  toJSON(): SpendState {
    return { v: 1, entries: this.entries.map((e) => ({ ...e })) };
  }

  /** Takes over a stored state (a previous process): only well-formed entries of the last day. */
  load(state: unknown, now: number): void {
    const s = state as Partial<SpendState> | undefined;
    if (!s || s.v !== 1 || !Array.isArray(s.entries)) return;
    const valid = s.entries.filter(
      (e): e is Entry =>
        !!e && typeof e === 'object' && Number.isFinite(e.at) && Number.isFinite(e.usd) && e.usd >= 0 && typeof e.estimated === 'boolean' && typeof e.id === 'string',
    );
    const known = new Set(this.entries.map((e) => e.id));
    this.entries = [...this.entries, ...valid.filter((e) => !known.has(e.id))].sort((a, b) => a.at - b.at);
    this.prune(now);
  }

  private changed(): void {
    this.onChange?.();
  }
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}
