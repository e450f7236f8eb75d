// Answers held back by the `hold` fault until a test releases them: the request has been handled
// (a submit's job exists and is billed) while the client still waits, so a test can redeploy or
// kill the client exactly then, told by an event rather than a guessed delay.

import type { ServerResponse } from 'node:http';
import type { HeldRequest, ReleaseFilter } from './types';

/** setTimeout's ceiling (~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Hold {
  info: HeldRequest;
  /** true: answer now; false: do not answer (client gone, sandbox closing) */
  settle: (answer: boolean) => void;
}

export class HoldTable {
  private readonly holds = new Set<Hold>();
  private waiters: { count: number; resolve: (held: HeldRequest[]) => void }[] = [];

  /** Holds until released or `maxMs` passed (true), or the client went away or close() (false). */
  hold(info: HeldRequest, res: ServerResponse, maxMs?: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = maxMs === undefined ? undefined : setTimeout(() => h.settle(true), Math.min(MAX_TIMER_MS, Math.max(0, maxMs)));
      const onClose = (): void => h.settle(false);
      const h: Hold = {
        info,
        settle: (answer) => {
          if (!this.holds.delete(h)) return;
          clearTimeout(timer);
          res.off('close', onClose);
          resolve(answer);
        },
      };
      this.holds.add(h);
      res.once('close', onClose);
      this.notify();
    });
  }

  list(): HeldRequest[] {
    return [...this.holds].map((h) => ({ ...h.info }));
  }

  get size(): number {
    return this.holds.size;
  }

  release(filter: ReleaseFilter = {}): number {
    let n = 0;
    for (const h of [...this.holds]) {
      if (filter.requestId !== undefined && h.info.requestId !== filter.requestId) continue;
      if (filter.endpoint !== undefined && h.info.endpoint !== filter.endpoint) continue;
      if (filter.model !== undefined && h.info.model !== filter.model) continue;
      h.settle(true);
      n++;
    }
    return n;
  }

  /** Resolves once at least `count` answers are held at the same time, or on `signal` with those held then. */
  whenHeld(count = 1, signal?: AbortSignal): Promise<HeldRequest[]> {
    if (this.holds.size >= count || signal?.aborted) return Promise.resolve(this.list());
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(this.list());
      };
      const waiter = {
        count,
        resolve: (held: HeldRequest[]): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve(held);
        },
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Drops every hold without answering (the sandbox is closing). */
  cancelAll(): void {
    for (const h of [...this.holds]) h.settle(false);
  }

  private notify(): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => this.holds.size >= w.count);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => this.holds.size < w.count);
    const held = this.list();
    for (const w of ready) w.resolve(held);
  }
}
