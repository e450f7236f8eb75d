// The account's budget through the real nodes (Node-RED runtime, sandbox enforcing the plan's
// rate): admission control (messages wait in order, refused beyond the queue with budget_full and
// nothing sent), the spending cap (spend_limit, nothing sent), two config nodes with one key
// sharing one budget, and a redeploy keeping the window and the spending count.
import assert from 'node:assert/strict';
import { specs } from '../../src/models/specs';
import type { Sandbox } from '../../src/sandbox';
import { MAX_QUEUE } from '../../src/jobs/admission';
import { API_KEY, configSet, helper, initI18n, modelSet, withSandbox } from './model-node-harness';
import { mediaMsg, nodeDef } from './model-node-cases';

const sadtalker = specs.find((s) => s.slug === 'sadtalker')!;
const TS = 0.001; // an API minute lasts 60 ms

/** The largest number of request times inside any window (half-open, as the sandbox counts). */
function maxInWindow(ts: number[], windowMs: number): number {
  const sorted = [...ts].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

interface Outcomes {
  outputs: any[];
  caught: any[];
  statuses: Array<{ fill?: string; text?: string }>;
}

/** A flow of model nodes (ids m1, m2...) on config nodes, each wired to one collector, errors to a catch. */
function flow(sb: Sandbox, models: Array<{ id: string; config: string }>, configs: Array<{ id: string; extra?: Record<string, unknown> }>) {
  const nodes: Record<string, unknown>[] = [{ id: 'f', type: 'tab' }];
  for (const c of configs) {
    nodes.push({ id: c.id, type: 'segmind-config', name: `account ${c.id}`, baseUrl: sb.url, uploadUrl: sb.uploadUrl, rpm: 5, timeScale: TS, ...c.extra });
  }
  for (const m of models) nodes.push({ id: m.id, z: 'f', name: '', config: m.config, ...nodeDef(sadtalker), wires: [['out']] });
  nodes.push(
    { id: 'out', z: 'f', type: 'helper' },
    { id: 'catcher', z: 'f', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f', type: 'helper' },
  );
  const credentials = Object.fromEntries(configs.map((c) => [c.id, { apiKey: API_KEY }]));
  return { nodes, credentials };
}

async function load(f: ReturnType<typeof flow>): Promise<void> {
  await initI18n();
  await helper.load([configSet(), modelSet(sadtalker.file)] as never, f.nodes as never, f.credentials as never);
}

/** Sends `n` messages (to node ids in turn) and collects outcomes until every message has one. */
async function sendAll(ids: string[], n: number, limitMs = 20_000): Promise<Outcomes> {
  const o: Outcomes = { outputs: [], caught: [], statuses: [] };
  const out = helper.getNode('out');
  const caught = helper.getNode('caught');
  out.on('input', (m: unknown) => o.outputs.push(m));
  caught.on('input', (m: unknown) => o.caught.push(m));
  for (const id of new Set(ids)) helper.getNode(id).on('call:status', (c: { args: Array<{ fill?: string; text?: string }> }) => o.statuses.push(c.args[0]));
  for (let i = 0; i < n; i++) helper.getNode(ids[i % ids.length]).receive(mediaMsg(sadtalker, { i }));
  const end = Date.now() + limitMs;
  while (o.outputs.length + o.caught.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  out.removeAllListeners('input');
  caught.removeAllListeners('input');
  return o;
}

describe('nodes: the account budget (runtime + rate-limited sandbox)', function () {
  this.timeout(60_000);
  let sb: Sandbox;
  before((done) => {
    helper.startServer(done);
  });
  after((done) => {
    helper.stopServer(done);
  });
  beforeEach(async () => {
    // a fresh sandbox (own port: own account) per test, enforcing the Free plan's 5 per minute
    sb = await withSandbox({ timeScale: TS, rateLimitPerMinute: 5 });
  });
  afterEach(async () => {
    await helper.unload();
    await sb.close();
  });

  it(`messages beyond what the budget can serve wait in order; beyond ${MAX_QUEUE} waiting they are refused (budget_full), nothing sent`, async () => {
    await load(flow(sb, [{ id: 'm1', config: 'cfg' }], [{ id: 'cfg' }]));
    const n = MAX_QUEUE + 10;
    const sentAt = Date.now();
    const o = await sendAll(['m1'], n, 40_000);
    assert.equal(o.outputs.length + o.caught.length, n, 'every message got exactly one outcome');
    const refused = o.caught;
    assert.ok(refused.length >= 10, `${refused.length} refused`);
    assert.ok(refused.every((m) => m.error.code === 'budget_full'), JSON.stringify(refused.map((m) => m.error.code)));
    const queueFull = refused.filter((m) => /messages already wait/.test(m.error.message));
    assert.ok(queueFull.length >= 10 - 4, 'beyond the queue: refused at once');
    assert.match(queueFull[0].error.message, /Refused before any request: the account's Segmind request budget \(5 requests\/min\)/);
    // nothing was sent for a refused message: one submit per message that went on, and no 429
    assert.equal(sb.requests.filter((r) => r.endpoint === 'submit' && r.status === 200).length, o.outputs.length);
    assert.equal(sb.requests.filter((r) => r.status === 429).length, 0, 'no 429');
    assert.ok(maxInWindow(sb.requests.map((r) => r.time), 60_000 * TS) <= 5);
    // the waiting showed in the node's status
    assert.ok(o.statuses.some((s) => s.fill === 'yellow' && /waiting for budget/.test(s.text ?? '')), JSON.stringify(o.statuses.slice(0, 5)));
    // time spent waiting for the budget is not the job's: its submittedAt is when it really went out
    const lastSubmit = Math.max(...o.outputs.map((m) => Date.parse(m.segmind.submittedAt)));
    assert.ok(lastSubmit - sentAt > 2 * 60_000 * TS, `the last job was submitted ${lastSubmit - sentAt} ms after the messages came`);
    const submits = sb.requests.filter((r) => r.endpoint === 'submit').map((r) => r.time);
    assert.ok(Math.abs(Math.max(...submits) - lastSubmit) < 60_000 * TS / 5, 'submittedAt is the submit, not the arrival');
    // the outputs left in the order the messages came
    const order = o.outputs.map((m) => m.i);
    assert.deepEqual(order, [...order].sort((a, b) => a - b));
  });

  it('the spending cap refuses the job over it before any request (spend_limit), and shows the count', async () => {
    await load(flow(sb, [{ id: 'm1', config: 'cfg' }], [{ id: 'cfg', extra: { rpm: 1000, jobsPerHour: 2 } }]));
    sb.setRateLimit(null);
    const o = await sendAll(['m1'], 3);
    assert.equal(o.outputs.length, 2);
    assert.equal(o.caught.length, 1);
    assert.equal(o.caught[0].error.code, 'spend_limit');
    assert.match(o.caught[0].error.message, /spending cap: 2 jobs were started in the last hour and the config node allows 2 per hour/);
    assert.equal(sb.count({ endpoint: 'submit' }), 2, 'no request for the refused message');
    assert.ok(o.statuses.some((s) => /2 jobs\/h · \$0\.37\/24 h/.test(s.text ?? '')), JSON.stringify(o.statuses));
    assert.ok(o.statuses.some((s) => s.fill === 'red' && /spending cap/.test(s.text ?? '')));
  });

  it("the config node's edit dialog reads the account's count from the admin API", async () => {
    await load(flow(sb, [{ id: 'm1', config: 'cfg' }], [{ id: 'cfg', extra: { rpm: 1000, jobsPerHour: 5 } }]));
    sb.setRateLimit(null);
    await sendAll(['m1'], 2);
    const res = await helper.request().get('/segmind-config/cfg/usage').expect(200);
    assert.equal(res.body.jobsLastHour, 2);
    assert.equal(res.body.spentToday, 0.368);
    assert.equal(res.body.limits.jobsPerHour, 5);
    assert.ok(!JSON.stringify(res.body).includes(API_KEY), 'no key in the answer');
    await helper.request().get('/segmind-config/nope/usage').expect(404);
  });

  it('USD per day: refused when the next job\'s price would go over the amount', async () => {
    await load(flow(sb, [{ id: 'm1', config: 'cfg' }], [{ id: 'cfg', extra: { rpm: 1000, maxSpendPerDay: 0.3 } }]));
    sb.setRateLimit(null);
    const o = await sendAll(['m1'], 2);
    assert.equal(o.outputs.length, 1);
    assert.match(o.caught[0].error.message, /\$0\.18 spent in the last 24 hours .* plus about \$0\.18 for this job would exceed the \$0\.30/);
    assert.equal(sb.count({ endpoint: 'submit' }), 1);
  });

  it('two config nodes with the same key share one budget: together never more than 5 a minute, no 429', async () => {
    await load(flow(sb, [{ id: 'm1', config: 'cfgA' }, { id: 'm2', config: 'cfgB' }], [{ id: 'cfgA' }, { id: 'cfgB' }]));
    const a = helper.getNode('cfgA');
    const b = helper.getNode('cfgB');
    assert.equal(a.client.account, b.client.account);
    const o = await sendAll(['m1', 'm2'], 12);
    assert.equal(o.outputs.length, 12);
    assert.equal(sb.requests.filter((r) => r.status === 429).length, 0);
    assert.ok(maxInWindow(sb.requests.map((r) => r.time), 60_000 * TS) <= 5);
    assert.equal(a.client.stats.sent, b.client.stats.sent, 'one budget: the same count seen from both');
  });

  it('a redeploy keeps the window and the spending count', async () => {
    const f = flow(sb, [{ id: 'm1', config: 'cfg' }], [{ id: 'cfg', extra: { jobsPerHour: 6 } }]);
    await load(f);
    const first = await sendAll(['m1'], 4);
    assert.equal(first.outputs.length, 4);
    // redeploy: every node closed and started again
    await helper.unload();
    await load(f);
    const second = await sendAll(['m1'], 3);
    assert.equal(second.outputs.length, 2, 'the spending count went on: 4 + 2 = 6 per hour');
    assert.match(second.caught[0].error.message, /6 jobs were started in the last hour/);
    assert.equal(sb.requests.filter((r) => r.status === 429).length, 0, 'the window went on: no 429 after the redeploy');
    assert.ok(maxInWindow(sb.requests.map((r) => r.time), 60_000 * TS) <= 5);
  });
});
