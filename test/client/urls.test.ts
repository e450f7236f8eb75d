import assert from 'node:assert/strict';
import { SegmindClient, validateApiUrl } from '../../src/client';
import { isLoopbackHost } from '../../src/client/urls';
import { CANARY } from './helpers';

describe('client: API URL validation', () => {
  it('accepts https anywhere and http only on loopback hosts', () => {
    assert.equal(validateApiUrl('baseUrl', 'https://api.segmind.com'), 'https://api.segmind.com');
    assert.equal(validateApiUrl('baseUrl', 'https://api.segmind.com/'), 'https://api.segmind.com');
    assert.equal(validateApiUrl('uploadUrl', 'https://workflows-api.segmind.com/upload-asset'), 'https://workflows-api.segmind.com/upload-asset');
    for (const ok of ['http://127.0.0.1:8080', 'http://127.1.2.3', 'http://localhost:3000', 'http://[::1]:9000']) {
      assert.doesNotThrow(() => validateApiUrl('baseUrl', ok), ok);
    }
  });

  it('refuses anything else with a message naming the field and the value', () => {
    const cases: [unknown, RegExp][] = [
      ['http://api.segmind.com', /baseUrl "http:\/\/api.segmind.com" uses plain http on a non-loopback host/],
      ['http://10.0.0.5', /plain http/],
      ['http://128.0.0.1', /plain http/],
      ['http://localhost.evil.com', /plain http/],
      ['ftp://api.segmind.com', /protocol ftp:/],
      ['not a url', /baseUrl is not a valid URL: "not a url"/],
      ['', /baseUrl must be an https URL/],
      [42, /got a number/],
      ['https://user:secret@api.segmind.com', /user name or password/],
      ['https://api.segmind.com/?key=1', /query or fragment/],
    ];
    for (const [value, re] of cases) {
      assert.throws(() => validateApiUrl('baseUrl', value), re, String(value));
    }
    assert.throws(() => validateApiUrl('baseUrl', 'https://user:secret@api.segmind.com'), (e: Error) => !e.message.includes('secret'));
  });

  it('knows the loopback hosts', () => {
    assert.equal(isLoopbackHost('127.0.0.1'), true);
    assert.equal(isLoopbackHost('[::1]'), true);
    assert.equal(isLoopbackHost('LOCALHOST'), true);
    assert.equal(isLoopbackHost('127.0.0.1.nip.io'), false);
    assert.equal(isLoopbackHost('0.0.0.0'), false);
  });

  it('the client constructor validates both URLs and its numbers', () => {
    assert.throws(() => new SegmindClient({ apiKey: CANARY, baseUrl: 'http://example.com' }), /baseUrl/);
    assert.throws(() => new SegmindClient({ apiKey: CANARY, uploadUrl: 'http://example.com/upload' }), /uploadUrl/);
    assert.throws(() => new SegmindClient({ apiKey: CANARY, requestsPerMinute: 0 }), /requestsPerMinute must be a positive number; got 0/);
    assert.throws(() => new SegmindClient({ apiKey: CANARY, timeScale: -1 }), /timeScale/);
    assert.throws(() => new SegmindClient({ apiKey: CANARY, maxAttempts: 0 }), /maxAttempts/);
    const c = new SegmindClient({ apiKey: CANARY });
    assert.equal(c.baseUrl, 'https://api.segmind.com');
    assert.equal(c.uploadUrl, 'https://workflows-api.segmind.com/upload-asset');
    return c.close();
  });
});
