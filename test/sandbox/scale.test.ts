import assert from 'node:assert/strict';
import { Pool } from 'undici';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { JobTable } from '../../src/sandbox/jobs';
import { JSON_HEADERS, ManualClock, SADTALKER } from './helpers';

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('sandbox: scale', () => {
  let sb: Sandbox;
  let pool: Pool;
  // The sandbox runs on the test's clock: however long a busy machine takes to send 10,000 submits,
  // no job completes or expires (retention is 3.6 s at this scale) before the test moves the clock.
  const clock = new ManualClock();
  before(async () => {
    sb = await startSandbox({ timeScale: 0.001, record: false, clock: clock.now });
    pool = new Pool(sb.url, { connections: 32 });
  });
  after(async () => {
    await pool.close();
    await sb.close();
  });

  it('holds 10,000 concurrent jobs without a timer per job and completes them all', async function () {
    this.timeout(120_000); // a loose bound for a loaded machine: ~3 s when idle
    const before = timers();
    const ids: string[] = [];
    const body = JSON.stringify(SADTALKER);
    const submitOne = async (): Promise<void> => {
      const res = await pool.request({ path: '/v2/sadtalker', method: 'POST', headers: JSON_HEADERS, body });
      assert.equal(res.statusCode, 200);
      ids.push(((await res.body.json()) as { request_id: string }).request_id);
    };
    // 64 submitters in parallel, 10,000 submits in all
    let left = 10_000;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (left-- > 0) await submitOne();
      }),
    );
    assert.equal(ids.length, 10_000);
    assert.equal(new Set(ids).size, 10_000, 'request ids are unique');
    assert.equal(sb.jobs.size, 10_000);
    // a timer per job would show up here as thousands of Timeouts
    assert.ok(timers() - before < 50, `active timers grew by ${timers() - before}`);

    // none has finished yet on the sandbox's clock
    const first = await pool.request({ path: `/v2/requests/${ids[0]}/status`, method: 'GET', headers: JSON_HEADERS });
    assert.notEqual(((await first.body.json()) as { status: string }).status, 'COMPLETED');
    // durations are clamped to 5x typical: 107.5 s * 5 = 537.5 ms at this scale
    clock.advance(538);
    const statuses = await Promise.all(
      ids.filter((_, i) => i % 50 === 0).map(async (id) => {
        const res = await pool.request({ path: `/v2/requests/${id}/status`, method: 'GET', headers: JSON_HEADERS });
        return ((await res.body.json()) as { status: string }).status;
      }),
    );
    assert.deepEqual(new Set(statuses), new Set(['COMPLETED']));
    assert.equal(sb.requests.length, 0, 'record: false keeps no log');
  });

  it('spreads durations lognormally around the typical time, reproducibly from the seed', () => {
    const durations = [...sb.jobs.values()].map((j) => j.durationSeconds!).sort((a, b) => a - b);
    const median = durations[Math.floor(durations.length / 2)];
    assert.ok(median > 100 && median < 115, `median ${median}`); // typical 107.5
    const p5 = durations[Math.floor(durations.length * 0.05)];
    const p95 = durations[Math.floor(durations.length * 0.95)];
    assert.ok(p5 > 0.45 * 107.5 && p5 < 0.65 * 107.5, `p5 ${p5}`);
    assert.ok(p95 > 1.6 * 107.5 && p95 < 2.0 * 107.5, `p95 ${p95}`);
  });

  it('draws the same durations from the same seed and different ones from another', () => {
    const table = (seed: number): JobTable =>
      new JobTable({ typicalSeconds: () => 100, sigma: 0.36, seed, msPerSecond: () => 1, retentionSeconds: () => 3600 });
    const draw = (t: JobTable): number[] => Array.from({ length: 5 }, () => t.sampleSeconds('m'));
    assert.deepEqual(draw(table(7)), draw(table(7)));
    assert.notDeepEqual(draw(table(7)), draw(table(8)));
    const exact = new JobTable({ typicalSeconds: () => 100, sigma: 0, seed: 1, msPerSecond: () => 1, retentionSeconds: () => 3600 });
    assert.deepEqual(draw(exact), [100, 100, 100, 100, 100]);
  });
});
