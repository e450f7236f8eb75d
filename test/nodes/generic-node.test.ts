// The generic 'segmind model' node in the real Node-RED runtime against the sandbox.
import assert from 'node:assert/strict';
import { request } from 'undici';
import type { Sandbox } from '../../src/sandbox';
import { facePng, voiceMp3, dataUri, garbage } from '../media/samples';
import { API_KEY, configSet, flowWith, genericSet, helper, load, send, withSandbox, type Outcome } from './model-node-harness';

const node = (extra: Record<string, unknown> = {}) => ({
  type: 'segmind model',
  model: 'flux-schnell',
  payload: '{}',
  payloadType: 'json',
  maxMediaMB: 50,
  ...extra,
});

function lastStatus(o: Outcome): { fill?: string; text?: string } {
  return o.statuses[o.statuses.length - 1] ?? {};
}

describe('generic node "segmind model" (runtime + sandbox)', () => {
  let sb: Sandbox;
  before(async () => {
    sb = await withSandbox();
  });
  after(async () => {
    await sb.close();
  });
  afterEach(async () => {
    await helper.unload();
    sb.resetRequests();
  });
  const sets = () => [configSet(), genericSet()];
  const submits = () => sb.requests.filter((r) => r.endpoint === 'submit');

  it('submits an arbitrary model with the node JSON merged under msg.payload (message wins)', async () => {
    await load(sets(), flowWith(node({ payload: '{"prompt":"a cat","steps":4,"nested":{"a":[1,2]}}' }), sb));
    const o = await send({ payload: { steps: 8, seed: 1 }, topic: 'keep' });
    assert.equal(o.caughts.length, 0, o.caught?.error?.message);
    assert.equal(o.outputs.length, 1);
    assert.equal(o.completes, 1);
    const [submit] = submits();
    assert.equal(submit.model, 'flux-schnell');
    assert.deepEqual(submit.body, { prompt: 'a cat', steps: 8, nested: { a: [1, 2] }, seed: 1 });
    assert.equal(o.out.topic, 'keep');
    assert.equal(o.out.segmind.model, 'flux-schnell');
    assert.ok(sb.jobs.has(o.out.segmind.requestId));
    assert.equal(lastStatus(o).fill, 'green');
    assert.ok(!JSON.stringify(o).includes(API_KEY));
  });

  it('takes the slug from msg.model, ignores a non-object msg.payload', async () => {
    await load(sets(), flowWith(node({ model: '', payload: '{"x":1}' }), sb));
    const o = await send({ model: 'sd3.5-large_turbo', payload: 'just text' });
    assert.equal(o.outputs.length, 1, o.caught?.error?.message);
    assert.equal(submits()[0].model, 'sd3.5-large_turbo');
    assert.deepEqual(submits()[0].body, { x: 1 });
  });

  it('uploads top-level Buffers and data URIs in one request and sends their URLs', async () => {
    await load(sets(), flowWith(node({ payload: `{"mask":${JSON.stringify(dataUri('image/png', facePng))}}` }), sb));
    const o = await send({ payload: { image: facePng, audio: voiceMp3, url: 'https://example.com/x.png', text: 'aGVsbG8gd29ybGQgaGVsbG8=' } });
    assert.equal(o.outputs.length, 1, o.caught?.error?.message);
    const uploads = sb.requests.filter((r) => r.endpoint === 'upload');
    assert.equal(uploads.length, 1);
    const mimes = (uploads[0].body as { data_urls: string[] }).data_urls.map((d) => d.slice(0, d.indexOf(';')));
    assert.deepEqual(mimes.sort(), ['data:audio/mpeg', 'data:image/png', 'data:image/png']);
    const body = submits()[0].body as Record<string, string>;
    for (const key of ['mask', 'image', 'audio']) assert.ok(body[key].startsWith(`${sb.filesUrl}/assets/`), key);
    const res = await request(body.audio);
    assert.deepEqual(Buffer.from(await res.body.arrayBuffer()), voiceMp3);
    // plain strings (URLs, base64-looking text) go as they are
    assert.equal(body.url, 'https://example.com/x.png');
    assert.equal(body.text, 'aGVsbG8gd29ybGQgaGVsbG8=');
  });

  it('rejects bad slugs, bad JSON and bad values without any request', async () => {
    const badSlugs: unknown[] = ['Flux-Schnell', '../v1/x', 'a/b', 'a b', 'a?b', 'a#b', '.hidden', 'a..b', 'x'.repeat(101), 42, ''];
    await load(sets(), flowWith(node({ model: '' }), sb));
    for (const slug of badSlugs) {
      const o = await send({ model: slug, payload: {} }, 10);
      assert.equal(o.outputs.length, 0, `slug ${String(slug)}`);
      assert.equal(o.caughts.length, 1, `slug ${String(slug)}`);
      assert.match(o.caught.error.message, /^model: /, 'the text starts with what matters (no "Error: " prefix)');
      assert.equal(o.caught.error.code, 'invalid_input');
      assert.equal(o.caught.error.field, 'model');
      assert.equal(o.caught.error.resubmitSafe, true);
      assert.match(o.caught.error.message, /lowercase/);
      assert.equal(lastStatus(o).fill, 'red');
    }
    const garbageMedia = await send({ model: 'flux-schnell', payload: { image: garbage } }, 10);
    assert.match(garbageMedia.caught.error.message, /image \(msg\.payload\.image\)/);
    const nested = await send({ model: 'flux-schnell', payload: { opts: { image: facePng } } }, 10);
    assert.match(nested.caught.error.message, /opts\.image/);
    const nan = await send({ model: 'flux-schnell', payload: { steps: NaN } }, 10);
    assert.match(nan.caught.error.message, /steps/);
    const oversize = await send({ model: 'flux-schnell', payload: { image: Buffer.alloc(51 * 1024 * 1024, 0xff) } }, 10);
    assert.match(oversize.caught.error.message, /image .*51\.0 MB.*50\.0 MB/);
    await helper.unload();

    await load(sets(), flowWith(node({ payload: '{"prompt": ' }), sb));
    const badJson = await send({ payload: { prompt: 'x' } }, 10);
    assert.match(badJson.caught.error.message, /payload: the JSON in the node settings is not valid/);
    await helper.unload();
    await load(sets(), flowWith(node({ payload: '[1,2]' }), sb));
    const notObject = await send({}, 10);
    assert.match(notObject.caught.error.message, /must be an object/);
    assert.equal(sb.requests.length, 0, 'no request at all');
  });

  it("checks a known model's payload against its spec before any request", async () => {
    await load(sets(), flowWith(node({ model: 'sadtalker' }), sb));
    const missing = await send({ payload: { input_audio: 'https://example.com/a.mp3' } }, 10);
    assert.equal(missing.caughts.length, 1);
    assert.match(missing.caught.error.message, /input_image/);
    const range = await send({ payload: { input_image: 'https://example.com/a.png', input_audio: 'https://example.com/a.mp3', pose_style: 99 } }, 10);
    assert.match(range.caught.error.message, /pose_style/);
    assert.equal(sb.requests.length, 0, 'no request at all');
    const ok = await send({ payload: { input_image: 'https://example.com/a.png', input_audio: 'https://example.com/a.mp3', pose_style: 9 } });
    assert.equal(ok.outputs.length, 1, ok.caught?.error?.message);
    assert.deepEqual(submits()[0].body, { input_image: 'https://example.com/a.png', input_audio: 'https://example.com/a.mp3', pose_style: 9 });
  });

  it('reports an unknown model (404) from Segmind as an error', async () => {
    await sb.close();
    sb = await withSandbox({ unknownModels: ['no-such-model'] });
    await load(sets(), flowWith(node({ model: 'no-such-model' }), sb));
    const o = await send({ payload: { a: 1 } });
    assert.equal(o.caughts.length, 1);
    assert.match(o.caught.error.message, /no-such-model/);
    assert.equal(lastStatus(o).fill, 'red');
    assert.match(lastStatus(o).text ?? '', /not found/);
    assert.ok(!JSON.stringify(o).includes(API_KEY));
  });
});
