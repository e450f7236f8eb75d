// The output end of a job in the real await node (Node-RED runtime via the test helper) against a real
// sandbox over loopback: size limits for Buffer and file results (an output host that streams without
// end is cut off at the limit), the message timeout covering the download, an output host that keeps
// failing (output_unavailable, the job still COMPLETED), .part files left by a crash, and the default
// folder under Node-RED's user directory with owner-only rights.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmindClient } from '../../src/client';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { API_KEY, awaitFlow, Collector, credentials, helper, initI18n, ROOT, sets } from './await-harness';

const SCALE = 0.002; // an API second lasts 2 ms
const SAMPLE = join(ROOT, 'assets', 'sample.mp4');
const INPUTS = { input_image: 'https://example.com/face.png', input_audio: 'https://example.com/voice.mp3' };

describe('segmind await node: the output end (runtime)', function () {
  this.timeout(30_000);
  let sb: Sandbox;
  let submitter: SegmindClient;
  let root: string;

  before(async () => {
    initI18n();
    sb = await startSandbox({ timeScale: SCALE, apiKeys: [API_KEY, 'SG_submitter'], durationSigma: 0 });
    submitter = new SegmindClient({ apiKey: 'SG_submitter', baseUrl: sb.url, uploadUrl: sb.uploadUrl, timeScale: SCALE, requestsPerMinute: 100000 });
    root = await mkdtemp(join(tmpdir(), 'segmind-await-output-'));
  });
  after(async () => {
    await submitter.close();
    await sb.close();
    await rm(root, { recursive: true, force: true });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    sb.reset();
  });

  async function load(o: { await?: Record<string, unknown> } = {}): Promise<Collector> {
    await helper.load(sets() as never, awaitFlow(sb, { scale: SCALE, ...o }) as never, credentials() as never);
    return new Collector().attach();
  }
  /** a job that is already COMPLETED: the node's time is the result fetch and the download */
  const finished = async () => {
    sb.scriptJob({ outcome: 'complete', durationSeconds: 0 });
    return submitter.submit('sadtalker', INPUTS);
  };
  const send = (msg: Record<string, unknown>) => helper.getNode('aw').receive(msg);
  const downloads = () => sb.requests.filter((r) => r.listener === 'files').length;

  it('Buffer mode: an output host streaming without end is cut off at the Buffer limit: output_too_large, job COMPLETED', async () => {
    const c = await load({ await: { result: 'buffer', maxBufferMB: 1 } });
    const handle = await finished();
    sb.fault({ endpoint: 'output', kind: { type: 'endless_body' }, times: Infinity });
    send({ segmind: handle });
    const [d] = await c.waitFor(1, 20_000);
    assert.equal(d.output, 2, JSON.stringify(d.msg.segmind));
    assert.equal(d.msg.error.code, 'output_too_large');
    assert.match(d.msg.error.message, new RegExp(`output of request ${handle.requestId} \\(more than 1 MiB\\) is larger than the Buffer limit of 1 MiB`));
    assert.match(d.msg.error.message, /msg\.segmind\.output/);
    assert.equal(d.msg.segmind.status, 'COMPLETED', 'the job did not fail');
    assert.equal(d.msg.segmind.output, d.msg.segmind.result.output);
    assert.match(d.msg.segmind.output, new RegExp(`^${sb.filesUrl}/outputs/`));
    assert.ok(!Buffer.isBuffer(d.msg.payload), 'no partial Buffer on the message');
    assert.equal(downloads(), 1, 'not downloaded again');
  });

  it('Buffer mode: an announced size over the limit is refused before the body is read', async () => {
    // the sample is 18 KB; the limit 0.01 MB = 10 KiB
    const c = await load({ await: { result: 'buffer', maxBufferMB: 0.01 } });
    send({ segmind: await finished() });
    const [d] = await c.waitFor(1, 20_000);
    assert.equal(d.output, 2);
    assert.equal(d.msg.error.code, 'output_too_large');
    const size = (await stat(SAMPLE)).size;
    assert.match(d.msg.error.message, new RegExp(`\\(${(size / 1024).toFixed(1)} KiB\\) is larger than the Buffer limit of 10.2 KiB`));
  });

  it('file mode: an endless output stops at the file limit and leaves no .part; a whole output within it is saved', async () => {
    const dir = join(root, 'endless');
    const c = await load({ await: { result: 'file', folder: dir, maxFileMB: 2 } });
    const handle = await finished();
    sb.fault({ endpoint: 'output', kind: { type: 'endless_body' }, times: 1 });
    send({ segmind: handle });
    const [d] = await c.waitFor(1, 20_000);
    assert.equal(d.output, 2, JSON.stringify(d.msg.segmind));
    assert.equal(d.msg.error.code, 'output_too_large');
    assert.match(d.msg.error.message, /\(more than 2 MiB\) is larger than the file limit of 2 MiB set in the await node, so it was not saved \(no partial file is left\)/);
    assert.deepEqual(await readdir(dir), [], 'no file and no .part');
    // the limit is no obstacle to an output below it
    send({ segmind: await finished() });
    const [, ok] = await c.waitFor(2, 20_000);
    assert.equal(ok.output, 1);
    assert.ok((await readFile(SAMPLE)).equals(await readFile(ok.msg.payload)));
  });

  it('the message timeout covers the download: a trickling output ends on the timed-out output, job COMPLETED, no .part', async () => {
    const dir = join(root, 'slow');
    const c = await load({ await: { result: 'file', folder: dir } });
    const handle = await finished();
    // 1 KiB every 20 ms: it would never end
    sb.fault({ endpoint: 'output', kind: { type: 'endless_body', chunkBytes: 1024, intervalMs: 20 }, times: Infinity });
    const sent = Date.now();
    send({ segmind: handle, timeout: 500 }); // 500 API s = 1 s
    const [d] = await c.waitFor(1, 20_000);
    assert.equal(d.output, 3, JSON.stringify(d.msg.error ?? d.msg.segmind));
    assert.ok(Date.now() - sent >= 1000, 'not before its deadline');
    assert.equal(d.msg.segmind.timedOut, true);
    assert.equal(d.msg.segmind.status, 'COMPLETED');
    assert.match(d.msg.segmind.output, new RegExp(`^${sb.filesUrl}/outputs/${handle.requestId}`));
    assert.match(d.msg.segmind.message, /The job completed, but its output was still being fetched after 500 s/);
    assert.match(d.msg.segmind.message, /still fetchable.*until \d{4}-/);
    assert.deepEqual(await readdir(dir), [], 'the partial file was removed before the message left');
    assert.equal(downloads(), 1);
  });

  it('an output host that keeps failing: tried again until the deadline, then output_unavailable with the URL, job COMPLETED', async () => {
    const c = await load({ await: { result: 'buffer' } });
    const handle = await finished();
    sb.fault({ endpoint: 'output', kind: { type: 'http', status: 503 }, times: Infinity });
    send({ segmind: handle, timeout: 500 });
    const [d] = await c.waitFor(1, 20_000);
    assert.equal(d.output, 2);
    assert.equal(d.msg.error.code, 'output_unavailable');
    assert.equal(d.msg.error.httpStatus, 503);
    assert.match(d.msg.error.message, /completed but its output could not be fetched before the message deadline \(\d+ attempts; the last: .*HTTP 503/);
    assert.equal(d.msg.segmind.status, 'COMPLETED', 'never reported as a failed job');
    assert.match(d.msg.segmind.output, new RegExp(`^${sb.filesUrl}/outputs/${handle.requestId}`));
    assert.ok(downloads() > 5, `the client retries 503s, and the node tries the download again: ${downloads()} requests`);
    // wired back once the host serves again, the same message completes
    sb.clearFaults();
    send(d.msg);
    const [, again] = await c.waitFor(2, 20_000);
    assert.equal(again.output, 1);
    assert.ok((await readFile(SAMPLE)).equals(again.msg.payload));
    assert.equal(again.msg.segmind.output, undefined, 'no stale output flag on a completed message');
  });

  it('.part files a crashed process left are removed when the node starts; live ones and other files stay', async () => {
    const dir = join(root, 'stale');
    await mkdir(dir, { recursive: true });
    const stale = ['a.mp4.4194399.0123abcd.part', 'b.mp4.deadbeef.part']; // a pid above Linux's pid_max; the older name form
    const kept = ['keep.mp4', `c.mp4.${process.ppid}.89abcdef.part`]; // a file of the user; a .part of a running process
    for (const name of [...stale, ...kept]) await writeFile(join(dir, name), 'x');
    const c = await load({ await: { result: 'file', folder: dir } });
    const handle = await finished();
    send({ segmind: handle }); // handled once the node is ready, i.e. after the clean-up
    const [d] = await c.waitFor(1, 20_000);
    assert.equal(d.output, 1);
    assert.deepEqual((await readdir(dir)).sort(), [...kept, `${handle.requestId}.mp4`].sort());
  });

  it("file results default to segmind-results in Node-RED's user directory, folder 0700 and files 0600", async () => {
    const userDir = join(root, 'userdir');
    helper.settings({ userDir });
    const c = await load({ await: { result: 'file', folder: '' } });
    const handle = await finished();
    send({ segmind: handle });
    const [d] = await c.waitFor(1, 20_000);
    assert.equal(d.output, 1, JSON.stringify(d.msg.error));
    assert.equal(d.msg.payload, join(userDir, 'segmind-results', `${handle.requestId}.mp4`));
    assert.equal((await stat(join(userDir, 'segmind-results'))).mode & 0o777, 0o700);
    assert.equal((await stat(d.msg.payload)).mode & 0o777, 0o600);
  });
});
