// The generated editor HTML, help, locale files, wrappers, icons and package.json entries.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeAllowed, mediaParams, specs, valueParams, type ModelSpec, type ParamSpec } from '../../src/models';
import {
  LOCALES,
  SHARED_KEY,
  buildEditorHtml,
  buildHelpHtml,
  buildLocaleCatalog,
  catalogJson,
  readSharedTexts,
  syncNodeSets,
} from '../../src/models/generate';

const root = path.resolve(__dirname, '..', '..');
// node-red-dev validate parses the editor HTML with acorn; use the same parser it uses.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const acorn = require(require.resolve('acorn', { paths: [path.dirname(require.resolve('node-red-dev/package.json'))] }));

type Validator = (v: unknown) => boolean;
interface EditorDef {
  category: string;
  color: string;
  defaults: Record<string, { value: unknown; required?: boolean; type?: string; validate?: Validator }>;
  inputs: number;
  outputs: number;
  icon: string;
  paletteLabel: string;
  label: (this: Record<string, unknown>) => string;
  oneditprepare: () => void;
}

function definitionScript(html: string): string {
  const m = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'no <script type="text/javascript"> block');
  return m[1];
}

/** Runs the editor script against a stand-in RED and jQuery, returning what it registered. */
function loadDefinition(html: string): { type: string; def: EditorDef; typedInputs: Record<string, { types: string[]; typeField: string }> } {
  let type = '';
  let def: EditorDef | undefined;
  const typedInputs: Record<string, { types: string[]; typeField: string }> = {};
  const RED = {
    nodes: { registerType: (t: string, d: EditorDef) => ((type = t), (def = d)) },
    validators: {
      number: () => (v: unknown) => v !== '' && !Number.isNaN(Number(v)),
      typedInput: (field: string) => Object.assign((v: unknown) => typeof v === 'string' && v !== '', { field }),
    },
  };
  const $ = (selector: string) => ({
    typedInput: (opts: { types: string[]; typeField: string }) => {
      typedInputs[selector] = opts;
    },
  });
  new Function('RED', '$', definitionScript(html))(RED, $);
  assert.ok(def, 'registerType was not called');
  def.oneditprepare();
  return { type, def, typedInputs };
}

function read(rel: string): string {
  const file = path.join(root, rel);
  assert.ok(fs.existsSync(file), `${rel} is missing: run npm run build`);
  return fs.readFileSync(file, 'utf8');
}

function keyPaths(obj: unknown, prefix = ''): string[] {
  if (typeof obj !== 'object' || obj === null) return [prefix];
  return Object.entries(obj as Record<string, unknown>).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}

function lookup(catalog: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), catalog);
}

function i18nKeys(html: string): string[] {
  const keys: string[] = [];
  for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) {
    for (const part of m[1].split(';')) keys.push(part.replace(/^\[[^\]]+\]/, ''));
  }
  return keys;
}

function invalidFor(p: ParamSpec): unknown[] {
  switch (p.type) {
    case 'integer':
    case 'number': {
      const out: unknown[] = ['abc', 'NaN', 'Infinity', '1e999', '0x10'];
      if (p.max !== undefined) out.push(p.max + 1, String(p.max + 0.5));
      if (p.min !== undefined) out.push(p.min - 1);
      if (p.type === 'integer') out.push(`${(p.allowed?.[0] ?? p.min ?? 0) + 0.5}`);
      if (p.allowed) out.push(p.allowed[0] + 1);
      return out;
    }
    case 'string':
      return p.allowed ? ['nope', p.allowed[0].toUpperCase()] : ['x'.repeat(10001)];
    case 'boolean':
      return ['yes', 1];
    case 'media':
      return [''];
  }
}

for (const spec of specs) {
  describe(`models: generated ${spec.file} node`, () => {
    const html = read(`nodes/models/${spec.file}.html`);
    const catalogs = Object.fromEntries(
      LOCALES.map((l) => [l, JSON.parse(read(`nodes/models/locales/${l}/${spec.file}.json`)) as Record<string, unknown>]),
    );

    it('is up to date with the spec (npm run build)', () => {
      assert.equal(html, buildEditorHtml(spec));
      for (const l of LOCALES) {
        assert.equal(read(`nodes/models/locales/${l}/${spec.file}.json`), catalogJson(buildLocaleCatalog(spec, l, readSharedTexts(root, l))));
        assert.equal(read(`nodes/models/locales/${l}/${spec.file}.html`), buildHelpHtml(spec, l));
      }
      assert.match(read(`nodes/models/${spec.file}.js`), new RegExp(`^module\\.exports = require\\('\\.\\./lib/segmind\\.js'\\)\\.nodeSet\\("${spec.file}"\\);$`, 'm'));
    });

    it('has a literal registerType with inline defaults, as node-red-dev reads it', () => {
      const ast = acorn.parse(definitionScript(html), { ecmaVersion: 'latest' });
      const call = ast.body[0].expression;
      assert.equal(call.callee.property.name, 'registerType');
      assert.equal(call.arguments[0].type, 'Literal');
      assert.equal(call.arguments[0].value, spec.nodeType);
      assert.equal(call.arguments[1].type, 'ObjectExpression');
      const props = Object.fromEntries(call.arguments[1].properties.map((p: { key: { name: string }; value: unknown }) => [p.key.name, p.value]));
      for (const k of ['category', 'color', 'icon', 'inputs', 'outputs']) assert.equal(props[k].type, 'Literal', k);
      assert.equal(props.defaults.type, 'ObjectExpression');
      const keys = props.defaults.properties.map((p: { key: { name: string } }) => p.key.name);
      for (const p of spec.params) assert.ok(keys.includes(p.name), p.name);
    });

    it('registers the node type with a default for every parameter', () => {
      const { type, def, typedInputs } = loadDefinition(html);
      assert.equal(type, spec.nodeType);
      assert.equal(def.category, 'Segmind');
      assert.equal(def.color, '#8FB3E8');
      assert.equal(def.inputs, 1);
      assert.equal(def.outputs, 1);
      assert.equal(def.icon, spec.icon);
      assert.equal(def.paletteLabel, spec.title.replace(/-/g, '\u2011'), 'non-breaking hyphens: the palette would show "V - Express"');
      assert.equal(def.label.call({ name: '' }), spec.title);
      assert.equal(def.label.call({ name: 'mine' }), 'mine');
      assert.deepEqual(def.defaults.config, { type: 'segmind-config', required: true });
      assert.equal(def.defaults.name.value, '');
      assert.equal(def.defaults.paramsProperty.value, 'payload');
      assert.equal(def.defaults.paramsPropertyType.value, 'msg');
      assert.equal(def.defaults.maxMediaMB.value, 50);
      const maxMb = def.defaults.maxMediaMB.validate!;
      for (const good of [50, '50', '0.5', '', undefined]) assert.ok(maxMb(good), `maxMediaMB ${String(good)}`);
      for (const bad of [0, '-1', 'abc', 'NaN', '0x10', '1e999']) assert.equal(maxMb(bad), false, `maxMediaMB ${String(bad)}`);
      assert.deepEqual(typedInputs['#node-input-paramsProperty'].types, ['msg']);
      for (const p of mediaParams(spec)) {
        assert.equal(def.defaults[p.name].value, p.defaultProperty);
        assert.equal(def.defaults[`${p.name}Type`].value, 'msg');
        assert.deepEqual(typedInputs[`#node-input-${p.name}`], {
          default: 'msg',
          typeField: `#node-input-${p.name}Type`,
          types: ['msg', 'flow', 'global', 'env', 'str'],
        });
      }
      for (const p of valueParams(spec)) {
        const d = def.defaults[p.name];
        assert.deepEqual(d.value, p.default ?? '', p.name);
        assert.equal(typeof d.validate, 'function', `${p.name} has a validator`);
        assert.ok(d.validate!(d.value), `${p.name} default passes`);
        assert.ok(d.validate!(''), `${p.name} empty (= default) passes`);
        if (p.type !== 'boolean' && p.default !== undefined) assert.ok(d.validate!(String(p.default)), `${p.name} as string`);
        for (const bad of invalidFor(p)) assert.equal(d.validate!(bad), false, `${p.name} rejects ${String(bad).slice(0, 20)}`);
        // in the editor `this` is the node with its catalog: the refusal says why (Node-RED 3.1+ shows it)
        assert.equal(d.validate!.length, 2, `${p.name}: a two-argument validator, whose string Node-RED shows`);
        for (const l of LOCALES) {
          const self = { _: (k: string) => lookup(catalogs[l], k) };
          for (const bad of invalidFor(p)) {
            const why = (d.validate as unknown as (this: unknown, v: unknown, o: unknown) => unknown).call(self, bad, {});
            assert.equal(typeof why, 'string', `${l}: ${p.name} says why it refuses ${String(bad).slice(0, 20)}`);
            assert.equal(why, lookup(catalogs[l], `${spec.file}.invalid.${p.name}`));
          }
          assert.equal((d.validate as unknown as (this: unknown, v: unknown, o: unknown) => unknown).call(self, d.value, {}), true);
        }
      }
      const en = catalogs['en-US'][spec.file] as { invalid: Record<string, string> };
      for (const p of valueParams(spec)) {
        assert.equal(en.invalid[p.name], `Not valid: expected ${describeAllowed(p, { withDefault: false })}`);
      }
      const expected = ['name', 'config', ...spec.params.flatMap((p) => (p.type === 'media' ? [p.name, `${p.name}Type`] : [p.name])), 'paramsProperty', 'paramsPropertyType', 'maxMediaMB'];
      assert.deepEqual(Object.keys(def.defaults), expected);
    });

    it('has an edit form row for every parameter with labels, tooltips and the right control', () => {
      const tpl = new RegExp(`<script type="text/html" data-template-name="${spec.nodeType}">([\\s\\S]*?)</script>`).exec(html);
      assert.ok(tpl, 'edit template');
      const form = tpl[1];
      for (const p of spec.params) {
        assert.ok(form.includes(`data-i18n="${spec.file}.label.${p.name}"`), `label for ${p.name}`);
        assert.ok(form.includes(`[title]${spec.file}.tip.${p.name}`), `tooltip for ${p.name}`);
        if (p.type === 'media') assert.ok(form.includes(`id="node-input-${p.name}Type"`));
        if ((p.type === 'string' || p.type === 'integer' || p.type === 'number') && p.allowed) {
          const select = new RegExp(`<select id="node-input-${p.name}"[^>]*>(.*?)</select>`).exec(form);
          assert.ok(select, `${p.name} is a dropdown`);
          const values = [...select[1].matchAll(/<option value="([^"]*)">/g)].map((m) => m[1]);
          assert.deepEqual(values, p.allowed.map((v) => String(v).replace(/"/g, '&quot;')));
        } else if (p.type === 'integer' || p.type === 'number') {
          const input = new RegExp(`<input type="number" id="node-input-${p.name}"([^>]*)>`).exec(form);
          assert.ok(input, `${p.name} is a number input`);
          if (p.min !== undefined) assert.ok(input[1].includes(`min="${p.min}"`));
          if (p.max !== undefined) assert.ok(input[1].includes(`max="${p.max}"`));
          assert.ok(input[1].includes(`step="${p.type === 'integer' ? 1 : 'any'}"`));
          assert.ok(input[1].includes(`[placeholder]${spec.file}.placeholder.${p.name}`));
        } else if (p.type === 'boolean') {
          assert.ok(form.includes(`<input type="checkbox" id="node-input-${p.name}"`), `${p.name} is a checkbox`);
        } else if (p.type === 'string') {
          assert.ok(form.includes(p.multiline ? `<textarea id="node-input-${p.name}"` : `<input type="text" id="node-input-${p.name}"`));
        }
      }
      for (const id of ['config', 'paramsProperty', 'paramsPropertyType', 'maxMediaMB', 'name']) {
        assert.ok(form.includes(`id="node-input-${id}"`), id);
      }
      // what each field accepts is visible text under it, not only a placeholder or a tooltip
      for (const key of [...spec.params.map((p) => p.name), 'paramsProperty', 'maxMediaMB']) {
        assert.ok(form.includes(`<div class="segmind-hint" style="`) && form.includes(`data-i18n="${spec.file}.hint.${key}"></div>`), `visible hint for ${key}`);
      }
      const hints = (catalogs['en-US'][spec.file] as { hint: Record<string, string> }).hint;
      for (const p of mediaParams(spec)) {
        assert.match(hints[p.name], /http\(s\) URL, data URI, base64 string or Buffer/, `${p.name} says the forms it accepts`);
        assert.match(hints[p.name], p.media === 'audio' ? /MP3, WAV/ : p.media === 'video' ? /MP4/ : /PNG, JPEG/, `${p.name} says the formats`);
      }
      const en = catalogs['en-US'][spec.file] as { label: Record<string, string>; placeholder: Record<string, string>; tip: Record<string, string> };
      assert.equal(en.label.maxMediaMB, 'Max media size (MB)');
      assert.equal(en.label.paramsProperty, 'Overrides from');
      for (const p of valueParams(spec)) {
        assert.equal(en.placeholder[p.name], describeAllowed(p));
        assert.ok(en.tip[p.name].includes(p.description));
      }
    });

    it('every data-i18n key of the form resolves in every locale', () => {
      const keys = i18nKeys(html);
      assert.ok(keys.length > spec.params.length * 2);
      for (const l of LOCALES) {
        for (const key of keys) assert.equal(typeof lookup(catalogs[l], key), 'string', `${l}: ${key}`);
      }
    });

    it('en-US and de locale files have the same keys and the same __placeholders__', () => {
      assert.deepEqual(keyPaths(catalogs.de), keyPaths(catalogs['en-US']));
      for (const key of keyPaths(catalogs['en-US'])) {
        const vars = (l: string) => [...String(lookup(catalogs[l], key)).matchAll(/__(\w+)__/g)].map((m) => m[1]).sort();
        assert.deepEqual(vars('de'), vars('en-US'), key);
        assert.notEqual(lookup(catalogs.de, key), '', key);
      }
      // the shared runtime texts are those of the generic node's catalog, which the runtime uses
      for (const l of LOCALES) {
        const shared = catalogs[l][SHARED_KEY] as { status: Record<string, unknown>; errors: Record<string, unknown> };
        assert.ok(shared && typeof shared.status === 'object' && typeof shared.errors === 'object');
        const generic = readSharedTexts(root, l);
        if (generic) assert.deepEqual(shared, generic, l);
        assert.ok(typeof lookup(shared, 'errors.noConfig') === 'string', `${l}: errors.noConfig`);
      }
      // German labels really are German where the spec translates them
      const deLabels = (catalogs.de[spec.file] as { label: Record<string, string> }).label;
      assert.ok(spec.params.some((p) => deLabels[p.name] !== (catalogs['en-US'][spec.file] as { label: Record<string, string> }).label[p.name]));
    });

    for (const locale of LOCALES) {
      it(`help (${locale}) follows the style guide and covers every parameter`, () => {
        const help = read(`nodes/models/locales/${locale}/${spec.file}.html`);
        assert.ok(help.startsWith(`<script type="text/html" data-help-name="${spec.nodeType}">`));
        assert.ok(help.trimEnd().endsWith('</script>'));
        const first = /<p>(.*?)<\/p>/.exec(help);
        assert.ok(first && !first[1].includes('<'), 'one-line plain summary first');
        const headings = [...help.matchAll(/<h3>(.*?)<\/h3>/g)].map((m) => m[1]);
        assert.equal(headings.length, 4);
        if (locale === 'en-US') assert.deepEqual(headings, ['Inputs', 'Outputs', 'Details', 'References']);
        assert.ok(help.includes('<dl class="message-properties">'));
        for (const p of mediaParams(spec)) {
          assert.ok(help.includes(`<dt>${p.defaultProperty} <span class="property-type">string | Buffer</span></dt>`), p.name);
          assert.ok(help.includes(`<code>${p.name}</code>`), p.name);
        }
        for (const p of valueParams(spec)) {
          assert.match(help, new RegExp(`<dt( class="optional")?>payload\\.${p.name} <span class="property-type">${p.type}</span></dt>`), p.name);
        }
        for (const f of ['model', 'requestId', 'statusUrl', 'responseUrl', 'submittedAt']) assert.ok(help.includes(`<code>${f}</code>`), f);
        assert.ok(help.includes(`href="${spec.pageUrl}"`));
        // points the user at the await node by its palette label
        assert.ok(help.includes(locale === 'de' ? 'Job abwarten' : 'await job'));
        if (locale === 'en-US') {
          assert.ok(help.includes('message override &gt; node setting &gt; model default'));
          for (const p of valueParams(spec)) assert.ok(help.includes(describeAllowed(p).replace(/"/g, '&quot;').replace(/^./, (c) => c.toUpperCase())), p.name);
        }
      });
    }
  });
}

describe('models: icons', () => {
  const names = [...new Set([...specs.map((s) => s.icon), 'segmind-model.svg', 'segmind-await.svg', 'segmind-config.svg'])];

  it('exist for every node, white on transparent, 40x60', () => {
    for (const name of names) {
      const svg = read(`icons/${name}`);
      assert.match(svg, /viewBox="0 0 40 60"/, name);
      const colours = [...svg.matchAll(/(?:fill|stroke)="([^"]+)"/g)].map((m) => m[1]);
      assert.ok(colours.length > 0);
      for (const c of colours) assert.ok(c === '#fff' || c === 'none', `${name}: colour ${c}`);
      assert.doesNotMatch(svg, /<(?:script|image|style)/i);
    }
  });

  it('are copied to nodes/icons and nodes/models/icons', () => {
    for (const name of names) {
      assert.equal(read(`nodes/icons/${name}`), read(`icons/${name}`));
      assert.equal(read(`nodes/models/icons/${name}`), read(`icons/${name}`));
    }
  });
});

describe('models: package.json node sets', () => {
  it('lists every model node set after the hand-written ones', () => {
    const pkg = JSON.parse(read('package.json'));
    const nodes = pkg['node-red'].nodes as Record<string, string>;
    assert.deepEqual(nodes, syncNodeSets(nodes, specs));
    for (const spec of specs) assert.equal(nodes[spec.file], `nodes/models/${spec.file}.js`);
    assert.equal(nodes['segmind-config'], 'nodes/segmind-config.js');
  });

  it('syncNodeSets keeps other entries, drops models without a spec, and is idempotent', () => {
    const current = {
      'segmind-config': 'nodes/segmind-config.js',
      'old-model': 'nodes/models/old-model.js',
      hallo: 'nodes/models/hallo.js',
      'segmind-await': 'nodes/segmind-await.js',
    };
    const next = syncNodeSets(current, specs);
    assert.deepEqual(Object.keys(next), ['segmind-config', 'segmind-await', ...specs.map((s) => s.file)]);
    assert.deepEqual(syncNodeSets(next, specs), next);
    assert.deepEqual(Object.keys(syncNodeSets(next, specs.slice(0, 2))), ['segmind-config', 'segmind-await', ...specs.slice(0, 2).map((s) => s.file)]);
  });

  it('a new spec needs no hand edit: the generators accept any valid spec', () => {
    const extra: ModelSpec = {
      ...specs[0],
      slug: 'new-model',
      nodeType: 'segmind new-model',
      file: 'new-model',
      title: 'New "Model" <b>',
      translations: undefined,
    };
    const html = buildEditorHtml(extra);
    const { type, def } = loadDefinition(html);
    assert.equal(type, 'segmind new-model');
    assert.equal(def.paletteLabel, 'New "Model" <b>');
    assert.ok(!definitionScript(html).includes('<b>'), 'no raw markup inside the script');
    assert.deepEqual(keyPaths(buildLocaleCatalog(extra, 'de')), keyPaths(buildLocaleCatalog(extra, 'en-US')));
    assert.ok(buildHelpHtml(extra, 'de').includes('payload.pose_style'));
  });
});
