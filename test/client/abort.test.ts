// Abort and close: in-flight, queued and backing-off calls stop promptly; nothing is sent after close.
import assert from 'node:assert/strict';
import { SADTALKER, delay, rejectsWith, useSandbox, waitFor } from './helpers';

describe('client: abort and close', () => {
  const TS = 0.01; // window 600 ms
  const h = useSandbox({ timeScale: TS });
  const job = () => ({ requestId: 'r1', submittedAt: new Date().toISOString() });

  it('a caller abort stops an in-flight request', async () => {
    const client = h.client();
    h.sb.fault({ endpoint: 'status', kind: { type: 'hold' } }); // unanswered until aborted
    const ac = new AbortController();
    const call = client.status(job(), { signal: ac.signal });
    await waitFor('the request on the wire', () => h.sb.count({ endpoint: 'status' }) === 1);
    await delay(10);
    ac.abort();
    const err = await rejectsWith(call, 'aborted');
    assert.equal(err.retryable, false);
    assert.equal(h.sb.count({ endpoint: 'status' }), 1, 'not retried after the abort');
  });

  it('an already aborted signal sends nothing', async () => {
    const client = h.client();
    await rejectsWith(client.submit('sadtalker', SADTALKER, { signal: AbortSignal.abort() }), 'aborted');
    assert.equal(h.sb.requests.length, 0);
  });

  it('a caller abort stops the wait between retries', async () => {
    const client = h.client();
    // the retry would come 3 s later: long after the abort, however slow the machine
    h.sb.fault({ endpoint: 'status', times: Infinity, kind: { type: 'rate_limit', resetInSeconds: 300 } });
    const ac = new AbortController();
    const call = client.status(job(), { signal: ac.signal });
    await waitFor('the 429', () => h.sb.requests.some((r) => r.status === 429));
    await delay(10);
    ac.abort();
    await rejectsWith(call, 'aborted');
    await delay(400);
    assert.equal(h.sb.count({ endpoint: 'status' }), 1, 'the retry was never sent');
  });

  it('close() aborts in-flight, queued and backing-off calls, and nothing is sent after it', async () => {
    const client = h.client({ requestsPerMinute: 5 }); // one release every ~122 ms
    h.sb.fault({ endpoint: 'status', kind: { type: 'hold' } }); // unanswered until aborted
    h.sb.fault({ endpoint: 'result', times: Infinity, kind: { type: 'rate_limit', resetInSeconds: 400 } });
    const inFlight = client.status(job());
    await waitFor('the status request', () => h.sb.count({ endpoint: 'status' }) === 1);
    // sent ~128 ms later; its 429 then pauses the whole budget for 4 s
    const backingOff = client.result(job());
    await waitFor('the result request', () => h.sb.requests.some((r) => r.endpoint === 'result' && r.status === 429));
    const queued = [client.status(job()), client.submit('sadtalker', SADTALKER), client.uploadAsset([Buffer.from('x')])];
    await delay(20);
    assert.deepEqual(
      h.sb.requests.map((r) => r.endpoint),
      ['status', 'result'],
    );
    assert.equal(client.stats.queued, 3);
    const outcomes = [inFlight, backingOff, ...queued].map((p) => rejectsWith(p, 'aborted'));
    await client.close();
    const errors = await Promise.all(outcomes);
    for (const e of errors) assert.match(e.message, /client was closed/);
    assert.equal(client.stats.queued, 0);
    await rejectsWith(client.status(job()), 'aborted');
    await rejectsWith(client.download(`${h.sb.filesUrl}/outputs/x.mp4`), 'aborted');
    await delay(700);
    assert.equal(h.sb.requests.length, 2, 'no request after close');
    await client.close(); // idempotent
  });

  it('close() breaks a download stream in progress', async () => {
    const client = h.client();
    h.sb.scriptJob({ outcome: 'complete', durationSeconds: 0 });
    const j = await client.submit('sadtalker', SADTALKER);
    const dl = await client.download(`${h.sb.filesUrl}/outputs/${j.requestId}.mp4`);
    const outcome = new Promise<string>((resolve) => {
      dl.stream.once('error', (e) => resolve(`error ${(e as { code?: string }).code}`));
      dl.stream.once('end', () => resolve('end'));
    });
    await client.close();
    dl.stream.resume();
    assert.equal(await outcome, 'error aborted');
  });

  it('close() with a download stream nobody reads yet does not crash the process', async () => {
    const client = h.client();
    h.sb.scriptJob({ outcome: 'complete', durationSeconds: 0 });
    const j = await client.submit('sadtalker', SADTALKER);
    const dl = await client.download(`${h.sb.filesUrl}/outputs/${j.requestId}.mp4`);
    await client.close();
    await delay(20);
    assert.equal((dl.stream as unknown as { destroyed: boolean }).destroyed, true);
  });
});
