// nodes/models/locales/<locale>/<file>.html: the node's help, in the shape of Node-RED's help
// style guide (summary, Inputs, Outputs, Details, References).
import type { ModelSpec, ParamSpec } from '../spec';
import { mediaParams, valueParams } from '../params';
import { escapeHtml } from './html';
import { type Locale, TEXTS, capitalise, specTexts } from './text';

const SEGMIND_DOCS = 'https://docs.segmind.com/serverless-api/async-inference';

function typeOf(p: ParamSpec): string {
  switch (p.type) {
    case 'media':
      return 'string | Buffer';
    case 'integer':
      return 'integer';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
  }
}

export function buildHelpHtml(spec: ModelSpec, locale: Locale): string {
  const t = TEXTS[locale];
  const own = specTexts(spec, locale);
  const out: string[] = [];
  out.push(`<script type="text/html" data-help-name="${escapeHtml(spec.nodeType)}">`);
  out.push(`<p>${escapeHtml(own.summary)}</p>`);
  out.push(`<p>${t.help.intro(spec)}</p>`);

  out.push(`<h3>${t.help.inputs}</h3>`);
  out.push('<dl class="message-properties">');
  for (const p of mediaParams(spec)) {
    out.push(`    <dt>${escapeHtml(p.defaultProperty)} <span class="property-type">${typeOf(p)}</span></dt>`);
    out.push(
      `    <dd>${escapeHtml(own.description(p))} ${t.help.required} ${t.help.mediaForms(p)} ` +
        `${t.help.sentAs} <code>${escapeHtml(p.name)}</code>.</dd>`,
    );
  }
  out.push(`    <dt class="optional">payload <span class="property-type">object</span></dt>`);
  out.push(`    <dd>${t.help.overrideObject}</dd>`);
  for (const p of valueParams(spec)) {
    const cls = p.required ? '' : ' class="optional"';
    const allowed = capitalise(t.allowed(p, true));
    out.push(`    <dt${cls}>payload.${escapeHtml(p.name)} <span class="property-type">${typeOf(p)}</span></dt>`);
    out.push(
      `    <dd>${escapeHtml(own.description(p))} ${escapeHtml(allowed)}. ` +
        `${p.required ? t.help.required : t.help.optional}</dd>`,
    );
  }
  out.push('</dl>');

  out.push(`<h3>${t.help.outputs}</h3>`);
  out.push('<dl class="message-properties">');
  out.push('    <dt>segmind <span class="property-type">object</span></dt>');
  out.push(`    <dd>${t.help.segmind} ${t.help.kept}</dd>`);
  out.push('</dl>');

  out.push(`<h3>${t.help.details}</h3>`);
  for (const para of t.help.detailParagraphs) out.push(`<p>${para}</p>`);

  out.push(`<h3>${t.help.references}</h3>`);
  out.push('<ul>');
  out.push(`    <li><a href="${escapeHtml(spec.pageUrl)}">${escapeHtml(spec.title)}</a> - ${t.help.modelPage}</li>`);
  out.push(`    <li><a href="${SEGMIND_DOCS}">docs.segmind.com</a> - ${t.help.docs}</li>`);
  out.push('</ul>');
  out.push('</script>');
  return `${out.join('\n')}\n`;
}
