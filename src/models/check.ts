// Consistency rules for the spec list, checked by the build and the tests: a bad spec should
// fail loudly at build time, not as a broken node in someone's editor.
import type { ModelSpec } from './spec';
import { FIXED_PROPERTIES, RESERVED_PROPERTIES } from './generate/editor-html';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const FILE_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** Problems with the specs, one line each; empty when all is well. */
export function checkSpecs(specs: readonly ModelSpec[]): string[] {
  const problems: string[] = [];
  const seen = { slug: new Set<string>(), nodeType: new Set<string>(), file: new Set<string>() };
  for (const spec of specs) {
    const where = `spec ${spec.slug}`;
    for (const key of ['slug', 'nodeType', 'file'] as const) {
      if (seen[key].has(spec[key])) problems.push(`${where}: duplicate ${key} ${JSON.stringify(spec[key])}`);
      seen[key].add(spec[key]);
    }
    if (!FILE_NAME.test(spec.file)) problems.push(`${where}: file ${JSON.stringify(spec.file)} must be lower-case letters, digits and dashes`);
    if (!spec.nodeType.startsWith('segmind ')) problems.push(`${where}: nodeType should start with "segmind "`);
    if (!(spec.typicalSeconds > 0)) problems.push(`${where}: typicalSeconds must be positive`);
    const names = new Set<string>();
    for (const p of spec.params) {
      const at = `${where} param ${p.name}`;
      if (!IDENTIFIER.test(p.name)) problems.push(`${at}: name must be a JavaScript identifier (editor defaults key)`);
      if (names.has(p.name)) problems.push(`${at}: duplicate name`);
      names.add(p.name);
      if (FIXED_PROPERTIES.includes(p.name) || RESERVED_PROPERTIES.includes(p.name)) {
        problems.push(`${at}: name clashes with a node property`);
      }
      if (p.type === 'media') {
        if (names.has(`${p.name}Type`)) problems.push(`${at}: ${p.name}Type clashes with a parameter`);
      } else if (p.type === 'integer' || p.type === 'number') {
        if (p.min !== undefined && p.max !== undefined && p.min > p.max) problems.push(`${at}: min > max`);
        if (p.default !== undefined) {
          if (p.type === 'integer' && !Number.isInteger(p.default)) problems.push(`${at}: default is not an integer`);
          if ((p.min !== undefined && p.default < p.min) || (p.max !== undefined && p.default > p.max)) {
            problems.push(`${at}: default out of range`);
          }
          if (p.allowed && !p.allowed.includes(p.default)) problems.push(`${at}: default not allowed`);
        }
      } else if (p.type === 'string') {
        if (p.allowed && p.default !== undefined && !p.allowed.includes(p.default)) problems.push(`${at}: default not allowed`);
      }
    }
    for (const [lang, t] of Object.entries(spec.translations ?? {})) {
      for (const p of spec.params) {
        if (!t.params[p.name]) problems.push(`${where}: translation ${lang} lacks param ${p.name}`);
      }
      for (const name of Object.keys(t.params)) {
        if (!names.has(name)) problems.push(`${where}: translation ${lang} has unknown param ${name}`);
      }
    }
  }
  return problems;
}
