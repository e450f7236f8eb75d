// Bounded answers and lazily built request bodies: JSON answers are read with a cap (1 MiB for status,
// submit and upload; more for a result, which may carry the output itself), a larger one fails as
// invalid_response without the rest being read; upload bodies (base64 of every Buffer) are built only
// when the request budget lets the upload go, so queued uploads hold their Buffers and nothing more.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SegmindClient } from '../../src/client';
import { JSON_BODY_LIMIT } from '../../src/client/client';
import { CANARY, SADTALKER, rejectsWith, useSandbox, waitFor } from './helpers';

const MiB = 1024 * 1024;

/** A server on 127.0.0.1:0 answering every request with `handler`; counts body bytes it got out. */
async function server(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const sockets = new Set<import('node:net').Socket>();
  const srv = http.createServer(handler);
  srv.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

/** Writes `head`, then 'A's without end (with back-pressure) until the client goes away; resolves with the bytes written then. */
function endless(res: http.ServerResponse, head: string, status = 200): Promise<number> {
  res.writeHead(status, { 'content-type': 'application/json' });
  const chunk = Buffer.alloc(64 * 1024, 'A');
  let written = 0;
  return new Promise((resolve) => {
    res.on('close', () => resolve(written));
    res.write(head);
    const pump = () => {
      while (!res.destroyed) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
    };
    pump();
  });
}

describe('client: bounded answers', () => {
  const clients: SegmindClient[] = [];
  const servers: Array<{ close(): Promise<void> }> = [];
  const client = (baseUrl: string, extra: Partial<ConstructorParameters<typeof SegmindClient>[0]> = {}) => {
    const c = new SegmindClient({ apiKey: CANARY, baseUrl, uploadUrl: `${baseUrl}/upload-asset`, timeScale: 0.001, requestsPerMinute: 100_000, maxAttempts: 1, ...extra });
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('a status answer that never ends: invalid_response at 1 MiB, the rest is not read', async () => {
    let written: Promise<number> | undefined;
    const srv = await server((_req, res) => (written = endless(res, '{"status":"')));
    servers.push(srv);
    const err = await rejectsWith(client(srv.url).status('r1'), 'invalid_response');
    assert.match(err.message, /status check of request r1 \(HTTP 200\) with a body larger than 1 MiB, the most read for this answer \(the rest was not read\)/);
    // the connection is closed by the client: the server stops far short of what a full read would take
    const bytes = await written!;
    assert.ok(bytes < 64 * MiB, `the server wrote ${bytes} bytes before the client let go`);
  });

  it('an announced content-length over the cap fails before a byte of the body is read', async () => {
    // headers only: a client that waited for the body would wait for its 60 s body timeout
    const srv = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(5 * MiB) });
      res.flushHeaders();
    });
    servers.push(srv);
    const err = await rejectsWith(client(srv.url).submit('sadtalker', SADTALKER), 'invalid_response');
    assert.match(err.message, /larger than 1 MiB/);
    assert.match(err.message, /may or may not have been created/, 'a submit answer that was not read leaves the job unknown');
    assert.equal(JSON_BODY_LIMIT, MiB);
  });

  it('an upload answer over the cap, and an endless error body, are cut off too', async () => {
    let errorBody: Promise<number> | undefined;
    const srv = await server((req, res) => {
      req.resume();
      if (req.url?.startsWith('/upload-asset')) return void endless(res, '{"urls":["');
      errorBody = endless(res, '{"error":"', 500);
    });
    servers.push(srv);
    const c = client(srv.url);
    const err = await rejectsWith(c.uploadAsset([Buffer.from('hello')]), 'invalid_response');
    assert.match(err.message, /upload of 1 file \(HTTP 200\) with a body larger than 1 MiB/);
    // an error answer is read only for its text (64 KiB), then the status decides
    await rejectsWith(c.status('r2'), 'server');
    assert.ok((await errorBody!) < 64 * MiB);
  });

  describe('result answers: room for an inline (base64) output', () => {
    // 2 MiB of output as base64 in the result answer: about 2.7 MiB of JSON
    const h = useSandbox({ timeScale: 0.001, outputBytes: 2 * MiB });

    it('reads a result above 1 MiB by default; a caller cap below it fails as invalid_response', async () => {
      const c = h.client({ maxAttempts: 1 });
      h.sb.scriptJob({ outcome: 'complete', durationSeconds: 0 });
      const job = await c.submit('sadtalker', { ...SADTALKER, base64: true });
      await waitFor('the job to complete', () => h.sb.jobs.get(job.requestId)!.doneAt <= Date.now());
      const result = await c.result(job);
      assert.equal(result.status, 'COMPLETED');
      assert.equal(Buffer.from(result.output as string, 'base64').length, 2 * MiB);
      const err = await rejectsWith(c.result(job, { maxBytes: MiB }), 'invalid_response');
      assert.match(err.message, /result fetch of request .* with a body larger than 1 MiB/);
    });
  });
});

describe('client: upload bodies are built when the budget lets them go', () => {
  const h = useSandbox({ timeScale: 1 });

  it('40 uploads of 5 MB queued for the budget hold their Buffers, not their base64 bodies', async function () {
    this.timeout(60_000);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // one request per minute: the first upload goes, 39 wait for the budget
    const c = h.client({ requestsPerMinute: 1, timeScale: 1 });
    const files = Array.from({ length: 40 }, (_, i) => Buffer.alloc(5 * 1024 * 1024, i + 1));
    // large strings Node makes from Buffers (base64) live outside the V8 heap: count both
    const used = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.external;
    };
    gc();
    const before = used();
    const uploads = files.map((data) => c.uploadAsset([{ data, mime: 'video/mp4' }]).catch((e: unknown) => e));
    await waitFor('39 uploads queued for the budget', () => c.stats.queued === 39, 30_000);
    assert.ok(Array.isArray(await uploads[0]), 'the first upload went through');
    gc();
    const grown = used() - before;
    // built up front, the 39 queued bodies alone would be 39 x 6.7 MB = 260 MB of strings
    assert.ok(grown < 60 * MiB, `memory grew by ${(grown / MiB).toFixed(0)} MiB while 39 uploads waited`);
    await c.close();
    const ends = await Promise.all(uploads);
    assert.equal(h.sb.count({ endpoint: 'upload' }), 1);
    assert.ok(ends.slice(1).every((e) => (e as { code?: string }).code === 'aborted'), 'the queued ones end with close()');
  });
});
