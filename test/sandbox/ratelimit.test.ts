import assert from 'node:assert/strict';
import { SlidingWindowLimiter } from '../../src/sandbox/ratelimit';
import { KEY, ManualClock, SADTALKER, get, post, useSandbox } from './helpers';

describe('sandbox: rate limit', () => {
  // 60 API seconds = 600 ms of the test's clock at this scale
  const clock = new ManualClock();
  const sandbox = useSandbox({ timeScale: 0.01, rateLimitPerMinute: 3, apiKeys: [KEY, 'SG_other'], clock: clock.now });
  afterEach(() => sandbox().setRateLimit(3));

  it('answers 429 with x-rate-limit-reset-at-utc and no Retry-After once a key used its minute', async () => {
    const sb = sandbox();
    const t0 = clock.now();
    const submit = await post(`${sb.url}/v2/sadtalker`, SADTALKER);
    assert.equal(submit.status, 200);
    // status polls count too
    clock.advance(100);
    assert.equal((await get(submit.json.status_url)).status, 200);
    assert.equal((await get(submit.json.status_url)).status, 200);
    const limited = await get(submit.json.status_url);
    assert.equal(limited.status, 429);
    assert.deepEqual(limited.json, { error: 'Rate limit exceeded' });
    assert.equal(limited.headers['retry-after'], undefined);
    const resetAt = Date.parse(String(limited.headers['x-rate-limit-reset-at-utc']));
    assert.ok(Number.isFinite(resetAt), 'reset header is an ISO time');
    // the oldest slot frees one scaled minute (600 ms) after the submit
    assert.equal(resetAt, t0 + 600);
    // another key has its own window
    assert.equal((await get(submit.json.status_url, { 'x-api-key': 'SG_other' })).status, 200);
    // a slot is free again at the reset time, not before
    clock.advance(499);
    assert.equal((await get(submit.json.status_url)).status, 429);
    clock.advance(1);
    assert.equal((await get(submit.json.status_url)).status, 200);
    assert.equal(sb.count({ endpoint: 'status' }), 6);
  });

  it('changes the limit live with setRateLimit and lifts it with null', async () => {
    const sb = sandbox();
    sb.setRateLimit(1);
    assert.equal((await get(`${sb.url}/v2/requests/x/status`)).status, 404);
    assert.equal((await get(`${sb.url}/v2/requests/x/status`)).status, 429);
    sb.setRateLimit(null);
    for (let i = 0; i < 10; i++) assert.equal((await get(`${sb.url}/v2/requests/x/status`)).status, 404);
  });

  it('does not count the control API', async () => {
    const sb = sandbox();
    sb.setRateLimit(1);
    for (let i = 0; i < 5; i++) assert.equal((await get(`${sb.url}/__sandbox/info`, {})).status, 200);
    assert.equal((await get(`${sb.url}/v2/requests/x/status`)).status, 404);
  });
});

describe('sandbox: sliding window limiter', () => {
  it('frees a slot exactly one window after the oldest counted request', () => {
    const lim = new SlidingWindowLimiter(2, () => 1000);
    assert.deepEqual(lim.take('k', 0), { ok: true });
    assert.deepEqual(lim.take('k', 400), { ok: true });
    assert.deepEqual(lim.take('k', 500), { ok: false, resetAt: 1000 });
    assert.deepEqual(lim.take('k', 1000), { ok: true });
    assert.deepEqual(lim.take('k', 1100), { ok: false, resetAt: 1400 });
    assert.throws(() => lim.set(0), /positive integer/);
  });
});
