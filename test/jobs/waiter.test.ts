// The waiter against a real sandbox over loopback HTTP with the real SegmindClient, at a compressed
// time scale: every end of a job, retries, result modes, stop, close.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmindClient } from '../../src/client';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { basePrior } from '../../src/jobs/priors';
import { Waiter, type JobClient, type JobEnd, type WaiterOptions, type WatchedJob } from '../../src/jobs/waiter';
import type { JobHandle } from '../../src/client/types';
import { until } from '../support/wait';

const KEY = 'SG_waiter_test_7e1d';
const SCALE = 0.002; // sadtalker's 107.5 s run in 215 ms
const SAMPLE = join(__dirname, '..', '..', 'assets', 'sample.mp4');
const INPUTS = { input_image: 'https://example.com/face.png', input_audio: 'https://example.com/voice.mp3' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('jobs/waiter against the sandbox', function () {
  this.timeout(20_000);
  let sb: Sandbox;
  let client: SegmindClient;
  let folder: string;
  const waiters: Waiter[] = [];

  before(async () => {
    sb = await startSandbox({ timeScale: SCALE, apiKeys: [KEY], durationSigma: 0 });
    folder = await mkdtemp(join(tmpdir(), 'segmind-waiter-'));
  });
  after(async () => {
    await sb.close();
    await rm(folder, { recursive: true, force: true });
  });
  beforeEach(() => {
    client = new SegmindClient({ apiKey: KEY, baseUrl: sb.url, uploadUrl: sb.uploadUrl, timeScale: SCALE, requestsPerMinute: 100_000, maxAttempts: 3 });
  });
  afterEach(async () => {
    for (const w of waiters.splice(0)) w.close();
    await client.close();
    sb.reset();
  });

  function waiter(opts: Partial<WaiterOptions> = {}): Waiter {
    const w = new Waiter({ client, timeScale: SCALE, resultMode: 'url', folder, belief: (m) => basePrior(m), ...opts });
    waiters.push(w);
    return w;
  }
  const toJob = (h: JobHandle): WatchedJob => ({ ...h, submittedAt: Date.parse(h.submittedAt) });
  const submit = async (payload: Record<string, unknown> = {}) => toJob(await client.submit('sadtalker', { ...INPUTS, ...payload }));
  const later = (apiSeconds: number) => Date.now() + apiSeconds * 1000 * SCALE;
  const statusPolls = (id: string) => sb.requests.filter((r) => r.endpoint === 'status' && r.requestId === id).length;
  /**
   * The real client, counting the status polls the waiter starts: "none after the end" is then
   * exact, where the sandbox may still see a poll that was on the wire when the wait ended.
   */
  const counted = (): { client: JobClient; polls: () => number } => {
    let n = 0;
    const c = client;
    return {
      client: { status: (job, o) => (n++, c.status(job, o)), result: (job, o) => c.result(job, o), download: (url, o) => c.download(url, o) },
      polls: () => n,
    };
  };
  /**
   * Where the run time the waiter observed must lie, in API seconds, by the sandbox's record of the
   * polls (the sandbox answers by the same clock it records with): between the midpoint of the last
   * poll that saw the job running and the first that saw it done, and the midpoint of that first one
   * and `end`. Timers late on a busy machine move the polls, never these bounds' truth.
   */
  const observedBounds = (job: WatchedJob, end: number): [number, number] => {
    const doneAt = sb.jobs.get(job.requestId)!.doneAt;
    const times = sb.requests.filter((r) => r.endpoint === 'status' && r.requestId === job.requestId).map((r) => r.time);
    const k = times.findIndex((t) => t >= doneAt);
    assert.ok(k >= 0, 'a poll saw the job done');
    const lastRunning = k > 0 ? times[k - 1] : job.submittedAt!;
    const api = (t: number) => (t - job.submittedAt!) / (1000 * SCALE);
    // 1 ms either way: the record and the waiter read the clock at slightly different instants
    return [api((lastRunning + times[k]) / 2 - 1), api((times[k] + end) / 2 + 1)];
  };

  it('completed: the output URL and the full result body, in far fewer polls than every 2 s', async () => {
    const observed: Array<[string, number]> = [];
    const job = await submit();
    const end = await waiter({ observed: (m, s) => observed.push([m, s]) }).watch(job, later(900));
    const [low] = observedBounds(job, Date.now());
    assert.equal(end.kind, 'completed');
    if (end.kind !== 'completed') return;
    assert.match(end.payload as string, new RegExp(`^${sb.filesUrl}/`));
    assert.equal(end.result.status, 'COMPLETED');
    assert.ok(end.result.metrics && typeof end.result.metrics === 'object');
    const polls = statusPolls(job.requestId);
    assert.ok(polls >= 1 && polls <= 107.5 / 2 / 2, `polled ${polls} times for a 107.5 s job`);
    assert.equal(observed.length, 1);
    assert.equal(observed[0][0], 'sadtalker');
    // Segmind's own metrics (total_time) are the run time where present, not the polls' midpoint
    const total = (end.result.metrics as { total_time?: number }).total_time;
    assert.equal(observed[0][1], total, 'metrics.total_time is the observation');
    assert.equal(total, 107.5);
    assert.ok(low > 107.5 / 2, `a 107.5 s job was seen done after it ran: ${low}`);
  });

  it('learns from a job that was already COMPLETED at its first poll (no drift towards slow jobs)', async () => {
    sb.scriptJob({ outcome: 'complete', durationSeconds: 20 }); // far below the first poll (~50 s)
    const observed: Array<[string, number]> = [];
    const job = await submit();
    const end = await waiter({ observed: (m, s) => observed.push([m, s]) }).watch(job, later(900));
    const [low, high] = observedBounds(job, Date.now());
    assert.equal(end.kind, 'completed');
    assert.equal(statusPolls(job.requestId), 1, 'seen COMPLETED at the first poll');
    assert.equal(observed.length, 1, 'a fast job is learned from too');
    // Segmind's metrics say 20 s: that is the observation, not the midpoint before the first poll
    assert.equal(observed[0][1], 20);
    assert.ok(high > 20, `the first poll came after it finished (${low}-${high})`);
  });

  it('FAILED: Segmind\'s error text, code failed, HTTP 422', async () => {
    sb.scriptJob({ outcome: 'fail', error: 'Sandbox: no face found', durationSeconds: 20 });
    const job = await submit();
    const end = await waiter().watch(job, later(900));
    assert.equal(end.kind, 'failed');
    if (end.kind !== 'failed') return;
    assert.equal(end.error.code, 'failed');
    assert.equal(end.error.httpStatus, 422);
    assert.match(end.error.message, /no face found/);
    assert.equal(end.status, 'FAILED');
  });

  it('unknown request id: not_found (404) after a single poll', async () => {
    const end = await waiter().watch({ requestId: 'no-such-request' }, later(900));
    assert.equal(end.kind, 'failed');
    if (end.kind !== 'failed') return;
    assert.equal(end.error.code, 'not_found');
    assert.equal(end.error.httpStatus, 404);
    assert.equal(statusPolls('no-such-request'), 1);
  });

  it('a job past the one-hour retention fails as expired without any request', async () => {
    const job = await submit();
    sb.resetRequests();
    const end = await waiter().watch({ ...job, submittedAt: Date.now() - 3601 * 1000 * SCALE }, later(900));
    assert.equal(end.kind, 'failed');
    if (end.kind !== 'failed') return;
    assert.equal(end.error.code, 'expired');
    assert.match(end.error.message, /one hour/);
    assert.equal(sb.requests.length, 0);
  });

  it('a wrong key: auth (401), not retried', async () => {
    const job = await submit();
    const bad = new SegmindClient({ apiKey: 'SG_wrong', baseUrl: sb.url, uploadUrl: sb.uploadUrl, timeScale: SCALE, requestsPerMinute: 100_000 });
    try {
      const end = await waiter({ client: bad }).watch({ ...job, submittedAt: undefined }, later(900));
      assert.equal(end.kind, 'failed');
      if (end.kind === 'failed') {
        assert.equal(end.error.code, 'auth');
        assert.equal(end.error.httpStatus, 401);
      }
      assert.equal(statusPolls(job.requestId), 1);
    } finally {
      await bad.close();
    }
  });

  it('timed out on time even while a status poll hangs (no answer within the headers timeout)', async () => {
    const job = await submit();
    // every status poll hangs unanswered (the client's headers timeout is 30 s); the message's deadline is 200 API s = 0.4 s away
    sb.fault({ endpoint: 'status', kind: { type: 'hold' }, times: Infinity });
    const started = Date.now();
    const end = await waiter().watch(job, later(200));
    const late = Date.now() - started - 200 * 1000 * SCALE;
    assert.equal(end.kind, 'timeout');
    assert.ok(sb.count({ endpoint: 'status' }) >= 1, 'a poll was hanging');
    // it leaves at the deadline plus the grace a last poll gets (5 API s), not when the poll gives up
    // (30 s): a loose bound, as timers run late on a busy machine
    assert.ok(late < 10_000, `left ${late} ms after its deadline while a poll hung`);
  });

  it('timed out: a job that never finishes ends at its deadline and polling stops', async () => {
    // running from the start, and polled at once (submission time unknown): the first answer,
    // PROCESSING, comes long before the deadline (500 API s = 1 s) even on a busy machine
    sb.scriptJob({ outcome: 'never', durationSeconds: 0 });
    const job = { ...(await submit()), submittedAt: undefined };
    const spy = counted();
    const end = await waiter({ client: spy.client }).watch(job, later(500));
    assert.equal(end.kind, 'timeout');
    assert.equal((end as { status?: string }).status, 'PROCESSING');
    const polls = spy.polls();
    assert.ok(polls >= 2, `a final poll at the deadline: ${polls}`);
    await until(() => statusPolls(job.requestId) >= 2, 'the polls to reach the sandbox');
    await sleep(100 * 1000 * SCALE);
    assert.equal(spy.polls(), polls, 'no poll after the end');
  });

  it('retryable errors do not end the job: 503s beyond the client\'s own retries, then completion', async () => {
    const job = await submit();
    // the client tries 3 times per poll; 7 failures span at least three polls of the waiter
    sb.fault({ endpoint: 'status', kind: { type: 'http', status: 503, body: { error: 'busy' } }, times: 7 });
    sb.fault({ endpoint: 'result', kind: { type: 'rate_limit', resetInSeconds: 2 }, times: 4 });
    const end = await waiter().watch(job, later(2000));
    assert.equal(end.kind, 'completed', JSON.stringify(end));
    assert.ok(sb.requests.filter((r) => r.status === 503).length === 7);
  });

  it('a garbled status answer is tried again, three in a row end the wait; a redirect ends it at once', async () => {
    const job = await submit();
    sb.fault({ endpoint: 'status', kind: { type: 'malformed_json' }, times: 2 });
    assert.equal((await waiter().watch(job, later(900))).kind, 'completed');
    const other = await submit();
    sb.fault({ endpoint: 'status', kind: { type: 'malformed_json' }, times: Infinity });
    const end = await waiter().watch(other, later(900));
    assert.equal(end.kind, 'failed');
    assert.equal((end as { error: { code: string } }).error.code, 'invalid_response');
    assert.equal(statusPolls(other.requestId), 3);
    // a redirect is not garbage but a wrong URL: the wait ends at once
    sb.clearFaults();
    const third = await submit();
    sb.fault({ endpoint: 'status', kind: { type: 'http', status: 302, headers: { location: 'http://127.0.0.1:9/x' } }, times: 1 });
    const redirected = await waiter().watch({ ...third, submittedAt: undefined }, later(900));
    assert.equal(redirected.kind, 'failed');
    assert.equal(statusPolls(third.requestId), 1);
  });

  it('buffer mode: the served video, downloaded without the key', async () => {
    const job = await submit();
    const end = await waiter({ resultMode: 'buffer' }).watch(job, later(900));
    assert.equal(end.kind, 'completed');
    const sample = await readFile(SAMPLE);
    assert.ok(Buffer.isBuffer((end as { payload: unknown }).payload));
    assert.ok(sample.equals((end as { payload: Buffer }).payload));
    const files = sb.requests.filter((r) => r.listener === 'files');
    assert.ok(files.length >= 1);
    assert.ok(files.every((r) => !r.apiKeyPresent), 'the key went to the output host');
  });

  it('base64 output is decoded for buffer mode', async () => {
    const job = await submit({ base64: true });
    const end = await waiter({ resultMode: 'buffer' }).watch(job, later(900));
    assert.equal(end.kind, 'completed');
    assert.ok((await readFile(SAMPLE)).equals((end as { payload: Buffer }).payload));
    assert.equal(sb.requests.filter((r) => r.listener === 'files').length, 0);
  });

  it('file mode: <id>.mp4 equal to the served video; a truncated download is retried; no .part left', async () => {
    const dir = join(folder, 'file-mode');
    const job = await submit();
    sb.fault({ endpoint: 'output', kind: { type: 'truncate_body', afterBytes: 1000 }, times: 1 });
    const end = await waiter({ resultMode: 'file', folder: dir }).watch(job, later(900));
    assert.equal(end.kind, 'completed', JSON.stringify(end));
    const path = (end as { payload: string }).payload;
    assert.equal(path, join(dir, `${job.requestId}.mp4`));
    assert.ok((await readFile(SAMPLE)).equals(await readFile(path)));
    assert.deepEqual(await readdir(dir), [`${job.requestId}.mp4`]);
    assert.equal(sb.requests.filter((r) => r.listener === 'files').length, 2);
  });

  it('file mode: a download that always breaks fails and leaves no file at all', async () => {
    const dir = join(folder, 'broken');
    const job = await submit();
    sb.fault({ endpoint: 'output', kind: { type: 'truncate_body', afterBytes: 500 }, times: Infinity });
    const end = await waiter({ resultMode: 'file', folder: dir }).watch(job, later(900));
    assert.equal(end.kind, 'failed');
    assert.match((end as { error: { message: string } }).error.message, /could not be fetched/);
    assert.deepEqual(await readdir(dir), []);
  });

  it('stop: every wait for the id ends as stopped at once, and polling stops', async () => {
    sb.scriptJob({ outcome: 'never' });
    const job = await submit();
    const spy = counted();
    const w = waiter({ client: spy.client });
    const a = w.watch(job, later(900));
    const b = w.watch(job, later(900));
    await until(() => statusPolls(job.requestId) >= 1, 'polling to begin');
    assert.equal(w.stop(job.requestId), 2);
    const ends = await Promise.all([a, b]);
    assert.deepEqual(ends.map((e) => e.kind), ['stopped', 'stopped']);
    assert.equal(w.stop(job.requestId), 0);
    const polls = spy.polls();
    await sleep(100 * 1000 * SCALE);
    assert.equal(spy.polls(), polls, 'no poll after stop');
  });

  it('the same id twice is polled once; each wait keeps its own deadline', async () => {
    const job = await submit();
    // the real client, noting how many status polls of the job are under way at once
    let inFlight = 0;
    let most = 0;
    const c = client;
    const w = waiter({
      client: {
        status: async (ref, o) => {
          most = Math.max(most, ++inFlight);
          try {
            return await c.status(ref, o);
          } finally {
            inFlight--;
          }
        },
        result: (ref, o) => c.result(ref, o),
        download: (url, o) => c.download(url, o),
      },
    });
    const short = w.watch(job, later(30));
    const long = w.watch(job, later(900));
    // one loop for both: one job watched (a second loop would be a second one)
    assert.deepEqual(w.counts(), { queued: 1, running: 0 });
    assert.equal(w.isWatching(job.requestId), true);
    const [s, l] = await Promise.all([short, long]);
    assert.equal(s.kind, 'timeout');
    assert.equal(l.kind, 'completed');
    assert.equal(most, 1, 'never two polls of the job at once');
    assert.ok(statusPolls(job.requestId) >= 2, 'polled at the short deadline and on to completion');
  });

  it('counts queued and running jobs for the status', async () => {
    const changes: Array<{ queued: number; running: number }> = [];
    const w = waiter({ onChange: () => changes.push(w.counts()) });
    const jobs = await Promise.all([submit(), submit()]);
    await Promise.all(jobs.map((j) => w.watch(j, later(900))));
    assert.deepEqual(changes[0], { queued: 1, running: 0 });
    assert.ok(changes.some((c) => c.running > 0));
    assert.deepEqual(w.counts(), { queued: 0, running: 0 });
  });

  it('lists the jobs it waits for, with model and start, for the progress line', async () => {
    const seen: Array<Array<{ requestId: string; model?: string; since: number }>> = [];
    const w = waiter({ onChange: () => seen.push([...w.jobs()]) });
    const job = await submit();
    await w.watch(job, later(900));
    const first = seen[0];
    assert.equal(first.length, 1);
    assert.equal(first[0].requestId, job.requestId);
    assert.equal(first[0].model, job.model);
    assert.equal(first[0].since, job.submittedAt, 'since the submission');
    assert.deepEqual([...w.jobs()], [], 'none once it ended');
  });

  it('close: every wait ends as closed at once, requests are aborted and none is sent after', async () => {
    sb.scriptJob({ outcome: 'never', times: 5 });
    const jobs = await Promise.all([1, 2, 3, 4, 5].map(() => submit()));
    // unanswered polls, so that requests are in flight when close() comes
    sb.fault({ endpoint: 'status', kind: { type: 'hold' }, times: Infinity });
    const w = waiter();
    const ends: Promise<JobEnd>[] = jobs.map((j) => w.watch({ ...j, submittedAt: undefined }, later(900)));
    await sb.whenHeld(5);
    const started = Date.now();
    w.close();
    const all = await Promise.all(ends);
    // waiting for the requests would be waiting for ever (they are held): a loose bound for a busy machine
    assert.ok(Date.now() - started < 1000, 'close must not wait for requests');
    await until(() => sb.held().length === 0, 'every poll aborted');
    assert.deepEqual(all.map((e) => e.kind), ['closed', 'closed', 'closed', 'closed', 'closed']);
    const count = sb.requests.length;
    await sleep(400);
    assert.equal(sb.requests.length, count, 'a request was sent after close');
    assert.equal((await w.watch(jobs[0], later(900))).kind, 'closed');
  });
});
