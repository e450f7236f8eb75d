// The "node-red"."nodes" section of package.json, kept in step with the specs so that adding a
// model needs no hand edit: hand-written node sets stay as they are and in their order, then one
// entry per spec in spec order; model entries without a spec are dropped.
import type { ModelSpec } from '../spec';

export const MODELS_DIR = 'nodes/models';

export function modelNodePath(spec: ModelSpec): string {
  return `${MODELS_DIR}/${spec.file}.js`;
}

export function syncNodeSets(current: Record<string, string>, specs: readonly ModelSpec[]): Record<string, string> {
  const next: Record<string, string> = {};
  const files = new Set(specs.map((s) => s.file));
  for (const [name, file] of Object.entries(current)) {
    if (file.startsWith(`${MODELS_DIR}/`) || files.has(name)) continue;
    next[name] = file;
  }
  for (const spec of specs) next[spec.file] = modelNodePath(spec);
  return next;
}
