// Probe: what the job ledger's journal costs (issue 11). Every record is on disk (fdatasync)
// before its promise resolves; records that arrive together share a sync (group commit).
//   npx tsx bench/probes/journal.ts
// Prints events per second and syncs for: one event at a time (each waits for its own sync: the
// worst case, one message through a model node), bursts of 100 concurrent events (a burst of
// messages), a whole job life (intent, submitted, claimed, delivering, delivered) for 10,000 jobs
// 100 at a time, and the file left after compaction.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalStorage } from '../../src/jobs/journal';
import type { LedgerEntry } from '../../src/jobs/ledger';

const entry = (key: string): LedgerEntry => ({
  v: 1,
  key,
  state: 'submitted',
  requestId: `2c7f59ea-0000-4000-8000-${key.padStart(12, '0')}`,
  model: 'sadtalker',
  statusUrl: `https://api.segmind.com/v2/requests/${key}/status`,
  responseUrl: `https://api.segmind.com/v2/requests/${key}`,
  submittedAt: Date.now(),
  msg: { topic: 'doorbell', payload: { pose_style: 4 }, _msgid: key },
});

async function measure(label: string, events: number, run: (j: JournalStorage) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'segmind-journal-probe-'));
  const path = join(dir, 'ledger.jsonl');
  const j = await JournalStorage.open(path);
  await j.load();
  const t0 = process.hrtime.bigint();
  await run(j);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const { syncs, compactions, live } = j.journalStats;
  await j.close();
  const size = (await stat(path)).size;
  console.log(
    `journal: ${label.padEnd(44)} ${events} events in ${s.toFixed(2)} s = ${Math.round(events / s)} events/s, ${syncs} syncs, ${compactions} compactions, ${live} live, file ${(size / 1024).toFixed(1)} KiB`,
  );
  await rm(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  await measure('one at a time (each awaits its own fsync)', 500, async (j) => {
    for (let i = 0; i < 500; i++) await j.put(entry(`s${i}`));
  });
  await measure('bursts of 100 concurrent events', 10_000, async (j) => {
    for (let b = 0; b < 100; b++) await Promise.all(Array.from({ length: 100 }, (_v, i) => j.put(entry(`b${b}-${i}`))));
  });
  await measure('10,000 whole job lives, 100 at a time', 50_000, async (j) => {
    for (let b = 0; b < 100; b++) {
      const keys = Array.from({ length: 100 }, (_v, i) => `j${b}-${i}`);
      await Promise.all(keys.map((k) => j.put({ ...entry(k), state: 'intent', requestId: undefined, msg: undefined })));
      await Promise.all(keys.map((k) => j.update(k, entry(k))));
      await Promise.all(keys.map((k) => j.update(k, { state: 'claimed', claimedBy: 'await1', deadline: Date.now() + 900_000 })));
      await Promise.all(keys.map((k) => j.update(k, { state: 'delivering' })));
      await Promise.all(keys.map((k) => j.remove(k)));
    }
  });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
