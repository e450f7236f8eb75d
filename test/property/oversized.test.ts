// Oversized input at a model node in the runtime: a 60 MB Buffer and an 80 MB base64 string
// against a 1 MB limit, a huge data URI and a 20 MB text value. Each is refused with an error that
// names the field and the sizes, costs no request, and does not blow up memory (the RSS growth is
// printed; the bound asserted is generous: a few copies of the input, not a decode of it).
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox';
import { Collector, builtSet, chainSandbox, freshId, helper } from '../support/chain';
import { facePng } from '../media/samples';
import { watchCrashes } from './crashes';

const KEY = 'SG_oversized_81f0';
const MB = 1024 * 1024;

describe('property: oversized media at a model node (runtime + sandbox)', function () {
  this.timeout(30_000);
  let sb: Sandbox;
  const collector = new Collector();
  watchCrashes();

  before(async () => {
    sb = await chainSandbox({ apiKeys: [KEY] });
    const flow = [
      { id: 'f', type: 'tab' },
      { id: 'cfg', type: 'segmind-config', name: 'o', baseUrl: sb.url, uploadUrl: sb.uploadUrl, rpm: 1e6, timeScale: 0.001 },
      { id: 'n', z: 'f', type: 'segmind sadtalker', config: 'cfg', maxMediaMB: 1, wires: [['out']] },
      { id: 'out', z: 'f', type: 'helper' },
      { id: 'catcher', z: 'f', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'f', type: 'helper' },
    ];
    await helper.load([builtSet('nodes/segmind-config.js'), builtSet('nodes/models/sadtalker.js')] as never, flow as never, { cfg: { apiKey: KEY } } as never);
    helper.getNode('out').on('input', (m: any) => collector.push('completed', m));
    helper.getNode('caught').on('input', (m: any) => collector.push('caught', m));
  });
  after(async () => {
    await helper.unload();
    await sb.close();
  });

  /** Sends one message, returns the error text; asserts it was refused without any request. */
  async function refused(msg: Record<string, unknown>): Promise<string> {
    const _msgid = freshId();
    helper.getNode('n').receive({ ...msg, _msgid });
    await collector.until(() => collector.of(_msgid).length > 0, 20_000, 'the refusal');
    const [end] = collector.of(_msgid);
    assert.equal(end.ending, 'caught', 'refused');
    assert.equal(sb.requests.length, 0, 'no request for an oversized input');
    const text: string = end.msg.error.message;
    assert.ok(text.length < 600, `a short error (${text.length} chars)`);
    return text;
  }

  const audio = 'https://example.com/voice.mp3';

  it('a 60 MB Buffer, an 80 MB base64 string, a 70 MB data URI and a 20 MB text: clear errors, memory bounded', async () => {
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sample = () => (peak = Math.max(peak, process.memoryUsage().rss));

    const big = Buffer.alloc(60 * MB);
    facePng.copy(big); // starts like a real PNG
    let text = await refused({ image: big, audio });
    sample();
    assert.match(text, /input_image/);
    assert.match(text, /60(\.0)? MB/);
    assert.match(text, /1(\.0)? MB/);

    const base64 = facePng.toString('base64') + 'A'.repeat(80 * MB);
    text = await refused({ image: base64, audio });
    sample();
    assert.match(text, /input_image/);
    assert.match(text, /MB/);
    assert.ok(!text.includes('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 'the input is not dumped into the error');

    text = await refused({ image: `data:image/png;base64,${base64.slice(0, 70 * MB)}`, audio });
    sample();
    assert.match(text, /input_image/);
    assert.match(text, /MB/);

    text = await refused({ image: 'https://example.com/face.png', audio, payload: { preprocess: 'x'.repeat(20 * MB) } });
    sample();
    assert.match(text, /preprocess/);
    assert.ok(!text.includes('x'.repeat(100)), 'the text value is not dumped into the error');

    const growth = (peak - rssBefore) / MB;
    // eslint-disable-next-line no-console
    console.log(`      (RSS before ${Math.round(rssBefore / MB)} MB, peak growth ${growth.toFixed(0)} MB for ~230 MB of oversized input)`);
    // the inputs themselves are ~230 MB and Node-RED's Catch clones a message once; decoding the
    // base64 or copying the inputs again would go well past this
    assert.ok(growth < 700, `RSS growth ${growth.toFixed(0)} MB`);
  });
});
