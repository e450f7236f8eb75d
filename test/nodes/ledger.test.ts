// The job ledger through the real nodes in the real runtime (node-red-node-test-helper) against the
// sandbox: a redeploy during a submit, disabling and enabling the await node, deleting it and
// resuming its job elsewhere by request id, a handle arriving while the await node closes.
// Deliveries are captured with a runtime hook on the helper nodes' input, so they are seen across
// redeploys (which replace every node instance).
import assert from 'node:assert/strict';
import { chainFlow, chainSandbox, helper, sadtalkerMsg, sets, sleep, type ChainOptions } from '../support/chain';
import { initI18n } from '../support/runtime';
import { Notifier, until } from '../support/wait';
import type { Sandbox } from '../../src/sandbox';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { hooks } = require('@node-red/util');

const KEY = 'SG_ledger_test_5d1e';
const ENDINGS = ['completed', 'failed', 'timedOut', 'caught'];

interface Seen {
  to: string;
  msg: any;
}

/** Every message that reaches one of the chain's end helpers, from any node instance. */
class Deliveries {
  readonly seen: Seen[] = [];
  private readonly changes = new Notifier();
  constructor() {
    hooks.add('onReceive.ledgerTest', (evt: { msg: any; destination: { id: string } }) => {
      if (ENDINGS.includes(evt.destination.id)) {
        this.seen.push({ to: evt.destination.id, msg: evt.msg });
        this.changes.notify();
      }
    });
  }
  stop(): void {
    hooks.remove('*.ledgerTest');
  }
  of(to: string): any[] {
    return this.seen.filter((s) => s.to === to).map((s) => s.msg);
  }
  until(test: () => boolean, ms: number, what: string): Promise<void> {
    return this.changes.until(test, ms, what, () => JSON.stringify(this.seen.map((s) => [s.to, s.msg.segmind?.requestId, s.msg.error?.message])));
  }
}

describe('job ledger through the nodes (runtime + sandbox)', function () {
  this.timeout(60_000);
  let sb: Sandbox;
  let d: Deliveries;
  // timeout 30,000 API s = 30 s real at the chain's scale (0.001): jobs of a few seconds never time out
  const opts = (extra: Partial<ChainOptions> = {}): ChainOptions => ({ sandbox: sb, apiKey: KEY, timeout: 30_000, ...extra });
  const credentials = { cfg: { apiKey: KEY } };
  const load = (o: ChainOptions) =>
    helper.load([sets.config(), sets.await(), sets.generic(), sets.model('sadtalker')] as never, chainFlow(o) as never, credentials as never);

  before(async () => {
    initI18n();
    sb = await chainSandbox({ apiKeys: [KEY] });
  });
  after(async () => {
    await sb.close();
  });
  beforeEach(() => {
    sb.reset({ jobs: true });
    d = new Deliveries();
  });
  afterEach(async () => {
    d.stop();
    await helper.unload();
  });

  it('a redeploy while a submit is on the wire: the submit finishes, its job is recorded and sent on once by the new instance', async () => {
    // the answer to the submit takes 1.5 s: the redeploy starts while it is on the wire
    sb.fault({ endpoint: 'submit', kind: { type: 'slow_headers', delayMs: 1500 } });
    await load(opts());
    helper.getNode('m').receive({ ...sadtalkerMsg(), _msgid: 'redeploy-1', topic: 'kept' });
    for (let i = 0; i < 400 && sb.count({ endpoint: 'submit' }) === 0; i++) await sleep(10);
    assert.equal(sb.count({ endpoint: 'submit' }), 1, 'the submit is on the wire');
    await helper.setFlows(chainFlow(opts({ timeout: 30_001 })), 'full', credentials);
    await d.until(() => d.of('completed').length >= 1, 30_000, 'the job to complete after the redeploy');
    await sleep(300);
    const done = d.of('completed');
    assert.equal(done.length, 1, 'delivered once');
    assert.equal(done[0]._msgid, 'redeploy-1');
    assert.equal(done[0].topic, 'kept');
    assert.notEqual(done[0].segmind.redelivered, true, 'never sent before: not flagged');
    assert.equal(sb.count({ endpoint: 'submit' }), 1, 'submitted once');
    assert.equal(d.of('caught').length, 0, JSON.stringify(d.of('caught').map((m) => m.error)));
  });

  it('disable then enable the await node: its jobs wait in the ledger and resume', async () => {
    sb.scriptJob({ outcome: 'complete', durationSeconds: 3000, times: 3 }); // 3 s at 0.001
    await load(opts());
    for (let i = 0; i < 3; i++) helper.getNode('m').receive({ ...sadtalkerMsg(), _msgid: `dis-${i}` });
    // all three jobs are in the await node's hands (each polled at least once), not just three polls
    const polled = () => new Set(sb.requests.filter((r) => r.endpoint === 'status').map((r) => r.requestId)).size;
    await until(() => polled() >= 3, 'a poll of each of the three jobs');
    const flow = chainFlow(opts());
    const warnings: string[] = [];
    const a = helper.getNode('a');
    const warn = a.warn.bind(a);
    a.warn = (m: unknown) => {
      warnings.push(String(m));
      warn(m);
    };
    // disabled: Node-RED closes it with removed = true, exactly as for a delete
    await helper.setFlows(flow.map((n) => (n.id === 'a' ? { ...n, d: true } : n)), 'nodes', credentials);
    assert.ok(warnings.some((w) => /3 job/.test(w)), warnings.join('\n'));
    const ids = [...new Set(sb.requests.filter((r) => r.endpoint === 'submit').map((r) => r.requestId))];
    await sleep(500);
    assert.equal(d.seen.length, 0, 'nothing delivered while disabled');
    await helper.setFlows(flow, 'nodes', credentials);
    await d.until(() => d.of('completed').length >= 3, 30_000, 'the three jobs after enabling');
    await sleep(300);
    assert.deepEqual(d.of('completed').map((m) => m._msgid).sort(), ['dis-0', 'dis-1', 'dis-2']);
    assert.equal(sb.count({ endpoint: 'submit' }), 3);
    assert.ok(ids.length <= 3);
  });

  it('a deleted await node logs its pending request ids; the id sent to another await node resumes the job', async () => {
    sb.scriptJob({ outcome: 'complete', durationSeconds: 2000, times: 1 });
    await load(opts());
    helper.getNode('m').receive({ ...sadtalkerMsg(), _msgid: 'del-1' });
    for (let i = 0; i < 500 && sb.count({ endpoint: 'status' }) < 1; i++) await sleep(10);
    const requestId = sb.requests.find((r) => r.endpoint === 'submit' && r.requestId)?.requestId ?? sb.requests.find((r) => r.endpoint === 'status')!.requestId!;
    const warnings: string[] = [];
    const a = helper.getNode('a');
    const warn = a.warn.bind(a);
    a.warn = (m: unknown) => {
      warnings.push(String(m));
      warn(m);
    };
    const flow = chainFlow(opts()).filter((n) => n.id !== 'a');
    await helper.setFlows(flow, 'full', credentials);
    assert.ok(warnings.some((w) => w.includes(requestId)), `the request id is in the log: ${warnings.join('\n')}`);
    // a bare request id into the buffer-mode await node of the same account
    helper.getNode('ab').receive({ _msgid: 'bare', payload: requestId });
    await d.until(() => d.of('completed').length >= 1, 30_000, 'the job resumed by id');
    const [m] = d.of('completed');
    assert.equal(m.segmind.requestId, requestId);
    assert.ok(Buffer.isBuffer(m.payload), 'delivered by the node it was sent to (buffer mode)');
    assert.equal(sb.count({ endpoint: 'submit' }), 1);
  });

  it('a job handle that arrives while the await node closes is kept and delivered by the next instance', async () => {
    sb.scriptJob({ outcome: 'complete', durationSeconds: 500, times: 1 });
    await load(opts());
    // a handle submitted directly, so it reaches the await node exactly while it closes
    const client = helper.getNode('cfg').client;
    const handle = await client.submit('sadtalker', { input_image: 'https://example.com/a.png', input_audio: 'https://example.com/a.mp3' });
    const a = helper.getNode('a');
    a.on('close', () => a.receive({ _msgid: 'late', segmind: handle }));
    await helper.setFlows(chainFlow(opts({ timeout: 30_002 })), 'full', credentials);
    await d.until(() => d.of('completed').length >= 1, 30_000, 'the late handle delivered');
    await sleep(300);
    assert.deepEqual(d.of('completed').map((m) => m._msgid), ['late']);
  });
});
