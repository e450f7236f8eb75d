// Which output a result carries and what becomes of it (the download modes are exercised against
// the sandbox in waiter.test.ts).
import assert from 'node:assert/strict';
import { extensionFor, fileBaseName, OutputError, outputRef, outputUrl } from '../../src/jobs/deliver';

describe('jobs/deliver', () => {
  it('finds the output URL, or video.url, or the first of a list', () => {
    assert.deepEqual(outputRef({ output: 'https://x.test/a.mp4' }), { kind: 'url', url: 'https://x.test/a.mp4' });
    assert.deepEqual(outputRef({ output: null, video: { url: 'https://x.test/v.mp4' } }), { kind: 'url', url: 'https://x.test/v.mp4' });
    assert.deepEqual(outputRef({ output: ['http://x.test/1.mp4', 'http://x.test/2.mp4'] }), { kind: 'url', url: 'http://x.test/1.mp4' });
  });

  it('decodes base64 and data URLs', () => {
    const bytes = Buffer.from('0000ftypisom-some-video-bytes');
    const b64 = outputRef({ output: bytes.toString('base64') });
    assert.equal(b64.kind, 'inline');
    assert.deepEqual(b64.kind === 'inline' && b64.data, bytes);
    const data = outputRef({ output: `data:video/mp4;base64,${bytes.toString('base64')}` });
    assert.deepEqual(data, { kind: 'inline', data: bytes, mime: 'video/mp4' });
  });

  it('refuses a missing output and URLs that are not http(s)', () => {
    assert.throws(() => outputRef({}), (e: unknown) => e instanceof OutputError && e.code === 'invalid_response' && /no usable output/.test(e.message));
    assert.throws(() => outputRef({ output: 'file:///etc/passwd' }), (e: unknown) => e instanceof OutputError && /not http\(s\)/.test(e.message));
    assert.throws(() => outputRef({ output: 'ftp://x.test/a.mp4' }), OutputError);
    assert.throws(() => outputRef({ output: 'not base64 !' }), OutputError);
  });

  it('refuses inline data over the size limit from its length, before decoding it', () => {
    const MiB = 1024 * 1024;
    const limit = { bytes: MiB, mode: 'buffer' as const, requestId: 'r1' };
    const tooLarge = (e: unknown) => e instanceof OutputError && e.code === 'output_too_large';
    assert.throws(() => outputRef({ output: 'A'.repeat(2 * MiB) }, limit), (e: unknown) => tooLarge(e) && /request r1 \(1\.5 MiB\) is larger than the Buffer limit of 1 MiB/.test((e as Error).message));
    assert.throws(() => outputRef({ output: `data:video/mp4;base64,${'A'.repeat(2 * MiB)}` }, { ...limit, mode: 'file' }), (e: unknown) => tooLarge(e) && /file limit of 1 MiB/.test((e as Error).message));
    assert.equal(outputRef({ output: 'A'.repeat(MiB) }, limit).kind, 'inline', 'within the limit');
  });

  it('outputUrl: the http(s) output URL when there is one, nothing for inline data', () => {
    assert.equal(outputUrl({ output: ' https://x.test/a.mp4 ' }), 'https://x.test/a.mp4');
    assert.equal(outputUrl({ output: null, video: { url: 'http://x.test/v.mp4' } }), 'http://x.test/v.mp4');
    assert.equal(outputUrl({ output: 'AAAAAAAAAAAAAAAAAAAA' }), undefined);
    assert.equal(outputUrl({}), undefined);
  });

  it('picks the file extension from the content type, then the URL, else mp4', () => {
    assert.equal(extensionFor('video/mp4; charset=binary', 'https://x.test/a.webm'), 'mp4');
    assert.equal(extensionFor('application/octet-stream', 'https://x.test/path/out.webm?sig=1'), 'webm');
    assert.equal(extensionFor(undefined, 'https://x.test/noext'), 'mp4');
    assert.equal(extensionFor('image/png', undefined), 'png');
  });

  it('makes request ids safe as file names', () => {
    assert.equal(fileBaseName('2c7f59ea-1b2c'), '2c7f59ea-1b2c');
    assert.equal(fileBaseName('../evil/..'), '___evil___');
    assert.equal(fileBaseName(''), 'output');
  });
});
