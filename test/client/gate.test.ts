// The request gate that caps API requests in flight per client: order, aborts, stop, hand-over.
import assert from 'node:assert/strict';
import { RequestGate } from '../../src/client/http';

const settle = () => new Promise((r) => setImmediate(r));

describe('client: request gate', () => {
  it('lets `limit` calls through at once and the rest in order of arrival', async () => {
    const gate = new RequestGate(2);
    assert.equal(gate.enter(), undefined, 'free slot: no promise');
    assert.equal(gate.enter(), undefined);
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) => gate.enter()!.then(() => order.push(n)));
    await settle();
    assert.deepEqual(order, [], 'nobody passes while both slots are taken');
    gate.leave();
    await settle();
    assert.deepEqual(order, [1], 'a leaving call hands its slot straight to the first waiter');
    gate.leave();
    gate.leave();
    await Promise.all(waits);
    assert.deepEqual(order, [1, 2, 3]);
  });

  it('an aborted waiter leaves the queue at once and its turn is skipped', async () => {
    const gate = new RequestGate(1);
    gate.enter();
    const ac = new AbortController();
    const aborted = gate.enter(ac.signal)!;
    const next = gate.enter()!;
    let nextIn = false;
    void next.then(() => (nextIn = true));
    ac.abort(new Error('gone'));
    await assert.rejects(aborted, /gone/);
    gate.leave();
    await settle();
    assert.equal(nextIn, true, 'the slot went past the aborted turn to the next waiter');
    await assert.rejects(gate.enter(AbortSignal.abort(new Error("already"))) as Promise<void>, /already/);
  });

  it('stop() rejects every waiter and every later call', async () => {
    const gate = new RequestGate(1);
    gate.enter();
    const waiting = [gate.enter()!, gate.enter()!];
    gate.stop(new Error('closed'));
    for (const w of waiting) await assert.rejects(w, /closed/);
    await assert.rejects(gate.enter() as Promise<void>, /closed/);
  });
});
