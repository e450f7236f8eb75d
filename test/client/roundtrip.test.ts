import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SegmindError } from '../../src/client';
import { name as pkgName, version as pkgVersion } from '../../package.json';
import { TestClock } from '../support/clock';
import { CANARY, SADTALKER, assertNoKey, delay, rejectsWith, useSandbox } from './helpers';

const FACE = readFileSync(path.join(__dirname, '../fixtures/face.jpg'));

describe('client: round trip against the sandbox', () => {
  // the sandbox's clock: the wall clock unless a test stops it
  const clock = new TestClock();
  const h = useSandbox({ clock: clock.now });
  afterEach(() => clock.thaw());

  it('uploads, submits, polls to COMPLETED, fetches the result and downloads the output', async () => {
    const client = h.client();
    const [imageUrl] = await client.uploadAsset([FACE]);
    assert.ok(imageUrl.startsWith(`${h.sb.filesUrl}/assets/`), imageUrl);
    clock.freeze(); // the job is QUEUED at the first poll however slow the machine; it runs when thawed
    const job = await client.submit('sadtalker', { input_image: imageUrl, input_audio: 'https://example.com/a.mp3' });
    assert.equal(job.model, 'sadtalker');
    assert.ok(h.sb.jobs.has(job.requestId));
    assert.equal(job.statusUrl, `${h.sb.url}/v2/requests/${job.requestId}/status`);
    assert.equal(job.responseUrl, `${h.sb.url}/v2/requests/${job.requestId}`);
    assert.ok(Math.abs(Date.parse(job.submittedAt) - Date.now()) < 5000);

    const seen: string[] = [];
    for (let i = 0; i < 200; i++) {
      const s = await client.status(job);
      seen.push(s.status);
      if (s.final) break;
      clock.thaw();
      await delay(10);
    }
    assert.equal(seen.at(-1), 'COMPLETED');
    assert.equal(seen[0], 'QUEUED');

    const result = await client.result(job);
    assert.equal(result.status, 'COMPLETED');
    assert.equal(result.final, true);
    assert.equal(typeof result.output, 'string');
    assert.ok((result.raw.video as { url: string }).url, 'unknown fields are kept in raw');
    assert.equal(typeof result.metrics?.inference_time, 'number');

    const dl = await client.download(result.output as string);
    const chunks: Buffer[] = [];
    for await (const c of dl.stream) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    assert.equal(bytes.length, dl.contentLength);
    assert.equal(dl.contentType, 'video/mp4');
    assert.equal(bytes.subarray(4, 8).toString('latin1'), 'ftyp');
  });

  it('sends the key, JSON content type and a User-Agent naming the package and version', async () => {
    const client = h.client();
    await client.submit('sadtalker', SADTALKER);
    const [submit] = h.sb.requests.filter((r) => r.endpoint === 'submit');
    assert.equal(submit.method, 'POST');
    assert.equal(submit.path, '/v2/sadtalker');
    assert.equal(submit.apiKeyValid, true);
    assert.match(submit.headers['content-type'], /^application\/json/);
    assert.ok(submit.headers['user-agent'].startsWith(`${pkgName}/${pkgVersion}`), submit.headers['user-agent']);
    assert.deepEqual(submit.body, SADTALKER);
  });

  it('reports FAILED (HTTP 422) on both status and result as an outcome, not an error', async () => {
    const client = h.client();
    h.sb.scriptJob({ outcome: 'fail', error: 'Face not detected', durationSeconds: 0 });
    const job = await client.submit('sadtalker', SADTALKER);
    const status = await client.status(job);
    assert.equal(status.status, 'FAILED');
    assert.equal(status.final, true);
    assert.equal(status.error, 'Face not detected');
    const result = await client.result(job);
    assert.equal(result.status, 'FAILED');
    assert.equal(result.final, true);
    assert.equal(result.error, 'Face not detected');
    const answered = h.sb.requests.filter((r) => r.endpoint === 'status' || r.endpoint === 'result').map((r) => r.status);
    assert.deepEqual(answered, [422, 422], 'the sandbox really answered 422 on both');
  });

  it('treats an unknown status string as not final', async () => {
    const client = h.client();
    h.sb.scriptJob({ outcome: 'unknown_status', statusString: 'STARTING', durationSeconds: 1000 });
    const job = await client.submit('sadtalker', SADTALKER);
    const s = await client.status(job);
    assert.equal(s.status, 'STARTING');
    assert.equal(s.final, false);
  });

  it('accepts a bare request id or a partial handle and builds the URLs from the base URL', async () => {
    const client = h.client();
    const job = await client.submit('sadtalker', SADTALKER);
    await client.status(job.requestId);
    await client.status({ requestId: job.requestId });
    await client.result({ requestId: job.requestId, submittedAt: job.submittedAt });
    const paths = h.sb.requests.filter((r) => r.endpoint !== 'submit').map((r) => r.path);
    assert.deepEqual(paths, [
      `/v2/requests/${job.requestId}/status`,
      `/v2/requests/${job.requestId}/status`,
      `/v2/requests/${job.requestId}`,
    ]);
  });

  it('never follows a status or response URL on a foreign origin (the key would go there)', async () => {
    const client = h.client();
    const job = await client.submit('sadtalker', SADTALKER);
    await client.status({ ...job, statusUrl: 'https://evil.example/v2/requests/x/status' });
    await client.result({ ...job, responseUrl: `${h.sb.filesUrl}/v2/requests/x` });
    const hits = h.sb.requests.filter((r) => r.endpoint === 'status' || r.endpoint === 'result');
    assert.deepEqual(
      hits.map((r) => [r.listener, r.requestId]),
      [
        ['api', job.requestId],
        ['api', job.requestId],
      ],
    );
    assert.equal(h.sb.count({ listener: 'files' }), 0);
  });

  it('rebuilds status and response URLs when a submit answer points at a foreign origin', async () => {
    const client = h.client();
    h.sb.fault({
      endpoint: 'submit',
      kind: {
        type: 'http',
        status: 200,
        body: { request_id: 'abc-1', status: 'QUEUED', status_url: 'https://evil.example/s', response_url: 'http://127.0.0.2:1/r', extra: 1 },
      },
    });
    const job = await client.submit('sadtalker', SADTALKER);
    assert.equal(job.requestId, 'abc-1');
    assert.equal(job.statusUrl, `${h.sb.url}/v2/requests/abc-1/status`);
    assert.equal(job.responseUrl, `${h.sb.url}/v2/requests/abc-1`);
  });

  it('treats a 2xx submit without request_id as invalid_response, not safe to resubmit', async () => {
    const client = h.client();
    for (const body of [{ status: 'QUEUED' }, { request_id: '', status_url: `${h.sb.url}/s`, response_url: `${h.sb.url}/r` }]) {
      h.sb.fault({ endpoint: 'submit', kind: { type: 'http', status: 200, body } });
      const err = await rejectsWith(client.submit('sadtalker', SADTALKER), 'invalid_response');
      assert.equal(err.retryable, false);
      assert.equal(err.resubmitSafe, false, 'the job may exist');
      assert.match(err.message, /without a request_id.*may or may not have been created/);
    }
    assert.equal(h.sb.count({ endpoint: 'submit' }), 2, 'never re-sent');
  });

  it('goes on with URLs built from the base URL when a 2xx submit has request_id but lacks a URL, and warns', async () => {
    const client = h.client();
    const cases = [
      { body: { request_id: 'only-id', status: 'QUEUED' }, missing: 'status_url, response_url' },
      { body: { request_id: 'no-status', response_url: `${h.sb.url}/v2/requests/no-status` }, missing: 'status_url' },
      { body: { request_id: 'no-response', status_url: `${h.sb.url}/v2/requests/no-response/status` }, missing: 'response_url' },
    ];
    for (const { body, missing } of cases) {
      h.logs = [];
      h.sb.fault({ endpoint: 'submit', kind: { type: 'http', status: 200, body } });
      const job = await client.submit('sadtalker', SADTALKER);
      assert.equal(job.requestId, body.request_id);
      assert.equal(job.statusUrl, `${h.sb.url}/v2/requests/${body.request_id}/status`);
      assert.equal(job.responseUrl, `${h.sb.url}/v2/requests/${body.request_id}`);
      const warned = h.logs.filter((l) => l.startsWith('warn ') && l.includes(body.request_id));
      assert.equal(warned.length, 1, h.logs.join('\n'));
      assert.ok(warned[0].includes(`without ${missing};`), warned[0]);
      assert.ok(warned[0].includes(`URLs built from ${h.sb.url}`), warned[0]);
    }
    // a complete answer warns of nothing
    h.logs = [];
    await client.submit('sadtalker', SADTALKER);
    assert.deepEqual(h.logs.filter((l) => l.startsWith('warn ')), []);
    assert.equal(h.sb.count({ endpoint: 'submit' }), 4, 'each sent once');
  });

  it('uploads with the detected MIME type and accepts urls or file_urls', async () => {
    const client = h.client();
    const urls = await client.uploadAsset([FACE, { data: Buffer.from('RIFF0000WAVE'), mime: 'audio/wav' }, 'data:text/plain;base64,aGk=']);
    assert.equal(urls.length, 3);
    const [upload] = h.sb.requests.filter((r) => r.endpoint === 'upload');
    const sent = (upload.body as { data_urls: string[] }).data_urls;
    assert.ok(sent[0].startsWith('data:image/jpeg;base64,'), sent[0].slice(0, 40));
    assert.ok(sent[1].startsWith('data:audio/wav;base64,'));
    assert.equal(sent[2], 'data:text/plain;base64,aGk=');

    h.sb.fault({ endpoint: 'upload', kind: { type: 'http', status: 200, body: { file_urls: ['https://cdn.example/a.png'] } } });
    assert.deepEqual(await client.uploadAsset([FACE]), ['https://cdn.example/a.png']);
    h.sb.fault({ endpoint: 'upload', kind: { type: 'http', status: 200, body: { urls: ['https://cdn.example/b.png'] } } });
    assert.deepEqual(await client.uploadAsset([FACE]), ['https://cdn.example/b.png']);
    h.sb.fault({ endpoint: 'upload', kind: { type: 'http', status: 200, body: { something: [] } } });
    await rejectsWith(client.uploadAsset([FACE]), 'invalid_response');
  });

  it('rejects bad arguments before sending anything', async () => {
    const client = h.client();
    await rejectsWith(client.submit('../v1/x', SADTALKER), 'bad_request');
    await rejectsWith(client.status({ requestId: '' }), 'bad_request');
    await rejectsWith(client.result('..'), 'bad_request');
    await rejectsWith(client.uploadAsset(['not a data url']), 'bad_request');
    await rejectsWith(client.download('file:///etc/passwd'), 'bad_request');
    await rejectsWith(client.download('data:video/mp4;base64,AAAA'), 'bad_request');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await rejectsWith(client.submit('sadtalker', circular), 'bad_request');
    assert.equal(h.sb.requests.length, 0);
  });

  it('scrubs the key from text Segmind echoes back (errors and FAILED outcomes)', async () => {
    const client = h.client();
    h.sb.fault({ endpoint: 'submit', kind: { type: 'http', status: 400, body: { error: `bad key ${CANARY} in request` } } });
    const err = await rejectsWith(client.submit('sadtalker', SADTALKER), 'bad_request');
    assert.equal(err.segmindError, 'bad key *** in request');
    assert.match(err.message, /\*\*\*/);

    h.sb.scriptJob({ outcome: 'fail', error: `job of ${CANARY} failed`, durationSeconds: 0 });
    const job = await client.submit('sadtalker', SADTALKER);
    const s = await client.status(job);
    assert.equal(s.error, 'job of *** failed');
  });

  it('never puts a wrong key into its error either', async () => {
    const wrong = 'SG_wrong_key_77aa99bb';
    const client = h.client({ apiKey: wrong });
    const err = await rejectsWith(client.submit('sadtalker', SADTALKER), 'auth');
    assert.match(err.message, /rejected the API key \(HTTP 401\)/);
    assertNoKey(err, wrong);
    assert.equal(h.sb.count({ endpoint: 'submit' }), 1);
    assert.ok(err instanceof SegmindError);
  });

  it('fails with auth and sends nothing when no key is configured', async () => {
    const client = h.client({ apiKey: '' });
    await rejectsWith(client.status('abc'), 'auth');
    assert.equal(h.sb.requests.length, 0);
  });
});

describe('client: retention', () => {
  // 3600 API seconds at this scale are 360 ms
  const h = useSandbox({ timeScale: 0.0001 });

  it('maps 404 on a job older than the 1 h retention to expired, and a fresh unknown id to not_found', async () => {
    const client = h.client();
    const job = await client.submit('sadtalker', SADTALKER);
    await delay(450);
    const expired = await rejectsWith(client.status(job), 'expired');
    assert.equal(expired.httpStatus, 404);
    assert.equal(expired.retryable, false);
    assert.match(expired.message, /1 hour/);
    const fresh = await rejectsWith(client.status({ requestId: 'nope', submittedAt: new Date().toISOString() }), 'not_found');
    assert.equal(fresh.httpStatus, 404);
  });
});
