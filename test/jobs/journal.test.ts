// The ledger's journal file: durable appends, a torn last record skipped, compaction, one writer.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalLockedError, JournalStorage } from '../../src/jobs/journal';
import type { LedgerEntry } from '../../src/jobs/ledger';

const entry = (key: string, extra: Partial<LedgerEntry> = {}): LedgerEntry => ({
  v: 1,
  key,
  state: 'submitted',
  requestId: `req-${key}`,
  model: 'sadtalker',
  submittedAt: 1_000,
  msg: { topic: key },
  ...extra,
});

describe('jobs/journal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'segmind-journal-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replays puts, updates and removes after reopening', async () => {
    const path = join(dir, 'l.jsonl');
    const j = await JournalStorage.open(path);
    assert.deepEqual(await j.load(), []);
    await Promise.all([j.put(entry('a')), j.put(entry('b')), j.put(entry('c'))]);
    await j.update('a', { state: 'claimed', claimedBy: 'await1', deadline: 5 });
    await j.remove('b');
    await j.close();
    const again = await JournalStorage.open(path);
    const loaded = (await again.load()).sort((x, y) => x.key.localeCompare(y.key));
    assert.deepEqual(loaded.map((e) => e.key), ['a', 'c']);
    assert.equal(loaded[0].state, 'claimed');
    assert.equal(loaded[0].claimedBy, 'await1');
    await again.close();
  });

  it('groups appends that arrive together into few syncs', async () => {
    const j = await JournalStorage.open(join(dir, 'g.jsonl'));
    await j.load();
    await Promise.all(Array.from({ length: 200 }, (_v, i) => j.put(entry(`k${i}`))));
    const { syncs, lines } = j.journalStats;
    assert.equal(lines, 200);
    assert.ok(syncs < 200, `${syncs} syncs for 200 appends`);
    await j.close();
  });

  it('skips a torn last record (a crash mid-append) and goes on appending after it', async () => {
    const path = join(dir, 't.jsonl');
    const j = await JournalStorage.open(path);
    await j.load();
    await j.put(entry('a'));
    await j.close();
    // what a crash in the middle of writing the next line leaves
    await appendFile(path, '{"op":"put","e":{"v":1,"key":"b","sta');
    const again = await JournalStorage.open(path);
    const loaded = await again.load();
    assert.deepEqual(loaded.map((e) => e.key), ['a']);
    assert.equal(again.journalStats.skipped, 1);
    await again.put(entry('c'));
    await again.close();
    const third = await JournalStorage.open(path);
    assert.deepEqual((await third.load()).map((e) => e.key).sort(), ['a', 'c']);
    assert.equal(third.journalStats.skipped, 0, 'the torn tail was cut off');
    await third.close();
  });

  it('refuses a malformed record in the middle without losing the rest', async () => {
    const path = join(dir, 'm.jsonl');
    await appendFile(path, `${JSON.stringify({ op: 'put', e: entry('a') })}\n{"op":"put","e":{"v":9}}\nnot json\n${JSON.stringify({ op: 'put', e: entry('b') })}\n`);
    const j = await JournalStorage.open(path);
    assert.deepEqual((await j.load()).map((e) => e.key).sort(), ['a', 'b']);
    assert.equal(j.journalStats.skipped, 2);
    await j.close();
  });

  it('compacts: 10,000 jobs through their whole life leave a file of the live entries only', async function () {
    this.timeout(120_000);
    const path = join(dir, 'c.jsonl');
    const j = await JournalStorage.open(path);
    await j.load();
    const live = 25;
    for (let batch = 0; batch < 100; batch++) {
      const keys = Array.from({ length: 100 }, (_v, i) => `k${batch * 100 + i}`);
      await Promise.all(keys.map((k) => j.put(entry(k))));
      await Promise.all(keys.map((k) => j.update(k, { state: 'claimed', claimedBy: 'a' })));
      await Promise.all(keys.map((k) => j.update(k, { state: 'delivering' })));
      // all but the first `live` jobs are delivered
      await Promise.all(keys.filter((k) => Number(k.slice(1)) >= live).map((k) => j.remove(k)));
    }
    const stats = j.journalStats;
    assert.ok(stats.compactions >= 1, JSON.stringify(stats));
    assert.equal(stats.live, live);
    await j.close();
    const size = (await stat(path)).size;
    const lines = (await readFile(path, 'utf8')).split('\n').filter(Boolean).length;
    assert.ok(lines < 1000 * 4 + live, `${lines} lines left (${size} bytes)`);
    const again = await JournalStorage.open(path);
    const loaded = await again.load();
    assert.equal(loaded.length, live);
    assert.ok(loaded.every((e) => e.state === 'delivering'));
    await again.close();
  });

  it('refuses a second writer (another live process holds the lock) and takes over a dead one\'s lock', async function () {
    this.timeout(60_000);
    const path = join(dir, 'w.jsonl');
    // a child process that takes the journal and holds it until told to exit
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', `
      const { JournalStorage } = require(${JSON.stringify(join(__dirname, '..', '..', 'src', 'jobs', 'journal.ts'))});
      JournalStorage.open(${JSON.stringify(path)}).then((j) => j.load()).then(() => process.stdout.write('locked\\n'));
      process.stdin.on('data', () => process.exit(0));
    `], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
        child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
      });
      await assert.rejects(JournalStorage.open(path), (err: unknown) => err instanceof JournalLockedError && err.pid === child.pid);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    // the holder died without cleaning up (SIGKILL): its lock is stale and is taken over
    const j = await JournalStorage.open(path);
    await j.load();
    await j.close();
  });
});
