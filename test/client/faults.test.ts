// Every scripted sandbox fault against submit (a billed POST), status (a safe GET) and upload.
import assert from 'node:assert/strict';
import type { RequestFault } from '../../src/sandbox';
import type { ErrorCode } from '../../src/client/types';
import { SADTALKER, rejectsWith, useSandbox } from './helpers';

type Kind = RequestFault['kind'];

interface FailCase {
  name: string;
  kind: Kind;
  code: ErrorCode;
  retryable: boolean;
  status?: number;
  message?: RegExp;
}

const AMBIGUOUS = /may or may not have been created/;

describe('client: faults on submit (never billed twice)', () => {
  const h = useSandbox({}, { timeouts: { headers: 150 } });

  const cases: FailCase[] = [
    { name: '401', kind: { type: 'http', status: 401, body: { error: 'Unauthorized' } }, code: 'auth', retryable: false, status: 401, message: /rejected the API key \(HTTP 401\): Unauthorized/ },
    { name: '403', kind: { type: 'http', status: 403, body: { error: 'Forbidden' } }, code: 'auth', retryable: false, status: 403, message: /HTTP 403/ },
    { name: '406', kind: { type: 'http', status: 406, body: { error: 'Insufficient credits' } }, code: 'credits', retryable: false, status: 406, message: /Insufficient credits/ },
    { name: '410', kind: { type: 'http', status: 410, body: { error: 'Model retired' } }, code: 'retired', retryable: false, status: 410, message: /retired model 'sadtalker'|retired/ },
    { name: '400', kind: { type: 'http', status: 400, body: { error: 'Missing required field: input_image' } }, code: 'bad_request', retryable: false, status: 400, message: /input_image/ },
    { name: '404', kind: { type: 'http', status: 404, body: { error: 'Model not found' } }, code: 'not_found', retryable: false, status: 404, message: /model 'sadtalker'/ },
    { name: '418 (other 4xx)', kind: { type: 'http', status: 418, body: { error: 'teapot' } }, code: 'bad_request', retryable: false, status: 418 },
    { name: 'html_405', kind: { type: 'html_405' }, code: 'bad_request', retryable: false, status: 405, message: /405.*HTML page/ },
    { name: '500', kind: { type: 'http', status: 500 }, code: 'server', retryable: false, status: 500, message: AMBIGUOUS },
    { name: '502', kind: { type: 'http', status: 502 }, code: 'server', retryable: false, status: 502, message: AMBIGUOUS },
    { name: '503', kind: { type: 'http', status: 503 }, code: 'server', retryable: false, status: 503, message: AMBIGUOUS },
    { name: '504', kind: { type: 'http', status: 504, body: '<html>gateway</html>' }, code: 'server', retryable: false, status: 504, message: AMBIGUOUS },
    { name: 'reset_after', kind: { type: 'reset_after' }, code: 'network', retryable: false, message: AMBIGUOUS },
    { name: 'reset_before (the body was sent)', kind: { type: 'reset_before' }, code: 'network', retryable: false, message: AMBIGUOUS },
    { name: 'slow_headers beyond the headers timeout', kind: { type: 'slow_headers', delayMs: 1000 }, code: 'timeout', retryable: false, message: AMBIGUOUS },
    { name: 'malformed_json', kind: { type: 'malformed_json' }, code: 'invalid_response', retryable: false, status: 200, message: /not valid JSON/ },
    { name: 'empty_body', kind: { type: 'empty_body' }, code: 'invalid_response', retryable: false, status: 200, message: /empty body/ },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.code}, retryable ${c.retryable}, exactly one POST`, async () => {
      const client = h.client();
      h.sb.fault({ endpoint: 'submit', times: Infinity, kind: c.kind });
      const err = await rejectsWith(client.submit('sadtalker', SADTALKER), c.code);
      assert.equal(err.retryable, c.retryable);
      assert.equal(err.httpStatus, c.status);
      if (c.message) assert.match(err.message, c.message);
      assert.equal(h.sb.count({ endpoint: 'submit' }), 1, 'a submit is never sent twice');
    });
  }

  it('reset_after really created the job the client could not see: hence no retry', async () => {
    const client = h.client();
    h.sb.fault({ endpoint: 'submit', kind: { type: 'reset_after' } });
    const before = h.sb.jobs.size;
    await rejectsWith(client.submit('sadtalker', SADTALKER), 'network');
    assert.equal(h.sb.jobs.size, before + 1);
    assert.equal(h.sb.count({ endpoint: 'submit' }), 1);
  });
});

describe('client: unknown and retired models (the sandbox itself)', () => {
  const h = useSandbox({ unknownModels: ['ghost'], retiredModels: ['old'] });

  it('404 for an unknown model is not_found, 410 for a retired one is retired; each sent once', async () => {
    const client = h.client();
    const nf = await rejectsWith(client.submit('ghost', {}), 'not_found');
    assert.match(nf.message, /model 'ghost'/);
    const gone = await rejectsWith(client.submit('old', {}), 'retired');
    assert.match(gone.message, /model 'old'/);
    assert.equal(h.sb.count({ endpoint: 'submit' }), 2);
  });
});

describe('client: submit retried only when the server certainly did not take it', () => {
  const h = useSandbox();

  it('429 (twice) then success: three POSTs, one job', async () => {
    const client = h.client();
    h.sb.fault({ endpoint: 'submit', times: 2, kind: { type: 'rate_limit', resetInSeconds: 1 } });
    const before = h.sb.jobs.size;
    const job = await client.submit('sadtalker', SADTALKER);
    assert.ok(job.requestId);
    assert.equal(h.sb.count({ endpoint: 'submit' }), 3);
    assert.equal(h.sb.jobs.size, before + 1);
    assert.equal(client.stats.rateLimited, 2);
  });

  it('429 every time: rate_limited, retryable, maxAttempts POSTs', async () => {
    const client = h.client({ maxAttempts: 4 });
    h.sb.fault({ endpoint: 'submit', times: Infinity, kind: { type: 'rate_limit', resetInSeconds: 1 } });
    const err = await rejectsWith(client.submit('sadtalker', SADTALKER), 'rate_limited');
    assert.equal(err.retryable, true);
    assert.equal(err.httpStatus, 429);
    assert.equal(err.attempts, 4);
    assert.equal(h.sb.count({ endpoint: 'submit' }), 4);
  });

  it('upload follows the same rule: 500 is sent once, 429 is retried', async () => {
    const client = h.client();
    h.sb.fault({ endpoint: 'upload', times: 1, kind: { type: 'http', status: 500 } });
    const err = await rejectsWith(client.uploadAsset([Buffer.from('x')]), 'server');
    assert.equal(err.retryable, false);
    assert.match(err.message, /upload may or may not have been stored/);
    assert.equal(h.sb.count({ endpoint: 'upload' }), 1);

    h.sb.fault({ endpoint: 'upload', times: 1, kind: { type: 'rate_limit', resetInSeconds: 1 } });
    const urls = await client.uploadAsset([Buffer.from('x')]);
    assert.equal(urls.length, 1);
    assert.equal(h.sb.count({ endpoint: 'upload' }), 3);

    h.sb.fault({ endpoint: 'upload', times: 1, kind: { type: 'reset_after' } });
    await rejectsWith(client.uploadAsset([Buffer.from('x')]), 'network');
    assert.equal(h.sb.count({ endpoint: 'upload' }), 4);
  });
});

describe('client: faults on status (a safe GET)', () => {
  const h = useSandbox({}, { timeouts: { headers: 150 } });

  async function job(client: ReturnType<typeof h.client>) {
    const j = await client.submit('sadtalker', SADTALKER);
    h.sb.resetRequests();
    return j;
  }

  const transient: { name: string; kind: Kind }[] = [
    { name: '429', kind: { type: 'rate_limit', resetInSeconds: 1 } },
    { name: '500', kind: { type: 'http', status: 500 } },
    { name: '502', kind: { type: 'http', status: 502 } },
    { name: '503', kind: { type: 'http', status: 503 } },
    { name: '504', kind: { type: 'http', status: 504 } },
    { name: 'reset_before', kind: { type: 'reset_before' } },
    { name: 'reset_after', kind: { type: 'reset_after' } },
    { name: 'slow_headers beyond the headers timeout', kind: { type: 'slow_headers', delayMs: 1000 } },
  ];
  for (const t of transient) {
    it(`${t.name} twice, then success: retried, three GETs`, async () => {
      const client = h.client();
      const j = await job(client);
      h.sb.fault({ endpoint: 'status', times: 2, kind: t.kind });
      const s = await client.status(j);
      assert.ok(['QUEUED', 'PROCESSING', 'COMPLETED'].includes(s.status));
      assert.equal(h.sb.count({ endpoint: 'status' }), 3);
    });
  }

  const exhausted: { name: string; kind: Kind; code: ErrorCode }[] = [
    { name: '503', kind: { type: 'http', status: 503 }, code: 'server' },
    { name: 'reset_before', kind: { type: 'reset_before' }, code: 'network' },
    { name: 'slow_headers', kind: { type: 'slow_headers', delayMs: 1000 }, code: 'timeout' },
    { name: '429', kind: { type: 'rate_limit', resetInSeconds: 1 }, code: 'rate_limited' },
  ];
  for (const t of exhausted) {
    it(`${t.name} every time: ${t.code}, retryable, maxAttempts GETs`, async () => {
      const client = h.client({ maxAttempts: 3 });
      const j = await job(client);
      h.sb.fault({ endpoint: 'status', times: Infinity, kind: t.kind });
      const err = await rejectsWith(client.status(j), t.code);
      assert.equal(err.retryable, true);
      assert.equal(h.sb.count({ endpoint: 'status' }), 3);
      assert.match(err.message, /3 attempts/);
      const retries = h.logs.filter((l) => l.includes('retry'));
      assert.equal(retries.length, 2, retries.join('\n'));
    });
  }

  const final: { name: string; kind: Kind; code: ErrorCode; status?: number }[] = [
    { name: '401', kind: { type: 'http', status: 401, body: { error: 'Unauthorized' } }, code: 'auth', status: 401 },
    { name: '403', kind: { type: 'http', status: 403 }, code: 'auth', status: 403 },
    { name: '406', kind: { type: 'http', status: 406 }, code: 'credits', status: 406 },
    { name: '400', kind: { type: 'http', status: 400 }, code: 'bad_request', status: 400 },
    { name: '410', kind: { type: 'http', status: 410 }, code: 'retired', status: 410 },
    { name: 'html_405', kind: { type: 'html_405' }, code: 'bad_request', status: 405 },
    { name: 'malformed_json', kind: { type: 'malformed_json' }, code: 'invalid_response', status: 200 },
    { name: 'empty_body', kind: { type: 'empty_body' }, code: 'invalid_response', status: 200 },
    { name: '200 without a status field', kind: { type: 'http', status: 200, body: { hello: 1 } }, code: 'invalid_response', status: 200 },
    { name: '422 that is not JSON', kind: { type: 'http', status: 422, body: 'oops' }, code: 'invalid_response', status: 422 },
  ];
  for (const t of final) {
    it(`${t.name}: ${t.code}, not retried`, async () => {
      const client = h.client();
      const j = await job(client);
      h.sb.fault({ endpoint: 'status', times: Infinity, kind: t.kind });
      const err = await rejectsWith(client.status(j), t.code);
      assert.equal(err.retryable, false);
      assert.equal(err.httpStatus, t.status);
      assert.equal(h.sb.count({ endpoint: 'status' }), 1);
    });
  }

  it('the result endpoint is retried the same way', async () => {
    const client = h.client();
    const j = await job(client);
    h.sb.fault({ endpoint: 'result', times: 2, kind: { type: 'http', status: 502 } });
    const r = await client.result(j);
    assert.equal(r.final, false);
    assert.equal(h.sb.count({ endpoint: 'result' }), 3);
  });
});
