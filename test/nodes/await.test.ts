// The 'segmind await' node in the real Node-RED runtime (test helper) against a real sandbox at a
// compressed time scale: each outcome on its output, resume, stop, timeouts, result modes, the key,
// a rate-limited account, redeploys and close.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmindClient } from '../../src/client';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { TestClock } from '../support/clock';
import { API_KEY, awaitFlow, Collector, credentials, helper, initI18n, ROOT, sets, sleep } from './await-harness';
import { until } from '../support/wait';
import { formatCost } from '../../src/jobs/progress';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { hooks, i18n } = require('@node-red/util');

const SCALE = 0.002; // an API second lasts 2 ms: sadtalker's 107.5 s take 215 ms
const SAMPLE = join(ROOT, 'assets', 'sample.mp4');
const INPUTS = { input_image: 'https://example.com/face.png', input_audio: 'https://example.com/voice.mp3' };

describe('segmind await node (runtime)', function () {
  this.timeout(20_000);
  let sb: Sandbox;
  let submitter: SegmindClient;
  let folder: string;
  // the sandbox's clock: the wall clock, but a test can stop the jobs' progress while it acts
  const clock = new TestClock();

  before(async () => {
    initI18n();
    sb = await startSandbox({ timeScale: SCALE, apiKeys: [API_KEY, 'SG_submitter'], durationSigma: 0, clock: clock.now });
    // a second key submits, so that the node's own key and budget are all the node's
    submitter = new SegmindClient({ apiKey: 'SG_submitter', baseUrl: sb.url, uploadUrl: sb.uploadUrl, timeScale: SCALE, requestsPerMinute: 100000 });
    folder = await mkdtemp(join(tmpdir(), 'segmind-await-node-'));
  });
  after(async () => {
    await submitter.close();
    await sb.close();
    await rm(folder, { recursive: true, force: true });
  });
  afterEach(async () => {
    await helper.unload();
    sb.reset();
    sb.setRateLimit(null);
    clock.thaw();
  });

  async function load(o: { await?: Record<string, unknown>; config?: Record<string, unknown>; key?: string } = {}): Promise<Collector> {
    await helper.load(sets() as never, awaitFlow(sb, { scale: SCALE, ...o }) as never, credentials(o.key) as never);
    return new Collector().attach();
  }
  const submit = async (model = 'sadtalker', extra: Record<string, unknown> = {}) => submitter.submit(model, { ...INPUTS, ...extra });
  const send = (msg: Record<string, unknown>) => helper.getNode('aw').receive(msg);

  it('completed: msg.payload is the output URL, msg.segmind.result the whole body; status shows progress, then the cost', async () => {
    const c = await load();
    const handle = await submit();
    send({ topic: 'keep me', segmind: handle });
    const [d] = await c.waitFor(1);
    assert.equal(d.output, 1);
    assert.equal(d.msg.topic, 'keep me');
    assert.match(d.msg.payload, new RegExp(`^${sb.filesUrl}/`));
    assert.equal(d.msg.segmind.requestId, handle.requestId);
    assert.equal(d.msg.segmind.status, 'COMPLETED');
    assert.equal(d.msg.segmind.result.output, d.msg.payload);
    assert.ok(d.msg.segmind.result.metrics);
    await sleep(1100); // the status updater shows at most one change per second
    assert.equal(c.completes, 1);
    const texts = c.statuses.map((s) => s.text).filter(Boolean);
    assert.ok(texts.some((t) => /^sadtalker \d+ % · ~\d+ (s|min)$/.test(t)), JSON.stringify(c.statuses));
    // the sandbox reports metrics.cost as Segmind does
    const cost = d.msg.segmind.result.metrics.cost;
    assert.equal(typeof cost, 'number');
    assert.deepEqual(c.statuses[c.statuses.length - 1], { fill: 'green', shape: 'dot', text: `completed · ${formatCost(cost)}` });
  });

  it('failed: a FAILED job with Segmind\'s text, code and HTTP status', async () => {
    const c = await load();
    sb.scriptJob({ outcome: 'fail', error: 'Sandbox: audio too short', durationSeconds: 30 });
    const handle = await submit();
    send({ segmind: handle });
    const [d] = await c.waitFor(1);
    assert.equal(d.output, 2);
    assert.equal(d.msg.error.code, 'failed');
    assert.equal(d.msg.error.httpStatus, 422);
    assert.match(d.msg.error.message, /audio too short/);
    assert.equal(d.msg.segmind.status, 'FAILED');
  });

  it('failed: unknown request id (404), wrong key (401), no request id at all', async () => {
    const c = await load({ key: 'SG_wrong_key' });
    send({ payload: 'no-such-request-id' });
    send({ payload: { not: 'an id' } });
    const ds = await c.waitFor(2);
    assert.ok(ds.every((d) => d.output === 2));
    const byCode = Object.fromEntries(ds.map((d) => [d.msg.error.code, d.msg.error]));
    // with a wrong key Segmind answers 401 before it looks for the request
    assert.equal(byCode.auth.httpStatus, 401);
    assert.match(byCode.invalid_input.message, /^msg\.segmind\.requestId is nothing: the await node needs a Segmind request id/);
    assert.equal(byCode.invalid_input.field, 'msg.segmind.requestId');
    // the job behind each is unknown or exists: sending the message to the model node again is not known to be safe
    assert.ok(ds.every((d) => d.msg.error.resubmitSafe === false));
    await helper.unload();
    sb.reset();
    const c2 = await load();
    send({ payload: 'no-such-request-id' });
    const [nf] = await c2.waitFor(1);
    assert.equal(nf.output, 2);
    assert.deepEqual([nf.msg.error.code, nf.msg.error.httpStatus], ['not_found', 404]);
    const keyed = JSON.stringify([...ds, nf].map((d) => d.msg));
    assert.ok(!keyed.includes('SG_wrong_key') && !keyed.includes(API_KEY), 'a key leaked into a message');
  });

  it("failed: the client's reason is in the runtime language (German), with Segmind's own words", async () => {
    await i18n.i.changeLanguage('de');
    try {
      const c = await load();
      const handle = await submit();
      sb.fault({ endpoint: 'status', kind: { type: 'http', status: 401, body: { error: 'Invalid API key' } }, times: Infinity });
      send({ segmind: handle });
      const [d] = await c.waitFor(1);
      assert.equal(d.output, 2);
      assert.deepEqual([d.msg.error.code, d.msg.error.httpStatus], ['auth', 401]);
      assert.match(d.msg.error.message, /^Segmind hat den API-Schlüssel abgelehnt \(HTTP 401\): Invalid API key\. Prüfen Sie /);
      assert.ok(!JSON.stringify(d.msg).includes(API_KEY));
      // a FAILED job: our words in German, Segmind's reason as Segmind gave it
      sb.clearFaults();
      sb.scriptJob({ outcome: 'fail', error: 'No face detected', durationSeconds: 5 });
      const failed = await submit();
      send({ segmind: failed });
      const [f] = await c.waitFor(2).then((all) => all.slice(1));
      assert.equal(f.output, 2);
      assert.equal(f.msg.error.message, `Segmind-Auftrag ${failed.requestId} (sadtalker) FEHLGESCHLAGEN: No face detected`);
    } finally {
      await i18n.i.changeLanguage('en-US');
    }
  });

  it('failed: a job already past Segmind\'s one-hour retention, without a request', async () => {
    const c = await load();
    const handle = await submit();
    sb.resetRequests();
    send({ segmind: { ...handle, submittedAt: new Date(Date.now() - 3700 * 1000 * SCALE).toISOString() } });
    const [d] = await c.waitFor(1);
    assert.equal(d.output, 2);
    assert.equal(d.msg.error.code, 'expired');
    assert.match(d.msg.error.message, /more than one hour ago.*one hour after submission/);
    assert.equal(sb.requests.length, 0);
  });

  it('timed out: per-message timeout; the message keeps the id; wired back it resumes and completes', async () => {
    const c = await load();
    const handle = await submit('sadtalker');
    // 20 API seconds: long before the ~107 s run ends
    send({ segmind: handle, timeout: 20 });
    const [late] = await c.waitFor(1);
    assert.equal(late.output, 3);
    assert.equal(late.msg.segmind.timedOut, true);
    assert.equal(late.msg.segmind.requestId, handle.requestId);
    assert.match(late.msg.segmind.message, /one hour/);
    // wire it back (the node's own timeout now applies)
    delete late.msg.timeout;
    send(late.msg);
    const [, done] = await c.waitFor(2);
    await c.waitForCompletes(2); // the complete node hears of done() asynchronously
    assert.equal(done.output, 1);
    assert.equal(done.msg.segmind.requestId, handle.requestId);
    assert.equal(done.msg.segmind.timedOut, undefined);
    await sleep(50);
    assert.equal(c.completes, 2);
  });

  it('the node timeout applies to a job that never finishes', async () => {
    // 500 API s = 1 s: time enough on a busy machine for the first poll, made at once for a job
    // whose submission time is unknown, to come back PROCESSING (the job runs from the start)
    const c = await load({ await: { timeout: 500 } });
    sb.scriptJob({ outcome: 'never', durationSeconds: 0 });
    send({ segmind: { ...(await submit()), submittedAt: undefined } });
    const [d] = await c.waitFor(1);
    assert.equal(d.output, 3);
    assert.equal(d.msg.segmind.timedOut, true);
    assert.equal(d.msg.segmind.status, 'PROCESSING');
    assert.ok(sb.requests.some((r) => r.endpoint === 'status' && r.status === 200), 'polled');
  });

  it('resume by a bare request id in msg.payload', async () => {
    const c = await load();
    const handle = await submit();
    send({ payload: handle.requestId });
    const [d] = await c.waitFor(1);
    assert.equal(d.output, 1);
    assert.equal(d.msg.segmind.requestId, handle.requestId);
    assert.match(d.msg.payload, /^http:/);
  });

  it('stop: the waiting message leaves on output 3 with stopped: true; the stop message is done with no output', async () => {
    const c = await load();
    sb.scriptJob({ outcome: 'never' });
    const handle = await submit();
    // polls are held unanswered: when stop comes, the one poll under way has reached the sandbox,
    // so any poll it sees later was started after the stop
    sb.fault({ endpoint: 'status', kind: { type: 'hold' }, times: Infinity });
    send({ segmind: { ...handle, submittedAt: undefined } }); // polled at once
    await sb.whenHeld(1);
    send({ payload: handle.requestId, stop: true });
    const [d] = await c.waitFor(1);
    assert.equal(d.output, 3);
    assert.equal(d.msg.segmind.stopped, true);
    await c.waitForCompletes(2); // done() once for the waiting message and once for the stop message
    await sleep(50);
    assert.equal(c.deliveries.length, 1);
    assert.equal(c.completes, 2, 'done() once for the waiting message and once for the stop message');
    const polls = sb.requests.filter((r) => r.endpoint === 'status').length;
    await sleep(200);
    assert.equal(sb.requests.filter((r) => r.endpoint === 'status').length, polls, 'still polling after stop');
  });

  it('buffer result: the served video as a Buffer; the key never went to the output host', async () => {
    const c = await load({ await: { result: 'buffer' } });
    send({ segmind: await submit() });
    const [d] = await c.waitFor(1);
    assert.equal(d.output, 1);
    assert.ok(Buffer.isBuffer(d.msg.payload));
    assert.ok((await readFile(SAMPLE)).equals(d.msg.payload));
    const files = sb.requests.filter((r) => r.listener === 'files');
    assert.ok(files.length >= 1 && files.every((r) => !r.apiKeyPresent));
    assert.ok(sb.requests.filter((r) => r.listener === 'api').every((r) => r.apiKeyPresent));
  });

  it('file result: the video in the folder, equal to the served one; no .part after a broken download', async () => {
    const dir = join(folder, 'files');
    const c = await load({ await: { result: 'file', folder: dir } });
    const handle = await submit();
    sb.fault({ endpoint: 'output', kind: { type: 'truncate_body', afterBytes: 2048 }, times: 1 });
    send({ segmind: handle });
    const [d] = await c.waitFor(1);
    assert.equal(d.output, 1);
    assert.equal(d.msg.payload, join(dir, `${handle.requestId}.mp4`));
    assert.ok((await readFile(SAMPLE)).equals(await readFile(d.msg.payload)));
    assert.deepEqual(await readdir(dir), [`${handle.requestId}.mp4`]);
    assert.ok(sb.requests.filter((r) => r.listener === 'files').every((r) => !r.apiKeyPresent));
  });

  it('a rate-limited account (5 requests/minute, budget 5/minute): all 10 jobs complete, none fails', async function () {
    this.timeout(30_000);
    const handles = await Promise.all(Array.from({ length: 10 }, () => submit('sadtalker')));
    sb.resetRequests();
    sb.setRateLimit(5);
    const c = await load({ config: { rpm: 5 } });
    const started = Date.now();
    for (const h of handles) send({ segmind: h });
    const ds = await c.waitFor(10, 25_000);
    const minutes = (Date.now() - started) / (60_000 * SCALE);
    // the budget, not luck, kept it under the limit: about 5 per minute over the whole run
    assert.ok(sb.requests.length <= 5 * minutes + 5, `${sb.requests.length} requests in ${minutes.toFixed(1)} API minutes`);
    assert.deepEqual(ds.map((d) => d.output), Array(10).fill(1), JSON.stringify(ds.map((d) => d.msg.error)));
    assert.deepEqual(new Set(ds.map((d) => d.msg.segmind.requestId)).size, 10);
    const limited = sb.requests.filter((r) => r.status === 429).length;
    assert.ok(limited <= 2, `${limited} answers were 429`);
  });

  it('status: jobs whose polls the request budget holds back show "waiting for budget" in yellow', async function () {
    this.timeout(30_000);
    const handles = await Promise.all(Array.from({ length: 10 }, () => submit('sadtalker')));
    // one request per API minute (120 ms here) for ten jobs: most polls wait their turn
    const c = await load({ config: { rpm: 1 }, await: { timeout: 3000 } });
    for (const h of handles) send({ segmind: h });
    await until(() => c.statuses.some((s) => /waiting for budget$/.test(s.text ?? '')), 'a waiting-for-budget status');
    const held = c.statuses.find((s) => /waiting for budget$/.test(s.text ?? ''));
    assert.equal(held.fill, 'yellow');
    assert.equal(held.shape, 'ring');
    assert.match(held.text, /^sadtalker \d+ % · ~\S+ (s|min|h) · \d+ more · ([1-9]|10) waiting for budget$/);
  });

  it('redeploy with jobs in flight: every job is delivered exactly once by the new instance', async () => {
    const flow = awaitFlow(sb, { scale: SCALE });
    await helper.load(sets() as never, flow as never, credentials() as never);
    let c = new Collector().attach();
    clock.freeze(); // no job finishes before the redeploy, however slow the machine
    const handles = await Promise.all(Array.from({ length: 6 }, () => submit('v-express'))); // ~196 s = 390 ms
    for (const h of handles) send({ segmind: h, keep: Buffer.from('dropped from the store'), n: h.requestId });
    await sleep(100);
    assert.equal(c.deliveries.length, 0);
    await helper.setFlows(flow.map((n) => (n.id === 'aw' ? { ...n, name: 'changed' } : n)), 'full', credentials());
    c = new Collector().attach();
    clock.thaw();
    const ds = await c.waitFor(6);
    await sleep(300);
    assert.equal(c.deliveries.length, 6, 'a job was delivered twice');
    assert.deepEqual(ds.map((d) => d.output), Array(6).fill(1));
    assert.deepEqual(new Set(ds.map((d) => d.msg.segmind.requestId)), new Set(handles.map((h) => h.requestId)));
    // within one process the message is handed over whole, Buffers included
    assert.ok(ds.every((d) => d.msg.n === d.msg.segmind.requestId && Buffer.isBuffer(d.msg.keep)));
  });

  it('close with jobs in flight: within a second, every request aborted, none after; removal keeps the jobs for the node\'s return', async () => {
    const c = await load();
    sb.scriptJob({ outcome: 'never', times: 8 });
    const handles = await Promise.all(Array.from({ length: 8 }, () => submit()));
    // every poll is held unanswered until it is aborted (or Node-RED's 15 s close timeout)
    sb.fault({ endpoint: 'status', kind: { type: 'hold' }, times: Infinity });
    for (const h of handles) send({ segmind: { ...h, submittedAt: undefined } }); // polled at once
    await sb.whenHeld(8); // all 8 polls are in flight
    let doneCalls = 0;
    hooks.add('onComplete.awaitCloseTest', (e: { node: { id: string } }) => {
      if (e.node.id === 'aw') doneCalls++;
    });
    const started = Date.now();
    try {
      await helper.setFlows([{ id: 'f', type: 'tab' }], 'full', {}); // removes the await node
    } finally {
      hooks.remove('*.awaitCloseTest');
    }
    const took = Date.now() - started;
    // not aborted, the held polls would keep close waiting for Node-RED's 15 s close timeout; a
    // loose bound, as a loaded machine can take a while to stop and start flows
    assert.ok(took < 5000, `close took ${took} ms`);
    assert.equal(doneCalls, 8, 'done() for every waiting message');
    await until(() => sb.held().length === 0, 'every held poll aborted by its client');
    assert.ok(sb.requests.filter((r) => r.endpoint === 'status').every((r) => r.clientGone), 'every poll was aborted');
    const count = sb.requests.length;
    await sleep(300);
    assert.equal(sb.requests.length, count, 'a request was sent after close');
    assert.equal(c.deliveries.length, 0);
    // removed means disabled or deleted (Node-RED says the same): the jobs stay claimed in the
    // ledger, and the same node deployed again resumes every one of them
    sb.clearFaults();
    await helper.setFlows(awaitFlow(sb, { scale: SCALE }), 'full', credentials());
    const ids = new Set(handles.map((h) => h.requestId));
    for (let i = 0; i < 500; i++) {
      const polled = new Set(sb.requests.slice(count).filter((r) => r.endpoint === 'status').map((r) => r.requestId));
      if ([...ids].every((id) => polled.has(id))) break;
      await sleep(20);
    }
    const polled = new Set(sb.requests.slice(count).filter((r) => r.endpoint === 'status').map((r) => r.requestId));
    assert.deepEqual([...ids].filter((id) => !polled.has(id)), [], 'every job of the removed node resumed');
  });
});
