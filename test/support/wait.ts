// Waiting for an effect rather than for a guessed number of milliseconds.

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once `check` holds, looking again every 5 ms: for effects that have no event of their own
 * (a socket closing on the other side). The limit only turns a hang into a readable failure.
 */
export async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !check(); await sleep(5)) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}

/** Resolves waits on an event stream: each notify() re-checks every pending wait. */
export class Notifier {
  private waiters: (() => void)[] = [];

  notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `test` holds (re-checked on every notify()), or rejects after `ms` with `describe()`. */
  until(test: () => boolean, ms: number, what: string, describe: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; seen: ${describe()}`));
      }, ms);
      const check = () => {
        if (test()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }
}
