// What a Catch node gets from our nodes, in the real Node-RED runtime against the sandbox: every
// error coded, `resubmitSafe` true only where Segmind certainly created no job, the field of a
// validation error, and texts that start with what matters. Node-RED itself copies only code, stack
// and cause onto msg.error, so these also prove the runtime hook (src/nodes/error-details.ts) works.
import assert from 'node:assert/strict';
import { SegmindClient } from '../../src/client';
import type { Sandbox } from '../../src/sandbox';
import { facePng, voiceMp3 } from '../media/samples';
import { chainSandbox, helper, loadChain, sadtalkerMsg, type Chain } from '../support/chain';
import { HOOK_LABEL, MAX_REMEMBERED, catchHookInstalled, detailsFor, installCatchHook, rememberError } from '../../src/nodes/error-details';
import { requestFailure } from '../../src/nodes/input-errors';
import { SegmindError } from '../../src/client/errors';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { hooks } = require('@node-red/util');

const KEY = 'SG_errors_test_7d1c';

describe('errors: what a Catch node gets (runtime + sandbox)', function () {
  this.timeout(20_000);
  let sb: Sandbox;
  let chain: Chain;
  before(async () => {
    sb = await chainSandbox({ apiKeys: [KEY] });
  });
  after(async () => {
    await sb.close();
  });
  beforeEach(async () => {
    chain = await loadChain({ sandbox: sb, apiKey: KEY });
  });
  afterEach(async () => {
    await chain.unload();
    sb.reset({ jobs: true });
  });

  async function caughtOf(id: string, msg: Record<string, unknown>): Promise<any> {
    const msgid = chain.send(id, msg);
    await chain.collector.until(() => chain.collector.of(msgid).some((e) => e.ending === 'caught'), 10_000, 'the caught message');
    return chain.collector.of(msgid).find((e) => e.ending === 'caught')!.msg;
  }

  it('validation: code invalid_input, the field, resubmitSafe true, the text starting with the field; nothing sent', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['m', sadtalkerMsg({ payload: { pose_style: 99 } }), 'pose_style'],
      ['m', { audio: 'https://example.com/voice.mp3' }, 'input_image'],
      ['g', { model: 'Not A Slug', payload: {} }, 'model'],
    ];
    for (const [id, msg, field] of cases) {
      const caught = await caughtOf(id, msg);
      const error = caught.error;
      assert.equal(error.code, 'invalid_input', error.message);
      assert.equal(error.field, field);
      assert.equal(error.resubmitSafe, true);
      assert.equal(error.source.id, id);
      assert.ok(error.message.startsWith(field), `starts with what matters: ${error.message}`);
      assert.doesNotMatch(error.message, /^Error: /);
    }
    assert.equal(sb.requests.length, 0);
  });

  it('an upload that fails is safe to resubmit (no submit was sent), whatever the upload error', async () => {
    sb.fault({ endpoint: 'upload', kind: { type: 'http', status: 500, body: { error: 'storage down' } } });
    const caught = await caughtOf('m', { image: facePng, audio: voiceMp3 });
    assert.equal(caught.error.code, 'server');
    assert.equal(caught.error.httpStatus, 500);
    assert.equal(caught.error.resubmitSafe, true);
    // what happened first (it is all the debug sidebar shows of a collapsed error), then what it was for
    assert.match(caught.error.message, /^Segmind had a server error \(HTTP 500\) during the upload of 2 files: storage down\./);
    assert.match(caught.error.message, /The files were for input_image, input_audio; no job was submitted\.$/);
    assert.equal(sb.count({ endpoint: 'submit' }), 0);
  });

  it('a Catch-and-retry loop (same _msgid) sees each failure as it is: safe first, then not', async () => {
    const msgid = 'retry-loop-1';
    const n = helper.getNode('m');
    n.receive({ ...sadtalkerMsg({ payload: { pose_style: 99 } }), _msgid: msgid });
    await chain.collector.until(() => chain.collector.of(msgid).length >= 1, 10_000, 'the first failure');
    const first = chain.collector.of(msgid)[0].msg;
    assert.deepEqual([first.error.code, first.error.resubmitSafe], ['invalid_input', true]);
    // the flow fixes the input and sends the message again; this time Segmind fails after accepting
    sb.fault({ endpoint: 'submit', kind: { type: 'reset_after' } });
    n.receive({ ...sadtalkerMsg(), _msgid: msgid });
    await chain.collector.until(() => chain.collector.of(msgid).filter((e) => e.ending === 'caught').length >= 2, 10_000, 'the second failure');
    const second = chain.collector.of(msgid).filter((e) => e.ending === 'caught')[1].msg;
    assert.equal(second.error.code, 'network');
    assert.equal(second.error.resubmitSafe, false, 'the job was created: sending it again would bill twice');
    assert.equal(second.error.field, undefined, 'no field from the earlier failure');
    assert.equal(sb.jobs.size, 1);
  });

  it('a submit answer with request_id but no URLs goes on with built URLs, warns, and the job completes', async () => {
    // a real job, whose id the faulty answer carries
    const client = new SegmindClient({ apiKey: KEY, baseUrl: sb.url, uploadUrl: sb.uploadUrl, timeScale: 0.001, requestsPerMinute: 100000 });
    const real = await client.submit('sadtalker', { input_image: 'https://example.com/f.png', input_audio: 'https://example.com/v.mp3' });
    await client.close();
    const warnings: string[] = [];
    helper.getNode('cfg').on('call:warn', (call: { args: unknown[] }) => warnings.push(String(call.args[0])));
    sb.fault({ endpoint: 'submit', kind: { type: 'http', status: 200, body: { request_id: real.requestId, status: 'QUEUED' } } });
    const msgid = chain.send('m', sadtalkerMsg());
    await chain.collector.until(() => chain.collector.of(msgid).some((e) => e.ending === 'completed' || e.ending === 'failed'), 10_000, 'the await output');
    const out = chain.collector.of(msgid).find((e) => e.ending === 'completed');
    assert.ok(out, chain.collector.describe());
    assert.equal(out.msg.segmind.requestId, real.requestId);
    assert.equal(out.msg.segmind.statusUrl, `${sb.url}/v2/requests/${real.requestId}/status`);
    assert.equal(out.msg.segmind.responseUrl, `${sb.url}/v2/requests/${real.requestId}`);
    assert.deepEqual(warnings, [
      `Segmind answered the submit to model 'sadtalker' with request ${real.requestId} but without status_url, response_url; going on with URLs built from ${sb.url}.`,
    ]);
    assert.equal(sb.count({ endpoint: 'submit' }), 2, 'the test client and the model node: one each');
  });
});

describe('errors: the details kept for Catch nodes', () => {
  it('the hook goes into the runtime with the first error, once, however many node sets register', () => {
    const id = `onReceive.${HOOK_LABEL}`;
    hooks.remove(id); // as in a fresh runtime
    const RED = { hooks } as never;
    installCatchHook(RED);
    installCatchHook(RED);
    assert.equal(hooks.has(id), false, 'no hook (and no cost per message) while nothing failed');
    rememberError('node-a', { _msgid: 'a1' }, { code: 'invalid_input', resubmitSafe: true });
    assert.equal(hooks.has(id), true);
    assert.equal(catchHookInstalled(), true);
    rememberError('node-a', { _msgid: 'a2' }, { code: 'invalid_input', resubmitSafe: true });
    // a second add under the label would throw: it was not attempted
    assert.throws(() => hooks.add(id, () => undefined), /already registered/);
  });

  it(`keeps at most ${MAX_REMEMBERED} errors, dropping the oldest`, () => {
    for (let i = 0; i <= MAX_REMEMBERED; i++) rememberError('node-b', { _msgid: `b${i}` }, { code: 'invalid_input', resubmitSafe: true });
    const of = (i: number) => detailsFor({ _msgid: `b${i}`, error: { source: { id: 'node-b' } } });
    assert.equal(of(0), undefined, 'the oldest was dropped');
    assert.deepEqual(of(1), { code: 'invalid_input', resubmitSafe: true });
    assert.deepEqual(of(MAX_REMEMBERED), { code: 'invalid_input', resubmitSafe: true });
    assert.equal(detailsFor({ _msgid: 'b1', error: { source: { id: 'another-node' } } }), undefined, 'keyed by the source node too');
  });

  it('budget refusals (budget_full, spend_limit) are safe to resubmit; an unreadable submit answer is not', () => {
    const t = (key: string, params?: Record<string, unknown>) => `${key} ${JSON.stringify(params ?? {})}`;
    for (const code of ['budget_full', 'spend_limit'] as const) {
      const failure = requestFailure(t, new SegmindError({ code, retryable: false, message: 'refused by the budget' }), 'submit', { model: 'sadtalker' });
      assert.deepEqual([failure.code, failure.resubmitSafe], [code, true]);
    }
    const garbled = requestFailure(t, new SegmindError({ code: 'invalid_response', retryable: false, message: 'x' }), 'submit', { model: 'sadtalker' });
    assert.deepEqual([garbled.code, garbled.resubmitSafe], ['invalid_response', false]);
  });
});
