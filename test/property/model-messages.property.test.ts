// Random messages (fast-check, fixed seed) thrown at every generated model node in the real
// Node-RED runtime against the sandbox: wrong types, missing fields, huge strings, NaN, negative
// and fractional numbers, nested junk, Buffers of random bytes, mixed with valid values.
//
// The oracle is the same pure checks the node is built on (parseParams, classify, the payload
// schema), applied field by field: a message is valid exactly when every field is. Then:
//  - nothing crashes: no unhandled rejection, no uncaught exception, every message ends exactly once;
//  - a valid message is sent on with a job handle, and costs exactly one submit;
//  - an invalid message goes to Catch naming a field the oracle finds invalid, and costs no request.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ModelSpec, MediaParam } from '../../src/models/spec';
import { buildPayloadSchema, mediaParams, parseParams, valueParams, type ValueParam } from '../../src/models/params';
import { classify } from '../../src/media';
import { specs } from '../../src/models/specs';
import type { Sandbox } from '../../src/sandbox';
import { Collector, builtSet, chainSandbox, freshId, helper, sleep } from '../support/chain';
import { dataUri, faceJpg, facePng, headers, voiceMp3, voiceWav } from '../media/samples';
import { watchCrashes } from './crashes';

const KEY = 'SG_property_5b2d';
const SEED = 20240607;
const MB = 1024 * 1024;
const MAX_MEDIA_MB = 2;
/** messages per fast-check run, sent at once */
const BATCH = 40;

// ---- generators ----

const mp4 = Buffer.concat([headers.mp4, Buffer.alloc(2000)]);

function goodMedia(p: MediaParam): Buffer[] {
  switch (p.media) {
    case 'image':
      return [facePng, faceJpg];
    case 'audio':
      return [voiceMp3, voiceWav];
    case 'video':
      return [mp4];
    case 'image-or-video':
      return [facePng, mp4];
  }
}

const MIME: Record<string, string> = { image: 'image/png', audio: 'audio/mpeg', video: 'video/mp4', 'image-or-video': 'image/png' };

/** Values for a media input: valid URLs, data URIs, base64 and Buffers, and every kind of junk. */
function mediaValue(p: MediaParam): fc.Arbitrary<unknown> {
  const good = goodMedia(p);
  const valid = fc.oneof(
    fc.nat(1e6).map((n) => `https://example.com/media/${p.name}/${n}.bin`),
    fc.constantFrom(...good.map((b) => dataUri(MIME[p.media], b))),
    fc.constantFrom(...good),
    fc.constantFrom(...good.map((b) => b.toString('base64'))),
  );
  return fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: junk });
}

const hugeString = fc
  .tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min: 10_000, max: 400_000 }))
  .map(([s, n]) => s.repeat(Math.ceil(n / s.length)));

const randomBuffer = fc.uint8Array({ minLength: 0, maxLength: 3000 }).map((a) => Buffer.from(a));

/** Junk of every kind a message may carry. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.constantFrom(undefined, null, Number.NaN, Infinity, -Infinity, -0, '', ' ', 'NaN', '1e999', '0x1f'),
  fc.double(),
  fc.integer({ min: -1e9, max: 1e9 }),
  fc.double({ min: -1000, max: 1000, noNaN: true }),
  fc.string({ maxLength: 60 }),
  fc.constantFrom('ftp://example.com/x', 'file:///etc/passwd', '/tmp/face.png', 'C:\\face.png', 'http://', 'https://exa mple.com/x', 'data:image/png;base64,!!!', 'data:,x'),
  hugeString,
  randomBuffer,
  fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.anything({ maxDepth: 2 }), { maxKeys: 5 }),
  fc.constant({ type: 'Buffer', data: [1, 2, 300] }),
);

function validValue(p: ValueParam): fc.Arbitrary<unknown> {
  switch (p.type) {
    case 'integer':
      if (p.allowed) return fc.constantFrom(...p.allowed, ...p.allowed.map(String));
      return fc.integer({ min: p.min ?? -1e6, max: p.max ?? 1e6 }).chain((n) => fc.constantFrom(n, String(n)));
    case 'number':
      return fc.double({ min: p.min ?? -1e6, max: p.max ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'string':
      return p.allowed ? fc.constantFrom(...p.allowed) : fc.string({ minLength: 1, maxLength: 200 }).filter((s) => s.trim() !== '');
    case 'boolean':
      return fc.constantFrom(true, false, 'true', 'false');
  }
}

/** msg.payload: overrides with valid and junk values, or something that is not an object at all. */
function payloadValue(spec: ModelSpec): fc.Arbitrary<unknown> {
  const entries = Object.fromEntries(
    valueParams(spec).map((p) => [p.name, fc.oneof({ weight: 3, arbitrary: validValue(p) }, { weight: 2, arbitrary: junk })]),
  );
  const overrides = fc.record({ ...entries, other: junk }, { requiredKeys: [] });
  return fc.oneof({ weight: 4, arbitrary: overrides }, { weight: 1, arbitrary: junk });
}

/** A whole message: media where the node reads them, payload, and unrelated junk properties. */
function message(spec: ModelSpec): fc.Arbitrary<Record<string, unknown>> {
  const media = Object.fromEntries(mediaParams(spec).map((p) => [p.defaultProperty, mediaValue(p)]));
  return fc
    .tuple(
      fc.record(media, { requiredKeys: [] }),
      payloadValue(spec),
      fc.dictionary(fc.constantFrom('topic', 'model', 'extra', 'headers', 'baseUrl', 'timeout'), junk, { maxKeys: 3 }),
    )
    .map(([m, payload, extra]) => ({ ...extra, ...m, payload }));
}

// ---- the oracle ----

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

interface Verdict {
  ok: boolean;
  /** fields the pure checks refuse */
  invalid: string[];
  /** media fields that are bytes (uploaded when the message is valid) */
  uploads: number;
}

async function verdict(spec: ModelSpec, msg: Record<string, unknown>): Promise<Verdict> {
  const invalid: string[] = [];
  const overrides = isPlainObject(msg.payload) ? msg.payload : undefined;
  const params: Record<string, unknown> = {};
  for (const p of valueParams(spec)) {
    const r = parseParams({ ...spec, params: [p] }, {}, overrides && Object.prototype.hasOwnProperty.call(overrides, p.name) ? { [p.name]: overrides[p.name] } : {});
    if (r.ok) Object.assign(params, r.params);
    else invalid.push(p.name);
  }
  let uploads = 0;
  const urls: Record<string, string> = {};
  for (const p of mediaParams(spec)) {
    try {
      const c = await classify(msg[p.defaultProperty], { field: p.name, kind: p.media, maxBytes: MAX_MEDIA_MB * MB });
      if (c.type === 'bytes') uploads++;
      urls[p.name] = c.type === 'url' ? c.url : 'https://uploads.placeholder.invalid/file';
    } catch {
      invalid.push(p.name);
    }
  }
  if (invalid.length === 0) {
    const r = buildPayloadSchema(spec).safeParse({ ...params, ...urls });
    if (!r.success) invalid.push(...r.error.issues.map((i) => String(i.path[0])));
  }
  return { ok: invalid.length === 0, invalid, uploads };
}

const named = (text: string, field: string) => new RegExp(`(^|[^A-Za-z0-9_])${field}([^A-Za-z0-9_]|$)`).test(text);

/** fc.assert, but a failure reports a short counterexample (messages may hold megabytes). */
async function check<T>(prop: fc.IAsyncProperty<T>, params: fc.Parameters<T>): Promise<void> {
  const r = await fc.check(prop, { ...params });
  if (!r.failed) return;
  const example = fc.stringify(r.counterexample).slice(0, 3000);
  const cause = r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance);
  throw new Error(`property failed (seed ${r.seed}, path ${r.counterexample ? r.counterexamplePath : '-'}): ${cause.slice(0, 3000)}\ncounterexample: ${example}`);
}

// ---- the runtime ----

describe('property: random messages at every model node (runtime + sandbox)', function () {
  let sb: Sandbox;
  const crashes = watchCrashes();
  let total = 0;
  let accepted = 0;
  let refused = 0;

  before(async () => {
    sb = await chainSandbox({ apiKeys: [KEY] });
  });
  after(async () => {
    await sb.close();
    // eslint-disable-next-line no-console
    console.log(`      (${total} random messages through the model nodes: ${accepted} accepted, ${refused} refused)`);
  });

  for (const spec of specs) {
    describe(spec.title, () => {
      const collector = new Collector();

      before(async () => {
        const flow = [
          { id: 'f', type: 'tab' },
          { id: 'cfg', type: 'segmind-config', name: 'p', baseUrl: sb.url, uploadUrl: sb.uploadUrl, rpm: 1e6, timeScale: 0.001 },
          { id: 'n', z: 'f', type: spec.nodeType, config: 'cfg', maxMediaMB: MAX_MEDIA_MB, wires: [['out']] },
          { id: 'out', z: 'f', type: 'helper' },
          { id: 'catcher', z: 'f', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
          { id: 'caught', z: 'f', type: 'helper' },
        ];
        await helper.load([builtSet('nodes/segmind-config.js'), builtSet(`nodes/models/${spec.file}.js`)] as never, flow as never, { cfg: { apiKey: KEY } } as never);
        helper.getNode('out').on('input', (m: any) => collector.push('completed', m));
        helper.getNode('caught').on('input', (m: any) => collector.push('caught', m));
      });
      after(async () => {
        await helper.unload();
      });

      async function runBatch(msgs: Record<string, unknown>[]): Promise<void> {
        const verdicts = await Promise.all(msgs.map((m) => verdict(spec, m)));
        const before = { submits: sb.count({ endpoint: 'submit' }), uploads: sb.count({ endpoint: 'upload' }) };
        collector.clear();
        const node = helper.getNode('n');
        const ids = msgs.map((m) => {
          const _msgid = freshId();
          node.receive({ ...m, _msgid });
          return _msgid;
        });
        total += msgs.length;
        await collector.until(() => ids.every((id) => collector.of(id).length > 0), 20_000, 'every message to end');
        await sleep(20); // anything more (a second ending) shows up now
        ids.forEach((id, i) => {
          const v = verdicts[i];
          const ends = collector.of(id);
          assert.equal(ends.length, 1, `message ${i} ended exactly once: ${collector.describe()}`);
          const [end] = ends;
          if (v.ok) {
            assert.equal(end.ending, 'completed', `valid message accepted; got: ${end.msg?.error?.message}`);
            assert.equal(typeof end.msg.segmind?.requestId, 'string');
          } else {
            assert.equal(end.ending, 'caught', `invalid message (${v.invalid.join(', ')}) rejected`);
            const text: string = end.msg.error.message;
            assert.ok(v.invalid.some((f) => named(text, f)), `the rejection names one of ${v.invalid.join(', ')}: ${text}`);
            assert.ok(text.length < 800, `a short message (${text.length} chars)`);
            assert.doesNotMatch(text, /\[object Object\]/);
          }
        });
        const valid = verdicts.filter((v) => v.ok);
        accepted += valid.length;
        refused += verdicts.length - valid.length;
        assert.equal(sb.count({ endpoint: 'submit' }) - before.submits, valid.length, 'one submit per valid message, none for invalid ones');
        const uploadsExpected = valid.filter((v) => v.uploads > 0).length;
        assert.equal(sb.count({ endpoint: 'upload' }) - before.uploads, uploadsExpected, 'one upload per valid message with bytes, none otherwise');
        crashes.assertNone();
      }

      it('mixed valid and junk fields: valid accepted with one submit, invalid refused naming the field, no request', async function () {
        this.timeout(60_000);
        await check(
          fc.asyncProperty(fc.array(message(spec), { minLength: BATCH, maxLength: BATCH }), (msgs) => runBatch(msgs)),
          { seed: SEED, numRuns: 25 },
        );
        sb.resetRequests();
      });

      it('whole messages of junk: no crash, each refused (or accepted) exactly once', async function () {
        this.timeout(60_000);
        const anything = fc
          .tuple(fc.dictionary(fc.string({ maxLength: 10 }), junk, { maxKeys: 6 }), fc.record(Object.fromEntries(mediaParams(spec).map((p) => [p.defaultProperty, junk])), { requiredKeys: [] }), junk)
          .map(([rest, media, payload]) => ({ ...rest, ...media, payload }));
        await check(
          fc.asyncProperty(fc.array(anything, { minLength: BATCH, maxLength: BATCH }), (msgs) => runBatch(msgs)),
          { seed: SEED + 1, numRuns: 5 },
        );
        sb.resetRequests();
      });

      it('valid messages only: every one accepted', async function () {
        this.timeout(60_000);
        const valid = fc
          .tuple(
            fc.record(Object.fromEntries(mediaParams(spec).map((p) => [p.defaultProperty, fc.oneof(fc.nat(1e6).map((n) => `https://example.com/v/${n}.bin`), fc.constantFrom(...goodMedia(p)))]))),
            fc.record(Object.fromEntries(valueParams(spec).map((p) => [p.name, validValue(p)])), { requiredKeys: [] }),
          )
          .map(([media, payload]) => ({ ...media, payload }));
        await check(
          fc.asyncProperty(fc.array(valid, { minLength: BATCH, maxLength: BATCH }), async (msgs) => {
            const verdicts = await Promise.all(msgs.map((m) => verdict(spec, m)));
            // the generator and the oracle agree: these are valid
            verdicts.forEach((v) => assert.ok(v.ok, `oracle refuses ${v.invalid.join(', ')}`));
            await runBatch(msgs);
          }),
          { seed: SEED + 2, numRuns: 3 },
        );
        sb.resetRequests();
      });
    });
  }
});
