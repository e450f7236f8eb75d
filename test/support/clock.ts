// A clock for the sandbox (its `clock` option) that tests can stop and move: job phases, retention
// and rate windows then follow the test's steps instead of the wall clock, so a busy machine cannot
// make a job finish, or expire, before the test is ready for it.

export class TestClock {
  /** while frozen, the time shown; otherwise undefined */
  private frozenAt: number | undefined;
  /** added to Date.now() while running (time spent frozen and advanced) */
  private offset = 0;

  /** runs with the wall clock unless `frozen` */
  constructor(frozen = false) {
    if (frozen) this.frozenAt = Date.now();
  }

  readonly now = (): number => this.frozenAt ?? Date.now() + this.offset;

  /** stops the clock where it is */
  freeze(): this {
    this.frozenAt ??= this.now();
    return this;
  }

  /** runs again from where it stopped (no jump) */
  thaw(): this {
    if (this.frozenAt !== undefined) {
      this.offset = this.frozenAt - Date.now();
      this.frozenAt = undefined;
    }
    return this;
  }

  advance(ms: number): this {
    if (this.frozenAt !== undefined) this.frozenAt += ms;
    else this.offset += ms;
    return this;
  }
}
