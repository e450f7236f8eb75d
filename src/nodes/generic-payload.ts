// Pure checks of the generic node's inputs: the model slug, the editor's JSON, JSON-ability.

/**
 * Segmind slugs as seen on segmind.com: lowercase letters, digits, '.', '_', '-' (e.g.
 * 'sync.so-react-1', 'flux-schnell'), starting with a letter or digit, at most 100 characters.
 * '/', '..', spaces, '?', '#' and uppercase could change the URL path or cannot be a model name.
 */
const SLUG = /^[a-z0-9][a-z0-9._-]{0,99}$/;

export function checkSlug(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  return SLUG.test(s) && !s.includes('..') ? s : undefined;
}

export type EditorJson =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; notObject: boolean; message: string };

/** The node's JSON setting; empty means {}. */
export function parseEditorJson(text: unknown): EditorJson {
  if (text === undefined || text === null || (typeof text === 'string' && text.trim() === '')) {
    return { ok: true, value: {} };
  }
  if (typeof text === 'object' && !Array.isArray(text)) return { ok: true, value: text as Record<string, unknown> };
  let value: unknown;
  try {
    value = JSON.parse(String(text));
  } catch (err) {
    return { ok: false, notObject: false, message: (err as Error).message };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, notObject: true, message: Array.isArray(value) ? 'an array' : JSON.stringify(value) };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/**
 * The first value below `path` that JSON cannot carry faithfully (functions, symbols, bigints,
 * NaN/Infinity, undefined in arrays, cycles, nested Buffers), or undefined when all is plain JSON.
 */
export function jsonProblem(value: unknown, path: string, seen = new Set<object>()): { path: string; value: unknown } | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : { path, value };
    case 'undefined':
      return undefined; // dropped by JSON.stringify at object level, like an absent key
    case 'object': {
      if (value === null) return undefined;
      if (Buffer.isBuffer(value) || value instanceof Uint8Array || seen.has(value)) return { path, value };
      if (value instanceof Date) return undefined;
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (value[i] === undefined) return { path: `${path}[${i}]`, value: undefined };
          const p = jsonProblem(value[i], `${path}[${i}]`, seen);
          if (p) return p;
        }
      } else {
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          const p = jsonProblem(v, `${path}.${k}`, seen);
          if (p) return p;
        }
      }
      seen.delete(value);
      return undefined;
    }
    default:
      return { path, value };
  }
}
