// A submit is a job the moment its body has been read, as on a real server: whether the client waits
// for the answer, gives up, or is killed. `hold` keeps an answer on the wire until the test lets it go.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'undici';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { JSON_HEADERS, KEY, SADTALKER, get, post, until, useSandbox } from './helpers';

const NO_KEY = { 'content-type': 'application/json' };

describe('sandbox: a request on the wire', () => {
  const sandbox = useSandbox();
  beforeEach(() => sandbox().reset({ jobs: true }));

  const submitRecord = (sb: Sandbox) => sb.requests.find((r) => r.endpoint === 'submit');

  it('slow_headers: a client leaving after the body was read leaves exactly one (billed) job and a record naming it', async () => {
    const sb = sandbox();
    sb.fault({ endpoint: 'submit', kind: { type: 'slow_headers', delayMs: 600_000 } });
    const abort = new AbortController();
    const pending = request(`${sb.url}/v2/sadtalker`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(SADTALKER), signal: abort.signal });
    await until(() => submitRecord(sb)?.requestId !== undefined, 'the submit to be handled');
    abort.abort();
    await assert.rejects(pending);
    const rec = submitRecord(sb)!;
    await until(() => rec.clientGone === true, 'the sandbox to see the client go');
    assert.equal(rec.status, 0);
    assert.deepEqual([...sb.jobs.keys()], [rec.requestId]);
    assert.equal(sb.jobs.get(rec.requestId!)?.model, 'sadtalker');
  });

  it('hold: the job exists while the answer is held; release sends the normal answer naming that job', async () => {
    const sb = sandbox();
    sb.fault({ endpoint: 'submit', kind: { type: 'hold' } });
    const answer = post(`${sb.url}/v2/sadtalker`, SADTALKER);
    const [held] = await sb.whenHeld();
    assert.deepEqual({ ...held, since: 0, seq: 0 }, { seq: 0, since: 0, endpoint: 'submit', method: 'POST', path: '/v2/sadtalker', model: 'sadtalker', requestId: held.requestId });
    assert.ok(sb.jobs.has(held.requestId!), 'the job exists before the answer');
    const rec = submitRecord(sb)!;
    assert.deepEqual([rec.seq, rec.requestId, rec.held, rec.status], [held.seq, held.requestId, true, 0]);
    assert.equal(sb.release({ requestId: 'another' }), 0);
    assert.equal(sb.release({ requestId: held.requestId }), 1);
    const res = await answer;
    assert.equal(res.status, 200);
    assert.equal(res.json.request_id, held.requestId);
    assert.deepEqual(sb.held(), []);
    assert.deepEqual([rec.held, rec.status, rec.clientGone], [undefined, 200, undefined]);
    assert.equal(sb.jobs.size, 1);
  });

  it('hold: a status poll held names its request id; maxMs answers without a release', async () => {
    const sb = sandbox();
    sb.fault({ endpoint: 'status', kind: { type: 'hold', maxMs: 50 } });
    const answer = get(`${sb.url}/v2/requests/abc/status`);
    const [held] = await sb.whenHeld();
    assert.deepEqual([held.endpoint, held.requestId], ['status', 'abc']);
    assert.equal((await answer).status, 404);
    assert.deepEqual(sb.held(), []);
  });

  it('hold: reset() sends held answers, close() drops them', async () => {
    const sb = sandbox();
    sb.fault({ endpoint: 'submit', times: 2, kind: { type: 'hold' } });
    const a = post(`${sb.url}/v2/sadtalker`, SADTALKER);
    const b = post(`${sb.url}/v2/hallo`, SADTALKER);
    const held = await sb.whenHeld(2);
    assert.deepEqual(held.map((h) => h.model).sort(), ['hallo', 'sadtalker']);
    sb.reset();
    assert.deepEqual([(await a).status, (await b).status], [200, 200]);

    const own = await startSandbox({ timeScale: 0.001 });
    own.fault({ endpoint: 'submit', kind: { type: 'hold' } });
    const c = post(`${own.url}/v2/sadtalker`, SADTALKER);
    await own.whenHeld();
    await own.close();
    await assert.rejects(c);
    assert.equal(own.jobs.size, 1);
  });

  it('a client process killed while its submit is held leaves exactly one job, seen through the control API', async function () {
    this.timeout(30_000); // starting a node process on a busy machine
    const sb = sandbox();
    const c = `${sb.url}/__sandbox`;
    assert.equal((await post(`${c}/faults`, { endpoint: 'submit', kind: { type: 'hold' } }, NO_KEY)).status, 200);
    const script = `fetch(${JSON.stringify(`${sb.url}/v2/sadtalker`)}, { method: 'POST', headers: ${JSON.stringify(JSON_HEADERS)}, body: ${JSON.stringify(JSON.stringify(SADTALKER))} }).then(() => process.exit(3), () => process.exit(4))`;
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    try {
      // a long poll: answers once the submit is held, however long the child takes to start
      const held = await get(`${c}/held?wait=1`, {});
      assert.equal(held.status, 200);
      assert.equal(held.json.length, 1);
      const id = held.json[0].requestId;
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
      await until(() => submitRecord(sb)?.clientGone === true, 'the sandbox to see the client die');
      const jobs = (await get(`${c}/jobs`, {})).json as { requestId: string; cost: number }[];
      assert.deepEqual(jobs.map((j) => j.requestId), [id]);
      assert.ok(jobs[0].cost > 0, 'billed');
      const subs = (await get(`${c}/requests?endpoint=submit`, {})).json as { requestId: string; status: number; clientGone: boolean }[];
      assert.deepEqual(subs.map((r) => [r.requestId, r.status, r.clientGone]), [[id, 0, true]]);
      assert.deepEqual((await get(`${c}/held`, {})).json, []);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('control API: held long poll with a timeout, release by filter, bad input named', async () => {
    const sb = sandbox();
    const c = `${sb.url}/__sandbox`;
    await post(`${c}/faults`, { endpoint: 'submit', times: 2, kind: { type: 'hold' } }, NO_KEY);
    const a = post(`${sb.url}/v2/sadtalker`, SADTALKER);
    const b = post(`${sb.url}/v2/hallo`, SADTALKER);
    const two = (await get(`${c}/held?wait=2`, {})).json as { model: string; requestId: string }[];
    assert.equal(two.length, 2);
    const hallo = two.find((h) => h.model === 'hallo')!;
    assert.deepEqual((await post(`${c}/release`, { model: 'hallo' }, NO_KEY)).json, { released: 1 });
    assert.equal((await b).json.request_id, hallo.requestId);
    // fewer held than asked for: the long poll answers with those held when its time is up
    assert.equal(((await get(`${c}/held?wait=5&timeoutMs=20`, {})).json as unknown[]).length, 1);
    assert.match((await get(`${c}/held?wait=-1`, {})).json.error, /wait: expected an integer >= 0, got "-1"/);
    assert.match((await post(`${c}/release`, { requestId: 7 }, NO_KEY)).json.error, /requestId: expected a string, got 7/);
    assert.match((await post(`${c}/faults`, { kind: { type: 'hold', maxMs: -1 } }, NO_KEY)).json.error, /kind\.maxMs/);
    assert.deepEqual((await post(`${c}/release`, undefined, NO_KEY)).json, { released: 1 });
    assert.equal((await a).status, 200);
    assert.equal(sb.jobs.size, 2);
  });

  it('http afterHandling: the gateway error comes after the submit created its job', async () => {
    const sb = sandbox();
    sb.fault({ endpoint: 'submit', kind: { type: 'http', status: 504, afterHandling: true } });
    sb.fault({ endpoint: 'submit', kind: { type: 'http', status: 502 } });
    const late = await post(`${sb.url}/v2/sadtalker`, SADTALKER);
    assert.deepEqual([late.status, late.json], [504, { error: 'Sandbox fault: HTTP 504' }]);
    assert.equal(sb.jobs.size, 1);
    assert.equal(submitRecord(sb)?.requestId, [...sb.jobs.keys()][0]);
    assert.equal((await post(`${sb.url}/v2/sadtalker`, SADTALKER)).status, 502);
    assert.equal(sb.jobs.size, 1, 'a fault answered before handling creates no job');
  });
});

describe('sandbox: answers as a real server gives them', () => {
  let sb: Sandbox | undefined;
  afterEach(async () => {
    await sb?.close();
    sb = undefined;
  });

  it('latencyMs: the job exists while its answer is still on the wire', async () => {
    sb = await startSandbox({ timeScale: 0.001, latencyMs: 60_000 });
    const abort = new AbortController();
    const pending = request(`${sb.url}/v2/sadtalker`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(SADTALKER), signal: abort.signal });
    await until(() => sb!.jobs.size === 1, 'the job to be created');
    assert.equal(sb.requests[0].status, 0, 'no answer yet');
    abort.abort();
    await assert.rejects(pending);
    assert.equal(sb.jobs.size, 1);
    // the control API does not wait
    assert.equal((await get(`${sb.url}/__sandbox/info`, {})).status, 200);
    await assert.rejects(startSandbox({ latencyMs: -1 }), /latencyMs: expected a number of ms >= 0, got -1/);
  });

  it("invalidBody 'fail-later': an incomplete body is accepted, billed, and its job FAILS naming the field", async () => {
    sb = await startSandbox({ timeScale: 0.001, durationSigma: 0, invalidBody: 'fail-later' });
    sb.scriptJob({ outcome: 'never' }); // for the next valid submit: an invalid one does not use it up
    const res = await post(`${sb.url}/v2/sadtalker`, { input_image: 'https://example.com/a.png' });
    assert.equal(res.status, 200);
    assert.equal(sb.jobs.get(res.json.request_id)?.outcome, 'fail');
    const later = await get(res.json.status_url);
    await until(() => sb!.jobs.get(res.json.request_id)!.doneAt <= Date.now(), 'the job to end');
    const failed = await get(res.json.status_url);
    assert.ok(['QUEUED', 'PROCESSING', 'FAILED'].includes(later.json.status));
    assert.deepEqual([failed.status, failed.json.status, failed.json.error], [422, 'FAILED', 'Missing required field: input_audio']);
    assert.equal((await post(`${sb.url}/v1/sadtalker`, { input_image: 'x' })).status, 400, 'v1 answers at once');
    const valid = await post(`${sb.url}/v2/sadtalker`, SADTALKER);
    assert.equal(sb.jobs.get(valid.json.request_id)?.outcome, 'never');
  });

  it('reshape: a submit answer without URLs, a result still PROCESSING', async () => {
    sb = await startSandbox({ timeScale: 0.001 });
    sb.fault({ endpoint: 'submit', kind: { type: 'reshape', drop: ['status_url', 'response_url', 'poll_url'] } });
    const res = await post(`${sb.url}/v2/sadtalker`, SADTALKER);
    assert.deepEqual(res.json, { request_id: res.json.request_id, status: 'QUEUED' });
    assert.ok(sb.jobs.has(res.json.request_id), 'the job exists');
    sb.fault({ endpoint: 'result', kind: { type: 'reshape', drop: ['output', 'video'], set: { status: 'PROCESSING' } } });
    sb.fault({ endpoint: 'status', kind: { type: 'reshape', status: 503, set: { error: 'busy' } } });
    const result = await get(`${sb.url}/v2/requests/${res.json.request_id}`);
    assert.equal(result.json.status, 'PROCESSING');
    assert.equal(result.json.output, undefined);
    const status = await get(`${sb.url}/v2/requests/${res.json.request_id}/status`);
    assert.deepEqual([status.status, status.json.error], [503, 'busy']);
    assert.match((await post(`${sb.url}/__sandbox/faults`, { kind: { type: 'reshape', drop: 'x' } }, NO_KEY)).json.error, /kind\.drop/);
  });
});

describe('sandbox: account', () => {
  let sb: Sandbox | undefined;
  afterEach(async () => {
    await sb?.close();
    sb = undefined;
  });

  it('credits: each job costs its run time; once they are used up a submit gets 406 and no job', async () => {
    sb = await startSandbox({ timeScale: 0.001, durationSigma: 0, credits: 0.3 });
    // sadtalker's 107.5 s cost 0.172 each
    assert.equal((await post(`${sb.url}/v2/sadtalker`, SADTALKER)).status, 200);
    assert.equal((await post(`${sb.url}/v2/sadtalker`, SADTALKER)).status, 200);
    const refused = await post(`${sb.url}/v2/sadtalker`, SADTALKER);
    assert.deepEqual([refused.status, refused.json], [406, { error: 'Insufficient credits' }]);
    assert.equal((await post(`${sb.url}/v1/sadtalker`, SADTALKER)).status, 406);
    assert.equal(sb.jobs.size, 2);
    await assert.rejects(startSandbox({ credits: Number.NaN }), /credits: expected a finite number or null, got null/);
  });

  it('outputs come from another host than the API where the system allows it, or the one given', async () => {
    sb = await startSandbox();
    if (process.platform === 'linux') assert.equal(new URL(sb.filesUrl).hostname, '127.0.0.2');
    assert.notEqual(new URL(sb.filesUrl).origin, new URL(sb.url).origin);
    await sb.close();
    sb = await startSandbox({ filesHost: '127.0.0.1' });
    assert.equal(new URL(sb.filesUrl).hostname, '127.0.0.1');
    assert.equal((await get(`${sb.filesUrl}/outputs/x.mp4`, {})).status, 404);
  });

  it('keys are still checked on a held request', async () => {
    sb = await startSandbox();
    sb.fault({ endpoint: 'submit', kind: { type: 'hold', maxMs: 0 } });
    assert.equal((await post(`${sb.url}/v2/sadtalker`, SADTALKER, { 'content-type': 'application/json', 'x-api-key': `${KEY}x` })).status, 401);
    assert.equal(sb.jobs.size, 0);
  });
});
