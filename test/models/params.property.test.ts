// Properties of parseParams over arbitrary input: it never throws, anything it accepts is a valid
// wire payload, and anything it rejects names a parameter with a short message.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { buildPayloadSchema, mediaParams, parseParams, specs, valueParams, type ValueParam } from '../../src/models';

function validValue(p: ValueParam): fc.Arbitrary<unknown> {
  switch (p.type) {
    case 'integer':
      if (p.allowed) return fc.constantFrom(...p.allowed, ...p.allowed.map(String));
      return fc.integer({ min: p.min ?? -1e6, max: p.max ?? 1e6 }).chain((n) => fc.constantFrom(n, String(n), ` ${n} `));
    case 'number':
      return fc
        .double({ min: p.min ?? -1e6, max: p.max ?? 1e6, noNaN: true, noDefaultInfinity: true })
        .chain((n) => fc.constantFrom(n, String(n)));
    case 'string':
      return p.allowed ? fc.constantFrom(...p.allowed) : fc.string({ minLength: 1, maxLength: 200 }).filter((s) => s.trim() !== '');
    case 'boolean':
      return fc.constantFrom(true, false, 'true', 'false');
  }
}

const junk = fc.oneof(
  fc.anything(),
  fc.string({ maxLength: 50 }),
  fc.double(),
  fc.integer(),
  fc.constantFrom(null, undefined, Number.NaN, Infinity, -Infinity, '', ' ', '1e999', '0x1f'),
);

for (const spec of specs) {
  describe(`models: ${spec.slug} parseParams properties`, () => {
    const schema = buildPayloadSchema(spec);
    const media = Object.fromEntries(mediaParams(spec).map((p) => [p.name, 'https://example.com/m']));
    const values = valueParams(spec);

    it('accepts any combination of valid values, and the result is a valid payload', () => {
      const record = fc.record(Object.fromEntries(values.map((p) => [p.name, validValue(p)])), { requiredKeys: [] });
      fc.assert(
        fc.property(record, record, (setting, override) => {
          const r = parseParams(spec, setting, override);
          assert.ok(r.ok, r.ok ? '' : r.error.message);
          const parsed = schema.safeParse({ ...media, ...r.params });
          assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
          // precedence: each value comes from the override if given, else setting
          for (const p of values) {
            const source = p.name in override ? override[p.name] : p.name in setting ? setting[p.name] : p.default;
            if (typeof source === 'number' || typeof source === 'boolean') assert.equal(r.params[p.name], source);
          }
        }),
        { numRuns: 200 },
      );
    });

    it('never throws on junk; accepts only valid payloads, rejects with a short message naming a parameter', () => {
      const record = fc.dictionary(fc.constantFrom(...values.map((p) => p.name), 'other'), junk);
      fc.assert(
        fc.property(record, (override) => {
          const r = parseParams(spec, {}, override);
          if (r.ok) {
            assert.ok(schema.safeParse({ ...media, ...r.params }).success);
          } else {
            assert.ok(values.some((p) => p.name === r.error.field));
            assert.ok(r.error.message.startsWith(r.error.field));
            assert.ok(r.error.message.length < 400, r.error.message);
          }
        }),
        { numRuns: 300 },
      );
    });
  });
}
