// parseParams and buildPayloadSchema for every model: defaults, precedence, the pages' own
// examples, and every kind of invalid input.
import { strict as assert } from 'node:assert';
import {
  buildPayloadSchema,
  describeAllowed,
  getSpec,
  mediaParams,
  parseParams,
  showValue,
  specs,
  valueParams,
  type ModelSpec,
  type ParamError,
  type ValueParam,
} from '../../src/models';
import { checkSpecs } from '../../src/models/check';
import { pageExamples } from './page-examples';

function ok(r: ReturnType<typeof parseParams>): Record<string, unknown> {
  if (!r.ok) assert.fail(`expected ok, got ${r.error.message}`);
  return r.params;
}

function err(r: ReturnType<typeof parseParams>): ParamError {
  if (r.ok) assert.fail(`expected an error, got ${JSON.stringify(r.params)}`);
  return r.error;
}

function mediaUrls(spec: ModelSpec): Record<string, string> {
  return Object.fromEntries(mediaParams(spec).map((p) => [p.name, `https://example.com/${p.name}.bin`]));
}

/** A valid value for a parameter that differs from its default. */
function otherValid(p: ValueParam): unknown {
  switch (p.type) {
    case 'integer':
    case 'number':
      if (p.allowed) return p.allowed.find((v) => v !== p.default);
      return p.max !== undefined && p.default !== p.max ? p.max : p.min;
    case 'string':
      return p.allowed ? p.allowed.find((v) => v !== p.default) : 'a different prompt';
    case 'boolean':
      return !p.default;
  }
}

/** Invalid override values of every kind for a parameter, with what the error should say. */
function invalidValues(p: ValueParam): Array<[unknown, string]> {
  const common: Array<[unknown, string]> = [
    [{ a: 1 }, 'an object'],
    [[1, 2], 'an array (2 items)'],
    [Buffer.from('abc'), 'a Buffer (3 bytes)'],
  ];
  switch (p.type) {
    case 'integer':
    case 'number': {
      const cases: Array<[unknown, string]> = [
        ...common,
        ['abc', '"abc"'],
        ['', '""'],
        [true, 'true'],
        [Number.NaN, 'NaN'],
        [Number.POSITIVE_INFINITY, 'Infinity'],
        ['1e999', '"1e999"'],
        ['0x10', '"0x10"'],
        ['9'.repeat(5000), '(5000 characters)'],
      ];
      if (p.max !== undefined) cases.push([p.max + 1, String(p.max + 1)], [String(p.max + 1), `"${p.max + 1}"`]);
      if (p.min !== undefined) cases.push([p.min - 1, String(p.min - 1)]);
      if (p.type === 'integer') {
        const base = p.allowed ? p.allowed[0] : (p.min ?? 0);
        cases.push([base + 0.5, String(base + 0.5)], [`${base + 0.5}`, `"${base + 0.5}"`]);
      }
      if (p.allowed) cases.push([p.allowed[0] + 1, String(p.allowed[0] + 1)]);
      return cases;
    }
    case 'string':
      if (p.allowed) {
        return [...common, ['nope', '"nope"'], [42, '42'], ['', '""'], [` ${p.allowed[0]}`, `" ${p.allowed[0]}"`], [p.allowed[0].toUpperCase(), JSON.stringify(p.allowed[0].toUpperCase())]];
      }
      return [...common, [42, '42'], [true, 'true'], ['x'.repeat(10001), '(10001 characters)'], ['y'.repeat(1_000_000), '(1000000 characters)']];
    case 'boolean':
      return [...common, ['yes', '"yes"'], [1, '1'], [0, '0'], ['', '""']];
  }
}

describe('models: specs', () => {
  it('pass the consistency checks', () => {
    assert.deepEqual(checkSpecs(specs), []);
  });

  it('checkSpecs catches a broken spec', () => {
    const bad: ModelSpec = {
      ...specs[0],
      params: [
        { name: 'name', type: 'boolean', required: false, description: 'x' },
        { name: 'n', type: 'integer', required: false, description: 'x', min: 5, max: 1, default: 7 },
      ],
    };
    const problems = checkSpecs([specs[0], bad]);
    assert.ok(problems.some((p) => p.includes('duplicate slug')));
    assert.ok(problems.some((p) => p.includes('param name: name clashes')));
    assert.ok(problems.some((p) => p.includes('min > max')));
    assert.ok(problems.some((p) => p.includes('default out of range')));
  });

  it('getSpec finds each model by slug and nothing else', () => {
    for (const spec of specs) assert.equal(getSpec(spec.slug), spec);
    assert.equal(getSpec('sync-react-1'), undefined);
    assert.equal(getSpec('nope'), undefined);
  });
});

for (const spec of specs) {
  describe(`models: ${spec.slug} parameters`, () => {
    const schema = buildPayloadSchema(spec);
    const values = valueParams(spec);

    it('applies every default when nothing is set', () => {
      const params = ok(parseParams(spec, {}, undefined));
      for (const p of values) assert.deepEqual(params[p.name], p.default, p.name);
      for (const p of mediaParams(spec)) assert.ok(!(p.name in params), `media ${p.name} is not a param`);
      assert.ok(schema.safeParse({ ...mediaUrls(spec), ...params }).success);
    });

    it("the page's own example validates and equals what parseParams produces from it", () => {
      const example = pageExamples[spec.slug];
      const params = ok(parseParams(spec, {}, example));
      const expected: Record<string, unknown> = { ...example };
      for (const p of mediaParams(spec)) delete expected[p.name];
      // The SadTalker page types image_size integer but its example sends "256": we send 256.
      if (spec.slug === 'sadtalker') expected.image_size = 256;
      assert.deepEqual(params, expected);
      const payload = { ...params, ...Object.fromEntries(mediaParams(spec).map((p) => [p.name, example[p.name]])) };
      const parsed = schema.safeParse(payload);
      assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
      // and the example is exactly the defaults
      assert.deepEqual(ok(parseParams(spec, {}, undefined)), expected);
    });

    it('media examples are the page URLs and are never sent by default', () => {
      for (const p of mediaParams(spec)) {
        assert.equal(p.example, pageExamples[spec.slug][p.name]);
        assert.ok(p.required);
      }
      assert.equal(schema.safeParse(ok(parseParams(spec, {}, undefined))).success, false, 'media are required');
    });

    it('message override > node setting > model default, per parameter', () => {
      for (const p of values) {
        const alt = otherValid(p);
        assert.notEqual(alt, undefined, p.name);
        // setting as the editor stores it: a string
        const settingStr = String(alt);
        assert.deepEqual(ok(parseParams(spec, { [p.name]: settingStr }, undefined))[p.name], alt, `${p.name} from setting`);
        assert.deepEqual(ok(parseParams(spec, { [p.name]: alt }, {}))[p.name], alt, `${p.name} from typed setting`);
        assert.deepEqual(ok(parseParams(spec, { [p.name]: '' }, {}))[p.name], p.default, `${p.name}: "" setting = default`);
        assert.deepEqual(ok(parseParams(spec, {}, { [p.name]: alt }))[p.name], alt, `${p.name} from override`);
        // override wins over setting
        assert.deepEqual(
          ok(parseParams(spec, { [p.name]: settingStr }, { [p.name]: p.default }))[p.name],
          p.default,
          `${p.name}: override beats setting`,
        );
        // undefined and (for optional params) null in the override fall through to the setting
        assert.deepEqual(ok(parseParams(spec, { [p.name]: settingStr }, { [p.name]: undefined }))[p.name], alt);
        if (!p.required) assert.deepEqual(ok(parseParams(spec, { [p.name]: settingStr }, { [p.name]: null }))[p.name], alt);
      }
    });

    it('ignores unknown keys, media keys and non-object overrides', () => {
      const defaults = ok(parseParams(spec, {}, undefined));
      const junk: Record<string, unknown> = { topic: 'x', somethingElse: { deep: true }, __proto__: { pose_style: 99 } };
      for (const p of mediaParams(spec)) junk[p.name] = 12345;
      assert.deepEqual(ok(parseParams(spec, {}, junk)), defaults);
      for (const payload of ['a string', 42, Buffer.from('x'), [1, 2], null]) {
        assert.deepEqual(ok(parseParams(spec, {}, payload as never)), defaults, `payload ${showValue(payload)}`);
      }
    });

    for (const p of values) {
      it(`rejects every kind of invalid ${p.name} with a message naming field and value`, () => {
        for (const [bad, shown] of invalidValues(p)) {
          const e = err(parseParams(spec, {}, { [p.name]: bad }));
          assert.equal(e.field, p.name);
          assert.ok(e.message.startsWith(p.name), e.message);
          assert.ok(e.message.includes(shown), `${e.message} should show ${shown}`);
          assert.ok(e.message.includes(`allowed: ${describeAllowed(p, { withDefault: false })}`), e.message);
          assert.equal(e.allowed, describeAllowed(p, { withDefault: false }));
          assert.ok(e.message.length < 300, `message too long: ${e.message.length}`);
          // the error never carries a huge input
          assert.ok(typeof e.value !== 'string' || e.value.length <= 200);
          assert.ok(!Buffer.isBuffer(e.value) && typeof e.value !== 'object' || e.value === null);
          // and the schema rejects the same value on the wire (strings for numbers are coerced only by parseParams)
          const wire = { ...mediaUrls(spec), ...ok(parseParams(spec, {}, undefined)), [p.name]: bad };
          assert.equal(schema.safeParse(wire).success, false, `schema accepts ${p.name}=${showValue(bad)}`);
        }
      });

      it(`rejects an invalid node setting for ${p.name}`, () => {
        const bad = p.type === 'string' ? (p.allowed ? 'nope' : 'x'.repeat(10001)) : 'abc';
        const e = err(parseParams(spec, { [p.name]: bad }, undefined));
        assert.equal(e.field, p.name);
      });
    }

    it('the payload schema is strict about unknown keys and requires http(s) media URLs', () => {
      const good = { ...mediaUrls(spec), ...ok(parseParams(spec, {}, undefined)) };
      assert.ok(schema.safeParse(good).success);
      assert.equal(schema.safeParse({ ...good, extra: 1 }).success, false);
      for (const p of mediaParams(spec)) {
        for (const bad of ['ftp://x/y', 'data:image/png;base64,AAAA', 'not a url', '', 42]) {
          assert.equal(schema.safeParse({ ...good, [p.name]: bad }).success, false, `${p.name}=${String(bad)}`);
        }
        const { [p.name]: _omit, ...without } = good;
        assert.equal(schema.safeParse(without).success, false, `${p.name} is required`);
      }
      // optional params may be left out
      const onlyRequired = Object.fromEntries(Object.entries(good).filter(([k]) => spec.params.find((p) => p.name === k)?.required));
      assert.ok(schema.safeParse(onlyRequired).success);
    });
  });
}

describe('models: model-specific rules', () => {
  const sad = getSpec('sadtalker')!;
  const it2 = getSpec('infinite-talk')!;

  it('sadtalker image_size accepts "256"/"512" and sends integers', () => {
    assert.equal(ok(parseParams(sad, {}, { image_size: '512' })).image_size, 512);
    assert.equal(ok(parseParams(sad, { image_size: '512' }, undefined)).image_size, 512);
    assert.equal(ok(parseParams(sad, {}, { image_size: ' 256 ' })).image_size, 256);
    const e = err(parseParams(sad, {}, { image_size: 300 }));
    assert.equal(e.message, 'image_size: 300 is not allowed; allowed: integer, one of 256, 512');
  });

  it('sadtalker error messages read as documented', () => {
    assert.equal(err(parseParams(sad, {}, { pose_style: 99 })).message, 'pose_style: 99 is out of range; allowed: integer 0 to 45');
    assert.equal(err(parseParams(sad, {}, { pose_style: 4.5 })).message, 'pose_style: 4.5 is not an integer; allowed: integer 0 to 45');
    assert.equal(
      err(parseParams(sad, {}, { preprocess: 'big' })).message,
      'preprocess: "big" is not allowed; allowed: one of "crop", "extcrop", "resize", "full", "extfull"',
    );
    assert.equal(err(parseParams(sad, {}, { enhancer: 'yes' })).message, 'enhancer: "yes" is not a boolean; allowed: true or false');
    assert.equal(err(parseParams(sad, {}, { expression_scale: 3.01 })).message, 'expression_scale: 3.01 is out of range; allowed: number 1 to 3');
  });

  it('numbers: inclusive ranges, numeric strings trimmed, integral floats fine', () => {
    assert.equal(ok(parseParams(sad, {}, { pose_style: 0 })).pose_style, 0);
    assert.equal(ok(parseParams(sad, {}, { pose_style: 45 })).pose_style, 45);
    assert.equal(ok(parseParams(sad, {}, { pose_style: '  7 ' })).pose_style, 7);
    assert.equal(ok(parseParams(sad, {}, { pose_style: 7.0 })).pose_style, 7);
    assert.equal(ok(parseParams(sad, {}, { pose_style: '7.0' })).pose_style, 7);
    assert.equal(ok(parseParams(sad, {}, { expression_scale: '1e0' })).expression_scale, 1);
    assert.equal(ok(parseParams(sad, {}, { expression_scale: 3 })).expression_scale, 3);
    assert.equal(ok(parseParams(sad, {}, { enhancer: 'FALSE' })).enhancer, false);
    assert.equal(ok(parseParams(sad, { enhancer: false }, undefined)).enhancer, false);
    assert.equal(ok(parseParams(sad, { enhancer: 'false' }, undefined)).enhancer, false);
  });

  it('infinite-talk prompt is required: empty, blank or null override is an error, not the default', () => {
    for (const bad of ['', '   ', null]) {
      const e = err(parseParams(it2, {}, { prompt: bad }));
      assert.equal(e.field, 'prompt');
      assert.equal(e.message, 'prompt is required; allowed: text up to 10000 characters');
    }
    // an empty setting means the default prompt
    assert.equal(
      ok(parseParams(it2, { prompt: '' }, undefined)).prompt,
      'A professional woman speaks confidently, gesturing naturally while addressing the camera.',
    );
    assert.equal(ok(parseParams(it2, { prompt: 'from node' }, {})).prompt, 'from node');
    assert.equal(ok(parseParams(it2, {}, { prompt: 'x'.repeat(10000) })).prompt, 'x'.repeat(10000));
    const long = err(parseParams(it2, {}, { prompt: 'x'.repeat(10001) }));
    assert.match(long.message, /^prompt: "x{40}"… \(10001 characters\) is too long; allowed: text up to 10000 characters$/);
  });

  it('infinite-talk seed spans 0..2^32-1', () => {
    assert.equal(ok(parseParams(it2, {}, { seed: 0 })).seed, 0);
    assert.equal(ok(parseParams(it2, {}, { seed: '4294967295' })).seed, 4294967295);
    assert.equal(err(parseParams(it2, {}, { seed: 4294967296 })).field, 'seed');
    assert.equal(err(parseParams(it2, {}, { seed: -1 })).field, 'seed');
  });

  it('a required parameter without a default is an error when missing', () => {
    const spec: ModelSpec = {
      ...sad,
      params: [{ name: 'text', type: 'string', required: true, description: 'x' }, { name: 'opt', type: 'integer', required: false, description: 'y' }],
    };
    assert.equal(err(parseParams(spec, {}, undefined)).message, 'text is required; allowed: text up to 10000 characters');
    // missing optional without default is omitted
    assert.deepEqual(ok(parseParams(spec, { text: 'a' }, undefined)), { text: 'a' });
  });

  it('describeAllowed gives the human text used in errors, tooltips and help', () => {
    const p = (name: string) => sad.params.find((x) => x.name === name)!;
    assert.equal(describeAllowed(p('pose_style')), 'integer 0 to 45, default 4');
    assert.equal(describeAllowed(p('pose_style'), { withDefault: false }), 'integer 0 to 45');
    assert.equal(describeAllowed(p('image_size')), 'integer, one of 256, 512, default 256');
    assert.equal(describeAllowed(p('preprocess')), 'one of "crop", "extcrop", "resize", "full", "extfull", default "full"');
    assert.equal(describeAllowed(p('enhancer')), 'true or false, default true');
    assert.equal(describeAllowed(p('input_image')), 'image: http(s) URL, data URI, base64 string or Buffer');
    assert.equal(
      describeAllowed(it2.params[0]),
      'text up to 10000 characters, default "A professional woman speaks confidently, gesturing naturally while addressing the camera."',
    );
  });

  it('showValue abbreviates long or odd values', () => {
    assert.equal(showValue('abc'), '"abc"');
    assert.equal(showValue('z'.repeat(100)), `"${'z'.repeat(40)}"… (100 characters)`);
    assert.equal(showValue(Buffer.alloc(2048)), 'a Buffer (2048 bytes)');
    assert.equal(showValue({ huge: 'x'.repeat(1e6) }), 'an object');
    assert.equal(showValue([1]), 'an array (1 item)');
    assert.equal(showValue(null), 'null');
    assert.equal(showValue(undefined), 'nothing');
    assert.equal(showValue(Number.NaN), 'NaN');
  });
});
