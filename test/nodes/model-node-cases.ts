// Per-spec test data for the model-node tests: node definitions as the generated editor stores
// them, valid alternatives for precedence tests, and every kind of invalid input.
import type { ModelSpec, ParamSpec } from '../../src/models/spec';
import { mediaParams, valueParams, type ValueParam } from '../../src/models/params';
import { facePng, faceJpg, garbage, headers, voiceMp3, voiceWav } from '../media/samples';

export function exampleUrl(p: ParamSpec): string {
  return p.type === 'media' && p.example ? p.example : `https://example.com/${p.name}.bin`;
}

/** The node as the editor creates it, with every value setting empty (= model default). */
export function nodeDef(spec: ModelSpec, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const def: Record<string, unknown> = {
    type: spec.nodeType,
    paramsProperty: 'payload',
    paramsPropertyType: 'msg',
    maxMediaMB: 50,
  };
  for (const p of mediaParams(spec)) {
    def[p.name] = p.defaultProperty;
    def[`${p.name}Type`] = 'msg';
  }
  for (const p of valueParams(spec)) def[p.name] = '';
  return { ...def, ...extra };
}

/** A message carrying every media input as a URL, where the default node reads it. */
export function mediaMsg(spec: ModelSpec, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const msg: Record<string, unknown> = {};
  for (const p of mediaParams(spec)) msg[p.defaultProperty] = exampleUrl(p);
  return { ...msg, ...extra };
}

/** How the editor stores a value: numbers and text as strings, booleans as booleans. */
export function asSetting(v: unknown): unknown {
  return typeof v === 'boolean' ? v : String(v);
}

/** Two valid values of a parameter, different from each other (and from the default when possible). */
export function alternatives(p: ValueParam): [unknown, unknown] {
  const distinct = (cands: unknown[]): [unknown, unknown] => {
    const uniq = [...new Set(cands.map((c) => JSON.stringify(c)))].map((c) => JSON.parse(c));
    const nonDefault = uniq.filter((c) => c !== p.default);
    const a = nonDefault[0] ?? uniq[0];
    const b = uniq.find((c) => c !== a && c !== p.default) ?? uniq.find((c) => c !== a);
    if (b === undefined) throw new Error(`no two values for ${p.name}`);
    return [a, b];
  };
  switch (p.type) {
    case 'integer':
    case 'number': {
      if (p.allowed) return distinct(p.allowed);
      const min = p.min ?? (p.default ?? 0) - 10;
      const max = p.max ?? (p.default ?? 0) + 10;
      const mid = p.type === 'integer' ? Math.floor((min + max) / 2) : (min + max) / 2;
      return distinct([max, min, mid]);
    }
    case 'boolean':
      return distinct([!(p.default ?? false), p.default ?? false, true, false]);
    case 'string':
      if (p.allowed) return distinct(p.allowed);
      return ['text from the node setting', 'text from the message'];
  }
}

export interface InvalidCase {
  name: string;
  field: string;
  msg: Record<string, unknown>;
  node?: Record<string, unknown>;
}

function wrongMedia(p: Extract<ParamSpec, { type: 'media' }>): Buffer {
  return p.media === 'audio' ? facePng : voiceWav;
}

function rightMediaOver1KB(p: Extract<ParamSpec, { type: 'media' }>): Buffer {
  if (p.media === 'audio') return voiceMp3;
  if (p.media === 'video') return Buffer.concat([headers.mp4, Buffer.alloc(4000)]);
  return faceJpg;
}

/** Every kind of invalid input for a spec; each must fail before any request. */
export function invalidCases(spec: ModelSpec): InvalidCase[] {
  const cases: InvalidCase[] = [];
  const base = mediaMsg(spec);
  for (const p of mediaParams(spec)) {
    const prop = p.defaultProperty;
    const without = { ...base };
    delete without[prop];
    cases.push({ name: `${p.name} missing`, field: p.name, msg: without });
    cases.push({ name: `${p.name} a number`, field: p.name, msg: { ...base, [prop]: 42 } });
    cases.push({ name: `${p.name} an object`, field: p.name, msg: { ...base, [prop]: { url: 'https://x' } } });
    cases.push({ name: `${p.name} random bytes`, field: p.name, msg: { ...base, [prop]: garbage } });
    cases.push({ name: `${p.name} wrong media type`, field: p.name, msg: { ...base, [prop]: wrongMedia(p) } });
    cases.push({ name: `${p.name} ftp URL`, field: p.name, msg: { ...base, [prop]: 'ftp://example.com/x' } });
    cases.push({ name: `${p.name} file path`, field: p.name, msg: { ...base, [prop]: '/tmp/face.png' } });
    cases.push({ name: `${p.name} bad data URI`, field: p.name, msg: { ...base, [prop]: 'data:image/png;base64,!!!' } });
    cases.push({
      name: `${p.name} oversize`,
      field: p.name,
      msg: { ...base, [prop]: rightMediaOver1KB(p) },
      node: { maxMediaMB: 0.001 },
    });
  }
  for (const p of valueParams(spec)) {
    const bad = (name: string, value: unknown) =>
      cases.push({ name: `${p.name} ${name}`, field: p.name, msg: { ...base, payload: { [p.name]: value } } });
    switch (p.type) {
      case 'integer':
      case 'number':
        bad('not a number', 'abc');
        bad('a boolean', true);
        if (p.type === 'integer') bad('not an integer', (p.allowed?.[0] ?? p.min ?? 0) + 0.5);
        if (p.max !== undefined) bad('over max', p.max + 1);
        if (p.min !== undefined) bad('under min', p.min - 1);
        if (p.allowed) bad('not allowed', Math.max(...p.allowed) + 1);
        bad('infinite', 'Infinity');
        break;
      case 'boolean':
        bad('not a boolean', 'maybe');
        bad('a number', 1);
        break;
      case 'string':
        bad('a number', 5);
        if (p.allowed) bad('unknown value', 'no-such-value');
        else bad('too long', 'x'.repeat(10001));
        if (p.required) bad('empty', '');
        break;
    }
  }
  // a bad node setting fails at input time too
  const first = valueParams(spec).find((p) => p.type === 'integer' || p.type === 'number');
  if (first) cases.push({ name: `${first.name} setting not a number`, field: first.name, msg: base, node: { [first.name]: 'abc' } });
  return cases;
}
