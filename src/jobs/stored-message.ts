// The copy of a message the job ledger keeps on disk: plain JSON, bounded in size. The live message
// (Buffers and all) travels in memory; this copy is what a restart has to go on with.

/** Message properties never stored: HTTP In's live request/response objects. */
const LIVE_PROPERTIES = new Set(['req', 'res']);

/**
 * Strings longer than this are left out of the stored copy (their paths listed): a 3 MB data-URI
 * audio clip in every pending record made the old context file 84 MB, rewritten on every change.
 */
export const MAX_STORED_STRING = 16 * 1024;
/** The whole stored copy stays below this many characters of JSON; larger properties go first. */
export const MAX_STORED_MESSAGE = 256 * 1024;

export interface StoredMessage {
  msg: Record<string, unknown>;
  /** property paths left out (Buffers, long strings, what did not fit), e.g. "audio", "payload.image" */
  dropped: string[];
}

/**
 * A JSON-safe, bounded copy of a message for the ledger: Buffers, typed arrays, functions, symbols,
 * HTTP In's req/res, circular references and strings above MAX_STORED_STRING are left out and
 * listed; Dates become ISO strings (as JSON does). The original is not touched.
 */
export function storedMessage(msg: Record<string, unknown>): StoredMessage {
  const dropped: string[] = [];
  const seen = new WeakSet<object>();
  const copy = (value: unknown, path: string, depth: number): unknown => {
    if (value === null) return null;
    const t = typeof value;
    if (t === 'string') {
      if ((value as string).length > MAX_STORED_STRING) {
        dropped.push(path);
        return undefined;
      }
      return value;
    }
    if (t === 'boolean') return value;
    if (t === 'number') return Number.isFinite(value as number) ? value : null;
    if (t === 'bigint') return String(value);
    if (t !== 'object') return undefined; // function, symbol, undefined
    if (Buffer.isBuffer(value) || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
      dropped.push(path);
      return undefined;
    }
    if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.toISOString() : null;
    const obj = value as object;
    if (seen.has(obj) || depth > 64) return undefined;
    seen.add(obj);
    try {
      if (Array.isArray(obj)) return obj.map((v, i) => copy(v, `${path}[${i}]`, depth + 1) ?? null);
      const proto = Object.getPrototypeOf(obj);
      if (proto !== Object.prototype && proto !== null) {
        // class instances (sockets, streams, Maps) are live objects, not data, unless they say how to be JSON
        const toJSON = (obj as { toJSON?: unknown }).toJSON;
        return typeof toJSON === 'function' ? copy(toJSON.call(obj), path, depth + 1) : undefined;
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(obj)) {
        const c = copy(v, path ? `${path}.${k}` : k, depth + 1);
        if (c !== undefined) out[k] = c;
      }
      return out;
    } finally {
      seen.delete(obj);
    }
  };
  const out: Record<string, unknown> = {};
  const sizes: Array<[string, number]> = [];
  let total = 2;
  for (const [k, v] of Object.entries(msg)) {
    if (LIVE_PROPERTIES.has(k)) continue;
    const c = copy(v, k, 1);
    if (c === undefined) continue;
    out[k] = c;
    const size = JSON.stringify(c)?.length ?? 0;
    sizes.push([k, size]);
    total += size + k.length + 4;
  }
  if (total > MAX_STORED_MESSAGE) {
    // the largest top-level properties go until the rest fits; msg.segmind (the job) always stays
    sizes.sort((a, b) => b[1] - a[1]);
    for (const [k, size] of sizes) {
      if (total <= MAX_STORED_MESSAGE) break;
      if (k === 'segmind' || k === '_msgid') continue;
      delete out[k];
      dropped.push(k);
      total -= size + k.length + 4;
    }
  }
  return { msg: out, dropped };
}

/** The stored copy alone (no list): for callers that only need JSON-safe data. */
export function storableMessage(msg: Record<string, unknown>): Record<string, unknown> {
  return storedMessage(msg).msg;
}
