// Reading what a message asks of the await node.
import assert from 'node:assert/strict';
import { parseAwaitInput } from '../../src/jobs/input';

const ID = '2c7f59ea-1b2c-4d5e-8f90-123456789abc';

describe('jobs/input', () => {
  it('reads a model node job handle', () => {
    const r = parseAwaitInput(
      { segmind: { requestId: ID, model: 'hallo', statusUrl: 'https://api.segmind.com/s', responseUrl: 'https://api.segmind.com/r', submittedAt: '2024-01-01T00:00:00.000Z' } },
      900,
    );
    assert.deepEqual(r, {
      kind: 'wait',
      timeoutSeconds: 900,
      job: { requestId: ID, model: 'hallo', statusUrl: 'https://api.segmind.com/s', responseUrl: 'https://api.segmind.com/r', submittedAt: Date.parse('2024-01-01T00:00:00.000Z') },
    });
  });

  it('reads a bare id from msg.payload, msg.segmind or a raw submit answer', () => {
    for (const msg of [{ payload: ` ${ID} ` }, { segmind: ID }, { segmind: { requestId: ID } }, { payload: { request_id: ID, status: 'QUEUED' } }]) {
      const r = parseAwaitInput(msg, 10);
      assert.equal(r.kind, 'wait', JSON.stringify(msg));
      if (r.kind === 'wait') {
        assert.equal(r.job.requestId, ID);
        assert.equal(r.job.submittedAt, undefined);
      }
    }
  });

  it('prefers msg.segmind.requestId over msg.payload', () => {
    const r = parseAwaitInput({ segmind: { requestId: ID }, payload: 'other-id' }, 10);
    assert.equal(r.kind === 'wait' && r.job.requestId, ID);
  });

  it('takes msg.timeout (seconds) over the default and names a bad one', () => {
    const ok = parseAwaitInput({ payload: ID, timeout: '30' }, 900);
    assert.equal(ok.kind === 'wait' && ok.timeoutSeconds, 30);
    for (const bad of [0, -1, 'soon', Number.NaN, 1e9]) {
      const r = parseAwaitInput({ payload: ID, timeout: bad }, 900);
      assert.equal(r.kind, 'invalid');
      if (r.kind === 'invalid') {
        assert.equal(r.field, 'msg.timeout');
        assert.match(r.message, /msg\.timeout must be a number of seconds/);
      }
    }
  });

  it('reads a stop request', () => {
    assert.deepEqual(parseAwaitInput({ payload: ID, stop: true }, 900), { kind: 'stop', requestId: ID });
    assert.deepEqual(parseAwaitInput({ segmind: { requestId: ID }, stop: true }, 900), { kind: 'stop', requestId: ID });
  });

  it('refuses messages without a usable id, naming where it looked and what it found', () => {
    for (const [msg, field] of [
      [{}, 'msg.segmind.requestId'],
      [{ payload: 42 }, 'msg.segmind.requestId'],
      [{ payload: '../../etc/passwd' }, 'msg.payload'],
      [{ payload: 'has space' }, 'msg.payload'],
      [{ segmind: { requestId: 7 } }, 'msg.segmind.requestId'],
    ] as const) {
      const r = parseAwaitInput(msg as Record<string, unknown>, 900);
      assert.equal(r.kind, 'invalid', JSON.stringify(msg));
      if (r.kind === 'invalid') {
        assert.equal(r.field, field);
        assert.match(r.message, /request id/);
        assert.ok(r.message.startsWith(`${field} is `), `the text starts with the field: ${r.message}`);
      }
    }
    const stop = parseAwaitInput({ stop: true }, 900);
    assert.equal(stop.kind, 'invalid');
    assert.match((stop as { message: string }).message, /^msg\.segmind\.requestId is nothing: to stop waiting/);
  });
});
