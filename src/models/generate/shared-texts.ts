// Where the shared runtime texts of model nodes come from at build time: the generic node's
// catalog, which the runtime (src/nodes/runtime-text.ts) treats as their source.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Locale, SharedTexts } from './text';

/** nodes/locales/<locale>/segmind-model.json, key "segmind-model" */
export const GENERIC_CATALOG = { file: 'segmind-model.json', root: 'segmind-model' };

/** The status and errors trees of the generic catalog, or undefined when it has none. */
export function readSharedTexts(packageRoot: string, locale: Locale): SharedTexts | undefined {
  const file = path.join(packageRoot, 'nodes', 'locales', locale, GENERIC_CATALOG.file);
  if (!fs.existsSync(file)) return undefined;
  const catalog = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
  const tree = catalog[GENERIC_CATALOG.root];
  const isTree = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!tree || !isTree(tree.status) || !isTree(tree.errors)) return undefined;
  return { status: tree.status, errors: tree.errors };
}
