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
