import assert from 'node:assert/strict';
import { request } from 'undici';
import { startSandbox } from '../../src/sandbox';
import { KEY, SADTALKER, get, post, useSandbox } from './helpers';

const NO_KEY = { 'content-type': 'application/json' };

describe('sandbox: recorder', () => {
  const sandbox = useSandbox();

  it('records every request on both listeners without the key', async () => {
    const sb = sandbox();
    sb.scriptJob({ outcome: 'complete', durationSeconds: 0 });
    const submit = await post(`${sb.url}/v2/sadtalker`, SADTALKER, { 'content-type': 'application/json', 'x-api-key': KEY, 'user-agent': 'test-agent' });
    await post(`${sb.url}/v2/sadtalker`, SADTALKER, { 'content-type': 'application/json', 'x-api-key': 'SG_wrong' });
    const result = await get(submit.json.response_url);
    await request(result.json.output).then((r) => r.body.dump());

    assert.deepEqual(
      sb.requests.map((r) => [r.seq, r.method, r.endpoint, r.listener, r.model ?? r.requestId, r.apiKeyPresent, r.apiKeyValid, r.status]),
      [
        [1, 'POST', 'submit', 'api', 'sadtalker', true, true, 200],
        [2, 'POST', 'submit', 'api', 'sadtalker', true, false, 401],
        [3, 'GET', 'result', 'api', submit.json.request_id, true, true, 200],
        [4, 'GET', 'output', 'files', submit.json.request_id, false, false, 200],
      ],
    );
    const first = sb.requests[0];
    assert.equal(first.path, '/v2/sadtalker');
    assert.equal(first.headers['user-agent'], 'test-agent');
    assert.deepEqual(first.body, SADTALKER);
    const dump = JSON.stringify(sb.requests);
    assert.ok(!dump.includes(KEY) && !dump.includes('SG_wrong'), 'no key anywhere in the records');
    assert.equal(sb.count({ endpoint: 'submit' }), 2);
    assert.equal(sb.count({ listener: 'files' }), 1);
    assert.equal(sb.count({ method: 'GET', endpoint: 'result' }), 1);
    sb.resetRequests();
    assert.equal(sb.requests.length, 0);
  });

  it('records nothing with record: false', async () => {
    const quiet = await startSandbox({ record: false });
    try {
      assert.equal((await post(`${quiet.url}/v2/sadtalker`, SADTALKER)).status, 200);
      assert.equal(quiet.requests.length, 0);
    } finally {
      await quiet.close();
    }
  });
});

describe('sandbox: HTTP control API', () => {
  const sandbox = useSandbox();

  it('queues faults and job scripts, lists jobs and requests, counts, resets; never recorded', async () => {
    const sb = sandbox();
    const c = `${sb.url}/__sandbox`;
    const info = await get(`${c}/info`, {});
    assert.deepEqual(info.json, { url: sb.url, uploadUrl: sb.uploadUrl, filesUrl: sb.filesUrl, apiKeys: [KEY], timeScale: 0.001 });

    assert.equal((await post(`${c}/faults`, { endpoint: 'status', times: 'Infinity', kind: { type: 'http', status: 504 } }, NO_KEY)).status, 200);
    assert.equal((await post(`${c}/jobs`, { outcome: 'fail', error: 'scripted', durationSeconds: 0 }, NO_KEY)).status, 200);
    const bad = await post(`${c}/faults`, { kind: { type: 'explode' } }, NO_KEY);
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /kind\.type/);

    const submit = await post(`${sb.url}/v2/hallo`, SADTALKER);
    for (let i = 0; i < 3; i++) assert.equal((await get(submit.json.status_url)).status, 504);
    assert.equal((await request(`${c}/faults`, { method: 'DELETE' }).then((r) => r.statusCode)), 200);
    assert.equal((await get(submit.json.status_url)).status, 422);

    const jobs = await get(`${c}/jobs`, {});
    const job = jobs.json.find((j: { requestId: string }) => j.requestId === submit.json.request_id);
    assert.equal(job.status, 'FAILED');
    assert.equal(job.error, 'scripted');

    const recs = await get(`${c}/requests?endpoint=status`, {});
    assert.deepEqual(recs.json.map((r: { status: number }) => r.status), [504, 504, 504, 422]);
    assert.deepEqual((await get(`${c}/count?endpoint=submit`, {})).json, { count: 1 });
    assert.equal(sb.requests.some((r) => r.path.startsWith('/__sandbox')), false, 'control calls are not recorded');

    assert.equal((await post(`${c}/rate-limit`, { perMinute: 1 }, NO_KEY)).status, 200);
    assert.equal((await get(`${sb.url}/v2/requests/x`)).status, 404);
    assert.equal((await get(`${sb.url}/v2/requests/x`)).status, 429);
    assert.equal((await post(`${c}/rate-limit`, { perMinute: null }, NO_KEY)).status, 200);

    assert.equal((await post(`${c}/reset`, {}, NO_KEY)).status, 200);
    assert.equal(sb.requests.length, 0);
    assert.equal(sb.jobs.size, 0);
    assert.equal((await get(submit.json.status_url)).status, 404);
  });
});
