// nodes/models/locales/<locale>/<file>.json: the model's editor labels under its file key, plus
// the runtime texts every model node shares under SHARED_KEY (Node-RED gives each node set its
// own catalog, so the shared part is repeated in every model's file).
import type { ModelSpec } from '../spec';
import { type Locale, type SharedTexts, SHARED_KEY, TEXTS, specTexts, capitalise } from './text';

export type LocaleCatalog = Record<string, unknown>;

/**
 * The catalog of one model in one locale. `shared` are the runtime status and error texts; the
 * build passes the ones of the generic node's catalog (nodes/locales/<locale>/segmind-model.json,
 * the runtime's source of these texts) so both stay identical; without it, built-in defaults.
 */
export function buildLocaleCatalog(spec: ModelSpec, locale: Locale, shared?: SharedTexts): LocaleCatalog {
  const common = TEXTS[locale];
  const own = specTexts(spec, locale);
  const label: Record<string, string> = { name: common.label.name, config: common.label.config };
  const placeholder: Record<string, string> = {};
  const tip: Record<string, string> = {};
  // hint: the visible line under each field saying what it accepts; invalid: why a value is refused
  const hint: Record<string, string> = {};
  const invalid: Record<string, string> = {};
  for (const p of spec.params) {
    label[p.name] = own.label(p);
    placeholder[p.name] = p.type === 'media' ? common.placeholder.media : common.allowed(p, true);
    tip[p.name] = `${own.description(p)} ${capitalise(common.allowed(p, true))}.`;
    hint[p.name] = p.type === 'media' ? common.mediaHint(p) : capitalise(common.allowed(p, true));
    if (p.type !== 'media') invalid[p.name] = common.invalid.param(common.allowed(p, false));
  }
  hint.paramsProperty = capitalise(common.hint.paramsProperty);
  hint.maxMediaMB = capitalise(common.hint.maxMediaMB);
  invalid.maxMediaMB = common.invalid.maxMediaMB;
  label.paramsProperty = common.label.paramsProperty;
  label.maxMediaMB = common.label.maxMediaMB;
  label.input = common.label.input;
  label.output = common.label.output;
  placeholder.paramsProperty = common.placeholder.paramsProperty;
  placeholder.maxMediaMB = common.placeholder.maxMediaMB;
  return {
    [spec.file]: { paletteLabel: spec.title, summary: own.summary, label, placeholder, tip, hint, invalid },
    [SHARED_KEY]: shared ?? { status: { ...common.status }, errors: { ...common.errors } },
  };
}

export function catalogJson(catalog: LocaleCatalog): string {
  return `${JSON.stringify(catalog, null, 4)}\n`;
}
