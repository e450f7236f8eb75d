// The runtime texts: German and English catalogs have the same keys and placeholders, and the
// model nodes look their texts up under the key the generator repeats them under.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLIENT_TEXTS } from '../../src/client/errors';
import { SHARED_KEY } from '../../src/models/generate/text';
import { SHARED_TEXT_KEY } from '../../src/nodes/model-node';

const dir = path.join(__dirname, '..', '..', 'nodes', 'locales');
const read = (lang: string) => JSON.parse(fs.readFileSync(path.join(dir, lang, 'segmind-model.json'), 'utf8'));

function leaves(o: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of leaves(v, key)) out.set(kk, vv);
  }
  return out;
}

const placeholders = (s: string) => [...s.matchAll(/__([A-Za-z0-9_]+?)__/g)].map((m) => m[1]).sort();

describe('segmind-model runtime texts', () => {
  it('en-US and de have the same keys and the same placeholders', () => {
    const en = leaves(read('en-US'));
    const de = leaves(read('de'));
    assert.deepEqual([...de.keys()].sort(), [...en.keys()].sort());
    for (const [key, text] of en) assert.deepEqual(placeholders(de.get(key)!), placeholders(text), key);
  });

  it('the client texts: en-US repeats the English templates, de has every key with the same placeholders', () => {
    const catalogs = (lang: string) => [
      leaves(read(lang)['segmind-model'].errors.client),
      leaves(JSON.parse(fs.readFileSync(path.join(dir, lang, 'segmind-await.json'), 'utf8'))['segmind-await'].clientErrors),
    ];
    const [enModel, enAwait] = catalogs('en-US');
    const [deModel, deAwait] = catalogs('de');
    for (const en of [enModel, enAwait]) assert.deepEqual(Object.fromEntries(en), CLIENT_TEXTS);
    for (const de of [deModel, deAwait]) {
      assert.deepEqual([...de.keys()].sort(), Object.keys(CLIENT_TEXTS).sort());
      for (const [key, text] of Object.entries(CLIENT_TEXTS)) {
        assert.deepEqual(placeholders(de.get(key)!), placeholders(text), key);
        assert.notEqual(de.get(key), undefined, key);
      }
    }
    // German is really German where the English has words of its own
    assert.notEqual(deModel.get('http401'), enModel.get('http401'));
  });

  it('both help pages exist with the four sections', () => {
    for (const [lang, sections] of [
      ['en-US', ['Inputs', 'Outputs', 'Details', 'References']],
      ['de', ['Eingaben', 'Ausgaben', 'Details', 'Referenzen']],
    ] as const) {
      const html = fs.readFileSync(path.join(dir, lang, 'segmind-model.html'), 'utf8');
      assert.match(html, /data-help-name="segmind model"/);
      for (const s of sections) assert.ok(html.includes(`<h3>${s}</h3>`), `${lang}: ${s}`);
    }
  });

  it('model nodes use the generator\'s shared key', () => {
    assert.equal(SHARED_TEXT_KEY, SHARED_KEY);
  });
});
