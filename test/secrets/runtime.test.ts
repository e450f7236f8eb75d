// The API key as a canary in the runtime: jobs in every result mode, with retries, failures and
// errors, hostile message properties and redirects. The key must appear in no message, no error,
// no node status, no log line, and in no request to a host other than the configured API hosts.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Sandbox } from '../../src/sandbox';
import { chainSandbox, helper, loadChain, safeText, sadtalkerMsg, sleep, tempDir, type Chain, type Event } from '../support/chain';
import { lanAddress, startAttacker, type Attacker } from './attacker';

const SCALE = 0.01;

const CANARY = 'SG_canary_7d1e5f0a9b';

describe('secrets: the API key in the runtime (canary)', function () {
  this.timeout(20_000);
  let sb: Sandbox;
  let attacker: Attacker;
  let lanAttacker: Attacker;
  let chain: Chain;
  let folder: string;
  const lan = lanAddress();
  /** a request id of a job that completed, for the await-node tests */
  let knownJob: Record<string, unknown>;

  before(async () => {
    // outputs on the API origin answer 302 to the files origin, like a CDN behind the API.
    // An API second lasts 10 ms, sadtalker runs 10 API s: Segmind's hour (36 s) outlasts the whole
    // file on a loaded machine, for the job resumed in the second test, and the await timeout is 9 s.
    sb = await chainSandbox({ apiKeys: [CANARY], outputVia: 'api-redirect', timeScale: SCALE, typicalSeconds: { sadtalker: 10 } });
    attacker = await startAttacker();
    lanAttacker = await startAttacker('0.0.0.0');
    folder = tempDir('segmind-secrets-');
    const badBase = `http://${lan ?? 'example.com'}:${lanAttacker.port}`;
    chain = await loadChain({
      sandbox: sb,
      apiKey: CANARY,
      folder,
      config: { timeScale: SCALE },
      extraNodes: [
        { id: 'cfgBadBase', type: 'segmind-config', name: 'bad base', baseUrl: badBase, uploadUrl: sb.uploadUrl, rpm: 1000, timeScale: 0.001 },
        { id: 'cfgBadUpload', type: 'segmind-config', name: 'bad upload', baseUrl: sb.url, uploadUrl: `${badBase}/upload-asset`, rpm: 1000, timeScale: 0.001 },
        { id: 'mBadBase', z: 'f', type: 'segmind sadtalker', config: 'cfgBadBase', wires: [['aBadBase']] },
        { id: 'aBadBase', z: 'f', type: 'segmind await', config: 'cfgBadBase', timeout: 900, result: 'url', wires: [['completed'], ['failed'], ['timedOut']] },
        { id: 'mBadUpload', z: 'f', type: 'segmind sadtalker', config: 'cfgBadUpload', wires: [['a']] },
      ],
      extraCredentials: { cfgBadBase: { apiKey: CANARY }, cfgBadUpload: { apiKey: CANARY } },
    });
  });

  after(async () => {
    await chain.unload();
    await sb.close();
    await attacker.close();
    await lanAttacker.close();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  /** Sends msg into node `id` and resolves with its events once it ended (Catch or an await output). */
  async function run(id: string, msg: Record<string, unknown>): Promise<Event[]> {
    const msgid = chain.send(id, msg);
    const ended = () =>
      chain.collector.of(msgid).some((e) => e.ending === 'caught' || e.ending === 'awaitDone' || (id.startsWith('a') && e.ending !== 'modelDone'));
    await chain.collector.until(ended, 15_000, `the message into ${id} to end`);
    await sleep(30);
    return chain.collector.of(msgid);
  }

  const ending = (events: Event[]) => events.filter((e) => !e.ending.endsWith('Done')).map((e) => e.ending);

  it('normal jobs in url, buffer and file mode, with retries and failures: the key is sent only to the API', async () => {
    const url = await run('m', sadtalkerMsg());
    assert.deepEqual(ending(url), ['completed']);
    knownJob = url.find((e) => e.ending === 'completed')!.msg.segmind;

    const buffer = await run('mb', sadtalkerMsg());
    assert.deepEqual(ending(buffer), ['completed']);
    assert.ok(Buffer.isBuffer(buffer.find((e) => e.ending === 'completed')!.msg.payload));
    assert.deepEqual(ending(await run('mf', sadtalkerMsg())), ['completed']);

    // retries are logged (node.warn): the log must still not carry the key
    sb.fault({ endpoint: 'submit', kind: { type: 'rate_limit', retryAfterSeconds: 5 } });
    sb.fault({ endpoint: 'status', kind: { type: 'http', status: 500 } });
    assert.deepEqual(ending(await run('m', sadtalkerMsg())), ['completed']);
    sb.scriptJob({ outcome: 'fail', error: 'No face found' });
    assert.deepEqual(ending(await run('m', sadtalkerMsg())), ['failed']);
    sb.fault({ endpoint: 'submit', kind: { type: 'http', status: 401, body: { error: 'Invalid API key' } } });
    assert.deepEqual(ending(await run('m', sadtalkerMsg())), ['caught']);
    assert.ok(/Invalid API key|rejected the API key/.test(chain.logText() + safeText(chain.collector.events)), 'the 401 was reported');

    // the key went to the API listener and only there; the output downloads crossed to the files origin without it
    const api = sb.requests.filter((r) => r.listener === 'api' && r.endpoint !== 'output');
    assert.ok(api.length > 0 && api.every((r) => r.apiKeyPresent && r.apiKeyValid), 'every API call carried the canary');
    const files = sb.requests.filter((r) => r.listener === 'files');
    assert.ok(files.length >= 2, `output downloads reached the files origin (${files.length})`);
    assert.ok(files.every((r) => !r.apiKeyPresent), 'no request to the files origin carries the key');
    const redirects = sb.requests.filter((r) => r.listener === 'api' && r.endpoint === 'output');
    assert.ok(redirects.length >= 2 && redirects.every((r) => r.status === 302), 'downloads went through the API redirect');
  });

  it('message properties cannot send the key to another host', async () => {
    const evil = attacker.url;
    // a model node: URLs and headers on the message are not where requests go
    const hostile = sadtalkerMsg({
      baseUrl: evil,
      url: `${evil}/v2/sadtalker`,
      uploadUrl: `${evil}/upload-asset`,
      headers: { 'x-api-key': 'SG_other', host: new URL(evil).host },
      segmind: { statusUrl: `${evil}/status`, responseUrl: `${evil}/result` },
      payload: { baseUrl: evil, statusUrl: evil },
    });
    assert.deepEqual(ending(await run('m', hostile)), ['completed']);

    // the await node: a job handle whose URLs point elsewhere is polled on the API origin
    const handle = { ...knownJob, statusUrl: `${evil}/v2/requests/${knownJob.requestId}/status`, responseUrl: `${evil}/v2/requests/${knownJob.requestId}` };
    const resumed = await run('a', { segmind: handle, baseUrl: evil });
    assert.deepEqual(ending(resumed), ['completed']);
    const polledOn = sb.requests.filter((r) => r.requestId === knownJob.requestId && r.endpoint === 'result');
    assert.ok(polledOn.length >= 2, 'the result was fetched from the API again');

    // a URL where a request id belongs is not a request id
    const asId = await run('a', { payload: `${evil}/v2/requests/x/status` });
    assert.deepEqual(ending(asId), ['failed']);
    assert.match(asId.find((e) => e.ending === 'failed')!.msg.error.message, /request id/);

    // the generic node: a model "slug" that is a URL or a path
    for (const model of [`${evil}/v2/x`, '../../../x', 'sadtalker/../../x', '//127.0.0.1:1/x']) {
      const g = await run('g', { model, payload: { input_image: 'https://example.com/a.png' } });
      assert.deepEqual(ending(g), ['caught'], model);
      assert.match(g[0].msg.error.message, /model/);
    }
    assert.deepEqual(attacker.seen, [], 'the other host saw no request at all');
  });

  it('a redirect from the API to another origin never carries the key', async () => {
    const to = (path: string) => ({ type: 'http' as const, status: 302, headers: { location: `${attacker.url}${path}` } });
    // submit, status and result: not followed at all (the API does not redirect)
    sb.fault({ endpoint: 'submit', kind: to('/v2/sadtalker') });
    assert.deepEqual(ending(await run('m', sadtalkerMsg())), ['caught']);
    sb.fault({ endpoint: 'status', kind: to('/status') });
    // the message ends once (failed, or completed if the poll is simply repeated): what matters is where requests went
    assert.equal(ending(await run('m', sadtalkerMsg())).length, 1);
    sb.fault({ endpoint: 'result', kind: to('/result') });
    const result = await run('m', sadtalkerMsg());
    assert.equal(ending(result).length, 1);
    assert.equal(attacker.seen.length, 0, 'API calls do not follow a redirect');

    // an output download may follow a redirect, but not with the key
    sb.fault({ endpoint: 'output', kind: to('/file.mp4') });
    const dl = await run('mb', sadtalkerMsg());
    assert.deepEqual(ending(dl), ['completed']);
    assert.ok(attacker.seen.length >= 1, 'the download followed the redirect');
    for (const seen of attacker.seen) {
      assert.equal(seen.headers['x-api-key'], undefined, 'no x-api-key across origins');
      assert.ok(!safeText(seen).includes(CANARY), 'no canary in any header or URL');
    }
  });

  it('a plain-http base URL or upload URL on a non-loopback host is refused before any request', async function () {
    const bad = await run('mBadBase', sadtalkerMsg());
    assert.deepEqual(ending(bad), ['caught']);
    const text: string = bad[0].msg.error.message;
    assert.match(text, /baseUrl/);
    assert.match(text, /https/);
    const up = await run('mBadUpload', sadtalkerMsg());
    assert.deepEqual(ending(up), ['caught']);
    assert.match(up[0].msg.error.message, /uploadUrl/);
    // the await node on the refused config: failed output, not a hang
    const aw = await run('aBadBase', { segmind: knownJob });
    assert.deepEqual(ending(aw), ['failed']);
    assert.ok(chain.statuses.some((s) => s.id === 'mBadBase' && s.status?.fill === 'red'), 'the node shows the problem');
    await sleep(100);
    if (!lan) this.skip(); // no non-loopback address to listen on: the refusal is still asserted above
    assert.deepEqual(lanAttacker.seen, [], 'nothing reached the plain-http host');
  });

  it('the key appears in no message, error, node status or log line', () => {
    const messages = safeText(chain.collector.events.map((e) => e.msg));
    assert.ok(messages.length > 1000, 'messages were collected');
    assert.ok(!messages.includes(CANARY), 'no message or error carries the key');
    const statuses = safeText(chain.statuses);
    assert.ok(chain.statuses.length > 5, 'statuses were collected');
    assert.ok(!statuses.includes(CANARY), 'no node status shows the key');
    const log = chain.logText();
    assert.ok(/retry|429|500/i.test(log), 'retries were logged');
    assert.ok(!log.includes(CANARY), 'no log line carries the key');
    assert.ok(!safeText(sb.requests).includes(CANARY));
    // the key's own node keeps it only as a credential; no other node's properties hold it
    for (const id of ['m', 'mb', 'mf', 'g', 'a', 'ab', 'af']) {
      const n = helper.getNode(id);
      const own = Object.fromEntries(Object.entries(n).filter(([k]) => !k.startsWith('_')));
      assert.ok(!safeText(own).includes(CANARY), `node ${id} does not hold the key in its properties`);
    }
  });
});
