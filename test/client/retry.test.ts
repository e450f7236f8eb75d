// Retry timing: server hints are obeyed, and a refused connection is the one network failure a
// submit may be re-sent after.
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { SegmindClient } from '../../src/client';
import { backoffDelay, parseResetTime, retryHintTime } from '../../src/client/retry';
import { CANARY, SADTALKER, deadPort, rejectsWith, times, useSandbox } from './helpers';

// Timers may fire up to a millisecond before Date.now() says they are due.
const CLOCK_SLACK_MS = 2;

describe('client: server retry hints', () => {
  // 1 API second = 5 ms
  const TS = 0.005;
  const h = useSandbox({ timeScale: TS });

  it('waits for Retry-After (API seconds) before re-sending, even when the reset header is sooner', async () => {
    const client = h.client();
    h.sb.fault({ endpoint: 'submit', kind: { type: 'rate_limit', retryAfterSeconds: 40, resetInSeconds: 1 } });
    await client.submit('sadtalker', SADTALKER);
    const [first, second] = times(h.sb, (r) => r.endpoint === 'submit');
    assert.equal(h.sb.count({ endpoint: 'submit' }), 2);
    assert.ok(second - first >= 40 * 1000 * TS - CLOCK_SLACK_MS, `retry after ${second - first} ms, Retry-After said 200 ms`);
  });

  it('waits until x-rate-limit-reset-at-utc before re-sending', async () => {
    const client = h.client();
    h.sb.fault({ endpoint: 'status', kind: { type: 'rate_limit', resetInSeconds: 50 } });
    await client.status({ requestId: 'x', submittedAt: new Date().toISOString() }).catch(() => undefined);
    const [first, second] = times(h.sb, (r) => r.endpoint === 'status');
    assert.ok(second - first >= 50 * 1000 * TS - CLOCK_SLACK_MS, `retry after ${second - first} ms, reset was 250 ms away`);
  });

  it('pauses at least one full window after a 429 that carries no hint', async () => {
    const client = h.client();
    h.sb.fault({ endpoint: 'status', kind: { type: 'http', status: 429, body: { error: 'slow down' } } });
    const job = { requestId: 'x', submittedAt: new Date().toISOString() };
    await client.status(job).catch(() => undefined);
    const [first, second] = times(h.sb, (r) => r.endpoint === 'status');
    assert.ok(second - first >= 60_000 * TS - CLOCK_SLACK_MS, `retry after ${second - first} ms, window is 300 ms`);
  });

  it('honours Retry-After on a 503 of a GET too', async () => {
    const client = h.client();
    h.sb.fault({ endpoint: 'status', kind: { type: 'http', status: 503, headers: { 'retry-after': '30' } } });
    await client.status({ requestId: 'x', submittedAt: new Date().toISOString() }).catch(() => undefined);
    const [first, second] = times(h.sb, (r) => r.endpoint === 'status');
    assert.ok(second - first >= 30 * 1000 * TS - CLOCK_SLACK_MS, `retry after ${second - first} ms`);
  });

  it('gives up at once with rate_limited and retryAt when the advertised wait is absurdly long', async () => {
    const client = h.client();
    h.sb.fault({ endpoint: 'status', kind: { type: 'rate_limit', resetInSeconds: 86_400 } });
    const err = await rejectsWith(client.status({ requestId: 'x' }), 'rate_limited');
    assert.equal(err.retryable, true);
    assert.ok(err.retryAt && err.retryAt > Date.now());
    assert.equal(h.sb.count({ endpoint: 'status' }), 1);
  });
});

describe('client: connection refused', () => {
  let sb: Sandbox | undefined;
  const clients: SegmindClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await sb?.close();
    sb = undefined;
  });

  it('retries a submit on a refused connection (nothing was sent) and fails with not_sent, retryable, safe to resubmit', async () => {
    const port = await deadPort();
    const logs: string[] = [];
    const client = new SegmindClient({
      apiKey: CANARY,
      baseUrl: `http://127.0.0.1:${port}`,
      timeScale: 0.001,
      maxAttempts: 4,
      log: (_l, m) => logs.push(m),
    });
    clients.push(client);
    const err = await rejectsWith(client.submit('sadtalker', SADTALKER), 'not_sent');
    assert.equal(err.retryable, true, 'nothing reached the server, so trying again is safe');
    assert.equal(err.resubmitSafe, true);
    assert.equal(err.attempts, 4);
    assert.match(err.message, /connection refused/);
    assert.match(err.message, /Nothing was sent/);
    assert.equal(logs.filter((l) => /retry \d of 3/.test(l)).length, 3, logs.join('\n'));
    assert.equal(client.stats.sent, 4, 'every attempt went through the budget');
    for (const l of logs) assert.ok(!l.includes(CANARY));
  });

  // RFC 6761: names under .invalid never resolve, so this needs no network and reaches no one
  it('a host name that does not resolve (DNS) is not_sent too: retried like a refused connection, worded as nothing sent', async () => {
    const logs: string[] = [];
    const client = new SegmindClient({
      apiKey: CANARY,
      baseUrl: 'https://api.segmind-sandbox.invalid',
      uploadUrl: 'https://uploads.segmind-sandbox.invalid/upload-asset',
      timeScale: 0.001,
      maxAttempts: 3,
      log: (_l, m) => logs.push(m),
    });
    clients.push(client);
    for (const call of [() => client.submit('sadtalker', SADTALKER), () => client.uploadAsset([Buffer.from('x')])]) {
      logs.length = 0;
      const err = await rejectsWith(call(), 'not_sent');
      assert.equal(err.retryable, true);
      assert.equal(err.resubmitSafe, true, 'nothing was sent, so no job can exist');
      assert.equal(err.attempts, 3, 'a POST is retried: nothing reached any server');
      assert.match(err.message, /segmind-sandbox\.invalid/);
      assert.match(err.message, /(host name not found \(DNS\) \(ENOTFOUND\)|DNS lookup failed temporarily \(EAI_AGAIN\))/);
      assert.match(err.message, /Nothing was sent\.$/);
      assert.doesNotMatch(err.message, /may or may not have been/);
      assert.equal(logs.filter((l) => /retry \d of 2/.test(l)).length, 2, logs.join('\n'));
    }
  });

  it('a submit refused at first succeeds once the server is up, and is sent exactly once', async () => {
    const port = await deadPort();
    let starting: Promise<void> | undefined;
    const client = new SegmindClient({
      apiKey: CANARY,
      baseUrl: `http://127.0.0.1:${port}`,
      timeScale: 0.05, // backoff up to 50 ms, 100 ms, ...: time enough to start the sandbox
      maxAttempts: 10,
      log: () => {
        starting ??= startSandbox({ port, apiKeys: [CANARY], timeScale: 0.001 }).then((s) => {
          sb = s;
        });
      },
    });
    clients.push(client);
    const job = await client.submit('sadtalker', SADTALKER);
    await starting;
    assert.ok(sb, 'the first attempt was refused and logged a retry');
    assert.equal(sb.count({ endpoint: 'submit' }), 1);
    assert.ok(sb.jobs.has(job.requestId));
  });
});

describe('client: retry arithmetic', () => {
  it('full jitter: between 0 and min(cap, base * 2^n) in API time', () => {
    assert.equal(backoffDelay(1, 1, () => 0.999999), 999);
    assert.equal(backoffDelay(3, 1, () => 0.5), 2000);
    assert.equal(backoffDelay(20, 1, () => 0.999999), 59_999);
    assert.equal(backoffDelay(20, 0.001, () => 0.999999), 59);
    assert.equal(backoffDelay(2, 1, () => 0), 0);
  });

  it('reads Retry-After as seconds (scaled) or an HTTP date, and the reset header as an absolute time', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(retryHintTime({ 'retry-after': '7' }, 1, now), now + 7000);
    assert.equal(retryHintTime({ 'retry-after': '7' }, 0.01, now), now + 70);
    assert.equal(retryHintTime({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }, 0.01, now), now + 30_000);
    assert.equal(retryHintTime({ 'x-rate-limit-reset-at-utc': '2025-01-01T00:00:12.500Z' }, 1, now), now + 12_500);
    assert.equal(retryHintTime({ 'x-rate-limit-reset-at-utc': '2025-01-01T00:00:12' }, 1, now), now + 12_000, 'no zone means UTC');
    assert.equal(
      retryHintTime({ 'retry-after': '5', 'x-rate-limit-reset-at-utc': '2025-01-01T00:00:12Z' }, 1, now),
      now + 12_000,
      'the later hint wins',
    );
    assert.equal(retryHintTime({ 'x-rate-limit-reset-at-utc': '2024-12-31T23:00:00Z' }, 1, now), undefined, 'past');
    assert.equal(retryHintTime({ 'retry-after': 'soon' }, 1, now), undefined);
    assert.equal(parseResetTime('1735689600'), now);
  });
});
