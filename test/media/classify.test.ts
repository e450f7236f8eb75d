import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { classify, MediaError, type AcceptKind, type Classified } from '../../src/media';
import { dataUri, facePng, faceJpg, garbage, headers, voiceMp3, voiceWav } from './samples';

const MB = 1024 * 1024;
const opts = (kind: AcceptKind, maxBytes = 50 * MB) => ({ field: 'input_image', kind, maxBytes, source: 'msg.image' });

async function rejects(value: unknown, kind: AcceptKind, code: string, maxBytes?: number): Promise<MediaError> {
  try {
    await classify(value, opts(kind, maxBytes));
  } catch (err) {
    assert.ok(err instanceof MediaError, `expected MediaError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, /input_image/);
    return err;
  }
  assert.fail(`expected ${code} for ${String(value).slice(0, 40)}`);
}

function bytesOf(c: Classified): { data: Buffer; mime: string } {
  assert.equal(c.type, 'bytes');
  return c as { type: 'bytes'; data: Buffer; mime: string };
}

describe('media/classify', () => {
  it('passes http(s) URLs through untouched', async () => {
    for (const url of ['https://example.com/a.png', 'http://127.0.0.1:8080/x?y=1#z']) {
      assert.deepEqual(await classify(url, opts('image')), { type: 'url', url });
    }
    assert.deepEqual(await classify('  https://example.com/a.png\n', opts('image')), {
      type: 'url',
      url: 'https://example.com/a.png',
    });
  });

  it('detects each supported format from bytes and checks it against the kind', async () => {
    const cases: [Buffer, string, AcceptKind][] = [
      [facePng, 'image/png', 'image'],
      [faceJpg, 'image/jpeg', 'image'],
      [headers.webp, 'image/webp', 'image'],
      [voiceMp3, 'audio/mpeg', 'audio'],
      [voiceWav, 'audio/wav', 'audio'],
      [headers.m4a, 'audio/mp4', 'audio'],
      [headers.aac, 'audio/aac', 'audio'],
      [headers.ogg, 'audio/ogg', 'audio'],
      [headers.mp4, 'video/mp4', 'video'],
      [headers.mov, 'video/quicktime', 'video'],
      [headers.webm, 'video/webm', 'video'],
      [facePng, 'image/png', 'image-or-video'],
      [headers.mp4, 'video/mp4', 'image-or-video'],
      [voiceWav, 'audio/wav', 'any'],
    ];
    for (const [data, mime, kind] of cases) {
      const got = bytesOf(await classify(data, opts(kind)));
      assert.equal(got.mime, mime);
      assert.ok(got.data.equals(data));
    }
  });

  it('reads data URIs, raw base64 (standard, wrapped, URL-safe), Uint8Array and serialised Buffers', async () => {
    assert.equal(bytesOf(await classify(dataUri('image/png', facePng), opts('image'))).mime, 'image/png');
    // the declared MIME is not trusted: the bytes decide
    assert.equal(bytesOf(await classify(dataUri('application/octet-stream', faceJpg), opts('image'))).mime, 'image/jpeg');
    const b64 = faceJpg.toString('base64');
    assert.ok(b64.startsWith('/9j/'), 'JPEG base64 starts like a path');
    assert.ok(bytesOf(await classify(b64, opts('image'))).data.equals(faceJpg));
    const wrapped = b64.replace(/(.{76})/g, '$1\n');
    assert.ok(bytesOf(await classify(wrapped, opts('image'))).data.equals(faceJpg));
    assert.ok(bytesOf(await classify(faceJpg.toString('base64url'), opts('image'))).data.equals(faceJpg));
    assert.ok(bytesOf(await classify(new Uint8Array(facePng), opts('image'))).data.equals(facePng));
    const json = JSON.parse(JSON.stringify(facePng));
    assert.equal(json.type, 'Buffer');
    assert.ok(bytesOf(await classify(json, opts('image'))).data.equals(facePng));
  });

  it('names the field, the detected type and what is allowed for a wrong type', async () => {
    const err = await rejects(voiceWav, 'image', 'wrong_type');
    assert.match(err.message, /WAV audio/);
    assert.match(err.message, /PNG, JPEG, WebP image/);
    assert.match(err.message, /msg\.image/);
    await rejects(facePng, 'audio', 'wrong_type');
    await rejects(voiceMp3, 'image-or-video', 'wrong_type');
    const gif = await rejects(headers.gif, 'image', 'wrong_type');
    assert.match(gif.message, /GIF/);
  });

  it('refuses oversize input with sizes in MB, before decoding base64', async () => {
    const big = Buffer.alloc(3 * MB, 1);
    const err = await rejects(big, 'image', 'too_large', 2 * MB);
    assert.match(err.message, /3\.0 MB/);
    assert.match(err.message, /2\.0 MB/);
    // ~60 MB of base64 text: refused from its length (decoding it would need the memory)
    const huge = 'A'.repeat(80 * MB);
    const e2 = await rejects(huge, 'image', 'too_large', 50 * MB);
    assert.match(e2.message, /60\.0 MB/);
    assert.ok(e2.message.length < 300, 'message stays short');
    await rejects(`data:image/png;base64,${huge}`, 'image', 'too_large', 50 * MB);
    await rejects({ type: 'Buffer', data: new Array(3 * MB).fill(0) }, 'image', 'too_large', 2 * MB);
  });

  it('refuses a string too long for the limit by its length alone: not read, not copied', async () => {
    // A string made by concatenation (as a data URI usually is) is flattened, i.e. copied whole, by
    // V8 the first time anything reads a character of it; a regex or replace over it also blocks the
    // event loop. The refusal must come from its length (O(1)), so the heap does not grow by its size.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const huge = `data:video/mp4;base64,${'A'.repeat(100 * MB)}`;
    gc();
    const before = process.memoryUsage().heapUsed;
    const err = await rejects(huge, 'image', 'too_large', 50 * MB);
    const grown = process.memoryUsage().heapUsed - before;
    assert.ok(grown < 25 * MB, `the heap grew by ${(grown / MB).toFixed(1)} MB: the string was read`);
    assert.match(err.message, /75\.0 MB \(a string of 104857622 characters\), over the limit of 50\.0 MB/);
    // a string of a size the limit allows is still read (and decoded) as before
    assert.equal(bytesOf(await classify(dataUri('image/png', facePng), opts('image', 50 * MB))).mime, 'image/png');
  });

  it('refuses everything else, naming the value abbreviated and what is allowed', async () => {
    await rejects(undefined, 'image', 'missing');
    await rejects(null, 'image', 'missing');
    await rejects('', 'image', 'missing');
    await rejects('   ', 'image', 'missing');
    await rejects(Buffer.alloc(0), 'image', 'missing');
    const num = await rejects(42, 'image', 'unreadable');
    assert.match(num.message, /number 42/);
    assert.match(num.message, /http\(s\) URL, a data URI, base64 data or a Buffer/);
    await rejects({ url: 'https://x' }, 'image', 'unreadable');
    await rejects([1, 2, 3], 'image', 'unreadable');
    await rejects(true, 'image', 'unreadable');
    await rejects({ type: 'Buffer', data: [1, 'x'] }, 'image', 'unreadable');
    await rejects('ftp://example.com/a.png', 'image', 'bad_url');
    await rejects('file:///etc/passwd', 'image', 'bad_url');
    await rejects('https://', 'image', 'bad_url');
    await rejects('https://exa mple.com/a.png', 'image', 'bad_url');
    await rejects('/home/me/face.png', 'image', 'file_path');
    await rejects('face.png', 'image', 'file_path');
    await rejects('C:\\Users\\me\\face.png', 'image', 'file_path');
    await rejects('./face', 'image', 'file_path');
    await rejects('hello world', 'image', 'unreadable');
    await rejects('data:image/png,notbase64', 'image', 'unreadable');
    await rejects('data:image/png;base64,@@@@', 'image', 'unreadable');
    await rejects(garbage, 'image', 'unknown_bytes');
    await rejects(garbage.toString('base64'), 'image', 'unknown_bytes');
    await rejects(dataUri('image/png', garbage), 'any', 'unknown_bytes');
    const long = await rejects('#'.repeat(5000), 'image', 'unreadable');
    assert.ok(long.message.length < 400, `message is abbreviated: ${long.message.length}`);
    assert.match(long.message, /5000 characters/);
  });

  it('never returns a URL that is not http(s) and never throws anything but MediaError (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.anything(), fc.uint8Array()), async (value) => {
        try {
          const got = await classify(value, opts('any', 1 * MB));
          if (got.type === 'url') assert.match(got.url, /^https?:\/\//i);
          else assert.ok(got.data.length > 0 && got.mime.length > 0);
        } catch (err) {
          assert.ok(err instanceof MediaError, String(err));
          assert.ok(err.message.length < 600);
        }
      }),
      { numRuns: 300 },
    );
  });
});
