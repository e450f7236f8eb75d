// The message that leaves for each end of a job.
import assert from 'node:assert/strict';
import { applyEnd, onOutput, OUTPUT } from '../../src/jobs/messages';
import { ThrottledStatus } from '../../src/jobs/status-throttle';

const job = { requestId: 'r1', model: 'sadtalker', submittedAt: Date.parse('2024-01-01T00:00:00Z') };
const texts = { timedOut: 'TIMED OUT', stopped: 'STOPPED' };

describe('jobs/messages', () => {
  it('completed: payload, full result, status; keeps other properties; drops a stale msg.error', () => {
    const msg: Record<string, unknown> = { topic: 'x', segmind: { requestId: 'r1', timedOut: true, message: 'old' }, error: { code: 'old' } };
    const out = applyEnd(msg, job, { kind: 'completed', payload: 'https://f/x.mp4', result: { output: 'https://f/x.mp4', metrics: { cost: 1 } } }, texts);
    assert.equal(out, OUTPUT.completed);
    assert.equal(msg.payload, 'https://f/x.mp4');
    assert.equal(msg.topic, 'x');
    assert.equal(msg.error, undefined);
    assert.deepEqual(msg.segmind, {
      requestId: 'r1',
      model: 'sadtalker',
      submittedAt: '2024-01-01T00:00:00.000Z',
      status: 'COMPLETED',
      result: { output: 'https://f/x.mp4', metrics: { cost: 1 } },
    });
  });

  it('failed: msg.error with message, code and HTTP status', () => {
    const msg: Record<string, unknown> = { payload: 'r1' };
    const out = applyEnd(msg, job, { kind: 'failed', error: { message: 'boom', code: 'failed', httpStatus: 422 }, result: { status: 'FAILED' }, status: 'FAILED' }, texts);
    assert.equal(out, OUTPUT.failed);
    // the job exists (and was billed): sending the message to the model node again is not safe
    assert.deepEqual(msg.error, { message: 'boom', code: 'failed', httpStatus: 422, resubmitSafe: false });
    assert.equal((msg.segmind as Record<string, unknown>).status, 'FAILED');
    assert.equal(msg.payload, 'r1');
  });

  it('timed out and stopped leave on the third output with the id kept', () => {
    const a: Record<string, unknown> = {};
    assert.equal(applyEnd(a, job, { kind: 'timeout', status: 'PROCESSING' }, texts), OUTPUT.timedOut);
    assert.deepEqual(a.segmind, { requestId: 'r1', model: 'sadtalker', submittedAt: '2024-01-01T00:00:00.000Z', status: 'PROCESSING', timedOut: true, message: 'TIMED OUT' });
    const b: Record<string, unknown> = {};
    assert.equal(applyEnd(b, job, { kind: 'stopped' }, texts), OUTPUT.timedOut);
    assert.equal((b.segmind as Record<string, unknown>).stopped, true);
    assert.equal((b.segmind as Record<string, unknown>).message, 'STOPPED');
  });

  it('onOutput puts the message on exactly one of three outputs', () => {
    assert.deepEqual(onOutput(OUTPUT.failed, 'm'), [null, 'm', null]);
  });
});

describe('jobs/status-throttle', () => {
  it('shows the first change at once, folds later ones into one trailing update per interval', async () => {
    const seen: number[] = [];
    const s = new ThrottledStatus<number>((v) => seen.push(v), 50);
    s.set(1);
    s.set(2);
    s.set(3);
    assert.deepEqual(seen, [1]);
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(seen, [1, 3]);
    s.set(4);
    s.close();
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(seen, [1, 3]);
  });
});
