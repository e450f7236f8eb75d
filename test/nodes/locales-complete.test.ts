// The German editor and runtime texts are complete: every catalog of the package (hand-written and
// generated) has a German twin with exactly the English keys, the same __placeholders__, no empty
// text, and every help page exists in both languages.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/runtime';

function keyPaths(obj: unknown, prefix = ''): string[] {
  if (typeof obj !== 'object' || obj === null) return [prefix];
  return Object.entries(obj as Record<string, unknown>).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}

function lookup(catalog: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), catalog);
}

const placeholders = (s: unknown) => [...String(s).matchAll(/__(\w+)__/g)].map((m) => m[1]).sort();

describe('locales: German is complete', () => {
  const dirs = ['nodes/locales', 'nodes/models/locales'].map((d) => join(ROOT, d));

  it('finds the catalogs (npm run build writes the model ones)', () => {
    for (const d of dirs) assert.ok(existsSync(join(d, 'en-US')), `${d}/en-US is missing: run npm run build`);
  });

  for (const rel of ['nodes/locales', 'nodes/models/locales']) {
    const dir = join(ROOT, rel);
    const files = existsSync(join(dir, 'en-US')) ? readdirSync(join(dir, 'en-US')).sort() : [];
    for (const file of files) {
      it(`${rel}/de/${file} matches en-US`, () => {
        const de = join(dir, 'de', file);
        assert.ok(existsSync(de), `${rel}/de/${file} exists`);
        if (!file.endsWith('.json')) {
          assert.match(readFileSync(de, 'utf8'), /data-help-name="/, 'a help page');
          return;
        }
        const en = JSON.parse(readFileSync(join(dir, 'en-US', file), 'utf8'));
        const ger = JSON.parse(readFileSync(de, 'utf8'));
        assert.deepEqual(keyPaths(ger).sort(), keyPaths(en).sort(), 'the same keys');
        for (const key of keyPaths(en)) {
          assert.deepEqual(placeholders(lookup(ger, key)), placeholders(lookup(en, key)), `${key}: the same placeholders`);
          assert.notEqual(String(lookup(ger, key)).trim(), '', `${key}: not empty`);
        }
      });
    }
    it(`${rel}: no German file without an English one`, () => {
      if (!existsSync(join(dir, 'de'))) return;
      for (const f of readdirSync(join(dir, 'de'))) assert.ok(existsSync(join(dir, 'en-US', f)), f);
    });
  }
});
