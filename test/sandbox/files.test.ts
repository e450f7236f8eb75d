import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { KEY, SADTALKER, get, getBytes, post, useSandbox } from './helpers';

const SAMPLE = readFileSync(path.resolve(__dirname, '../../assets/sample.mp4'));
const FACE = readFileSync(path.resolve(__dirname, '../fixtures/face.png'));
const VOICE = readFileSync(path.resolve(__dirname, '../fixtures/voice.mp3'));

async function outputOf(sb: Sandbox, payload: Record<string, unknown> = SADTALKER): Promise<{ id: string; output: string; result: any }> {
  sb.scriptJob({ outcome: 'complete', durationSeconds: 0 });
  const { response_url, request_id } = (await post(`${sb.url}/v2/sadtalker`, payload)).json;
  const result = (await get(response_url)).json;
  return { id: request_id, output: result.output, result };
}

describe('sandbox: uploads', () => {
  const sandbox = useSandbox();

  it('stores data URLs and serves the bytes back from the files origin with their MIME type', async () => {
    const sb = sandbox();
    const res = await post(sb.uploadUrl, {
      data_urls: [`data:image/png;base64,${FACE.toString('base64')}`, `data:audio/mpeg;base64,${VOICE.toString('base64')}`],
    });
    assert.equal(res.status, 200);
    assert.equal(res.json.urls.length, 2);
    assert.deepEqual(res.json.file_urls, res.json.urls);
    const [face, voice] = res.json.urls as string[];
    assert.ok(face.startsWith(`${sb.filesUrl}/`), face);
    const a = await getBytes(face);
    assert.equal(a.status, 200);
    assert.equal(a.headers['content-type'], 'image/png');
    assert.ok(a.bytes.equals(FACE));
    const b = await getBytes(voice);
    assert.equal(b.headers['content-type'], 'audio/mpeg');
    assert.ok(b.bytes.equals(VOICE));
    const rec = sb.requests.find((r) => r.endpoint === 'upload');
    assert.equal((rec?.body as { data_urls: string[] }).data_urls.length, 2);
    assert.equal(rec?.apiKeyValid, true);
    // bodies over 64 KiB are recorded by size only
    const big = JSON.stringify({ data_urls: [`data:video/mp4;base64,${Buffer.alloc(70_000, 1).toString('base64')}`] });
    const bigRes = await post(sb.uploadUrl, big);
    assert.equal(bigRes.status, 200);
    assert.ok(bigRes.json.urls[0].endsWith('.mp4'));
    assert.deepEqual(sb.requests.filter((r) => r.endpoint === 'upload')[1].body, { bytes: Buffer.byteLength(big) });
  });

  it('answers 400 for a bad data URL or a missing data_urls, 401 without a key', async () => {
    const sb = sandbox();
    const notData = await post(sb.uploadUrl, { data_urls: ['https://example.com/a.png'] });
    assert.equal(notData.status, 400);
    assert.match(notData.json.error, /data_urls\[0\]/);
    const badB64 = await post(sb.uploadUrl, { data_urls: ['data:image/png;base64,@@@'] });
    assert.equal(badB64.status, 400);
    assert.equal((await post(sb.uploadUrl, {})).status, 400);
    assert.equal((await post(sb.uploadUrl, { data_urls: ['data:text/plain;base64,aGk='] }, { 'content-type': 'application/json' })).status, 401);
  });

  it('answers with only the configured key when uploadAnswerKey is set', async () => {
    for (const key of ['urls', 'file_urls'] as const) {
      const sb = await startSandbox({ uploadAnswerKey: key });
      try {
        const res = await post(sb.uploadUrl, { data_urls: ['data:text/plain;base64,aGk='] });
        assert.deepEqual(Object.keys(res.json), [key]);
      } finally {
        await sb.close();
      }
    }
  });
});

describe('sandbox: output files', () => {
  const sandbox = useSandbox();

  it('serves outputs from the files origin without a key and records whether one was sent', async () => {
    const sb = sandbox();
    const { output } = await outputOf(sb);
    assert.ok(output.startsWith(sb.filesUrl));
    const plain = await getBytes(output);
    assert.ok(plain.bytes.equals(SAMPLE));
    await getBytes(output, { 'x-api-key': KEY });
    const recs = sb.requests.filter((r) => r.endpoint === 'output');
    assert.deepEqual(recs.map((r) => [r.listener, r.apiKeyPresent, r.status]), [['files', false, 200], ['files', true, 200]]);
    assert.ok(!('x-api-key' in recs[1].headers));
  });

  it('answers HEAD with the content length and no body; 404 for an unknown output', async () => {
    const sb = sandbox();
    const { output } = await outputOf(sb);
    const head = await request(output, { method: 'HEAD' });
    assert.equal(head.statusCode, 200);
    assert.equal(Number(head.headers['content-length']), SAMPLE.length);
    assert.equal((await head.body.arrayBuffer()).byteLength, 0);
    assert.equal((await getBytes(`${sb.filesUrl}/outputs/nope.mp4`)).status, 404);
  });

  it('does not serve an output before its job completes', async () => {
    const sb = sandbox();
    sb.scriptJob({ outcome: 'complete', durationSeconds: 3600 });
    const { request_id } = (await post(`${sb.url}/v2/sadtalker`, SADTALKER)).json;
    assert.equal((await getBytes(`${sb.filesUrl}/outputs/${request_id}.mp4`)).status, 404);
  });
});

describe('sandbox: output options', () => {
  let sb: Sandbox | undefined;
  afterEach(async () => {
    await sb?.close();
    sb = undefined;
  });

  it('outputBytes streams a padded output of that size, starting with the output bytes', async () => {
    const size = 3 * 1024 * 1024 + 17;
    sb = await startSandbox({ timeScale: 0.001, outputBytes: size });
    const { output, result } = await outputOf(sb);
    assert.equal(result.video.file_size, size);
    const file = await getBytes(output);
    assert.equal(file.bytes.length, size);
    assert.ok(file.bytes.subarray(0, SAMPLE.length).equals(SAMPLE));
    assert.ok(file.bytes.subarray(SAMPLE.length).every((b) => b === 0));
  });

  it("outputVia 'api' serves outputs on the API origin, keyless", async () => {
    const bytes = Buffer.from('not really a video');
    sb = await startSandbox({ timeScale: 0.001, outputVia: 'api', output: bytes });
    const { output } = await outputOf(sb);
    assert.ok(output.startsWith(`${sb.url}/outputs/`), output);
    const file = await getBytes(output);
    assert.equal(file.status, 200);
    assert.ok(file.bytes.equals(bytes));
    assert.equal(sb.requests.find((r) => r.endpoint === 'output')?.listener, 'api');
  });

  it("outputVia 'api-redirect' answers 302 to the files origin", async () => {
    sb = await startSandbox({ timeScale: 0.001, outputVia: 'api-redirect' });
    const { output, id } = await outputOf(sb);
    assert.ok(output.startsWith(sb.url));
    const res = await request(output);
    await res.body.dump();
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, `${sb.filesUrl}/outputs/${id}.mp4`);
    assert.ok((await getBytes(String(res.headers.location))).bytes.equals(SAMPLE));
  });
});
