// The waiter while a COMPLETED job's output is fetched, against a real sandbox over loopback: every
// message keeps its own deadline during the download (one joining late with an earlier deadline
// too), an output host that keeps failing ends a message as output_unavailable (never a failed job)
// while the others go on waiting, and the result answer may be as large as the size limit allows.
import assert from 'node:assert/strict';
import { SegmindClient } from '../../src/client';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { basePrior } from '../../src/jobs/priors';
import { Waiter, type JobEnd, type WaiterOptions, type WatchedJob } from '../../src/jobs/waiter';

const KEY = 'SG_waiter_output_2b7c';
const SCALE = 0.002;
const INPUTS = { input_image: 'https://example.com/face.png', input_audio: 'https://example.com/voice.mp3' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('jobs/waiter: fetching the output', function () {
  this.timeout(30_000);
  let sb: Sandbox;
  let client: SegmindClient;
  let waiter: Waiter;

  before(async () => {
    sb = await startSandbox({ timeScale: SCALE, apiKeys: [KEY], durationSigma: 0 });
  });
  after(() => sb.close());
  beforeEach(() => {
    client = new SegmindClient({ apiKey: KEY, baseUrl: sb.url, uploadUrl: sb.uploadUrl, timeScale: SCALE, requestsPerMinute: 100_000, maxAttempts: 2 });
  });
  afterEach(async () => {
    waiter?.close();
    await client.close();
    sb.reset();
  });

  const later = (apiSeconds: number) => Date.now() + apiSeconds * 1000 * SCALE;
  const finished = async (): Promise<WatchedJob> => {
    sb.scriptJob({ outcome: 'complete', durationSeconds: 0 });
    const h = await client.submit('sadtalker', INPUTS);
    return { ...h, submittedAt: Date.parse(h.submittedAt) };
  };
  const until = async (what: string, cond: () => boolean) => {
    for (const end = Date.now() + 15_000; !cond(); await sleep(5)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  };

  it('a message joining during a failing download leaves at its own deadline as output_unavailable; the other then completes', async () => {
    waiter = new Waiter({ client, timeScale: SCALE, resultMode: 'buffer', folder: '', belief: (m) => basePrior(m) });
    const job = await finished();
    sb.fault({ endpoint: 'output', kind: { type: 'http', status: 503 }, times: Infinity });
    const patient = waiter.watch(job, later(10_000));
    await until('a failed download', () => sb.requests.some((r) => r.listener === 'files' && r.status === 503));
    const joinedAt = Date.now();
    const hasty = await waiter.watch(job, later(100)); // 200 ms
    assert.ok(Date.now() - joinedAt < 5_000, 'left at its deadline, not at the other one');
    assert.equal(hasty.kind, 'failed');
    const failed = hasty as Extract<JobEnd, { kind: 'failed' }>;
    assert.equal(failed.error.code, 'output_unavailable');
    assert.equal(failed.status, 'COMPLETED');
    assert.equal(failed.error.httpStatus, 503);
    assert.match(failed.output!, new RegExp(`^${sb.filesUrl}/outputs/${job.requestId}`));
    assert.ok(waiter.isWatching(job.requestId), 'the other message still waits');
    sb.clearFaults();
    const end = await patient;
    assert.equal(end.kind, 'completed', JSON.stringify(end));
    assert.ok(Buffer.isBuffer((end as { payload: Buffer }).payload));
  });

  it('a download under way at the deadline (no failure yet): timed out with status COMPLETED and the output URL', async () => {
    waiter = new Waiter({ client, timeScale: SCALE, resultMode: 'buffer', folder: '', belief: (m) => basePrior(m) });
    const job = await finished();
    sb.fault({ endpoint: 'output', kind: { type: 'endless_body', chunkBytes: 512, intervalMs: 20 }, times: Infinity });
    const end = await waiter.watch(job, later(300));
    assert.equal(end.kind, 'timeout');
    assert.equal((end as { status?: string }).status, 'COMPLETED');
    assert.match((end as { output?: string }).output!, new RegExp(`/outputs/${job.requestId}`));
    assert.equal(waiter.isWatching(job.requestId), false, 'the download was dropped with the last message');
  });

  it('buffer mode asks for a result answer with room for an inline output of the Buffer limit', async () => {
    const limits: Array<number | undefined> = [];
    // the real client, with the options of each result call noted on the way
    const spy: WaiterOptions['client'] = {
      status: (j, o) => client.status(j, o),
      download: (u, o) => client.download(u, o),
      result: (j, o) => (limits.push(o?.maxBytes), client.result(j, o)),
    };
    waiter = new Waiter({ client: spy, timeScale: SCALE, resultMode: 'buffer', folder: '', maxBytes: 3 * 1024 * 1024, belief: (m) => basePrior(m) });
    const end = await waiter.watch(await finished(), later(900));
    assert.equal(end.kind, 'completed');
    assert.deepEqual(limits, [4 * 1024 * 1024 + 1024 * 1024], '4/3 of the limit (base64) plus 1 MiB for the rest of the JSON');
  });
});
