// The segmind-config node in the real runtime, with credentials as Node-RED stores them, against
// the sandbox: where the key comes from, which URLs are refused, and that close shuts its client.
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox';
import { API_KEY, configSet, flowWith, genericSet, helper, initI18n, send, setLanguage, withSandbox } from './model-node-harness';

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

  it("uses SEGMIND_API_KEY when the credential is empty, with Segmind's own hosts", async () => {
    process.env.SEGMIND_API_KEY = API_KEY;
    const segmind = { baseUrl: 'https://api.segmind.com', uploadUrl: 'https://workflows-api.segmind.com/upload-asset', timeScale: 1 };
    await load(segmind, { cfg: { apiKey: '' } });
    const cfg = helper.getNode('cfg');
    assert.equal(cfg.problem, undefined);
    // nothing may reach the real API from a test: the key the client would send is read instead
    assert.equal((cfg.client as unknown as { apiKey: string }).apiKey, API_KEY);
  });

  it('never sends SEGMIND_API_KEY to another endpoint: a clear config error, nothing sent', async () => {
    process.env.SEGMIND_API_KEY = API_KEY;
    // the sandbox on loopback, as an imported flow or the examples point at it; also Segmind's API with a foreign upload host
    for (const [extra, hosts] of [
      [{}, `127.0.0.1:${new URL(sb.url).port}`],
      [{ baseUrl: 'https://api.segmind.com', uploadUrl: sb.uploadUrl, timeScale: 1 }, `127.0.0.1:${new URL(sb.url).port}`],
    ] as const) {
      await load(extra, { cfg: { apiKey: '' } });
      assert.equal((helper.getNode('cfg').client as unknown as { apiKey: string }).apiKey, '', 'the client holds no key');
      const o = await send({ payload: {} });
      assert.equal(o.outputs.length, 0);
      assert.equal(o.caughts.length, 1);
      const error = o.caught.error;
      assert.equal(
        error.message,
        `No API key for ${hosts}: the SEGMIND_API_KEY environment variable is sent only to Segmind's own hosts (api.segmind.com, workflows-api.segmind.com). Enter the key for this endpoint in the config node; nothing is sent until then.`,
      );
      assert.equal(error.code, 'config');
      assert.equal(error.resubmitSafe, true);
      assert.equal(sb.requests.length, 0, 'nothing reached the sandbox');
      await helper.unload();
    }
    // in German too, from the locale
    await setLanguage('de');
    try {
      await load({}, { cfg: { apiKey: '' } });
      const o = await send({ payload: {} });
      assert.match(o.caught.error.message, /^Kein API-Schlüssel für 127\.0\.0\.1:\d+: Die Umgebungsvariable SEGMIND_API_KEY wird nur an Segminds eigene Hosts gesendet/);
    } finally {
      await setLanguage('en-US');
    }
    assert.equal(sb.requests.length, 0);
  });

  it("the config node's own credential is used with any endpoint, the environment's is not", async () => {
    process.env.SEGMIND_API_KEY = 'SG_environment_key_not_for_sandbox';
    await load({}, { cfg: { apiKey: API_KEY } });
    const o = await send({ payload: {} });
    assert.equal(o.outputs.length, 1, o.caught?.error?.message);
    assert.equal(sb.requests.filter((r) => r.endpoint === 'submit')[0].apiKeyValid, true);
  });

  it('without any key: a clear error and no request', async () => {
    delete process.env.SEGMIND_API_KEY;
    await load({}, { cfg: {} });
    const o = await send({ payload: {} });
    assert.equal(o.caughts.length, 1);
    assert.match(o.caught.error.message, /^No Segmind API key/);
    assert.match(o.caught.error.message, /SEGMIND_API_KEY/);
    assert.equal(o.caught.error.code, 'config');
    assert.equal(o.caught.error.resubmitSafe, true);
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
