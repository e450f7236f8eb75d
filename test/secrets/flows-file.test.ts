// The API key in a real Node-RED process: deployed through the admin API the way the editor does it
// (POST /flows with the credential inline), used for a real job, then looked for everywhere it must
// not be: flows.json, flows_cred.json in clear, GET /flows (what the editor loads and exports from),
// the credentials endpoint, and the process log at trace level. A restart proves the key was kept
// (encrypted), not just dropped.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { Collector } from '../process/collector';
import { freePort, kill, prepare, start, type NodeRedProcess } from '../process/node-red';
import { useBuildIn } from '../support/chain';
import { until } from '../support/wait';

const CANARY = 'SG_canary_7d1e5f0a9b';
const SCALE = 0.002;

function flows(sb: Sandbox, collectorUrl: string, withKey: boolean): Record<string, unknown>[] {
  const z = 'tab1';
  return [
    { id: z, type: 'tab', label: 'secrets' },
    {
      id: 'cfg',
      type: 'segmind-config',
      name: 'sandbox',
      baseUrl: sb.url,
      uploadUrl: sb.uploadUrl,
      rpm: 100000,
      timeScale: SCALE,
      // the editor sends a changed credential inline with the node
      ...(withKey ? { credentials: { apiKey: CANARY } } : {}),
    },
    { id: 'in', type: 'http in', z, url: '/job', method: 'post', upload: false, wires: [['ok', 'model']] },
    { id: 'ok', type: 'http response', z, statusCode: '200', wires: [] },
    {
      id: 'model',
      type: 'segmind sadtalker',
      z,
      config: 'cfg',
      input_image: 'payload.image',
      input_imageType: 'msg',
      input_audio: 'payload.audio',
      input_audioType: 'msg',
      wires: [['await']],
    },
    { id: 'await', type: 'segmind await', z, config: 'cfg', timeout: 3600, result: 'url', wires: [['r'], ['r'], ['r']] },
    {
      id: 'r',
      type: 'function',
      z,
      // the whole message but the live HTTP objects, so the test can search it for the key
      func: 'const whole = Object.assign({}, msg); delete whole.req; delete whole.res;\nmsg.payload = { requestId: msg.segmind && msg.segmind.requestId, outcome: msg.error ? "failed" : (msg.segmind && msg.segmind.timedOut ? "timedout" : "completed"), whole: whole };\nmsg.headers = { "content-type": "application/json" };\nreturn msg;',
      outputs: 1,
      libs: [],
      wires: [['post']],
    },
    { id: 'post', type: 'http request', z, method: 'POST', ret: 'txt', url: collectorUrl, tls: '', persist: false, wires: [] },
  ];
}

describe('secrets: the API key in a real Node-RED process (flows file, export, log)', function () {
  // two Node-RED starts: ~3 s each on an idle machine, over 15 s each on a loaded one
  this.timeout(150_000);
  let sb: Sandbox;
  let collector: Collector;
  let userDir: string;
  let port: number;
  let nr: NodeRedProcess | undefined;

  async function startRed(): Promise<NodeRedProcess> {
    // SEGMIND_API_KEY empty: the key can only come from the deployed credential
    return start(userDir, port, { SEGMIND_API_KEY: '' });
  }

  async function job(p: NodeRedProcess, n: number): Promise<void> {
    const res = await fetch(`${p.url}/job`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image: 'https://example.com/face.png', audio: 'https://example.com/voice.mp3' }),
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    await collector.waitFor(n, 20_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${p.log.slice(-40).join('\n')}`);
    });
    assert.equal(collector.reports[n - 1].outcome, 'completed', JSON.stringify(collector.reports[n - 1]));
  }

  before(async () => {
    sb = await startSandbox({ timeScale: SCALE, apiKeys: [CANARY], durationSigma: 0, typicalSeconds: { sadtalker: 10 } });
    collector = new Collector();
    await collector.start();
    userDir = await mkdtemp(join(tmpdir(), 'segmind-secrets-'));
    port = await freePort();
    prepare(userDir, port, []);
    useBuildIn(userDir);
    // as test/process writes it, but with credentials encrypted and the most verbose log
    const settings = readFileSync(join(userDir, 'settings.js'), 'utf8')
      .replace('"credentialSecret": false', '"credentialSecret": "a secret only this test knows"')
      .replace(/"level": "info"/, '"level": "trace"');
    assert.match(settings, /a secret only this test knows/);
    assert.match(settings, /"level": "trace"/);
    writeFileSync(join(userDir, 'settings.js'), settings);
  });

  after(async () => {
    if (nr) await kill(nr);
    await sb.close();
    await collector.close();
    await rm(userDir, { recursive: true, force: true });
  });

  it('deploys with the key, runs a job, and the key is nowhere but encrypted in flows_cred.json; it survives a restart', async () => {
    nr = await startRed();
    const started = () => nr!.log.filter((l) => /\[info\] Started flows/.test(l)).length;
    const startsBefore = started();
    const deployed = await fetch(`${nr.url}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify({ flows: flows(sb, collector.url, true) }),
    });
    assert.equal(deployed.status, 200, await deployed.text());
    await until(() => started() > startsBefore, 'the deployed flows to start (they restart after the answer)');
    await job(nr, 1);
    assert.ok(sb.requests.some((r) => r.endpoint === 'submit' && r.apiKeyValid), 'the job used the deployed key');

    const flowFile = readFileSync(join(userDir, 'flows.json'), 'utf8');
    assert.match(flowFile, /segmind-config/);
    assert.ok(!flowFile.includes(CANARY), 'flows.json holds no key');
    const credFile = join(userDir, 'flows_cred.json');
    assert.ok(existsSync(credFile), 'the credential was saved');
    const cred = readFileSync(credFile, 'utf8');
    assert.ok(!cred.includes(CANARY), 'flows_cred.json holds the key only encrypted');
    assert.match(cred, /"\$"/, 'encrypted with credentialSecret');

    const exported = await fetch(`${nr.url}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } });
    const exportText = await exported.text();
    assert.equal(exported.status, 200);
    assert.match(exportText, /segmind-config/);
    assert.ok(!exportText.includes(CANARY), 'GET /flows (editor load and export) holds no key');

    const creds = await fetch(`${nr.url}/credentials/segmind-config/cfg`);
    const credsText = await creds.text();
    assert.equal(creds.status, 200);
    assert.deepEqual(JSON.parse(credsText), { has_apiKey: true }, 'the editor only learns that a key is set');

    // the whole delivered message (incl. msg.segmind, msg.req headers) holds no key
    assert.ok(!JSON.stringify(collector.reports).includes(CANARY), 'no delivered message holds the key');

    // a restart reads the key back from flows_cred.json: a second job works
    await kill(nr);
    nr = await startRed();
    await job(nr, 2);

    const log = nr.log.join('\n');
    assert.ok(log.length > 0 && /Started flows/.test(log));
    assert.ok(!log.includes(CANARY), 'the Node-RED log (trace level) holds no key');
    assert.ok(!JSON.stringify(sb.requests.filter((r) => r.listener === 'files')).includes(CANARY));
    assert.ok(sb.requests.filter((r) => r.listener === 'files').every((r) => !r.apiKeyPresent));
  });
});
