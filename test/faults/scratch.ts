import { chainSandbox, loadChain, sadtalkerMsg, sleep } from '../support/chain';
const KEY = 'SG_canary_7d1e5f0a9b';
describe('scratch', function () {
  this.timeout(60000);
  it('explores', async () => {
    const sb = await chainSandbox({ apiKeys: [KEY], unknownModels: ['ghost'], retiredModels: ['old-model'] });
    const chain = await loadChain({ sandbox: sb, apiKey: KEY, folder: '/tmp/scratchout' });
    const rows: [string, () => void, string, Record<string, unknown>][] = [
      ['ok', () => {}, 'm', {}],
      ['401', () => sb.fault({ endpoint: 'submit', kind: { type: 'http', status: 401, body: { error: 'Invalid API key' } } }), 'm', {}],
      ['ghost', () => {}, 'g', { model: 'ghost', payload: { a: 1 } }],
      ['500', () => sb.fault({ endpoint: 'submit', kind: { type: 'http', status: 500, body: { error: 'boom' } } }), 'm', {}],
      ['reset_before', () => sb.fault({ endpoint: 'submit', kind: { type: 'reset_before' } }), 'm', {}],
      ['reset_after', () => sb.fault({ endpoint: 'submit', kind: { type: 'reset_after' } }), 'm', {}],
      ['malformed submit', () => sb.fault({ endpoint: 'submit', kind: { type: 'malformed_json' } }), 'm', {}],
      ['malformed status', () => sb.fault({ endpoint: 'status', kind: { type: 'malformed_json' } }), 'm', {}],
      ['405 status', () => sb.fault({ endpoint: 'status', kind: { type: 'html_405' } }), 'm', {}],
      ['fail', () => sb.scriptJob({ outcome: 'fail', error: 'Face not detected' }), 'm', {}],
      ['never', () => sb.scriptJob({ outcome: 'never' }), 'm', { timeout: 300 }],
      ['unknown', () => sb.scriptJob({ outcome: 'unknown_status', statusString: 'STARTING' }), 'm', {}],
      ['429', () => sb.fault({ endpoint: 'submit', kind: { type: 'rate_limit' } }), 'm', {}],
      ['429ra', () => sb.fault({ endpoint: 'submit', kind: { type: 'rate_limit', retryAfterSeconds: 7 } }), 'm', {}],
      ['trunc buf', () => sb.fault({ endpoint: 'output', kind: { type: 'truncate_body', afterBytes: 1000 } }), 'mb', {}],
      ['trunc file inf', () => sb.fault({ endpoint: 'output', times: Infinity, kind: { type: 'truncate_body', afterBytes: 1000 } }), 'mf', {}],
      ['302 status', () => sb.fault({ endpoint: 'status', kind: { type: 'http', status: 302, headers: { location: 'http://127.0.0.1:1/x' } } }), 'm', {}],
    ];
    for (const [name, setup, entry, extra] of rows) {
      sb.reset(); setup();
      chain.collector.clear();
      const t0 = Date.now();
      const id = chain.send(entry, sadtalkerMsg(extra));
      await chain.collector.until(() => chain.collector.of(id).some((e) => e.ending === 'caught' || e.ending === 'awaitDone'), 20000, name).catch((e) => console.log(e.message));
      await sleep(50);
      sb.clearFaults();
      console.log(name, Date.now() - t0, 'ms', JSON.stringify(chain.collector.of(id).map((e) => [e.ending, e.msg.error?.message ?? e.msg.segmind?.message ?? (Buffer.isBuffer(e.msg.payload) ? 'buf' + e.msg.payload.length : typeof e.msg.payload === 'string' ? e.msg.payload.slice(0, 60) : '')])), 'posts', sb.count({ endpoint: 'submit' }), 'jobs', sb.jobs.size, sb.requests.map((r) => r.endpoint + ':' + r.status).join(','));
    }
    console.log(chain.statuses.slice(-10).map((s) => s.id + ' ' + JSON.stringify(s.status)).join('\n'));
    await chain.unload();
    await sb.close();
  });
});
