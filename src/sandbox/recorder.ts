// Append-only log of what clients sent, so tests can assert on the wire (never the key itself).

import type { IncomingMessage } from 'node:http';
import type { Endpoint, RecordedRequest } from './types';

const MAX_RECORDED_BODY = 64 * 1024;

export type RecordFilter = Partial<Pick<RecordedRequest, 'endpoint' | 'method' | 'listener' | 'model'>>;

export class Recorder {
  /** one array for the sandbox's life: reset empties it in place so held references stay live */
  readonly list: RecordedRequest[] = [];
  private seq = 0;

  constructor(
    public enabled: boolean,
    private readonly isValidKey: (key: string) => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts a record for an arriving request; the caller fills in body and status. Null when disabled. */
  start(
    req: IncomingMessage,
    listener: 'api' | 'files',
    endpoint: Endpoint,
    ids: { model?: string; requestId?: string },
  ): RecordedRequest | null {
    if (!this.enabled) return null;
    const headers: Record<string, string> = {};
    for (const name in req.headers) {
      if (name === 'x-api-key') continue;
      const v = req.headers[name];
      headers[name] = Array.isArray(v) ? v.join(', ') : (v ?? '');
    }
    const key = req.headers['x-api-key'];
    const keyText = Array.isArray(key) ? key[0] : key;
    const rec: RecordedRequest = {
      seq: ++this.seq,
      time: this.now(),
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      endpoint,
      listener,
      headers,
      apiKeyPresent: key !== undefined,
      apiKeyValid: keyText !== undefined && this.isValidKey(keyText),
      status: 0,
    };
    if (ids.model !== undefined) rec.model = ids.model;
    if (ids.requestId !== undefined) rec.requestId = ids.requestId;
    this.list.push(rec);
    return rec;
  }

  static bodyOf(raw: Buffer): unknown {
    if (raw.length === 0) return undefined;
    if (raw.length > MAX_RECORDED_BODY) return { bytes: raw.length };
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      return undefined;
    }
  }

  clear(): void {
    this.list.length = 0;
  }

  count(filter: RecordFilter = {}): number {
    let n = 0;
    for (const r of this.list) {
      if (filter.endpoint !== undefined && r.endpoint !== filter.endpoint) continue;
      if (filter.method !== undefined && r.method !== filter.method) continue;
      if (filter.listener !== undefined && r.listener !== filter.listener) continue;
      if (filter.model !== undefined && r.model !== filter.model) continue;
      n++;
    }
    return n;
  }
}
