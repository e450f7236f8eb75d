// The await node's editor HTML, help and locale files (hand-written): what Node-RED and node-red-dev
// read from them, and that every text the runtime and the editor ask for exists in both languages.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './await-harness';

const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');
const LANGS = ['en-US', 'de'];

function keyPaths(obj: unknown, prefix = ''): string[] {
  if (typeof obj !== 'object' || obj === null) return [prefix];
  return Object.entries(obj as Record<string, unknown>).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}
function lookup(catalog: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), catalog);
}
const placeholders = (s: string) => [...s.matchAll(/__(\w+)__/g)].map((m) => m[1]).sort();

interface Def {
  category: string;
  color: string;
  defaults: Record<string, { value: unknown; validate?: (v: unknown) => boolean; type?: string; required?: boolean }>;
  inputs: number;
  outputs: number;
  icon: string;
  label: (this: Record<string, unknown>) => string;
  outputLabels: (this: Record<string, unknown>, i: number) => string;
}

function loadDefinition(): { type: string; def: Def } {
  const html = read('nodes/segmind-await.html');
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)![1];
  let type = '';
  let def: Def | undefined;
  new Function('RED', '$', script)({ nodes: { registerType: (t: string, d: Def) => ((type = t), (def = d)) } }, () => ({}));
  assert.ok(def);
  return { type, def };
}

describe('segmind await node: editor, help and locales', () => {
  const en = JSON.parse(read('nodes/locales/en-US/segmind-await.json'));

  it('registers "segmind await" literally, in the Segmind category, with 1 input, 3 outputs and its icon', () => {
    const html = read('nodes/segmind-await.html');
    assert.match(html, /RED\.nodes\.registerType\('segmind await', \{/);
    const { type, def } = loadDefinition();
    assert.equal(type, 'segmind await');
    assert.equal(def.category, 'Segmind');
    assert.equal(def.color, '#8FB3E8');
    assert.equal(def.inputs, 1);
    assert.equal(def.outputs, 3);
    assert.equal(def.icon, 'segmind-await.svg');
    assert.ok(fs.existsSync(path.join(ROOT, 'icons', 'segmind-await.svg')));
    assert.equal(def.defaults.config.type, 'segmind-config');
    assert.equal(def.defaults.timeout.value, 900);
    assert.equal(def.defaults.result.value, 'url');
  });

  it('validates timeout and result mode', () => {
    const { def } = loadDefinition();
    for (const ok of [900, '30', 86400]) assert.ok(def.defaults.timeout.validate!(ok), String(ok));
    for (const bad of ['', 0, -5, 'x', 86401]) assert.ok(!def.defaults.timeout.validate!(bad), String(bad));
    for (const ok of ['url', 'buffer', 'file']) assert.ok(def.defaults.result.validate!(ok));
    assert.ok(!def.defaults.result.validate!('stream'));
    // in the editor (a node with its catalog as `this`) an invalid value says why
    const self = { _: (k: string) => String(lookup(en, k)) };
    assert.match(String(def.defaults.timeout.validate!.call(self, 86401)), /at most 86400/);
    assert.match(String(def.defaults.result.validate!.call(self, 'stream')), /Output URL, Buffer or File/);
    assert.equal(def.defaults.timeout.validate!.length, 2, 'a two-argument validator: Node-RED 3.1+ shows its string');
  });

  it('size limits for Buffer (default 200 MB, at most 4095) and file results (default 2048 MB), positive numbers', () => {
    const { def } = loadDefinition();
    assert.equal(def.defaults.maxBufferMB.value, 200);
    assert.equal(def.defaults.maxFileMB.value, 2048);
    for (const ok of [200, '0.5', 4095]) assert.ok(def.defaults.maxBufferMB.validate!(ok), String(ok));
    for (const bad of ['', 0, -1, 'x', 4096]) assert.ok(!def.defaults.maxBufferMB.validate!(bad), String(bad));
    for (const ok of [2048, '1', 1048576]) assert.ok(def.defaults.maxFileMB.validate!(ok), String(ok));
    for (const bad of ['', 0, 'big', 1048577]) assert.ok(!def.defaults.maxFileMB.validate!(bad), String(bad));
  });

  it('labels the node and its three outputs from the catalog', () => {
    const { def } = loadDefinition();
    const self = { _: (k: string) => String(lookup(en, k)), name: '' };
    assert.equal(def.label.call(self), 'await job');
    assert.equal(def.label.call({ ...self, name: 'mine' }), 'mine');
    assert.deepEqual([0, 1, 2].map((i) => def.outputLabels.call(self, i)), ['completed', 'failed', 'timed out or stopped']);
  });

  it('every data-i18n key of the form and every key the runtime uses exists in every locale', () => {
    const html = read('nodes/segmind-await.html');
    const formKeys = [...html.matchAll(/data-i18n="(?:\[\w+\])?([^"]+)"/g)].map((m) => m[1]);
    const code = read('src/nodes/await-node.ts') + read('src/nodes/await-status.ts');
    const runtimeKeys = [...code.matchAll(/\bt\('([\w.]+)'/g)].map((m) => `segmind-await.${m[1]}`);
    const editorKeys = ['segmind-await.label.default', ...['completed', 'failed', 'timedOut'].map((o) => `segmind-await.outputs.${o}`)];
    assert.ok(formKeys.length >= 8 && runtimeKeys.length >= 8);
    for (const lang of LANGS) {
      const catalog = JSON.parse(read(`nodes/locales/${lang}/segmind-await.json`));
      for (const key of [...formKeys, ...runtimeKeys, ...editorKeys]) {
        assert.equal(typeof lookup(catalog, key), 'string', `${lang}: ${key}`);
      }
    }
  });

  it('en-US and de have the same keys and the same __placeholders__', () => {
    const de = JSON.parse(read('nodes/locales/de/segmind-await.json'));
    assert.deepEqual(keyPaths(de).sort(), keyPaths(en).sort());
    for (const key of keyPaths(en)) assert.deepEqual(placeholders(String(lookup(de, key))), placeholders(String(lookup(en, key))), key);
    assert.equal(lookup(en, 'segmind-await.status.progress'), '__model__ __percent__ % · ~__remaining__');
  });

  for (const lang of LANGS) {
    it(`help (${lang}) follows the style guide: inputs, three node-ports outputs with their properties, details, references`, () => {
      const help = read(`nodes/locales/${lang}/segmind-await.html`);
      assert.match(help, /<script type="text\/html" data-help-name="segmind await">/);
      assert.match(help, /<h3>(Inputs|Eingaben)<\/h3>\s*<dl class="message-properties">/);
      const ports = /<ol class="node-ports">([\s\S]*?)<\/ol>/.exec(help);
      assert.ok(ports, 'no <ol class="node-ports">');
      const items = ports[1].split('<li>').slice(1);
      assert.equal(items.length, 3);
      assert.match(items[0], /<dt>payload <span class="property-type">string \| buffer<\/span><\/dt>/);
      assert.match(items[0], /segmind\.result/);
      assert.match(items[1], /<dt>error <span class="property-type">object<\/span><\/dt>/);
      assert.match(items[2], /<dt>segmind <span class="property-type">object<\/span><\/dt>/);
      for (const topic of ['msg.stop', 'redelivered', 'msg.segmind.dropped', 'expired', 'timeout']) assert.ok(help.includes(topic), `${lang} help misses ${topic}`);
      assert.match(help, /<h3>(References|Referenzen)<\/h3>/);
    });
  }
});
