// The job ledger's logic with an in-memory storage and a virtual clock: the lifecycle, what a
// restart hands to whom, what it reports, orphans and retention.
import assert from 'node:assert/strict';
import { JobLedger, MemoryLedgerStorage, type LedgerReport } from '../../src/jobs/ledger';

const handle = (id: string) => ({ requestId: id, model: 'sadtalker', statusUrl: `https://api/${id}/status`, responseUrl: `https://api/${id}`, submittedAt: 1_000 });

function ledgerOn(storage: MemoryLedgerStorage, clock: { now: number }, reports: LedgerReport[] = []) {
  return new JobLedger({ open: async () => storage, timeScale: 1, now: () => clock.now, report: (r) => reports.push(r) });
}

describe('jobs/ledger', () => {
  it('records a job from intent to delivery; each step reaches the storage before it resolves', async () => {
    const storage = new MemoryLedgerStorage();
    const clock = { now: 1_000 };
    const l = ledgerOn(storage, clock);
    const key = await l.intent('model1', 'sadtalker');
    assert.equal([...storage.entries.values()][0].state, 'intent');
    await l.submitted(key, handle('r1'), { payload: 'p', audio: Buffer.alloc(4), segmind: { requestId: 'r1' } });
    assert.equal(storage.entries.get(key)!.state, 'submitted');
    assert.deepEqual(storage.entries.get(key)!.dropped, ['audio']);
    l.markSent(key);
    l.attach('await1', () => undefined);
    const claimed = await l.claim('await1', handle('r1'), { receivedAt: 1_100, deadline: 9_000 }, { payload: 'p' });
    assert.equal(claimed.key, key, 'the await node takes over the model node\'s entry');
    assert.equal(storage.entries.get(key)!.claimedBy, 'await1');
    await l.delivering(key);
    assert.equal(storage.entries.get(key)!.state, 'delivering');
    l.delivered(key);
    assert.deepEqual(l.claimedBy('await1'), [], 'done with in this process at once');
    assert.equal(storage.entries.get(key)!.state, 'delivering', 'still in storage while the next nodes act on it');
    await l.settleNow();
    assert.equal(storage.entries.size, 0);
  });

  it('a crash just after a delivery delivers it again, flagged; once settled (after SETTLE_MS, or a close) it is gone', async () => {
    const storage = new MemoryLedgerStorage();
    const clock = { now: 1_000 };
    const before = new JobLedger({ open: async () => storage, timeScale: 1, now: () => clock.now, settleMs: 20 });
    before.attach('await1', () => undefined);
    const a = await before.claim('await1', handle('r1'), { receivedAt: 1_000, deadline: 9_000 }, { tag: 'a' });
    const b = await before.claim('await1', handle('r2'), { receivedAt: 1_001, deadline: 9_000 }, { tag: 'b' });
    for (const e of [a, b]) {
      await before.delivering(e.key);
      before.delivered(e.key);
    }
    // the process dies now: a new life on the same storage
    const crashed = new MemoryLedgerStorage();
    for (const [k, e] of storage.entries) crashed.entries.set(k, structuredClone(e));
    const after = ledgerOn(crashed, clock);
    await after.ready;
    const again = after.claimedBy('await1');
    assert.deepEqual(again.map((p) => [p.entry.requestId, p.redelivered, p.msg.tag]), [['r1', true, 'a'], ['r2', true, 'b']]);
    // delivered again: gone at once (its grace was in the first life), so a crash loop repeats it only once
    after.delivered(again[0].entry.key, true);
    while (crashed.entries.has(again[0].entry.key)) await new Promise((r) => setTimeout(r, 1));
    assert.ok(crashed.entries.has(again[1].entry.key), 'the other is still there');
    // the first life goes on: its removals are written once SETTLE_MS has passed (a real timer)
    while (storage.entries.size) await new Promise((r) => setTimeout(r, 5));
    const c = await before.claim('await1', handle('r3'), { receivedAt: 1_002, deadline: 9_000 }, {});
    before.delivered(c.key);
    assert.equal(storage.entries.size, 1);
    await before.close();
    assert.equal(storage.entries.size, 0, 'closing settles at once');
  });

  it('after a restart: claimed jobs go to their await node, unclaimed ones to their model node (flagged), intents are reported once', async () => {
    const storage = new MemoryLedgerStorage();
    const clock = { now: 1_000 };
    const before = ledgerOn(storage, clock);
    const lost = await before.intent('model1', 'hallo'); // the POST's answer never came
    const unclaimed = await before.intent('model1', 'sadtalker');
    await before.submitted(unclaimed, handle('r2'), { tag: 'two' });
    before.markSent(unclaimed);
    before.attach('await1', () => undefined);
    const c = await before.claim('await1', handle('r3'), { receivedAt: 1_000, deadline: 5_000 }, { tag: 'three' });
    const d = await before.claim('await1', handle('r4'), { receivedAt: 1_001, deadline: 5_000 }, { tag: 'four' });
    await before.delivering(d.key); // crashed after this mark, maybe after the send

    const reports: LedgerReport[] = [];
    const after = ledgerOn(storage, clock, reports);
    await after.ready;
    assert.equal(reports.length, 1);
    assert.equal(reports[0].kind, 'unanswered');
    assert.deepEqual((reports[0] as { entries: { key: string; model?: string }[] }).entries.map((e) => [e.key, e.model]), [[lost, 'hallo']]);
    assert.ok(!storage.entries.has(lost), 'reported once, then closed');
    const sent = after.takeUnsent('model1');
    assert.deepEqual(sent.map((p) => [p.entry.requestId, p.redelivered, p.msg.tag]), [['r2', true, 'two']]);
    assert.deepEqual(after.takeUnsent('model1'), [], 'handed out once per process');
    const resumed = after.claimedBy('await1');
    assert.deepEqual(resumed.map((p) => [p.entry.requestId, p.redelivered, p.fromCopy]), [['r3', false, true], ['r4', true, true]]);
    assert.equal(resumed[0].entry.key, c.key);
    // a third life reports nothing more
    const reports3: LedgerReport[] = [];
    await ledgerOn(storage, clock, reports3).ready;
    assert.deepEqual(reports3, []);
  });

  it('within one process a job not yet sent by a closing model node goes out unflagged with its whole message', async () => {
    const l = ledgerOn(new MemoryLedgerStorage(), { now: 1 });
    const key = await l.intent('m', 'sadtalker');
    const msg = { audio: Buffer.from('whole') };
    await l.submitted(key, handle('r5'), msg);
    const [p] = l.takeUnsent('m');
    assert.equal(p.redelivered, false);
    assert.equal(p.msg, msg, 'the live message, Buffers included');
  });

  it('a job claimed by an await node that no longer runs is taken by another one sent its request id', async () => {
    const l = ledgerOn(new MemoryLedgerStorage(), { now: 1 });
    const gone = () => undefined;
    l.attach('old', gone);
    const first = await l.claim('old', handle('r6'), { receivedAt: 1, deadline: 10 }, {});
    l.attach('other', () => undefined);
    const alsoWaiting = await l.claim('other', handle('r6'), { receivedAt: 2, deadline: 10 }, {});
    assert.notEqual(alsoWaiting.key, first.key, 'a running await node keeps its own');
    l.detach('old', gone);
    const again = await l.claim('other', { requestId: 'r6' }, { receivedAt: 3, deadline: 10 }, {});
    assert.equal(again.key, first.key, 'the orphan is taken over');
    assert.equal(again.claimedBy, 'other');
    assert.equal(again.model, 'sadtalker', 'what the ledger knew is kept');
  });

  it('hands a job claimed while its node closed to the running instance with the same id', async () => {
    const l = ledgerOn(new MemoryLedgerStorage(), { now: 1 });
    const got: string[] = [];
    l.attach('aw', (p) => got.push(p.entry.requestId!));
    const e = await l.claim('aw', handle('r7'), { receivedAt: 1, deadline: 10 }, {});
    l.handOver(e.key);
    assert.deepEqual(got, ['r7']);
  });

  it('drops jobs nobody waits for once Segmind\'s retention is over, and reports them', async () => {
    const storage = new MemoryLedgerStorage();
    const clock = { now: 1_000 };
    const l = ledgerOn(storage, clock);
    const k = await l.intent('m', 'sadtalker');
    await l.submitted(k, { ...handle('r8'), submittedAt: 1_000 }, {});
    l.attach('held', () => undefined);
    await l.claim('held', { ...handle('r9'), submittedAt: 1_000 }, { receivedAt: 1_000, deadline: 2_000 }, {});
    await l.close();
    clock.now = 1_000 + 3600 * 1000 + 1;
    const reports: LedgerReport[] = [];
    const later = ledgerOn(storage, clock, reports);
    await later.ready;
    const expired = reports.find((r) => r.kind === 'expired') as { entries: { requestId?: string }[] } | undefined;
    assert.deepEqual(expired?.entries.map((e) => e.requestId).sort(), ['r8', 'r9']);
    await new Promise((r) => setImmediate(r));
    assert.equal(storage.entries.size, 0);
  });

  it('refuses to record when its storage cannot be opened, with a code', async () => {
    const l = new JobLedger({ open: async () => Promise.reject(new Error('disk gone')), timeScale: 1 });
    await assert.rejects(l.intent('m', 'sadtalker'), (err: { code?: string; message: string }) => err.code === 'ledger_unavailable' && /disk gone/.test(err.message));
  });
});
