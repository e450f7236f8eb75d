// Pending jobs as they are persisted: one record per waiting message, behind a three-method store
// that the await node implements with Node-RED's context API (any context store, sync or async).

/** One waiting message, as stored. Plain JSON. */
export interface PendingRecord {
  /** format version */
  v: 1;
  /** unique per waiting message; also its store key suffix */
  key: string;
  requestId: string;
  model?: string;
  statusUrl?: string;
  responseUrl?: string;
  /** epoch ms the job was submitted, when known */
  submittedAt?: number;
  /** epoch ms the message arrived at the await node */
  receivedAt: number;
  /** epoch ms after which the message leaves on the timed-out output */
  deadline: number;
  /** the message, without Buffers and other properties that cannot be stored */
  msg: Record<string, unknown>;
}

export interface JobStore {
  /** every record stored; records that fail validation are dropped (and reported by the implementation) */
  load(): Promise<PendingRecord[]>;
  /** resolves once the record is written (for a persistent store: reached the store) */
  put(record: PendingRecord): Promise<void>;
  /** resolves once the record is gone */
  delete(key: string): Promise<void>;
}

/** Message properties never stored: HTTP In's live request/response objects. */
const LIVE_PROPERTIES = new Set(['req', 'res']);

/**
 * A JSON-safe copy of a message for storage: Buffers, typed arrays, functions, symbols, HTTP In's
 * req/res and circular references are left out; Dates become ISO strings (as JSON does).
 */
export function storableMessage(msg: Record<string, unknown>): Record<string, unknown> {
  const seen = new WeakSet<object>();
  const copy = (value: unknown, depth: number): unknown => {
    if (value === null) return null;
    const t = typeof value;
    if (t === 'string' || t === 'boolean') return value;
    if (t === 'number') return Number.isFinite(value as number) ? value : null;
    if (t === 'bigint') return String(value);
    if (t !== 'object') return undefined; // function, symbol, undefined
    if (Buffer.isBuffer(value) || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return undefined;
    if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.toISOString() : null;
    const obj = value as object;
    if (seen.has(obj) || depth > 64) return undefined;
    seen.add(obj);
    try {
      if (Array.isArray(obj)) return obj.map((v) => copy(v, depth + 1) ?? null);
      const proto = Object.getPrototypeOf(obj);
      if (proto !== Object.prototype && proto !== null) {
        // class instances (sockets, streams, Maps) are live objects, not data, unless they say how to be JSON
        const toJSON = (obj as { toJSON?: unknown }).toJSON;
        return typeof toJSON === 'function' ? copy(toJSON.call(obj), depth + 1) : undefined;
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(obj)) {
        const c = copy(v, depth + 1);
        if (c !== undefined) out[k] = c;
      }
      return out;
    } finally {
      seen.delete(obj);
    }
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(msg)) {
    if (LIVE_PROPERTIES.has(k)) continue;
    const c = copy(v, 1);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

/** Validates a record read back from a store; anything malformed is refused, not trusted. */
export function isPendingRecord(v: unknown): v is PendingRecord {
  if (!v || typeof v !== 'object') return false;
  const r = v as Record<string, unknown>;
  const optString = (x: unknown) => x === undefined || typeof x === 'string';
  const optNumber = (x: unknown) => x === undefined || (typeof x === 'number' && Number.isFinite(x));
  return (
    r.v === 1 &&
    typeof r.key === 'string' && r.key.length > 0 &&
    typeof r.requestId === 'string' && r.requestId.length > 0 &&
    optString(r.model) && optString(r.statusUrl) && optString(r.responseUrl) &&
    optNumber(r.submittedAt) &&
    typeof r.receivedAt === 'number' && Number.isFinite(r.receivedAt) &&
    typeof r.deadline === 'number' && Number.isFinite(r.deadline) &&
    !!r.msg && typeof r.msg === 'object' && !Array.isArray(r.msg)
  );
}

/** An in-memory JobStore (tests and the simulator); behaves like a store that writes instantly. */
export class MemoryJobStore implements JobStore {
  readonly records = new Map<string, PendingRecord>();
  async load(): Promise<PendingRecord[]> {
    return [...this.records.values()].map((r) => JSON.parse(JSON.stringify(r)) as PendingRecord);
  }
  async put(record: PendingRecord): Promise<void> {
    this.records.set(record.key, JSON.parse(JSON.stringify(record)) as PendingRecord);
  }
  async delete(key: string): Promise<void> {
    this.records.delete(key);
  }
}
