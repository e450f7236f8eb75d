// What the waiter tells the budget and the account: each poll's priority, deadline and value, the
// result fetch first; run times learned from Segmind's metrics, or as censored intervals without
// them; the account's register of jobs. Real client, real sandbox; the client is wrapped only to
// record the options each call gets (and, for one test, to drop the metrics from answers).
import assert from 'node:assert/strict';
import { SegmindClient } from '../../src/client';
import { PRIORITY } from '../../src/client/budget';
import type { CallOptions, JobHandle } from '../../src/client/types';
import type { JobTracker, TrackedJob } from '../../src/jobs/account';
import { basePrior } from '../../src/jobs/priors';
import { RETENTION_SECONDS, runSeconds, Waiter, type JobClient, type WaiterOptions } from '../../src/jobs/waiter';
import { startSandbox, type Sandbox } from '../../src/sandbox';

const KEY = 'SG_waiter_budget_4c2a';
const SCALE = 0.002;
const INPUTS = { input_image: 'https://example.com/face.png', input_audio: 'https://example.com/voice.mp3' };

interface Recorded {
  kind: 'status' | 'result';
  at: number;
  priority?: number;
  deadline?: number;
  value?: number;
}

describe('jobs/waiter and the budget', function () {
  this.timeout(20_000);
  let sb: Sandbox;
  let client: SegmindClient;
  const waiters: Waiter[] = [];

  before(async () => {
    sb = await startSandbox({ timeScale: SCALE, apiKeys: [KEY], durationSigma: 0 });
  });
  after(async () => {
    await sb.close();
  });
  beforeEach(() => {
    client = new SegmindClient({ apiKey: KEY, baseUrl: sb.url, uploadUrl: sb.uploadUrl, timeScale: SCALE, requestsPerMinute: 100_000 });
  });
  afterEach(async () => {
    for (const w of waiters.splice(0)) w.close();
    await client.close();
    sb.reset();
  });

  /** The real client, recording each call's options (value asked at the moment of the call). */
  function recording(calls: Recorded[], dropMetrics = false): JobClient {
    const note = (kind: Recorded['kind'], o: CallOptions = {}) =>
      calls.push({ kind, at: Date.now(), priority: o.priority, deadline: o.deadline, value: o.value?.() });
    return {
      status: async (job, o) => {
        note('status', o);
        const s = await client.status(job, o);
        return dropMetrics ? { ...s, metrics: undefined } : s;
      },
      result: async (job, o) => {
        note('result', o);
        const r = await client.result(job, o);
        return dropMetrics ? { ...r, metrics: undefined, raw: { ...r.raw, metrics: undefined } } : r;
      },
      download: (url, o) => client.download(url, o),
    };
  }

  function waiter(opts: Partial<WaiterOptions>): Waiter {
    const w = new Waiter({ client, timeScale: SCALE, resultMode: 'url', folder: '', belief: (m) => basePrior(m), ...opts });
    waiters.push(w);
    return w;
  }

  const submit = async (): Promise<JobHandle> => client.submit('sadtalker', INPUTS);

  it('polls with its deadline and a value that grows while the job runs; fetches the result first', async () => {
    const calls: Recorded[] = [];
    const h = await submit();
    const submittedAt = Date.parse(h.submittedAt);
    const deadline = Date.now() + 900 * 1000 * SCALE;
    const end = await waiter({ client: recording(calls) }).watch({ ...h, submittedAt }, deadline);
    assert.equal(end.kind, 'completed');
    const polls = calls.filter((c) => c.kind === 'status');
    const fetches = calls.filter((c) => c.kind === 'result');
    assert.ok(polls.length >= 2, `${polls.length} polls`);
    assert.ok(polls.every((p) => p.priority === PRIORITY.poll));
    // the deadline a poll carries: the message's, or Segmind's retention if that came first
    assert.ok(polls.every((p) => p.deadline === Math.min(deadline, submittedAt + RETENTION_SECONDS * 1000 * SCALE)));
    // each poll's value: the chance the job finished since it was last seen running (0..1)
    assert.ok(polls.every((p) => p.value! >= 0 && p.value! <= 1));
    assert.ok(polls[polls.length - 1].value! > 0.05, `a poll near the median is worth something: ${polls.map((p) => p.value!.toFixed(3)).join(' ')}`);
    assert.deepEqual(fetches.map((f) => f.priority), [PRIORITY.fetch]);
  });

  it("learns the run time from Segmind's metrics (queue + inference time), not from the poll times", async () => {
    sb.scriptJob({ outcome: 'complete', durationSeconds: 80 });
    const exact: number[] = [];
    const intervals: Array<[number, number]> = [];
    const h = await submit();
    const end = await waiter({ observed: (_m, s) => exact.push(s), observedInterval: (_m, lo, hi) => intervals.push([lo, hi]) }).watch(
      { ...h, submittedAt: Date.parse(h.submittedAt) },
      Date.now() + 900 * 1000 * SCALE,
    );
    assert.equal(end.kind, 'completed');
    assert.deepEqual(intervals, []);
    assert.equal(exact.length, 1);
    assert.ok(Math.abs(exact[0] - 80) < 0.05, `learned ${exact[0]} s`);
    assert.equal(runSeconds({ queue_time: 2, inference_time: 40.5, total_time: 50 }), 42.5);
    assert.equal(runSeconds({ total_time: 50 }), 50);
    assert.equal(runSeconds({ cost: 1 }), undefined);
  });

  it('without metrics, a censored interval: after the last poll that saw it running, by the one that saw it done', async () => {
    sb.scriptJob({ outcome: 'complete', durationSeconds: 80 });
    const calls: Recorded[] = [];
    const exact: number[] = [];
    const intervals: Array<[number, number]> = [];
    const h = await submit();
    const end = await waiter({
      client: recording(calls, true),
      observed: (_m, s) => exact.push(s),
      observedInterval: (_m, lo, hi) => intervals.push([lo, hi]),
    }).watch({ ...h, submittedAt: Date.parse(h.submittedAt) }, Date.now() + 900 * 1000 * SCALE);
    assert.equal(end.kind, 'completed');
    assert.deepEqual(exact, []);
    assert.equal(intervals.length, 1);
    const [lo, hi] = intervals[0];
    // the run counts from the client's submit; the sandbox starts it when the submit arrives (a few
    // ms later, whole API seconds at this time scale)
    assert.ok(lo < 80 + 10 && hi >= 80 && hi - lo < 60, `(${lo.toFixed(1)}, ${hi.toFixed(1)}] holds the 80 s run`);
  });

  it("reports its jobs to the account's register: tracked, completed, untracked with Segmind's cost", async () => {
    const events: string[] = [];
    let tracked: TrackedJob | undefined;
    const tracker: JobTracker = {
      track: (id, job) => {
        tracked = job;
        events.push(`track ${id === h.requestId}`);
      },
      update: (_id, patch) => events.push(`update ${JSON.stringify(patch)}`),
      untrack: (_id, cost) => events.push(`untrack ${typeof cost}`),
    };
    const h = await submit();
    const deadline = Date.now() + 900 * 1000 * SCALE;
    const end = await waiter({ tracker }).watch({ ...h, submittedAt: Date.parse(h.submittedAt) }, deadline);
    assert.equal(end.kind, 'completed');
    assert.deepEqual(events, ['track true', 'update {"completed":true}', 'untrack number']);
    assert.equal(tracked!.deadline, deadline);
    assert.equal(tracked!.model, 'sadtalker');
  });

  it('a job still running when its message times out is learned as longer than that (right-censored)', async () => {
    sb.scriptJob({ outcome: 'complete', durationSeconds: 600 });
    const intervals: Array<[number, number]> = [];
    const untracked: string[] = [];
    const h = await submit();
    const end = await waiter({
      observedInterval: (_m, lo, hi) => intervals.push([lo, hi]),
      tracker: { track: () => undefined, update: () => undefined, untrack: (id) => untracked.push(id) },
    }).watch({ ...h, submittedAt: Date.parse(h.submittedAt) }, Date.now() + 150 * 1000 * SCALE);
    assert.equal(end.kind, 'timeout');
    assert.equal(intervals.length, 1);
    assert.ok(intervals[0][0] > 50 && intervals[0][1] === Infinity, JSON.stringify(intervals));
    assert.deepEqual(untracked, [h.requestId]);
  });
});
