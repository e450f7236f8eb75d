// What a pending job looks like in a store: a JSON-safe message (no Buffers, no live objects)
// and records validated when read back.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { MAX_STORED_MESSAGE, MAX_STORED_STRING, storableMessage, storedMessage } from '../../src/jobs/stored-message';

describe('jobs/stored-message', () => {
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

  it('drops long strings and Buffers, lists what it dropped, and stays below the size bound', () => {
    const audio = `data:audio/wav;base64,${'A'.repeat(3 * 1024 * 1024)}`;
    const msg = {
      payload: { image: Buffer.alloc(10), note: 'keep me', clip: audio },
      audio,
      segmind: { requestId: 'r1' },
      topic: 'door',
      many: Array.from({ length: 40 }, (_v, i) => 'x'.repeat(MAX_STORED_STRING - 3) + i),
    };
    const { msg: copy, dropped } = storedMessage(msg);
    assert.deepEqual(copy.payload, { note: 'keep me' });
    assert.equal(copy.audio, undefined);
    assert.deepEqual(copy.segmind, { requestId: 'r1' });
    assert.equal(copy.topic, 'door');
    assert.ok(dropped.includes('audio') && dropped.includes('payload.image') && dropped.includes('payload.clip'), dropped.join());
    // 40 strings just under the per-string bound exceed the whole-message bound: the largest property goes
    assert.equal(copy.many, undefined);
    assert.ok(dropped.includes('many'));
    assert.ok(JSON.stringify(copy).length <= MAX_STORED_MESSAGE);
    assert.equal(msg.audio, audio, 'the original is untouched');
  });
});
