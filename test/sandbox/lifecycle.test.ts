import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { JSON_HEADERS, ManualClock, SADTALKER, get, getBytes, post, useSandbox } from './helpers';

const SAMPLE = readFileSync(path.resolve(__dirname, '../../assets/sample.mp4'));

describe('sandbox: v2 job life cycle', () => {
  // 0.001: sadtalker's ~107 s run takes ~107 ms of the test's clock
  const clock = new ManualClock();
  const sandbox = useSandbox({ timeScale: 0.001, durationSigma: 0, clock: clock.now });

  it('answers a submit with QUEUED and absolute URLs on the API origin', async () => {
    const sb = sandbox();
    const res = await post(`${sb.url}/v2/sadtalker`, SADTALKER);
    assert.equal(res.status, 200);
    const id = res.json.request_id;
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(res.json, {
      request_id: id,
      status: 'QUEUED',
      poll_url: `${sb.url}/v1/requests/${id}`,
      status_url: `${sb.url}/v2/requests/${id}/status`,
      response_url: `${sb.url}/v2/requests/${id}`,
    });
    assert.equal(sb.jobs.get(id)?.model, 'sadtalker');
  });

  it('runs a model for its typical time from the API page (sigma 0)', async () => {
    const sb = sandbox();
    const times: Record<string, number> = { sadtalker: 107.5, 'infinite-talk': 283.4, 'v-express': 196.3, hallo: 303.3 };
    for (const [model, seconds] of Object.entries(times)) {
      const payload = model === 'infinite-talk' ? { image: 'u', audio: 'u', prompt: 'p' } : SADTALKER;
      const res = await post(`${sb.url}/v2/${model}`, payload);
      assert.equal(sb.jobs.get(res.json.request_id)?.durationSeconds, seconds, model);
    }
    const react = await post(`${sb.url}/v2/sync.so-react-1`, { video_url: 'u', audio_url: 'u' });
    assert.equal(sb.jobs.get(react.json.request_id)?.durationSeconds, 329.7);
  });

  it('goes QUEUED -> PROCESSING -> COMPLETED and serves the result and the MP4 from the files origin', async () => {
    const sb = sandbox();
    // 400 API seconds = 400 ms here: QUEUED for the first 40 ms
    sb.scriptJob({ outcome: 'complete', durationSeconds: 400 });
    const submit = await post(`${sb.url}/v2/sadtalker`, SADTALKER);
    const { status_url, response_url, request_id } = submit.json;

    const first = await get(status_url);
    assert.equal(first.status, 200);
    assert.equal(first.json.status, 'QUEUED'); // the first 10 % of the run
    assert.deepEqual(first.json.metrics, {});
    assert.equal(first.json.request_id, request_id);

    clock.advance(40);
    const processing = await get(status_url);
    assert.equal(processing.json.status, 'PROCESSING');
    // the result endpoint answers like status while the job runs
    const early = await get(response_url);
    assert.deepEqual([early.status, early.json.status, early.json.output], [200, 'PROCESSING', undefined]);

    clock.advance(359);
    assert.equal((await get(status_url)).json.status, 'PROCESSING');
    assert.equal((await getBytes(`${sb.filesUrl}/outputs/${request_id}.mp4`)).status, 404, 'no output before the job completes');
    clock.advance(1);
    const last = await get(status_url);
    assert.equal(last.json.status, 'COMPLETED');
    assert.equal(last.json.metrics.total_time, 400);
    assert.equal(last.json.metrics.queue_time, 40);

    const result = await get(response_url);
    assert.equal(result.status, 200);
    assert.equal(result.json.status, 'COMPLETED');
    assert.equal(result.json.error, null);
    for (const k of ['inference_time', 'queue_time', 'total_time', 'cost', 'remaining_credits']) {
      assert.equal(typeof result.json.metrics[k], 'number', `metrics.${k}`);
    }
    const output: string = result.json.output;
    assert.ok(output.startsWith(`${sb.filesUrl}/outputs/`), output);
    assert.notEqual(new URL(output).origin, new URL(sb.url).origin);
    assert.deepEqual(result.json.video, { url: output, content_type: 'video/mp4', file_name: `${request_id}.mp4`, file_size: SAMPLE.length });
    // model-specific keys beyond the documented ones, as Segmind's bodies carry
    assert.deepEqual(Object.keys(result.json).sort(), ['error', 'metrics', 'model', 'output', 'request_id', 'status', 'video']);
    // outputs come from another host than the API (another origin where the system allows only 127.0.0.1)
    if (process.platform === 'linux') assert.notEqual(new URL(output).hostname, new URL(sb.url).hostname);

    const file = await getBytes(output);
    assert.equal(file.status, 200);
    assert.equal(file.headers['content-type'], 'video/mp4');
    assert.equal(Number(file.headers['content-length']), SAMPLE.length);
    assert.ok(file.bytes.equals(SAMPLE), 'output bytes equal assets/sample.mp4');
  });

  it('answers the v1 poll_url like the status endpoint', async () => {
    const sb = sandbox();
    const { poll_url, request_id } = (await post(`${sb.url}/v2/hallo`, SADTALKER)).json;
    const res = await get(poll_url);
    assert.equal(res.status, 200);
    assert.equal(res.json.request_id, request_id);
    assert.equal(res.json.status, 'QUEUED');
  });

  it('serves FAILED as HTTP 422 on both status and result', async () => {
    const sb = sandbox();
    sb.scriptJob({ outcome: 'fail', error: 'RAI: blocked', durationSeconds: 0 });
    const { status_url, response_url, request_id } = (await post(`${sb.url}/v2/sadtalker`, SADTALKER)).json;
    for (const url of [status_url, response_url]) {
      const res = await get(url);
      assert.equal(res.status, 422);
      assert.equal(res.json.status, 'FAILED');
      assert.equal(res.json.error, 'RAI: blocked');
      assert.equal(res.json.request_id, request_id);
      assert.equal(typeof res.json.metrics, 'object');
    }
    // the output of a failed job does not exist
    assert.equal((await getBytes(`${sb.filesUrl}/outputs/${request_id}.mp4`)).status, 404);
  });

  it('applies a job script only to its model and only `times` times', async () => {
    const sb = sandbox();
    sb.scriptJob({ model: 'hallo', outcome: 'fail', durationSeconds: 0, times: 2 });
    const other = (await post(`${sb.url}/v2/sadtalker`, { ...SADTALKER })).json;
    const a = (await post(`${sb.url}/v2/hallo`, SADTALKER)).json;
    const b = (await post(`${sb.url}/v2/hallo`, SADTALKER)).json;
    const c = (await post(`${sb.url}/v2/hallo`, SADTALKER)).json;
    assert.equal(sb.jobs.get(other.request_id)?.outcome, 'complete');
    assert.equal((await get(a.status_url)).status, 422);
    assert.equal((await get(b.status_url)).status, 422);
    assert.equal(sb.jobs.get(c.request_id)?.outcome, 'complete');
  });

  it("keeps a 'never' job PROCESSING", async () => {
    const sb = sandbox();
    sb.scriptJob({ outcome: 'never' });
    const { status_url, response_url } = (await post(`${sb.url}/v2/sadtalker`, SADTALKER)).json;
    clock.advance(5 * 107.5 + 1); // beyond the longest run sadtalker can draw
    assert.equal((await get(status_url)).json.status, 'PROCESSING');
    const res = await get(response_url);
    assert.equal(res.status, 200);
    assert.equal(res.json.status, 'PROCESSING');
  });

  it("reports an unknown status string while an 'unknown_status' job runs, then completes", async () => {
    const sb = sandbox();
    sb.scriptJob({ outcome: 'unknown_status', statusString: 'WARMING_UP', durationSeconds: 300 });
    const { status_url } = (await post(`${sb.url}/v2/sadtalker`, SADTALKER)).json;
    assert.equal((await get(status_url)).json.status, 'WARMING_UP');
    clock.advance(299);
    assert.equal((await get(status_url)).json.status, 'WARMING_UP');
    clock.advance(1);
    assert.equal((await get(status_url)).json.status, 'COMPLETED');
  });

  it('answers base64 output when the payload asked for it', async () => {
    const sb = sandbox();
    sb.scriptJob({ outcome: 'complete', durationSeconds: 0 });
    const { response_url } = (await post(`${sb.url}/v2/sadtalker`, { ...SADTALKER, base64: true })).json;
    const res = await get(response_url);
    assert.equal(res.json.status, 'COMPLETED');
    assert.ok(Buffer.from(res.json.output, 'base64').equals(SAMPLE));
  });

  it('accepts any other model slug, with a default run time', async () => {
    const sb = sandbox();
    const res = await post(`${sb.url}/v2/some-new-model`, { anything: 1 });
    assert.equal(res.status, 200);
    assert.equal(sb.jobs.get(res.json.request_id)?.durationSeconds, 20);
  });

  it('answers v1 synchronously with the video bytes and billing headers', async () => {
    const sb = sandbox();
    const res = await getBytesPost(`${sb.url}/v1/sadtalker`, SADTALKER);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'video/mp4');
    for (const h of ['x-cost', 'x-remaining-credits', 'x-request-id', 'x-generation-time']) assert.ok(res.headers[h], h);
    assert.equal(res.headers['x-generation-time'], '107.50');
    assert.ok(res.bytes.equals(SAMPLE));
  });
});

describe('sandbox: retention', () => {
  // 300 API seconds of retention = 300 ms of the test's clock at this scale
  const clock = new ManualClock();
  const sandbox = useSandbox({ timeScale: 0.001, retentionSeconds: 300, durationSigma: 0, typicalSeconds: { quick: 1 }, clock: clock.now });

  it('answers 404 on status and result after the retention period, and for unknown ids', async () => {
    const sb = sandbox();
    const { status_url, response_url, request_id } = (await post(`${sb.url}/v2/quick`, {})).json;
    clock.advance(299);
    assert.equal((await get(status_url)).status, 200);
    clock.advance(1);
    for (const url of [status_url, response_url]) {
      const res = await get(url);
      assert.equal(res.status, 404);
      assert.deepEqual(res.json, { error: `Request ${request_id} not found` });
    }
    const unknown = await get(`${sb.url}/v2/requests/nope/status`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json, { error: 'Request nope not found' });
    // the output file outlives the request (Segmind keeps files ~7 days)
    assert.equal((await getBytes(`${sb.filesUrl}/outputs/${request_id}.mp4`)).status, 200);
  });
});

async function getBytesPost(url: string, body: unknown) {
  const res = await request(url, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
  return { status: res.statusCode, headers: res.headers, bytes: Buffer.from(await res.body.arrayBuffer()) };
}
