import assert from 'node:assert/strict';
import { request } from 'undici';
import { KEY, SADTALKER, get, post, useSandbox } from './helpers';

describe('sandbox: request errors', () => {
  const sandbox = useSandbox({ unknownModels: ['ghost'], retiredModels: ['old-model'] });

  it('401 without x-api-key, with a wrong key, and with only a bearer token', async () => {
    const sb = sandbox();
    const url = `${sb.url}/v2/sadtalker`;
    const none = await post(url, SADTALKER, { 'content-type': 'application/json' });
    const wrong = await post(url, SADTALKER, { 'content-type': 'application/json', 'x-api-key': 'SG_wrong' });
    const bearer = await post(url, SADTALKER, { 'content-type': 'application/json', authorization: `Bearer ${KEY}` });
    for (const res of [none, wrong, bearer]) {
      assert.equal(res.status, 401);
      assert.equal(typeof res.json.error, 'string');
      assert.ok(!res.text.includes('SG_wrong'), 'the key is not echoed');
    }
    assert.equal((await get(`${sb.url}/v2/requests/x/status`, {})).status, 401);
    assert.equal(sb.jobs.size, 0);
  });

  it('406 "Invalid content type" without application/json', async () => {
    const sb = sandbox();
    const missing = await request(`${sb.url}/v2/sadtalker`, { method: 'POST', headers: { 'x-api-key': KEY }, body: JSON.stringify(SADTALKER) });
    assert.equal(missing.statusCode, 406);
    assert.deepEqual(await missing.body.json(), { error: 'Invalid content type' });
    const text = await post(`${sb.url}/v2/sadtalker`, SADTALKER, { 'x-api-key': KEY, 'content-type': 'text/plain' });
    assert.equal(text.status, 406);
    const charset = await post(`${sb.url}/v2/sadtalker`, SADTALKER, { 'x-api-key': KEY, 'content-type': 'application/json; charset=utf-8' });
    assert.equal(charset.status, 200);
  });

  it('400 for a body that is not JSON or not an object, and for a missing required field', async () => {
    const sb = sandbox();
    const jobsBefore = sb.jobs.size;
    const bad = await post(`${sb.url}/v2/sadtalker`, '{not json');
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /Invalid JSON/);
    const arr = await post(`${sb.url}/v2/sadtalker`, '[1,2]');
    assert.equal(arr.status, 400);
    assert.match(arr.json.error, /JSON object, got an array/);
    const missing = await post(`${sb.url}/v2/sadtalker`, { input_image: 'https://example.com/a.png' });
    assert.deepEqual(missing, { ...missing, status: 400, json: { error: 'Missing required field: input_audio' } });
    const react = await post(`${sb.url}/v2/sync.so-react-1`, { audio_url: 'https://example.com/a.mp3' });
    assert.deepEqual(react.json, { error: 'Missing required field: video_url' });
    const talk = await post(`${sb.url}/v2/infinite-talk`, { image: 'u', audio: 'u' });
    assert.deepEqual(talk.json, { error: 'Missing required field: prompt' });
    assert.equal(sb.jobs.size, jobsBefore, 'no job created');
  });

  it('404 "Model not found" for unknown models and 410 for retired ones', async () => {
    const sb = sandbox();
    const ghost = await post(`${sb.url}/v2/ghost`, {});
    assert.equal(ghost.status, 404);
    assert.deepEqual(ghost.json, { error: 'Model not found' });
    const old = await post(`${sb.url}/v2/old-model`, {});
    assert.equal(old.status, 410);
    assert.equal(typeof old.json.error, 'string');
    assert.equal((await post(`${sb.url}/v1/ghost`, {})).status, 404);
  });

  it('answers a wrong method with an HTML 405 page and an unknown path with 404', async () => {
    const sb = sandbox();
    const res = await get(`${sb.url}/v2/sadtalker`);
    assert.equal(res.status, 405);
    assert.match(String(res.headers['content-type']), /text\/html/);
    assert.match(res.text, /<html/);
    assert.equal((await get(`${sb.url}/nothing/here/at/all`)).status, 404);
  });
});
