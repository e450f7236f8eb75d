// The client's messages as template + parameters: the English message is the English rendering of
// the error's text, the parameters never carry the key, and another language renders the same text.
import assert from 'node:assert/strict';
import {
  CLIENT_TEXTS,
  downloadBrokeOff,
  englishText,
  httpError,
  interpolate,
  invalidResponse,
  renderText,
  transportError,
  type CallContext,
} from '../../src/client/errors';

const SECRET = 'SG_texts_secret_9f1';
const ctx = (kind: CallContext['kind'], what: string, extra: Partial<CallContext> = {}): CallContext => ({
  kind,
  what,
  timeScale: 1,
  secret: SECRET,
  ...extra,
});

describe('client: error texts', () => {
  const submit = ctx('submit', "the submit to model 'sadtalker'", { model: 'sadtalker' });
  const status = ctx('status', 'the status check of request r1', { requestId: 'r1' });
  const errors = [
    httpError(401, JSON.stringify({ error: `Invalid API key ${SECRET}` }), 'application/json', submit),
    httpError(403, '', undefined, status),
    httpError(429, '{}', undefined, status, { attempts: 3, retryAt: 0 }),
    httpError(503, '{"error":"busy"}', undefined, submit),
    httpError(405, '<html>', 'text/html', ctx('upload', 'the upload of 2 files')),
    transportError({ kind: 'timeout', phase: 'headers', detail: 'x' }, submit, { target: 'api.segmind.com', timeoutMs: 30000 }),
    transportError({ kind: 'network', detail: `reset ${SECRET}` }, ctx('upload', 'the upload of 1 file'), { target: 'h', attempts: 2 }),
    transportError({ kind: 'aborted', detail: 'aborted' }, status, { target: 'h', closed: true }),
    invalidResponse(submit, 'an empty body', 200),
    downloadBrokeOff('https://files/x.mp4', 10, 100, { code: 'network', detail: 'other side closed', secret: SECRET }),
  ];

  it('every message is the English rendering of its text, and no text carries the key', () => {
    for (const e of errors) {
      assert.ok(e.text, e.message);
      assert.equal(englishText(e.text), e.message);
      assert.ok(!JSON.stringify(e.text).includes(SECRET), e.message);
      assert.ok(!e.message.includes(SECRET), e.message);
    }
    assert.equal(errors[0].message, 'Segmind rejected the API key (HTTP 401): Invalid API key ***. Check the API key in the Segmind config node.');
    assert.equal(errors[5].message, "api.segmind.com did not answer within 30 s during the submit to model 'sadtalker'." + CLIENT_TEXTS['ambiguous.submit']);
    assert.equal(errors[7].message, 'The status check of request r1 was cancelled because the Segmind client was closed (redeploy or shutdown).');
    assert.equal(errors[9].message, 'The download of https://files/x.mp4 broke off after 10 of 100 bytes (other side closed).');
  });

  it('renders nested texts (the call, fragments) through the given translator', () => {
    const upper = (key: string, params: Record<string, string | number>) => interpolate(CLIENT_TEXTS[key], params).toUpperCase();
    const text = errors[3].text!;
    assert.equal(text.key, 'server');
    assert.equal(renderText(text, upper), errors[3].message.toUpperCase());
    // a call the client words in an unknown way stays as it is
    const odd = httpError(400, '', undefined, ctx('submit', 'something else'));
    assert.equal(odd.message, 'Segmind rejected something else as invalid (HTTP 400).');
  });
});
