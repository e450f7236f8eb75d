// The config node's endpoint choice: Segmind's hosts, the built-in sandbox (started in-process on a
// loopback port when first needed, stopped on close, never given the user's key) or a custom URL,
// and the rule that a time scale below 1 only applies to a server on this machine.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { endpointKind, resolveEndpoint, SANDBOX_TIME_SCALE } from '../../src/nodes/endpoint';
import { DEFAULT_BASE_URL, DEFAULT_UPLOAD_URL } from '../../src/client/urls';
import { specs } from '../../src/models/specs';
import { helper, sets } from '../support/chain';
import { initI18n } from '../support/runtime';

const SANDBOX_URL = 'http://127.0.0.1:8990';

describe('endpoint resolution (pure)', () => {
  it('an explicit choice wins; configs saved before the choice existed are Segmind or custom by their URLs', () => {
    assert.equal(endpointKind({ endpoint: 'sandbox', baseUrl: 'https://x.example' }), 'sandbox');
    assert.equal(endpointKind({}), 'segmind');
    assert.equal(endpointKind({ baseUrl: `${DEFAULT_BASE_URL}/`, uploadUrl: DEFAULT_UPLOAD_URL }), 'segmind');
    assert.equal(endpointKind({ baseUrl: SANDBOX_URL, uploadUrl: `${SANDBOX_URL}/upload-asset` }), 'custom');
    assert.equal(endpointKind({ endpoint: 'bogus', baseUrl: 'https://proxy.example' }), 'custom');
  });

  it('Segmind: the real hosts at time scale 1, whatever URLs were saved', () => {
    const e = resolveEndpoint({ endpoint: 'segmind', baseUrl: SANDBOX_URL, timeScale: '' });
    assert.deepEqual(e, { kind: 'segmind', baseUrl: DEFAULT_BASE_URL, uploadUrl: DEFAULT_UPLOAD_URL, timeScale: 1 });
  });

  it('the built-in sandbox has its own speed: a saved time scale does not apply', () => {
    const e = resolveEndpoint({ endpoint: 'sandbox', timeScale: 1 });
    assert.equal(e.kind, 'sandbox');
    assert.equal(e.timeScale, SANDBOX_TIME_SCALE);
    assert.equal(e.problem, undefined);
  });

  it('a time scale below 1 is refused for Segmind and for any non-loopback host, with the value and the host', () => {
    for (const settings of [
      { endpoint: 'segmind', timeScale: 0.03 },
      { baseUrl: DEFAULT_BASE_URL, timeScale: '0.03' }, // a flow from before the choice
      { endpoint: 'custom', baseUrl: 'https://proxy.example', uploadUrl: 'https://proxy.example/upload', timeScale: 0.5 },
      // one loopback host is not enough: the other one would get compressed time
      { endpoint: 'custom', baseUrl: SANDBOX_URL, uploadUrl: DEFAULT_UPLOAD_URL, timeScale: 0.5 },
    ]) {
      const e = resolveEndpoint(settings);
      assert.equal(e.problem?.key, 'timeScaleRemote', JSON.stringify(settings));
      assert.match(e.problem!.params.value, /^0\.\d+$/);
      assert.equal(e.timeScale, 1, 'never applied');
    }
  });

  it('a time scale below 1 is allowed for a sandbox on this machine; nonsense time scales are refused', () => {
    const ok = resolveEndpoint({ endpoint: 'custom', baseUrl: SANDBOX_URL, uploadUrl: `${SANDBOX_URL}/upload-asset`, timeScale: '0.03' });
    assert.equal(ok.problem, undefined);
    assert.equal(ok.timeScale, 0.03);
    for (const bad of ['0', '-1', '2', 'fast']) {
      const e = resolveEndpoint({ endpoint: 'custom', baseUrl: SANDBOX_URL, uploadUrl: `${SANDBOX_URL}/upload-asset`, timeScale: bad });
      assert.equal(e.problem?.key, 'timeScale', bad);
      assert.equal(e.problem?.params.value, JSON.stringify(bad));
    }
  });

  it('a custom URL is checked: plain http only on loopback', () => {
    const e = resolveEndpoint({ endpoint: 'custom', baseUrl: 'http://proxy.example', uploadUrl: 'https://proxy.example/upload' });
    assert.equal(e.problem?.key, 'badUrl');
    assert.match(e.problem!.params.message, /baseUrl/);
  });
});

/** Whether something accepts TCP connections at url's port on 127.0.0.1. */
function listening(url: string): Promise<boolean> {
  const port = Number(new URL(url).port);
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('segmind-config: built-in sandbox and time scale (runtime)', function () {
  this.timeout(60000);
  const USER_KEY = 'SG_user_key_must_not_reach_sandbox_91c2';
  const savedEnv = process.env.SEGMIND_API_KEY;
  const sadtalker = specs.find((s) => s.slug === 'sadtalker')!;

  afterEach(async () => {
    await helper.unload();
    if (savedEnv === undefined) delete process.env.SEGMIND_API_KEY;
    else process.env.SEGMIND_API_KEY = savedEnv;
  });

  function chain(config: Record<string, unknown>): Record<string, unknown>[] {
    const media = Object.fromEntries(sadtalker.params.filter((p) => p.type === 'media').map((p) => [p.name, p.type === 'media' ? p.defaultProperty : '']));
    return [
      { id: 'f', type: 'tab' },
      { id: 'cfg', type: 'segmind-config', name: 'sandbox', rpm: 600, ...config },
      { id: 'm', z: 'f', type: sadtalker.nodeType, config: 'cfg', ...media, wires: [['aw']] },
      { id: 'aw', z: 'f', type: 'segmind await', config: 'cfg', timeout: 900, result: 'url', wires: [['ok'], ['failed'], ['timedOut']] },
      { id: 'ok', z: 'f', type: 'helper' },
      { id: 'failed', z: 'f', type: 'helper' },
      { id: 'timedOut', z: 'f', type: 'helper' },
      { id: 'catcher', z: 'f', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'f', type: 'helper' },
    ];
  }

  async function load(config: Record<string, unknown>, credentials: Record<string, unknown> = {}): Promise<void> {
    initI18n();
    await helper.load([sets.config(), sets.model(sadtalker.file), sets.await()] as never, chain(config) as never, credentials as never);
  }

  /** The first message that leaves on any of the await node's outputs, or reaches the catch node. */
  function outcome(): Promise<{ node: string; msg: any }> {
    return new Promise((resolve) => {
      for (const id of ['ok', 'failed', 'timedOut', 'caught']) helper.getNode(id).on('input', (msg: any) => resolve({ node: id, msg }));
    });
  }

  const inputs = {
    image: 'https://segmind-sd-models.s3.amazonaws.com/display_images/sad_talker/sad-talker-input.png',
    audio: Buffer.from('ID3 not really audio but the sandbox does not care'),
  };

  it('starts the sandbox when the first message needs it, completes a job with no key at all, keeps it through a redeploy, stops it once idle', async () => {
    delete process.env.SEGMIND_API_KEY;
    process.env.SEGMIND_SANDBOX_IDLE_MS = '1500';
    await load({ endpoint: 'sandbox' });
    const cfg = helper.getNode('cfg');
    assert.equal(cfg.problem, undefined, 'no key needed');
    assert.equal(cfg.timeScale, SANDBOX_TIME_SCALE, 'its own speed, applied');
    assert.equal(cfg.client.url, undefined, 'not started before a node needs it');
    const done = outcome();
    helper.getNode('m').receive({ ...inputs });
    const { node, msg } = await done;
    assert.equal(node, 'ok', JSON.stringify(msg.error ?? msg.payload));
    const url: string = cfg.client.url;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, 'a loopback ephemeral port');
    assert.notEqual(new URL(url).port, '8990');
    assert.match(String(msg.payload), /^http:\/\/127\.0\.0\.\d+:\d+\/.+\.mp4/, 'the sandbox output URL');
    assert.equal(msg.segmind.model, 'sadtalker');
    assert.ok(await listening(url), 'listening while the flow runs');
    // a redeploy: the new config node instance finds the same sandbox, and the jobs it holds
    await helper.setFlows(chain({ endpoint: 'sandbox' }), 'full', {});
    const again = outcome();
    helper.getNode('m').receive({ ...inputs });
    assert.equal((await again).node, 'ok');
    assert.equal(helper.getNode('cfg').client.url, url, 'the same sandbox after the redeploy');
    await helper.unload();
    assert.ok(await listening(url), 'kept for a moment: a redeploy comes back to it');
    for (let i = 0; i < 300 && (await listening(url)); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await listening(url), false, 'stopped once no config node used it');
    delete process.env.SEGMIND_SANDBOX_IDLE_MS;
  });

  it("never sends the user's key to the built-in sandbox (it accepts only its own)", async () => {
    process.env.SEGMIND_API_KEY = USER_KEY;
    await load({ endpoint: 'sandbox' }, { cfg: { apiKey: USER_KEY } });
    const done = outcome();
    helper.getNode('m').receive({ ...inputs });
    const { node, msg } = await done;
    // had the key gone there, the sandbox would have answered 401
    assert.equal(node, 'ok', JSON.stringify(msg.error));
    assert.ok(!JSON.stringify(msg).includes(USER_KEY));
  });

  it('refuses a time scale below 1 for Segmind with a clear reason, sending nothing', async () => {
    await load({ endpoint: 'segmind', timeScale: 0.03 }, { cfg: { apiKey: USER_KEY } });
    const cfg = helper.getNode('cfg');
    assert.match(cfg.problem, /Time scale 0\.03 applies only to a sandbox on this machine/);
    assert.match(cfg.problem, /https:\/\/api\.segmind\.com/);
    const done = outcome();
    helper.getNode('m').receive({ ...inputs });
    const { node, msg } = await done;
    assert.equal(node, 'caught');
    assert.match(msg.error.message, /Time scale 0\.03/);
  });

  it('a legacy config pointing at a sandbox on this machine keeps its time scale', async () => {
    await load({ baseUrl: SANDBOX_URL, uploadUrl: `${SANDBOX_URL}/upload-asset`, timeScale: 0.03 }, { cfg: { apiKey: USER_KEY } });
    const cfg = helper.getNode('cfg');
    assert.equal(cfg.endpoint, 'custom');
    assert.equal(cfg.problem, undefined);
    assert.equal(cfg.timeScale, 0.03);
  });
});
