// The generated model nodes in the real Node-RED runtime against the sandbox: what reaches the wire
// for every model, every kind of invalid input (which must cost no request), media uploads and
// typedInput sources, concurrency, close, and the API key staying out of messages.
import assert from 'node:assert/strict';
import { request } from 'undici';
import { specs } from '../../src/models/specs';
import { mediaParams, valueParams } from '../../src/models/params';
import type { Sandbox } from '../../src/sandbox';
import { pageExamples } from '../models/page-examples';
import { facePng, faceJpg, voiceMp3, voiceWav, dataUri } from '../media/samples';
import { API_KEY, configSet, credentials, flowWith, helper, load, modelSet, send, setLanguage, withSandbox, type Outcome } from './model-node-harness';
import { alternatives, asSetting, exampleUrl, invalidCases, mediaMsg, nodeDef } from './model-node-cases';

function submits(sb: Sandbox) {
  return sb.requests.filter((r) => r.endpoint === 'submit');
}

function lastStatus(o: Outcome): { fill?: string; text?: string } {
  return o.statuses[o.statuses.length - 1] ?? {};
}

function assertSucceeded(o: Outcome): any {
  assert.equal(o.caughts.length, 0, `unexpected error: ${o.caught?.error?.message}`);
  assert.equal(o.outputs.length, 1, 'exactly one output');
  assert.equal(o.completes, 1, 'done() exactly once, without error');
  return o.out;
}

function assertFailed(o: Outcome, field: string): string {
  assert.equal(o.outputs.length, 0, 'no output');
  assert.equal(o.caughts.length, 1, 'exactly one error');
  assert.equal(o.completes, 0, 'done() without error was not called');
  const message: string = o.caught.error.message;
  assert.ok(message.includes(field), `error names ${field}: ${message}`);
  // what a Catch node decides on: coded, the field named, safe to send again (nothing was sent)
  assert.equal(o.caught.error.code, 'invalid_input', message);
  assert.equal(o.caught.error.field, field, message);
  assert.equal(o.caught.error.resubmitSafe, true, message);
  assert.ok(message.startsWith(field), `the text starts with the field: ${message}`);
  assert.equal(lastStatus(o).fill, 'red', `status red: ${JSON.stringify(o.statuses)}`);
  assert.ok(message.length < 700, `message stays short (${message.length})`);
  return message;
}

describe('model nodes (runtime + sandbox)', function () {
  let sb: Sandbox;
  before(async () => {
    sb = await withSandbox();
  });
  after(async () => {
    await sb.close();
  });
  afterEach(async () => {
    await helper.unload();
    sb.resetRequests();
  });

  for (const spec of specs) {
    describe(spec.title, () => {
      const sets = () => [configSet(), modelSet(spec.file)];

      it('sends media URLs and every default, with Segmind names and types', async () => {
        await load(sets(), flowWith(nodeDef(spec), sb));
        const out = assertSucceeded(await send(mediaMsg(spec, { payload: 'not an object: ignored', topic: 't' })));
        const [submit] = submits(sb);
        assert.equal(submit.model, spec.slug);
        const body = submit.body as Record<string, unknown>;
        const expected: Record<string, unknown> = {};
        for (const p of mediaParams(spec)) expected[p.name] = exampleUrl(p);
        for (const p of valueParams(spec)) if (p.default !== undefined) expected[p.name] = p.default;
        assert.deepEqual(body, expected);
        for (const p of valueParams(spec)) {
          const v = body[p.name];
          if (p.type === 'integer') assert.ok(Number.isInteger(v), `${p.name} integer`);
          else if (p.type === 'number') assert.equal(typeof v, 'number');
          else assert.equal(typeof v, p.type);
        }
        // the message keeps its properties and gains the job handle
        assert.equal(out.topic, 't');
        assert.equal(out.payload, 'not an object: ignored');
        assert.equal(out.segmind.model, spec.slug);
        assert.equal(typeof out.segmind.requestId, 'string');
        assert.ok(sb.jobs.has(out.segmind.requestId));
        assert.match(out.segmind.statusUrl, /^http:\/\/127\.0\.0\.1:\d+\/v2\/requests\/.+\/status$/);
        assert.ok(!Number.isNaN(Date.parse(out.segmind.submittedAt)));
        assert.equal(sb.count({ endpoint: 'upload' }), 0, 'URLs are not uploaded');
      });

      it("sends the page's own example exactly (from node settings and from the message)", async () => {
        const settings: Record<string, unknown> = {};
        const example: Record<string, unknown> = {};
        for (const p of spec.params) {
          assert.ok(p.example !== undefined, `${p.name} has an example`);
          example[p.name] = p.example;
          if (p.type === 'media') {
            settings[p.name] = p.example;
            settings[`${p.name}Type`] = 'str';
          } else settings[p.name] = asSetting(p.example);
        }
        const page = { ...pageExamples[spec.slug] };
        // the page types image_size as integer but its example sends "256": we send the integer
        if (spec.slug === 'sadtalker') page.image_size = 256;
        assert.deepEqual(example, page);

        await load(sets(), flowWith(nodeDef(spec, settings), sb));
        assertSucceeded(await send({ payload: {} }));
        assert.deepEqual(submits(sb)[0].body, page);

        // the page's literal example as message overrides (image_size "256" included)
        await helper.unload();
        sb.resetRequests();
        await load(sets(), flowWith(nodeDef(spec), sb));
        assertSucceeded(await send(mediaMsg(spec, { payload: { ...pageExamples[spec.slug] } })));
        assert.deepEqual(submits(sb)[0].body, page);
        if (spec.slug === 'sadtalker') assert.equal(typeof (submits(sb)[0].body as any).image_size, 'number');
      });

      it('message override > node setting > default, for every parameter', async () => {
        const settings: Record<string, unknown> = {};
        const override: Record<string, unknown> = {};
        const expected: Record<string, unknown> = {};
        for (const p of mediaParams(spec)) expected[p.name] = exampleUrl(p);
        valueParams(spec).forEach((p, i) => {
          const [fromSetting, fromMessage] = alternatives(p);
          settings[p.name] = asSetting(fromSetting);
          if (i % 2 === 0) {
            override[p.name] = fromMessage;
            expected[p.name] = fromMessage;
          } else expected[p.name] = fromSetting;
        });
        await load(sets(), flowWith(nodeDef(spec, settings), sb));
        assertSucceeded(await send(mediaMsg(spec, { payload: { ...override, unknown_key: 'ignored' } })));
        assert.deepEqual(submits(sb)[0].body, expected);

        // the overrides can come from another message property
        sb.resetRequests();
        await helper.unload();
        await load(sets(), flowWith(nodeDef(spec, { ...settings, paramsProperty: 'params' }), sb));
        assertSucceeded(await send(mediaMsg(spec, { params: override, payload: { [valueParams(spec)[0].name]: 'ignored' } })));
        assert.deepEqual(submits(sb)[0].body, expected);
      });

      it('refuses every kind of invalid input with an error naming the field, and makes no request', async () => {
        const cases = invalidCases(spec);
        assert.ok(cases.length >= 10);
        const byNode = new Map<string, typeof cases>();
        for (const c of cases) {
          const key = JSON.stringify(c.node ?? {});
          byNode.set(key, [...(byNode.get(key) ?? []), c]);
        }
        for (const [key, group] of byNode) {
          await load(sets(), flowWith(nodeDef(spec, JSON.parse(key)), sb));
          for (const c of group) {
            const o = await send(c.msg, 10);
            try {
              const message = assertFailed(o, c.field);
              assert.ok(!message.includes('SG_'), 'no key');
              assert.ok(lastStatus(o).text?.includes(c.field), `status names the field: ${lastStatus(o).text}`);
            } catch (err) {
              throw new Error(`case "${c.name}": ${(err as Error).message}`);
            }
            assert.equal(sb.requests.length, 0, `case "${c.name}" made no request`);
          }
          await helper.unload();
        }
      });
    });
  }

  describe('media inputs (SadTalker)', () => {
    const spec = specs.find((s) => s.slug === 'sadtalker')!;
    const sets = () => [configSet(), modelSet(spec.file)];

    async function fetchAsset(url: string): Promise<{ type: string; bytes: Buffer }> {
      const res = await request(url);
      return { type: String(res.headers['content-type']), bytes: Buffer.from(await res.body.arrayBuffer()) };
    }

    it('uploads Buffers in one request with their MIME types, then submits the returned URLs', async () => {
      await load(sets(), flowWith(nodeDef(spec), sb));
      const out = assertSucceeded(await send({ image: facePng, audio: voiceMp3 }));
      const uploads = sb.requests.filter((r) => r.endpoint === 'upload');
      assert.equal(uploads.length, 1, 'one upload for both files');
      const dataUrls = (uploads[0].body as { data_urls: string[] }).data_urls;
      assert.equal(dataUrls.length, 2);
      assert.ok(dataUrls[0].startsWith('data:image/png;base64,'));
      assert.ok(dataUrls[1].startsWith('data:audio/mpeg;base64,'));
      assert.ok(uploads[0].seq < submits(sb)[0].seq, 'upload before submit');
      const body = submits(sb)[0].body as Record<string, string>;
      assert.ok(body.input_image.startsWith(`${sb.filesUrl}/assets/`));
      assert.deepEqual((await fetchAsset(body.input_image)).bytes, facePng);
      assert.deepEqual((await fetchAsset(body.input_audio)).bytes, voiceMp3);
      assert.equal(out.segmind.model, 'sadtalker');
      // the original Buffers stay on the message
      assert.ok(Buffer.isBuffer(out.image));
    });

    it('reads data URIs, raw base64, WAV and JPEG; a URL and bytes mixed upload only the bytes', async () => {
      await load(sets(), flowWith(nodeDef(spec), sb));
      assertSucceeded(await send({ image: dataUri('image/png', facePng), audio: voiceWav.toString('base64') }));
      let body = submits(sb)[0].body as Record<string, string>;
      assert.deepEqual((await fetchAsset(body.input_image)).bytes, facePng);
      const wav = await fetchAsset(body.input_audio);
      assert.deepEqual(wav.bytes, voiceWav);
      assert.match(body.input_audio, /\.wav$/, 'uploaded as audio/wav');

      sb.resetRequests();
      assertSucceeded(await send({ image: faceJpg, audio: 'https://example.com/voice.mp3' }));
      const upload = sb.requests.find((r) => r.endpoint === 'upload')!;
      const dataUrls = (upload.body as { data_urls: string[] }).data_urls;
      assert.equal(dataUrls.length, 1);
      assert.ok(dataUrls[0].startsWith('data:image/jpeg;base64,'));
      body = submits(sb)[0].body as Record<string, string>;
      assert.equal(body.input_audio, 'https://example.com/voice.mp3');
      assert.deepEqual((await fetchAsset(body.input_image)).bytes, faceJpg);
    });

    it('reads media from flow, global, env and fixed-string sources', async () => {
      process.env.SEGMIND_TEST_AUDIO_URL = 'https://example.com/from-env.mp3';
      try {
        await load(
          sets(),
          flowWith(nodeDef(spec, { input_image: 'face', input_imageType: 'flow', input_audio: 'voice.file', input_audioType: 'global' }), sb),
        );
        const n = helper.getNode('n');
        n.context().flow.set('face', 'https://example.com/from-flow.png');
        n.context().global.set('voice', { file: voiceMp3 });
        assertSucceeded(await send({}));
        const body = submits(sb)[0].body as Record<string, string>;
        assert.equal(body.input_image, 'https://example.com/from-flow.png');
        assert.deepEqual((await fetchAsset(body.input_audio)).bytes, voiceMp3);
        await helper.unload();
        sb.resetRequests();

        await load(
          sets(),
          flowWith(
            nodeDef(spec, {
              input_image: 'https://example.com/fixed.png',
              input_imageType: 'str',
              input_audio: 'SEGMIND_TEST_AUDIO_URL',
              input_audioType: 'env',
            }),
            sb,
          ),
        );
        assertSucceeded(await send({ image: 'https://example.com/ignored.png' }));
        const body2 = submits(sb)[0].body as Record<string, string>;
        assert.equal(body2.input_image, 'https://example.com/fixed.png');
        assert.equal(body2.input_audio, 'https://example.com/from-env.mp3');

        // an empty flow variable is a missing input, named with its source
        const o = await send({});
        assert.equal(o.caughts.length, 0);
        await helper.unload();
        sb.resetRequests();
        await load(sets(), flowWith(nodeDef(spec, { input_image: 'nothing', input_imageType: 'flow' }), sb));
        const failed = await send({ audio: 'https://example.com/a.mp3' });
        const message = assertFailed(failed, 'input_image');
        assert.match(message, /flow\.nothing/);
        assert.equal(sb.requests.length, 0);
      } finally {
        delete process.env.SEGMIND_TEST_AUDIO_URL;
      }
    });
  });

  describe('runtime behaviour (SadTalker)', () => {
    const spec = specs.find((s) => s.slug === 'sadtalker')!;
    const sets = () => [configSet(), modelSet(spec.file)];

    it('handles several messages at once, each on its own', async () => {
      await load(sets(), flowWith(nodeDef(spec), sb));
      const n = helper.getNode('n');
      const out = helper.getNode('out');
      const caught = helper.getNode('caught');
      const got: any[] = [];
      const errors: any[] = [];
      const all = new Promise<void>((resolve) => {
        const check = () => got.length + errors.length === 4 && resolve();
        out.on('input', (m: any) => (got.push(m), check()));
        caught.on('input', (m: any) => (errors.push(m), check()));
      });
      n.receive({ image: facePng, audio: 'https://example.com/1.mp3', id: 1 });
      n.receive({ image: 'https://example.com/2.png', audio: 'https://example.com/2.mp3', id: 2 });
      n.receive({ image: 7, audio: 'https://example.com/3.mp3', id: 3 });
      n.receive({ image: 'https://example.com/4.png', audio: voiceMp3, id: 4 });
      await all;
      assert.deepEqual(got.map((m) => m.id).sort(), [1, 2, 4]);
      assert.deepEqual(errors.map((m) => m.id), [3]);
      assert.equal(new Set(got.map((m) => m.segmind.requestId)).size, 3);
      assert.equal(submits(sb).length, 3);
      assert.equal(sb.count({ endpoint: 'upload' }), 2);
    });

    it('a flow of 15 model nodes loads without an EventEmitter warning (one flows:started listener for all)', async () => {
      const warnings: Error[] = [];
      const onWarning = (w: Error) => warnings.push(w);
      process.on('warning', onWarning);
      try {
        const flow = flowWith(nodeDef(spec), sb);
        for (let i = 0; i < 15; i++) flow.push({ ...nodeDef(spec), id: `n${i}`, z: 'f', config: 'cfg', name: '', wires: [['out']] });
        await load(sets(), flow);
        await helper.setFlows(flow, 'full', credentials); // a second deploy: the old nodes' waits are dropped
        await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
        assert.ok(helper.getNode('n14'));
        assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map(String), []);
      } finally {
        process.off('warning', onWarning);
      }
    });

    it('reports a refused submit (401) as an error without the API key anywhere', async () => {
      await load(sets(), flowWith(nodeDef(spec), sb));
      sb.fault({ endpoint: 'submit', kind: { type: 'http', status: 401, body: { error: `Invalid API key ${API_KEY}` } } });
      const o = await send(mediaMsg(spec));
      assert.equal(o.outputs.length, 0);
      assert.equal(o.caughts.length, 1);
      assert.equal(lastStatus(o).fill, 'red');
      const all = JSON.stringify(o);
      assert.ok(!all.includes(API_KEY), 'key not in error, message or status');
      assert.match(o.caught.error.message, /401/);

      // and a successful message carries no key either
      const ok = await send({ image: facePng, audio: voiceMp3 });
      assertSucceeded(ok);
      assert.ok(!JSON.stringify(ok).includes(API_KEY));
      assert.ok(!JSON.stringify(ok.out.segmind).includes('key'));
    });

    it('shows "N submitted · last result" in the status', async () => {
      await load(sets(), flowWith(nodeDef(spec), sb));
      const a = await send(mediaMsg(spec));
      const reqId = a.out.segmind.requestId as string;
      assert.equal(lastStatus(a).fill, 'green');
      assert.equal(lastStatus(a).text, `1 submitted · ok ${reqId.slice(0, 8)}`);
      const b = await send({ image: 'x' });
      assert.equal(lastStatus(b).text, '1 submitted · invalid input_image');
    });

    it('speaks the runtime language (German)', async () => {
      await setLanguage('de');
      try {
        await load(sets(), flowWith(nodeDef(spec), sb));
        const o = await send(mediaMsg(spec, { payload: { pose_style: 99 } }));
        assert.equal(lastStatus(o).text, '0 gesendet · ungültig: pose_style');
        assert.match(o.caught.error.message, /pose_style: 99 liegt außerhalb des Bereichs; erlaubt: /);
        const m = await send({ image: 42, audio: 'https://example.com/a.mp3' });
        assert.match(m.caught.error.message, /input_image \(msg\.image\): number 42 ist nicht verwendbar/);
        // the client's reason is German too, with Segmind's own words and the status kept
        sb.fault({ endpoint: 'submit', kind: { type: 'http', status: 401, body: { error: 'Invalid API key' } } });
        const r = await send(mediaMsg(spec));
        assert.match(r.caught.error.message, /Segmind hat den API-Schlüssel abgelehnt \(HTTP 401\): Invalid API key\. Prüfen Sie den API-Schlüssel/);
        assert.doesNotMatch(r.caught.error.message, /rejected the API key|Check the API key/);
      } finally {
        await setLanguage('en-US');
      }
    });

    it('on close, lets a submit already on the wire finish (its job is billed) instead of aborting it', async function () {
      this.timeout(20_000);
      sb.fault({ endpoint: 'submit', kind: { type: 'slow_headers', delayMs: 1500 } });
      await load(sets(), flowWith(nodeDef(spec), sb));
      const n = helper.getNode('n');
      let outputs = 0;
      helper.getNode('out').on('input', () => outputs++);
      n.receive(mediaMsg(spec));
      for (let i = 0; i < 400 && submits(sb).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(submits(sb).length, 1, 'the submit is in flight');
      const warnings: unknown[] = [];
      const warn = n.warn.bind(n);
      n.warn = (m: unknown) => {
        warnings.push(m);
        warn(m);
      };
      const started = Date.now();
      await helper.unload();
      const took = Date.now() - started;
      // close waited for the answer (1.5 s), well inside Node-RED's 15 s close timeout
      assert.ok(took >= 1000 && took < 13_000, `close took ${took} ms`);
      assert.equal(outputs, 0, 'a closing node sends nothing: the next instance sends the recorded job');
      assert.deepEqual(warnings, [], 'no interrupted-submit warning: the answer arrived');
      assert.equal(submits(sb).length, 1);
    });

    it('fails every message when no config node is set, without a request', async () => {
      const flow = flowWith(nodeDef(spec), sb);
      flow[0].config = '';
      await load(sets(), flow);
      const o = await send(mediaMsg(spec));
      assert.equal(o.caughts.length, 1);
      assert.equal(lastStatus(o).fill, 'red');
      assert.equal(sb.requests.length, 0);
    });
  });
});
