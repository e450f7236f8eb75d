// What a pending job looks like in a store: a JSON-safe message (no Buffers, no live objects)
// and records validated when read back.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { isPendingRecord, MemoryJobStore, storableMessage, type PendingRecord } from '../../src/jobs/store';

describe('jobs/store', () => {
  it('leaves out Buffers, typed arrays, functions, req/res and live objects; keeps plain data', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const msg = {
      _msgid: 'abc',
      payload: Buffer.from('video'),
      topic: 't',
      image: new Uint8Array([1, 2, 3]),
      segmind: { requestId: 'r1', model: 'sadtalker', nested: { buf: Buffer.alloc(3), keep: [1, 'two', null] } },
      req: { headers: {} },
      res: { _res: {} },
      fn: () => 1,
      when: new Date(0),
      emitter: new EventEmitter(),
      cyclic,
      big: 10n,
      nan: Number.NaN,
    };
    const out = storableMessage(msg);
    assert.deepEqual(out, {
      _msgid: 'abc',
      topic: 't',
      segmind: { requestId: 'r1', model: 'sadtalker', nested: { keep: [1, 'two', null] } },
      when: '1970-01-01T00:00:00.000Z',
      cyclic: { name: 'loop' },
      big: '10',
      nan: null,
    });
    // the original is untouched and the copy survives JSON
    assert.ok(Buffer.isBuffer(msg.payload));
    assert.deepEqual(JSON.parse(JSON.stringify(out)), out);
  });

  it('keeps a shared (non-cyclic) object in every place it appears', () => {
    const shared = { a: 1 };
    assert.deepEqual(storableMessage({ x: shared, y: shared }), { x: { a: 1 }, y: { a: 1 } });
  });

  const good: PendingRecord = {
    v: 1,
    key: 'k1',
    requestId: 'r1',
    model: 'sadtalker',
    submittedAt: 1,
    receivedAt: 2,
    deadline: 3,
    msg: { payload: 'x' },
  };

  it('validates records read back', () => {
    assert.ok(isPendingRecord(good));
    assert.ok(isPendingRecord({ ...good, model: undefined, submittedAt: undefined }));
    for (const bad of [null, {}, { ...good, v: 2 }, { ...good, key: '' }, { ...good, requestId: 5 }, { ...good, deadline: 'soon' }, { ...good, msg: [] }, { ...good, submittedAt: Number.NaN }]) {
      assert.ok(!isPendingRecord(bad), JSON.stringify(bad));
    }
  });

  it('the memory store round-trips copies', async () => {
    const store = new MemoryJobStore();
    await store.put(good);
    const [back] = await store.load();
    assert.deepEqual(back, good);
    back.msg.payload = 'changed';
    assert.equal((await store.load())[0].msg.payload, 'x');
    await store.delete('k1');
    assert.deepEqual(await store.load(), []);
  });
});
