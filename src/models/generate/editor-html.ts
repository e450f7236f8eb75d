// nodes/models/<file>.html: the editor definition of one model node. registerType and its
// defaults stay literal object expressions because node-red-dev validate and the editor's
// registry read them without running the code; validators are self-contained for the same reason.
import type { MediaParam, ModelSpec, ParamSpec } from '../spec';
import { MAX_TEXT_LENGTH, mediaParams } from '../params';
import { escapeHtml, jsLiteral } from './html';

export const PALETTE_CATEGORY = 'Segmind';
export const NODE_COLOR = '#8FB3E8';
export const DEFAULT_MAX_MEDIA_MB = 50;
export const MEDIA_TYPES = ['msg', 'flow', 'global', 'env', 'str'];

/** Node properties every model node has besides its parameters (a parameter must not reuse them). */
export const FIXED_PROPERTIES = ['name', 'config', 'paramsProperty', 'paramsPropertyType', 'maxMediaMB'];
/** Properties Node-RED itself puts on every node. */
export const RESERVED_PROPERTIES = ['id', 'type', 'x', 'y', 'z', 'g', 'wires', 'info', 'd', 'l'];

const NUMERIC_SOURCE = String.raw`/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/`;

/**
 * What an invalid value's validator returns: the reason from the node's catalog (Node-RED 3.1+
 * shows a string from a two-argument validator beside the field), or false where no catalog is at
 * hand. Inline, because validators must be self-contained.
 */
function reason(ns: string, key: string): string {
  return `(this && typeof this._ === 'function' ? this._(${jsLiteral(`${ns}.invalid.${key}`)}) : false)`;
}

function validator(ns: string, p: ParamSpec): string {
  const bad = reason(ns, p.name);
  switch (p.type) {
    case 'media':
      return `RED.validators.typedInput(${jsLiteral(`${p.name}Type`)})`;
    case 'integer':
    case 'number': {
      const tests = ['isFinite(n)'];
      if (p.type === 'integer') tests.push('Math.floor(n) === n');
      if (p.min !== undefined) tests.push(`n >= ${p.min}`);
      if (p.max !== undefined) tests.push(`n <= ${p.max}`);
      if (p.allowed) tests.push(`${jsLiteral(p.allowed)}.indexOf(n) !== -1`);
      return (
        `function (v, opt) { if (v === '' || v === undefined || v === null) { return true; } ` +
        `var s = String(v).trim(); if (!${NUMERIC_SOURCE}.test(s)) { return ${bad}; } ` +
        `var n = Number(s); return (${tests.join(' && ')}) || ${bad}; }`
      );
    }
    case 'string':
      if (p.allowed) {
        return `function (v, opt) { return v === '' || v === undefined || ${jsLiteral(p.allowed)}.indexOf(v) !== -1 || ${bad}; }`;
      }
      return `function (v, opt) { return v === undefined || v === null || String(v).length <= ${MAX_TEXT_LENGTH} || ${bad}; }`;
    case 'boolean':
      return `function (v, opt) { return v === true || v === false || v === 'true' || v === 'false' || v === '' || v === undefined || ${bad}; }`;
  }
}

function defaultsSource(spec: ModelSpec): string {
  const ns = spec.file;
  const lines: string[] = [
    `name: { value: '' }`,
    `config: { type: 'segmind-config', required: true }`,
  ];
  for (const p of spec.params) {
    if (p.type === 'media') {
      lines.push(`${p.name}: { value: ${jsLiteral(p.defaultProperty)}, required: true, validate: ${validator(ns, p)} }`);
      lines.push(`${p.name}Type: { value: 'msg' }`);
    } else {
      const value = p.default === undefined ? '' : p.default;
      lines.push(`${p.name}: { value: ${jsLiteral(value)}, validate: ${validator(ns, p)} }`);
    }
  }
  lines.push(`paramsProperty: { value: 'payload' }`);
  lines.push(`paramsPropertyType: { value: 'msg' }`);
  // blank (older flows) means the runtime default; otherwise a positive number of megabytes
  lines.push(
    `maxMediaMB: { value: ${DEFAULT_MAX_MEDIA_MB}, validate: function (v, opt) { if (v === '' || v === undefined || v === null) { return true; } ` +
      `var s = String(v).trim(); return (${NUMERIC_SOURCE}.test(s) && isFinite(Number(s)) && Number(s) > 0) || ${reason(ns, 'maxMediaMB')}; } }`,
  );
  return lines.map((l) => `            ${l}`).join(',\n');
}

const ICONS: Record<string, string> = {
  image: 'fa-picture-o',
  audio: 'fa-volume-up',
  video: 'fa-film',
  'image-or-video': 'fa-picture-o',
  integer: 'fa-sliders',
  number: 'fa-sliders',
  enum: 'fa-list',
  text: 'fa-comment',
  boolean: 'fa-check-square-o',
};

function iconFor(p: ParamSpec): string {
  if (p.type === 'media') return ICONS[p.media];
  if (p.type === 'string') return p.allowed ? ICONS.enum : ICONS.text;
  return ICONS[p.type];
}

function labelHtml(ns: string, id: string, key: string, icon: string): string {
  return `<label for="node-input-${id}"><i class="fa ${icon}"></i> <span data-i18n="${ns}.label.${key}"></span></label>`;
}

function options(values: ReadonlyArray<string | number>): string {
  return values.map((v) => escapeHtml(String(v))).map((s) => `<option value="${s}">${s}</option>`).join('');
}

/** Beside-the-field text: under the input, lined up with it, in the editor's secondary colour. */
export const HINT_STYLE = 'margin: 4px 0 0 104px; font-size: 12px; line-height: 1.35; color: var(--red-ui-secondary-text-color, #777);';

/** The visible line under a field saying what it accepts. */
function hintHtml(ns: string, key: string): string {
  return `<div class="segmind-hint" style="${HINT_STYLE}" data-i18n="${ns}.hint.${key}"></div>`;
}

function paramRow(ns: string, p: ParamSpec): string {
  const tip = `${ns}.tip.${p.name}`;
  const placeholder = `${ns}.placeholder.${p.name}`;
  const id = `node-input-${p.name}`;
  let field: string;
  switch (p.type) {
    case 'media':
      field =
        `<input type="text" id="${id}" style="width:70%" data-i18n="[title]${tip}">\n` +
        `        <input type="hidden" id="${id}Type">`;
      break;
    case 'integer':
    case 'number':
      if (p.allowed) {
        field = `<select id="${id}" style="width:70%" data-i18n="[title]${tip}">${options(p.allowed)}</select>`;
      } else {
        const attrs = [
          p.min !== undefined ? `min="${p.min}"` : '',
          p.max !== undefined ? `max="${p.max}"` : '',
          `step="${p.type === 'integer' ? '1' : 'any'}"`,
        ]
          .filter(Boolean)
          .join(' ');
        field = `<input type="number" id="${id}" ${attrs} style="width:70%" data-i18n="[placeholder]${placeholder};[title]${tip}">`;
      }
      break;
    case 'string':
      if (p.allowed) {
        field = `<select id="${id}" style="width:70%" data-i18n="[title]${tip}">${options(p.allowed)}</select>`;
      } else if (p.multiline) {
        field = `<textarea id="${id}" rows="4" maxlength="${MAX_TEXT_LENGTH}" style="width:70%; resize:vertical;" data-i18n="[placeholder]${placeholder};[title]${tip}"></textarea>`;
      } else {
        field = `<input type="text" id="${id}" maxlength="${MAX_TEXT_LENGTH}" style="width:70%" data-i18n="[placeholder]${placeholder};[title]${tip}">`;
      }
      break;
    case 'boolean':
      field = `<input type="checkbox" id="${id}" style="display:inline-block; width:auto; vertical-align:top;" data-i18n="[title]${tip}">`;
      break;
  }
  return `    <div class="form-row">\n        ${labelHtml(ns, p.name, p.name, iconFor(p))}\n        ${field}\n        ${hintHtml(ns, p.name)}\n    </div>`;
}

function templateHtml(spec: ModelSpec): string {
  const ns = spec.file;
  const rows: string[] = [
    `    <div class="form-row">\n        ${labelHtml(ns, 'config', 'config', 'fa-key')}\n        <input type="text" id="node-input-config">\n    </div>`,
  ];
  for (const p of spec.params) rows.push(paramRow(ns, p));
  rows.push(
    `    <div class="form-row">\n        ${labelHtml(ns, 'paramsProperty', 'paramsProperty', 'fa-sign-in')}\n` +
      `        <input type="text" id="node-input-paramsProperty" style="width:70%" data-i18n="[title]${ns}.placeholder.paramsProperty">\n` +
      `        <input type="hidden" id="node-input-paramsPropertyType">\n        ${hintHtml(ns, 'paramsProperty')}\n    </div>`,
  );
  rows.push(
    `    <div class="form-row">\n        ${labelHtml(ns, 'maxMediaMB', 'maxMediaMB', 'fa-hdd-o')}\n` +
      `        <input type="number" id="node-input-maxMediaMB" min="1" step="any" style="width:70%" data-i18n="[placeholder]${ns}.placeholder.maxMediaMB;[title]${ns}.placeholder.maxMediaMB">\n        ${hintHtml(ns, 'maxMediaMB')}\n    </div>`,
  );
  rows.push(
    `    <div class="form-row">\n        ${labelHtml(ns, 'name', 'name', 'fa-tag')}\n` +
      `        <input type="text" id="node-input-name" data-i18n="[placeholder]${ns}.label.name">\n    </div>`,
  );
  return `<script type="text/html" data-template-name="${escapeHtml(spec.nodeType)}">\n${rows.join('\n')}\n</script>\n`;
}

function mediaSetup(media: MediaParam[]): string {
  return media
    .map(
      (p) =>
        `            $(${jsLiteral(`#node-input-${p.name}`)}).typedInput({ default: 'msg', typeField: ${jsLiteral(
          `#node-input-${p.name}Type`,
        )}, types: ${jsLiteral(MEDIA_TYPES)} });`,
    )
    .join('\n');
}

/**
 * The palette breaks labels at '-' and puts the parts back with spaces ("V - Express"); a
 * non-breaking hyphen (U+2011) keeps the name as it is written.
 */
export function paletteLabel(title: string): string {
  return title.replace(/-/g, '\u2011');
}

function definitionScript(spec: ModelSpec): string {
  const ns = spec.file;
  return `<script type="text/javascript">
    RED.nodes.registerType(${jsLiteral(spec.nodeType)}, {
        category: ${jsLiteral(PALETTE_CATEGORY)},
        color: ${jsLiteral(NODE_COLOR)},
        defaults: {
${defaultsSource(spec)}
        },
        inputs: 1,
        outputs: 1,
        icon: ${jsLiteral(spec.icon)},
        paletteLabel: ${jsLiteral(paletteLabel(spec.title))},
        label: function () { return this.name || ${jsLiteral(spec.title)}; },
        labelStyle: function () { return this.name ? 'node_label_italic' : ''; },
        inputLabels: function () { return this._(${jsLiteral(`${ns}.label.input`)}); },
        outputLabels: function () { return this._(${jsLiteral(`${ns}.label.output`)}); },
        oneditprepare: function () {
${mediaSetup(mediaParams(spec))}
            $('#node-input-paramsProperty').typedInput({ default: 'msg', typeField: '#node-input-paramsPropertyType', types: ['msg'] });
        }
    });
</script>
`;
}

export function buildEditorHtml(spec: ModelSpec): string {
  return `<!-- Generated by scripts/build-nodes.ts from src/models/specs/${spec.file}.ts: edit the spec, not this file. -->\n${definitionScript(spec)}\n${templateHtml(spec)}`;
}
