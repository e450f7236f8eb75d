// A clock for logic tests: time moves only when the test says so, timers run in time order.
// Implements the Clock of src/client/budget.ts (now, setTimer, clearTimer).

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class VirtualClock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(start = Date.UTC(2030, 0, 1)) {
    this.t = start;
  }

  now = (): number => this.t;

  setTimer = (fn: () => void, ms: number): unknown => {
    const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return timer;
  };

  clearTimer = (handle: unknown): void => {
    (handle as Timer).cancelled = true;
  };

  /** Lets promise callbacks (microtasks) run, so code awaiting a release can react before time moves. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Runs timers due now or earlier, in time order, settling promises after each. */
  async runDue(): Promise<void> {
    for (;;) {
      const next = this.nextTimer();
      if (!next || next.at > this.t) return;
      this.timers.splice(this.timers.indexOf(next), 1);
      next.fn();
      await this.settle();
    }
  }

  /** Moves time forward by ms, running every timer on the way at its own time. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await this.settle();
    await this.runDue();
    for (;;) {
      const next = this.nextTimer();
      if (!next || next.at > end) break;
      this.t = Math.max(this.t, next.at);
      await this.runDue();
    }
    this.t = end;
    await this.runDue();
  }

  /** Pending timers (not cancelled). */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  private nextTimer(): Timer | undefined {
    this.timers = this.timers.filter((t) => !t.cancelled);
    let best: Timer | undefined;
    for (const t of this.timers) if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  }
}
