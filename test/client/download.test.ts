// Output downloads: the key only to API origins, never across an origin change; broken bodies error.
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { SegmindError } from '../../src/client';
import { SADTALKER, assertNoKey, rejectsWith, useSandbox, type Harness } from './helpers';

async function finishedJob(h: Harness, client: ReturnType<Harness['client']>) {
  h.sb.scriptJob({ outcome: 'complete', durationSeconds: 0 });
  const job = await client.submit('sadtalker', SADTALKER);
  const result = await client.result(job);
  assert.equal(result.status, 'COMPLETED');
  h.sb.resetRequests();
  return { job, output: result.output as string };
}

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('client: download from the files origin (a CDN)', () => {
  const h = useSandbox();

  it('sends no key to the files origin and does not spend the request budget', async () => {
    const client = h.client();
    const { output } = await finishedJob(h, client);
    assert.ok(output.startsWith(h.sb.filesUrl));
    const sent = client.stats.sent;
    const dl = await client.download(output);
    const bytes = await drain(dl.stream);
    assert.equal(bytes.length, dl.contentLength);
    assert.equal(dl.url, output);
    const [rec] = h.sb.requests;
    assert.equal(rec.listener, 'files');
    assert.equal(rec.apiKeyPresent, false);
    assert.equal(client.stats.sent, sent);
  });

  it('errors (does not end quietly) when the connection breaks mid-body', async () => {
    const client = h.client();
    const { output } = await finishedJob(h, client);
    h.sb.fault({ endpoint: 'output', kind: { type: 'truncate_body', afterBytes: 1000 } });
    const dl = await client.download(output);
    let caught: unknown;
    try {
      await drain(dl.stream);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof SegmindError, `expected an error, got ${String(caught)}`);
    assert.equal(caught.code, 'network');
    assert.match(caught.message, new RegExp(`of ${dl.contentLength} bytes`));
    assertNoKey(caught);
  });

  it('retries a 503 before the body starts; a 404 is not_found', async () => {
    const client = h.client();
    const { output, job } = await finishedJob(h, client);
    h.sb.fault({ endpoint: 'output', times: 2, kind: { type: 'http', status: 503 } });
    const dl = await client.download(output);
    await drain(dl.stream);
    assert.equal(h.sb.count({ endpoint: 'output' }), 3);
    await rejectsWith(client.download(output.replace(job.requestId, 'missing')), 'not_found');
  });

  it('a 401 or 403 from the files origin is that host refusing the download, not a bad API key', async () => {
    const client = h.client();
    const { output } = await finishedJob(h, client);
    for (const status of [401, 403]) {
      h.sb.fault({ endpoint: 'output', kind: { type: 'http', status, body: { error: 'Request has expired' } } });
      const err = await rejectsWith(client.download(output), 'access_denied');
      assert.equal(err.httpStatus, status);
      assert.equal(err.retryable, false);
      assert.ok(err.message.startsWith(`The download of ${h.sb.filesUrl}/outputs/`), err.message);
      assert.match(err.message, new RegExp(`was refused by its host \\(HTTP ${status}\\): Request has expired\\. No API key is sent to that host`));
      assert.doesNotMatch(err.message, /rejected the API key|for this API key/);
    }
    assert.equal(h.sb.count({ endpoint: 'output' }), 2, 'not retried');
    assert.ok(h.sb.requests.every((r) => !r.apiKeyPresent));
  });

  it('follows redirects by hand, at most 5', async () => {
    const client = h.client();
    const { output } = await finishedJob(h, client);
    h.sb.fault({ endpoint: 'output', times: Infinity, kind: { type: 'http', status: 302, headers: { location: output } } });
    const err = await rejectsWith(client.download(output), 'bad_request');
    assert.match(err.message, /redirected more than 5 times/);
    assert.equal(h.sb.count({ endpoint: 'output' }), 6);
  });

  it('a caller abort mid-body errors the stream with aborted', async () => {
    const client = h.client();
    const { output } = await finishedJob(h, client);
    const ac = new AbortController();
    const dl = await client.download(output, { signal: ac.signal });
    ac.abort();
    let caught: unknown;
    try {
      await drain(dl.stream);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof Error, 'the stream errored');
    assert.equal((caught as SegmindError).code, 'aborted');
  });
});

describe('client: download through an API-origin redirect', () => {
  const h = useSandbox({ outputVia: 'api-redirect' });

  it('sends the key to the API origin, then drops it when the redirect leaves that origin', async () => {
    const client = h.client();
    const { output, job } = await finishedJob(h, client);
    assert.ok(output.startsWith(h.sb.url), output);
    const dl = await client.download(output);
    const bytes = await drain(dl.stream);
    assert.ok(bytes.length > 0);
    assert.equal(dl.url, `${h.sb.filesUrl}/outputs/${job.requestId}.mp4`);
    const hops = h.sb.requests.map((r) => [r.listener, r.status, r.apiKeyPresent]);
    assert.deepEqual(hops, [
      ['api', 302, true],
      ['files', 200, false],
    ]);
  });
});

describe('client: download served by the API origin', () => {
  const h = useSandbox({ outputVia: 'api' });

  it('sends the key to the API origin (it is Segmind) and counts the request in the budget', async () => {
    const client = h.client();
    const { output } = await finishedJob(h, client);
    const sent = client.stats.sent;
    const dl = await client.download(output);
    await drain(dl.stream);
    const [rec] = h.sb.requests;
    assert.deepEqual([rec.listener, rec.apiKeyPresent], ['api', true]);
    assert.equal(client.stats.sent, sent + 1);
  });

  it('a 401 from the API origin, where the key was sent, is still about the API key', async () => {
    const client = h.client();
    const { output } = await finishedJob(h, client);
    h.sb.fault({ endpoint: 'output', kind: { type: 'http', status: 401, body: { error: 'Invalid API key' } } });
    const err = await rejectsWith(client.download(output), 'auth');
    assert.match(err.message, /^Segmind rejected the API key \(HTTP 401\)/);
  });

  it('never sends the key to the API origin after a redirect from another origin', async () => {
    const client = h.client();
    const { job } = await finishedJob(h, client);
    const apiUrl = `${h.sb.url}/outputs/${job.requestId}.mp4`;
    h.sb.fault({ endpoint: 'output', kind: { type: 'http', status: 302, headers: { location: apiUrl } } });
    const dl = await client.download(`${h.sb.filesUrl}/outputs/${job.requestId}.mp4`);
    await drain(dl.stream);
    const hops = h.sb.requests.map((r) => [r.listener, r.status, r.apiKeyPresent]);
    assert.deepEqual(hops, [
      ['files', 302, false],
      ['api', 200, false],
    ]);
  });

  it('a large body broken midway errors instead of ending short', async () => {
    const client = h.client();
    const { output } = await finishedJob(h, client);
    h.sb.fault({ endpoint: 'output', kind: { type: 'truncate_body' } });
    const dl = await client.download(output);
    const stream = dl.stream as Readable;
    const outcome = await new Promise<string>((resolve) => {
      stream.on('data', () => undefined);
      stream.once('end', () => resolve('end'));
      stream.once('error', (e) => resolve(`error ${(e as SegmindError).code}`));
    });
    assert.equal(outcome, 'error network');
  });
});
