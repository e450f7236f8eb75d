// Backoff arithmetic and server hints (Retry-After, x-rate-limit-reset-at-utc). Pure except sleep().

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 60_000;

/** Full-jitter exponential backoff for the given retry number (1 = first retry), in real ms. */
export function backoffDelay(retry: number, timeScale: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, retry - 1)) * timeScale;
  return Math.floor(random() * ceiling);
}

type HeaderBag = Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The earliest time (epoch ms) the server says a retry may be sent, or undefined.
 * Retry-After in seconds is API time (scaled by timeScale); absolute dates are taken as they are.
 * The later of the two hints wins.
 */
export function retryHintTime(headers: HeaderBag, timeScale: number, now: number = Date.now()): number | undefined {
  const hints: number[] = [];
  const retryAfter = header(headers, 'retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) hints.push(now + Number(retryAfter) * 1000 * timeScale);
    else {
      const t = Date.parse(retryAfter);
      if (Number.isFinite(t)) hints.push(t);
    }
  }
  const resetAt = header(headers, 'x-rate-limit-reset-at-utc')?.trim();
  if (resetAt) {
    const t = parseResetTime(resetAt);
    if (t !== undefined) hints.push(t);
  }
  const future = hints.filter((t) => t > now);
  return future.length ? Math.max(...future) : undefined;
}

/** ISO 8601 (with or without zone; no zone means UTC, as the header name says) or an HTTP date; epoch seconds too. */
export function parseResetTime(value: string): number | undefined {
  if (/^\d{10}(\.\d+)?$/.test(value)) return Number(value) * 1000;
  if (/^\d{13}$/.test(value)) return Number(value);
  const isoNoZone = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value);
  const t = Date.parse(isoNoZone ? `${value.replace(' ', 'T')}Z` : value);
  return Number.isFinite(t) ? t : undefined;
}

/** Resolves after ms, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
