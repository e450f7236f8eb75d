// Compatibility matrix: the packed tarball, installed as the palette manager installs it, in a
// real Node-RED process per target (3.1 and 4.1 on Node 20, 4.1 and 5.0 on Node 22; see
// scripts/compat/targets.ts). Not part of the normal suite: run with
//   npx mocha --config test/compat/.mocharc.json
// COMPAT_ONLY=5.0 runs one target; COMPAT_TARBALL=<file.tgz> skips npm pack.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { prepare, type PreparedTarget } from '../../scripts/compat/prepare';
import { selectTargets } from '../../scripts/compat/targets';
import { startSandbox } from '../../src/sandbox';
import type { Sandbox } from '../../src/sandbox/types';
import { specs } from '../../src/models/specs';
import type { ModelSpec } from '../../src/models/spec';
import { deployFlows, getIcon, getIcons, getNodeMessages, getNodeSets, getNodesHtml, inject } from './lib/admin-api';
import { Collector } from './lib/collector';
import { IDS, REPORT_KINDS, buildFlow, type ReportKind } from './lib/flow';
import { otherProblems, ourProblems } from './lib/log-scan';
import { CREDENTIAL_SECRET, createUserDir, startNodeRed, type NodeRedProcess } from './lib/node-red-process';
import { packProject, type PackedPackage } from './lib/pack';

const API_KEY = 'SG_sandbox';
const targets = selectTargets(process.env.COMPAT_ONLY);
const SADTALKER = specs.find((s) => s.slug === 'sadtalker') as ModelSpec;
const EXPECTED_ICONS = ['segmind-config.svg', 'segmind-await.svg', 'segmind-model.svg', ...specs.map((s) => s.icon)];
const EXPECTED_TYPES = ['segmind-config', 'segmind await', 'segmind model', ...specs.map((s) => s.nodeType)];

interface Report {
  topic?: unknown;
  payload?: unknown;
  segmind?: { requestId?: unknown; model?: unknown; statusUrl?: unknown };
  error?: { message?: unknown; code?: unknown; field?: unknown; resubmitSafe?: unknown; source?: { id?: unknown; type?: unknown } };
  keys?: string[];
}

const timings: Array<{ id: string; phases: Record<string, number> }> = [];

describe('compat: packed tarball in real Node-RED processes', function () {
  let prepared: PreparedTarget[] = [];
  let packed: PackedPackage;
  let collector: Collector;

  before(async function () {
    this.timeout(15 * 60_000); // a cold cache downloads three Node-RED releases and a Node binary
    const started = Date.now();
    [prepared, packed] = await Promise.all([prepare(targets), packProject()]);
    collector = await Collector.start();
    console.log(`      prepared ${prepared.length} target(s) and packed ${path.basename(packed.tarball)} in ${Date.now() - started} ms`);
  });

  after(async function () {
    await collector?.close();
    for (const t of timings) {
      const parts = Object.entries(t.phases).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`);
      console.log(`      ${t.id}: ${parts.join(', ')}`);
    }
  });

  for (const t of targets) {
    describe(t.id, function () {
      this.timeout(60_000);
      let target: PreparedTarget;
      let userDir = '';
      let nr: NodeRedProcess | undefined;
      let sandbox: Sandbox | undefined;
      let deployLogFrom = 0;
      let failed = false;
      const phases: Record<string, number> = {};
      /** collector kinds are per target, so a late message from one target cannot pass another's test */
      const kindOf = (kind: ReportKind): string => `${t.id.replace(/[^\w]/g, '-')}-${kind}`;
      const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
        const s = Date.now();
        try {
          return await fn();
        } finally {
          phases[name] = Date.now() - s;
        }
      };

      before(async function () {
        this.timeout(5 * 60_000);
        target = prepared.find((p) => p.id === t.id) as PreparedTarget;
        userDir = await timed('install', () => createUserDir(target, packed.tarball));
        nr = await timed('start', () => startNodeRed(target, userDir));
        // retention far beyond the await node's timeout (3600 API s would be 3.6 s here)
        sandbox = await startSandbox({ timeScale: 0.001, durationSigma: 0, apiKeys: [API_KEY], retentionSeconds: 1e7 });
      });

      afterEach(function () {
        if (this.currentTest?.state === 'failed') failed = true;
      });

      after(async function () {
        this.timeout(20_000);
        if (nr && !nr.exited) await nr.stop(2000);
        await sandbox?.close();
        timings.push({ id: t.id, phases });
        if (failed || !nr) {
          console.log(`      ${t.id}: kept ${userDir} (node-red.log inside); last log lines:`);
          console.log((nr?.log ?? '').split('\n').slice(-60).map((l) => `        | ${l}`).join('\n'));
        } else if (userDir) {
          fs.rmSync(userDir, { recursive: true, force: true });
        }
      });

      it(`runs Node-RED ${t.nodeRedLine}.x on Node.js ${t.nodeLine}.x`, async function () {
        const running = nr as NodeRedProcess;
        assert.match(running.log, new RegExp(`Node-RED version: v${t.nodeRedLine.replace('.', '\\.')}\\.\\d+`));
        assert.match(running.log, new RegExp(`Node.js\\s+version: v${t.nodeLine}\\.\\d+`));
      });

      // Node-RED 3.1 and 4.x load node files with require(), 5.x with import() (a CommonJS file's
      // module.exports arrives as the namespace's default export).
      const loader = Number(t.nodeRedLine.split('.')[0]) >= 5 ? 'import()' : 'require()';
      it(`registers every node set of the package through ${loader}, enabled and without error`, async function () {
        const sets = (await getNodeSets((nr as NodeRedProcess).url)).filter((s) => s.module === packed.name);
        for (const setName of Object.keys(packed.nodeSets)) {
          const set = sets.find((s) => s.name === setName);
          assert.ok(set, `node set ${setName} of ${packed.name} is not registered; registered: ${sets.map((s) => s.name).join(', ')}`);
          assert.ok(!set.err, `node set ${setName} failed to load: ${JSON.stringify(set.err)}`);
          assert.equal(set.enabled, true, `node set ${setName} is not enabled`);
          assert.notEqual(set.loaded, false, `node set ${setName} is not loaded`);
          assert.ok(set.types.length > 0, `node set ${setName} registered no type`);
          assert.equal(set.version, packed.version);
        }
        const types = sets.flatMap((s) => s.types);
        for (const type of EXPECTED_TYPES) assert.ok(types.includes(type), `type '${type}' is not registered; got ${types.join(', ')}`);
      });

      it("serves every type's editor definition, icon and English messages", async function () {
        const base = (nr as NodeRedProcess).url;
        const html = await getNodesHtml(base);
        for (const type of EXPECTED_TYPES) {
          assert.ok(html.includes(`RED.nodes.registerType('${type}'`) || html.includes(`RED.nodes.registerType("${type}"`), `no editor registerType for '${type}'`);
        }
        const icons = (await getIcons(base))[packed.name] ?? [];
        for (const icon of EXPECTED_ICONS) {
          assert.ok(icons.includes(icon), `icon ${icon} not found by Node-RED; it lists ${icons.join(', ')}`);
          // the icon route differs for scoped modules: /icons/@scope/module/icon
          assert.match(await getIcon(base, packed.name, icon), /^image\/svg\+xml/);
        }
        const messages = await getNodeMessages(base, 'en-US');
        for (const setName of Object.keys(packed.nodeSets)) {
          const catalogue = messages[`${packed.name}/${setName}`];
          assert.ok(catalogue && Object.keys(catalogue).length > 0, `no en-US message catalogue for ${packed.name}/${setName}`);
        }
      });

      it('logs no warning or error about the package while loading', async function () {
        const running = nr as NodeRedProcess;
        const others = otherProblems(running.log);
        if (others.length) console.log(`      (other log lines, not ours: ${others.length})\n${others.map((l) => `        | ${l}`).join('\n')}`);
        assert.deepEqual(ourProblems(running.log), []);
        assert.doesNotMatch(running.log, /Waiting for missing types/);
      });

      it('deploys a flow with the config, model and await nodes through the admin API', async function () {
        const running = nr as NodeRedProcess;
        const sb = sandbox as Sandbox;
        deployLogFrom = running.log.length;
        const flow = buildFlow({
          spec: SADTALKER,
          apiUrl: sb.url,
          uploadUrl: sb.uploadUrl,
          apiKey: API_KEY,
          imageUrl: collector.fixtureUrl('face.jpg'),
          audioUrl: collector.fixtureUrl('voice.mp3'),
          collectUrl: (kind) => collector.collectUrl(kindOf(kind)),
        });
        await timed('deploy', async () => {
          await deployFlows(running.url, flow);
          // a type that failed to register leaves the flow waiting instead of starting
          const outcome = await running.waitForLog(/Started flows|Waiting for missing types[^]*/, 30_000, deployLogFrom);
          assert.equal(outcome, 'Started flows', `the deployed flow did not start: ${outcome}`);
        });
        assert.deepEqual(ourProblems(running.log.slice(deployLogFrom)), []);
      });

      it('completes a SadTalker job (image by JSONata, audio from flow context) through the await node', async function () {
        const running = nr as NodeRedProcess;
        const sb = sandbox as Sandbox;
        const from = collector.received.length;
        const got = await timed('job', async () => {
          await inject(running.url, IDS.injectOk);
          return collector.waitFor(REPORT_KINDS.map(kindOf), 30_000, from);
        });
        const report = got.body as Report;
        assert.equal(got.kind, kindOf('completed'), `expected the completed output; got ${got.kind}: ${JSON.stringify(report).slice(0, 1500)}`);
        assert.equal(report.topic, 'ok');
        assert.equal(typeof report.payload, 'string', `completed msg.payload: ${JSON.stringify(report.payload)}`);
        const out = new URL(report.payload as string);
        assert.equal(out.origin, sb.filesUrl, 'the result URL is on the sandbox files origin');
        const requestId = report.segmind?.requestId;
        assert.equal(typeof requestId, 'string');
        const job = sb.jobs.get(requestId as string);
        assert.ok(job, `msg.segmind.requestId ${String(requestId)} is not a sandbox job`);
        assert.equal(job.model, 'sadtalker');
        assert.equal(report.segmind?.model, 'sadtalker');
        const payload = job.payload as Record<string, unknown>;
        assert.equal(payload.input_image, collector.fixtureUrl('face.jpg'));
        assert.equal(payload.input_audio, collector.fixtureUrl('voice.mp3'));
        // the rest of the message travels through both nodes
        assert.ok(report.keys?.includes('image') && report.keys.includes('audio'), `keys: ${report.keys?.join(',')}`);
      });

      it('reports an invalid message to a Catch node (done(err)) and submits nothing', async function () {
        const running = nr as NodeRedProcess;
        const sb = sandbox as Sandbox;
        const from = collector.received.length;
        const submitsBefore = sb.count({ endpoint: 'submit' });
        await inject(running.url, IDS.injectBad);
        const got = await collector.waitFor(REPORT_KINDS.map(kindOf), 15_000, from);
        const report = got.body as Report;
        assert.equal(got.kind, kindOf('caught'), `expected the Catch node's report; got ${got.kind}: ${JSON.stringify(report).slice(0, 1500)}`);
        assert.equal(report.topic, 'bad');
        assert.equal(report.error?.source?.id, IDS.model);
        assert.equal(report.error?.source?.type, 'segmind sadtalker');
        assert.match(String(report.error?.message), /^pose_style: 99 /, 'the text starts with what matters');
        // Node-RED 3.1 copies no code onto msg.error, 4.x only code: the runtime hook adds the rest
        assert.equal(report.error?.code, 'invalid_input');
        assert.equal(report.error?.field, 'pose_style');
        assert.equal(report.error?.resubmitSafe, true);
        assert.equal(sb.count({ endpoint: 'submit' }), submitsBefore, 'an invalid message must not be submitted');
      });

      it('keeps the API key out of flows.json, the log and every report', async function () {
        const running = nr as NodeRedProcess;
        const flowsFile = fs.readFileSync(path.join(running.userDir, 'flows.json'), 'utf8');
        const credFile = fs.readFileSync(path.join(running.userDir, 'flows_cred.json'), 'utf8');
        assert.ok(!flowsFile.includes(API_KEY), 'flows.json holds the API key');
        assert.ok(!credFile.includes(API_KEY), `flows_cred.json holds the key in clear (credentialSecret '${CREDENTIAL_SECRET}' should encrypt it)`);
        assert.ok(!running.log.includes(API_KEY), 'the Node-RED log holds the API key');
        assert.ok(!JSON.stringify(collector.received).includes(API_KEY), 'a message carried the API key');
      });

      it('stops on SIGTERM within 10 s while a job is still being awaited', async function () {
        this.timeout(60_000);
        const running = nr as NodeRedProcess;
        const sb = sandbox as Sandbox;
        assert.deepEqual(ourProblems(running.log.slice(deployLogFrom), [/pose_style/]), []);
        // a job that never ends: the await node's close must not hold the runtime up
        sb.scriptJob({ model: 'sadtalker', outcome: 'never' });
        const jobsBefore = sb.jobs.size;
        await inject(running.url, IDS.injectOk);
        const deadline = Date.now() + 30_000; // a loose limit: a loaded machine is slow, not wrong
        while (![...sb.jobs.values()].slice(jobsBefore).some((j) => j.outcome === 'never' && sb.requests.some((r) => r.endpoint === 'status' && r.requestId === j.requestId))) {
          assert.ok(Date.now() < deadline, 'the never-ending job was not submitted and polled within 30 s');
          await new Promise((r) => setTimeout(r, 20));
        }
        const ended = await timed('stop', () => running.stop(10_000));
        assert.equal(ended.killed, false, `node-red did not exit within 10 s of SIGTERM`);
      });
    });
  }
});
