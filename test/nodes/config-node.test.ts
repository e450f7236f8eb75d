// The segmind-config node in the real runtime, with credentials as Node-RED stores them, against
// the sandbox: where the key comes from, which URLs are refused, and that close shuts its client.
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox';
import { API_KEY, configSet, flowWith, genericSet, helper, initI18n, send, withSandbox } from './model-node-harness';

const generic = { type: 'segmind model', model: 'flux-schnell', payload: '{"prompt":"x"}', maxMediaMB: 50 };

describe('segmind-config node (runtime + sandbox)', () => {
  let sb: Sandbox;
  const savedEnv = process.env.SEGMIND_API_KEY;
  before(async () => {
    sb = await withSandbox();
  });
  after(async () => {
    await sb.close();
  });
  afterEach(async () => {
    await helper.unload();
    sb.resetRequests();
    if (savedEnv === undefined) delete process.env.SEGMIND_API_KEY;
    else process.env.SEGMIND_API_KEY = savedEnv;
  });

  async function load(configExtra: Record<string, unknown>, credentials: Record<string, unknown>) {
    await initI18n();
    await helper.load([configSet(), genericSet()] as never, flowWith(generic, sb, configExtra) as never, credentials as never);
  }

  it('sends the credential key as x-api-key, and nothing of it on the message', async () => {
    delete process.env.SEGMIND_API_KEY;
    await load({}, { cfg: { apiKey: API_KEY } });
    const o = await send({ payload: {} });
    assert.equal(o.outputs.length, 1, o.caught?.error?.message);
    const [submit] = sb.requests.filter((r) => r.endpoint === 'submit');
    assert.equal(submit.apiKeyValid, true);
    assert.equal(submit.headers['x-api-key'], undefined, 'the recorder never keeps the key');
    assert.match(submit.headers['user-agent'] ?? '', /node-red-segmind-video\/\d+\.\d+\.\d+/);
    assert.ok(!JSON.stringify(o.out).includes(API_KEY));
    // the credential is not a property of the config node (what an export would carry)
    assert.ok(!JSON.stringify(helper.getNode('cfg'), (k, v) => (k === 'credentials' || k === '_flow' || k === 'client' || k === 'ledger' ? undefined : v)).includes(API_KEY));
  });

  it('falls back to SEGMIND_API_KEY when the credential is empty', async () => {
    process.env.SEGMIND_API_KEY = API_KEY;
    await load({}, { cfg: { apiKey: '' } });
    const o = await send({ payload: {} });
    assert.equal(o.outputs.length, 1, o.caught?.error?.message);
    assert.equal(sb.requests.filter((r) => r.endpoint === 'submit')[0].apiKeyValid, true);
  });

  it('without any key: a clear error and no request', async () => {
    delete process.env.SEGMIND_API_KEY;
    await load({}, { cfg: {} });
    const o = await send({ payload: {} });
    assert.equal(o.caughts.length, 1);
    assert.match(o.caught.error.message, /API key/);
    assert.match(o.caught.error.message, /SEGMIND_API_KEY/);
    assert.equal(sb.requests.length, 0);
  });

  for (const [field, url] of [
    ['baseUrl', 'http://api.segmind.example'],
    ['uploadUrl', 'http://uploads.example/upload-asset'],
    ['baseUrl', 'ftp://127.0.0.1/'],
  ] as const) {
    it(`refuses ${field} ${url}: the error names it and nothing is sent anywhere`, async () => {
      await load({ [field]: url }, { cfg: { apiKey: API_KEY } });
      const o = await send({ payload: {} });
      assert.equal(o.caughts.length, 1);
      assert.match(o.caught.error.message, new RegExp(field));
      assert.equal(sb.requests.length, 0);
      assert.ok(!o.caught.error.message.includes(API_KEY));
    });
  }

  it('close aborts its client: no request can start afterwards', async () => {
    await load({}, { cfg: { apiKey: API_KEY } });
    const client = helper.getNode('cfg').client;
    await helper.unload();
    await assert.rejects(client.status('00000000-0000-0000-0000-000000000000'), (err: { code?: string }) => err.code === 'aborted');
    assert.equal(sb.requests.length, 0);
  });
});
