import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { startSandbox } from '../../src/sandbox';
import { JSON_HEADERS, SADTALKER, until } from './helpers';

describe('sandbox: close', () => {
  it('ends keep-alive and in-flight connections instead of waiting for them', async function () {
    this.timeout(20_000); // without destroying sockets this would hang for minutes
    const sb = await startSandbox(); // time scale 1: a v1 sadtalker run takes ~107 s
    const agent = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 });
    try {
      // an idle keep-alive connection
      const first = await request(`${sb.url}/v2/requests/x/status`, { dispatcher: agent, headers: JSON_HEADERS });
      await first.body.dump();
      // a request in flight on the API listener, and one waiting on slow headers
      const v1 = request(`${sb.url}/v1/sadtalker`, { dispatcher: agent, method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(SADTALKER) });
      sb.fault({ endpoint: 'status', kind: { type: 'slow_headers', delayMs: 600_000 } });
      const slow = request(`${sb.url}/v2/requests/y/status`, { dispatcher: agent, headers: JSON_HEADERS });
      const settled = Promise.allSettled([v1, slow]);
      await until(() => sb.requests.length === 3, 'both requests to arrive');
      await sb.close();
      const [a, b] = await settled;
      assert.equal(a.status, 'rejected');
      assert.equal(b.status, 'rejected');
      // closed for good: new connections are refused
      await assert.rejects(request(`${sb.url}/v2/requests/x/status`, { headers: JSON_HEADERS }));
      // close is idempotent
      await sb.close();
    } finally {
      await agent.close();
    }
  });
});
