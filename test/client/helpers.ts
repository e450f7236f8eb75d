// Shared set-up for the client tests: a real sandbox on loopback, clients with a canary key, and
// checks that the key never shows up in an error or a log line.
import assert from 'node:assert/strict';
import net from 'node:net';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox';
import { SegmindClient, SegmindError } from '../../src/client';
import type { ClientOptions, ErrorCode } from '../../src/client/types';

/** A key shaped like a real one; if it shows up anywhere but the x-api-key header, a test fails. */
export const CANARY = 'SG_canary_3f9a7c1e5b2d4e6f';

export interface Harness {
  sb: Sandbox;
  logs: string[];
  client(opts?: Partial<ClientOptions>): SegmindClient;
}

/**
 * Starts one sandbox for the enclosing describe() and closes the clients each test made.
 * After every test the collected log lines are checked for the key.
 */
export function useSandbox(sbOptions: SandboxOptions = {}, clientDefaults: Partial<ClientOptions> = {}): Harness {
  const timeScale = sbOptions.timeScale ?? 0.001;
  const clients: SegmindClient[] = [];
  const h: Harness = {
    sb: undefined as unknown as Sandbox,
    logs: [],
    client(opts = {}) {
      const c = new SegmindClient({
        apiKey: CANARY,
        baseUrl: h.sb.url,
        uploadUrl: h.sb.uploadUrl,
        timeScale,
        requestsPerMinute: 100_000,
        log: (level, message) => h.logs.push(`${level} ${message}`),
        ...clientDefaults,
        ...opts,
      });
      clients.push(c);
      return c;
    },
  };
  before(async () => {
    h.sb = await startSandbox({ timeScale, apiKeys: [CANARY], durationSigma: 0, ...sbOptions });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    for (const line of h.logs) assert.ok(!line.includes(CANARY), `log line leaks the key: ${line}`);
    h.logs = [];
    h.sb.reset();
  });
  after(async () => {
    await h.sb?.close();
  });
  return h;
}

/** Asserts no trace of the key in an error: message, stack, cause chain, Segmind's text, JSON form. */
export function assertNoKey(err: unknown, key = CANARY): void {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    const rec = e as { message?: unknown; stack?: unknown; segmindError?: unknown; cause?: unknown };
    for (const field of [rec.message, rec.stack, rec.segmindError]) {
      if (typeof field === 'string') assert.ok(!field.includes(key), `error leaks the key: ${field}`);
    }
    assert.ok(!JSON.stringify(e).includes(key), 'error JSON leaks the key');
    e = rec.cause;
  }
}

/** Awaits a rejection with a SegmindError of the given code (and no key in it). */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<SegmindError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `expected a SegmindError '${code}', but the call succeeded`);
  assert.ok(caught instanceof SegmindError, `expected a SegmindError '${code}', got ${String(caught)}`);
  assert.equal(caught.code, code, `code: ${caught.message}`);
  assert.ok(caught.message.length > 0);
  assertNoKey(caught);
  return caught;
}

/** A loopback port with nothing listening on it. */
export async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls a condition every few ms; fails after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(2);
  }
}

/** Times of recorded requests matching a filter, ascending. */
export function times(sb: Sandbox, filter: (r: Sandbox['requests'][number]) => boolean = () => true): number[] {
  return sb.requests.filter(filter).map((r) => r.time).sort((a, b) => a - b);
}

export const SADTALKER = { input_image: 'https://example.com/face.jpg', input_audio: 'https://example.com/voice.mp3' };
