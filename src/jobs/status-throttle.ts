// Applies a node status at most once per interval: the first change shows at once, later changes
// within the interval are folded into one trailing update. Needs no Node-RED: it calls `apply`.

export class ThrottledStatus<S> {
  private lastAt = Number.NEGATIVE_INFINITY;
  private pending: { value: S } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly apply: (status: S) => void,
    private readonly intervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  set(status: S): void {
    if (this.closed) return;
    this.pending = { value: status };
    if (this.timer) return;
    const wait = this.lastAt + this.intervalMs - this.now();
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Stops updating; a pending update is dropped. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private flush(): void {
    this.timer = undefined;
    if (!this.pending || this.closed) return;
    const { value } = this.pending;
    this.pending = undefined;
    this.lastAt = this.now();
    this.apply(value);
  }
}
