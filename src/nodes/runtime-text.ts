// Runtime texts (status, errors) of every Segmind model node and the generic node. They live in
// one catalog, nodes/locales/<lang>/segmind-model.json (the generic node's), so the generated
// model nodes share them: keys are addressed with that catalog's explicit Node-RED namespace
// ('<package>/segmind-model:segmind-model.<key>'). When Node-RED has no translation at hand
// (the catalog set disabled, or a runtime whose RED._ is a stub), the English catalog bundled
// at build time answers, so a message never degrades to a bare key.
import type { NodeAPI } from 'node-red';
import english from '../../nodes/locales/en-US/segmind-model.json';
import { name as packageName } from '../../package.json';

export const TEXT_NAMESPACE = `${packageName}/segmind-model`;
const ROOT = 'segmind-model';

export type Translate = (key: string, params?: Record<string, unknown>) => string;

/**
 * A translator for runtime texts. `ownRoot`, when given, is first looked up in the calling node
 * set's own catalog (generated model nodes repeat the shared texts under their own root key);
 * then the generic node's catalog by its explicit namespace; then the bundled English.
 */
export function runtimeText(RED: NodeAPI, ownRoot?: string): Translate {
  const translate = RED._ as (k: string, p?: Record<string, unknown>) => string;
  const attempt = (fullKey: string, relative: string, params?: Record<string, unknown>): string | undefined => {
    let out: unknown;
    try {
      out = translate(fullKey, params);
    } catch {
      return undefined;
    }
    // i18next answers a missing key with the key itself (a stub RED._ with the whole argument)
    return typeof out === 'string' && out !== '' && !out.endsWith(relative) ? out : undefined;
  };
  return (key, params) => {
    if (ownRoot) {
      const own = attempt(`${ownRoot}.${key}`, `${ownRoot}.${key}`, params);
      if (own !== undefined) return own;
    }
    const full = `${ROOT}.${key}`;
    const shared = attempt(`${TEXT_NAMESPACE}:${full}`, full, params);
    if (shared !== undefined) return shared;
    const template = lookup(english as Record<string, unknown>, full);
    return typeof template === 'string' ? interpolate(template, params) : full;
  };
}

function lookup(tree: Record<string, unknown>, path: string): unknown {
  let at: unknown = tree;
  for (const part of path.split('.')) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** Node-RED's interpolation syntax: __name__ */
function interpolate(template: string, params: Record<string, unknown> = {}): string {
  return template.replace(/__([A-Za-z0-9_]+?)__/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}
