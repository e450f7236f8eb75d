import assert from 'node:assert/strict';
import { request } from 'undici';
import { validateFault } from '../../src/sandbox/faults';
import { JSON_HEADERS, SADTALKER, get, getBytes, post, until, useSandbox } from './helpers';

describe('sandbox: scripted request faults', () => {
  const sandbox = useSandbox({ timeScale: 0.001 });

  async function completedOutput(): Promise<string> {
    const sb = sandbox();
    sb.scriptJob({ outcome: 'complete', durationSeconds: 0 });
    const { response_url } = (await post(`${sb.url}/v2/sadtalker`, SADTALKER)).json;
    return (await get(response_url)).json.output;
  }

  it('http: any status, body and headers, for the next `times` matching requests', async () => {
    const sb = sandbox();
    sb.fault({ endpoint: 'submit', times: 2, kind: { type: 'http', status: 503, body: { error: 'busy' }, headers: { 'x-extra': 'yes' } } });
    const jobs = sb.jobs.size;
    for (let i = 0; i < 2; i++) {
      const res = await post(`${sb.url}/v2/sadtalker`, SADTALKER);
      assert.equal(res.status, 503);
      assert.deepEqual(res.json, { error: 'busy' });
      assert.equal(res.headers['x-extra'], 'yes');
    }
    assert.equal(sb.jobs.size, jobs, 'a faulted submit creates no job');
    assert.equal((await post(`${sb.url}/v2/sadtalker`, SADTALKER)).status, 200);
  });

  it('http: a redirect with a location header; endpoint and model filters', async () => {
    const sb = sandbox();
    sb.fault({ endpoint: 'status', kind: { type: 'http', status: 302, headers: { location: 'http://elsewhere.invalid/x' } } });
    sb.fault({ model: 'hallo', kind: { type: 'http', status: 500 } });
    // a submit of another model passes both
    const ok = await post(`${sb.url}/v2/sadtalker`, SADTALKER);
    assert.equal(ok.status, 200);
    const redirected = await get(ok.json.status_url);
    assert.equal(redirected.status, 302);
    assert.equal(redirected.headers.location, 'http://elsewhere.invalid/x');
    const hallo = await post(`${sb.url}/v2/hallo`, SADTALKER);
    assert.equal(hallo.status, 500);
    assert.equal(typeof hallo.json.error, 'string');
  });

  it('rate_limit: 429 with the reset header, and Retry-After only when given', async () => {
    const sb = sandbox();
    sb.fault({ kind: { type: 'rate_limit' } });
    sb.fault({ kind: { type: 'rate_limit', retryAfterSeconds: 7, resetInSeconds: 10 } });
    const a = await get(`${sb.url}/v2/requests/x/status`);
    assert.equal(a.status, 429);
    assert.ok(Number.isFinite(Date.parse(String(a.headers['x-rate-limit-reset-at-utc']))));
    assert.equal(a.headers['retry-after'], undefined);
    const b = await get(`${sb.url}/v2/requests/x/status`);
    assert.equal(b.status, 429);
    assert.equal(b.headers['retry-after'], '7');
    assert.ok(Number.isFinite(Date.parse(String(b.headers['x-rate-limit-reset-at-utc']))));
  });

  it('reset_before: the connection drops and a submit creates no job', async () => {
    const sb = sandbox();
    sb.fault({ endpoint: 'submit', kind: { type: 'reset_before' } });
    const jobs = sb.jobs.size;
    await assert.rejects(post(`${sb.url}/v2/sadtalker`, SADTALKER));
    assert.equal(sb.jobs.size, jobs);
    const rec = sb.requests.find((r) => r.endpoint === 'submit');
    assert.equal(rec?.status, 0);
    assert.deepEqual(rec?.body, SADTALKER);
  });

  it('reset_after: the connection drops without an answer but the submit created the job', async () => {
    const sb = sandbox();
    sb.fault({ endpoint: 'submit', kind: { type: 'reset_after' } });
    const jobs = sb.jobs.size;
    await assert.rejects(post(`${sb.url}/v2/sadtalker`, SADTALKER));
    assert.equal(sb.jobs.size, jobs + 1);
    assert.equal(sb.requests.find((r) => r.endpoint === 'submit')?.status, 0);
  });

  it('slow_headers: answers normally after the delay (a client giving up first gets nothing)', async () => {
    const sb = sandbox();
    sb.fault({ endpoint: 'status', kind: { type: 'slow_headers', delayMs: 60_000 } });
    await assert.rejects(request(`${sb.url}/v2/requests/x/status`, { headers: JSON_HEADERS, signal: AbortSignal.timeout(100) }));
    sb.fault({ endpoint: 'status', kind: { type: 'slow_headers', delayMs: 20 } });
    const res = await get(`${sb.url}/v2/requests/y/status`);
    assert.equal(res.status, 404);
    assert.deepEqual(res.json, { error: 'Request y not found' });
    const recs = sb.requests.filter((r) => r.endpoint === 'status');
    await until(() => recs[0].clientGone === true, 'the sandbox to see the client go');
    assert.deepEqual(recs.map((r) => [r.requestId, r.status, r.clientGone ?? false]), [['x', 0, true], ['y', 404, false]]);
  });

  it('malformed_json and empty_body: 200 with a JSON content type and no JSON', async () => {
    const sb = sandbox();
    sb.fault({ kind: { type: 'malformed_json' } });
    sb.fault({ kind: { type: 'empty_body' } });
    const bad = await post(`${sb.url}/v2/sadtalker`, SADTALKER);
    assert.equal(bad.status, 200);
    assert.match(String(bad.headers['content-type']), /application\/json/);
    assert.throws(() => JSON.parse(bad.text));
    const empty = await get(`${sb.url}/v2/requests/x/status`);
    assert.equal(empty.status, 200);
    assert.match(String(empty.headers['content-type']), /application\/json/);
    assert.equal(empty.text, '');
  });

  it('html_405: a 405 HTML page', async () => {
    const sb = sandbox();
    sb.fault({ kind: { type: 'html_405' } });
    const res = await post(`${sb.url}/v2/sadtalker`, SADTALKER);
    assert.equal(res.status, 405);
    assert.match(String(res.headers['content-type']), /text\/html/);
    assert.match(res.text, /<html/i);
  });

  it('truncate_body: an output download announces its full length, then the connection drops', async () => {
    const sb = sandbox();
    const output = await completedOutput();
    sb.fault({ endpoint: 'output', kind: { type: 'truncate_body', afterBytes: 1000 } });
    const res = await request(output);
    assert.equal(res.statusCode, 200);
    assert.ok(Number(res.headers['content-length']) > 1000);
    await assert.rejects(res.body.arrayBuffer());
    // the next download is whole again
    const whole = await getBytes(output);
    assert.equal(whole.bytes.length, Number(whole.headers['content-length']));
  });

  it('endless_body: an output download with no length that never ends, the sample first; checked when queued', async () => {
    const sb = sandbox();
    const output = await completedOutput();
    const whole = await getBytes(output);
    sb.fault({ endpoint: 'output', kind: { type: 'endless_body' } });
    const res = await request(output);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-length'], undefined);
    let got = Buffer.alloc(0);
    for await (const chunk of res.body) {
      got = Buffer.concat([got, chunk as Buffer]);
      if (got.length > 4 * whole.bytes.length + 1024 * 1024) break; // far beyond the sample: it goes on
    }
    assert.ok(got.subarray(0, whole.bytes.length).equals(whole.bytes), 'begins with the output itself');
    // the next download is whole again
    assert.equal((await getBytes(output)).bytes.length, whole.bytes.length);
    assert.throws(() => sb.fault(validateFault({ endpoint: 'output', kind: { type: 'endless_body', chunkBytes: 0 } })), /kind\.chunkBytes/);
    assert.throws(() => validateFault({ kind: { type: 'endless_body', intervalMs: -1 } }), /kind\.intervalMs/);
  });

  it('faults without an endpoint skip output downloads; Infinity applies to all', async () => {
    const sb = sandbox();
    const output = await completedOutput();
    sb.fault({ times: Infinity, kind: { type: 'http', status: 502 } });
    assert.equal((await getBytes(output)).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await get(`${sb.url}/v2/requests/x`)).status, 502);
    sb.clearFaults();
    assert.equal((await get(`${sb.url}/v2/requests/x`)).status, 404);
  });
});
