// Nothing lost, nothing twice: a real `node-red` process (test/process harness) as Node-RED installs
// (no contextStorage in settings.js: the job ledger's journal does the keeping) runs jobs through the whole chain (http in ->
// model node -> await node -> report to a collector in this process): 10 that finish at once and
// 50 that are still running when the process
//  1. is killed with SIGKILL, then started again;
//  2. gets a full redeploy;
//  3. gets a "modified nodes" redeploy of an edited await node.
// Every job must be reported exactly once, as completed, and submitted exactly once.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { Collector } from '../process/collector';
import { AWAIT, reportingFlow } from '../process/reporting-flow';
import { freePort, kill, ledgerEntries, prepare, start, type NodeRedProcess } from '../process/node-red';
import { sleep, useBuildIn } from '../support/chain';

const KEY = 'SG_restart_50_e4a7';
// an API second lasts 20 ms: Segmind's one-hour retention is 72 s, longer than each scenario on a loaded machine
const SCALE = 0.02;
const SHORT = 10; // done (and reported) before the kill or redeploy
const IN_FLIGHT = 50; // still running then
const JOBS = SHORT + IN_FLIGHT;
const SHORT_SECONDS = 20; // 0.4 s

const flow = (sb: Sandbox, collectorUrl: string, awaitName = ''): Record<string, unknown>[] =>
  reportingFlow({ sandbox: sb, collectorUrl, scale: SCALE, label: 'in flight', awaitName });

/** Jobs the await node has claimed in the job ledger right now. */
function storedJobs(userDir: string): number {
  return ledgerEntries(userDir, 'cfg').filter((e) => e.claimedBy === AWAIT).length;
}

async function until(test: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await sleep(20);
  }
}

describe('restart: 50 jobs in flight through SIGKILL and redeploys (real node-red process)', function () {
  this.timeout(90_000);
  let sb: Sandbox;
  let collector: Collector;
  let userDir: string;
  let port: number;
  let nr: NodeRedProcess | undefined;

  before(async () => {
    sb = await startSandbox({ timeScale: SCALE, apiKeys: [KEY], durationSigma: 0 });
    collector = new Collector();
    await collector.start();
    userDir = await mkdtemp(join(tmpdir(), 'segmind-restart-50-'));
    port = await freePort();
    prepare(userDir, port, flow(sb, collector.url), { cfg: { apiKey: KEY } }); // SEGMIND_API_KEY goes to Segmind's hosts only
    useBuildIn(userDir);
    nr = await start(userDir, port, {});
  });

  after(async () => {
    if (nr) await kill(nr);
    await sb.close();
    await collector.close();
    await rm(userDir, { recursive: true, force: true });
  });

  const debug = () => `\nreports: ${collector.reports.length}, stored: ${storedJobs(userDir)}, submits: ${sb.count({ endpoint: 'submit' })}\n${nr?.log.slice(-30).join('\n')}`;

  /** Sends 60 jobs (10 short, 50 long) into the running flow; resolves once every short one is reported and every long one is stored. */
  async function sendRound(tag: string): Promise<{ reportedBefore: number; submitsBefore: number }> {
    const reportedBefore = collector.reports.length;
    const submitsBefore = sb.count({ endpoint: 'submit' });
    sb.scriptJob({ outcome: 'complete', durationSeconds: SHORT_SECONDS, times: SHORT });
    // still running when the process dies or the flow is redeployed: finished by hand afterwards
    sb.scriptJob({ outcome: 'never', times: IN_FLIGHT });
    const posts = Array.from({ length: JOBS }, (_v, i) =>
      fetch(`${nr!.url}/job`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ image: 'https://example.com/face.png', audio: 'https://example.com/voice.mp3', tag: `${tag}-${i}` }),
      }).then(async (res) => {
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }),
    );
    await Promise.all(posts);
    await until(
      () =>
        sb.count({ endpoint: 'submit' }) - submitsBefore === JOBS &&
        collector.reports.length - reportedBefore === SHORT &&
        storedJobs(userDir) === IN_FLIGHT,
      20_000,
      () => `${SHORT} short jobs reported and ${IN_FLIGHT} long ones stored${debug()}`,
    );
    return { reportedBefore, submitsBefore };
  }

  /** Every job of this round reported exactly once, completed; each submitted exactly once. */
  async function assertExactlyOnce(tag: string, { reportedBefore, submitsBefore }: { reportedBefore: number; submitsBefore: number }): Promise<void> {
    sb.finishJobs();
    await collector.waitFor(reportedBefore + JOBS, 30_000).catch((e: Error) => {
      throw new Error(`${e.message}${debug()}`);
    });
    await sleep(800); // room for a duplicate to show up
    const round = collector.reports.slice(reportedBefore);
    assert.equal(round.length, JOBS, `exactly ${JOBS} reports, no duplicate: ${JSON.stringify(round.map((r) => r.tag))}`);
    const tags = round.map((r) => String(r.tag));
    assert.equal(new Set(tags).size, JOBS, 'each message reported once');
    assert.ok(tags.every((t) => t.startsWith(`${tag}-`)), 'only this round');
    const ids = round.map((r) => r.requestId);
    assert.equal(new Set(ids).size, JOBS, 'each job reported once');
    assert.ok(round.every((r) => r.outcome === 'completed'), JSON.stringify(round.filter((r) => r.outcome !== 'completed')));
    assert.equal(sb.count({ endpoint: 'submit' }) - submitsBefore, JOBS, 'no job submitted twice');
    for (const id of ids) assert.ok(sb.jobs.has(String(id)), `reported job ${id} exists`);
    // delivered jobs leave the store once the flow after the await node had its moment (SETTLE_MS)
    await until(() => storedJobs(userDir) === 0, 20_000, () => `nothing left in the store${debug()}`);
  }

  it('SIGKILL with 50 jobs running, then a restart: every job reported exactly once', async () => {
    const round = await sendRound('kill');
    await kill(nr!);
    nr = undefined;
    await sleep(200);
    assert.equal(collector.reports.length - round.reportedBefore, SHORT, 'nothing was reported while down');
    assert.equal(storedJobs(userDir), IN_FLIGHT, 'the running jobs survived the kill in the store');

    nr = await start(userDir, port, {});
    await assertExactlyOnce('kill', round);
    assert.ok(nr.log.some((l) => new RegExp(`Resuming ${IN_FLIGHT} pending Segmind job\\(s\\) from the job ledger`).test(l)), nr.log.join('\n'));
  });

  async function redeploy(type: 'full' | 'nodes', awaitName: string): Promise<void> {
    const res = await fetch(`${nr!.url}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': type },
      body: JSON.stringify({ flows: flow(sb, collector.url, awaitName) }),
    });
    assert.equal(res.status, 200, await res.text());
  }

  it('a full redeploy with 50 jobs running: every job reported exactly once', async () => {
    const round = await sendRound('full');
    await redeploy('full', '');
    await assertExactlyOnce('full', round);
  });

  it('a redeploy of the edited await node only (modified nodes) with 50 jobs running: every job reported exactly once', async () => {
    const round = await sendRound('nodes');
    await redeploy('nodes', 'renamed while jobs run');
    await assertExactlyOnce('nodes', round);
  });
});
