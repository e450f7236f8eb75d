// Scripted request faults and job scripts, each consumed in the order they were added.

import type { Endpoint, JobScript, RequestFault } from './types';

export type FaultKind = RequestFault['kind'];

interface PendingFault {
  fault: RequestFault;
  left: number;
}

export interface FaultTarget {
  endpoint: Endpoint;
  model?: string;
  requestId?: string;
}

/** JSON cannot carry Infinity: the control API accepts null, -1 or "Infinity" for it. */
export function parseTimes(times: unknown): number {
  if (times === undefined) return 1;
  if (times === null || times === -1 || times === 'Infinity' || times === 'infinity') return Infinity;
  if (typeof times === 'number' && (Number.isInteger(times) || times === Infinity) && times >= 0) return times;
  throw new Error(`times: expected a non-negative integer, null or "Infinity", got ${JSON.stringify(times)}`);
}

const FAULT_TYPES = new Set([
  'http',
  'rate_limit',
  'reset_before',
  'reset_after',
  'slow_headers',
  'hold',
  'malformed_json',
  'empty_body',
  'html_405',
  'truncate_body',
  'endless_body',
  'reshape',
]);

/** Checks a fault received as JSON; throws naming the bad field. */
export function validateFault(f: unknown): RequestFault {
  if (!f || typeof f !== 'object') throw new Error(`fault: expected an object, got ${JSON.stringify(f)}`);
  const fault = f as RequestFault;
  const kind = fault.kind as { type?: unknown } | undefined;
  if (!kind || typeof kind !== 'object' || !FAULT_TYPES.has(kind.type as string)) {
    throw new Error(`kind.type: expected one of ${[...FAULT_TYPES].join(', ')}, got ${JSON.stringify(kind?.type)}`);
  }
  if (fault.kind.type === 'http' && !(Number.isInteger(fault.kind.status) && fault.kind.status >= 100 && fault.kind.status <= 599)) {
    throw new Error(`kind.status: expected an HTTP status 100-599, got ${JSON.stringify(fault.kind.status)}`);
  }
  if (fault.kind.type === 'http' && fault.kind.afterHandling !== undefined && typeof fault.kind.afterHandling !== 'boolean') {
    throw new Error(`kind.afterHandling: expected true or false, got ${JSON.stringify(fault.kind.afterHandling)}`);
  }
  if (fault.kind.type === 'slow_headers' && !(typeof fault.kind.delayMs === 'number' && fault.kind.delayMs >= 0)) {
    throw new Error(`kind.delayMs: expected a number >= 0, got ${JSON.stringify(fault.kind.delayMs)}`);
  }
  if (fault.kind.type === 'endless_body') {
    const { chunkBytes, intervalMs } = fault.kind;
    if (chunkBytes !== undefined && !(Number.isInteger(chunkBytes) && chunkBytes >= 1 && chunkBytes <= 16 * 1024 * 1024)) {
      throw new Error(`kind.chunkBytes: expected a whole number 1-16777216, got ${JSON.stringify(chunkBytes)}`);
    }
    if (intervalMs !== undefined && !(typeof intervalMs === 'number' && intervalMs >= 0)) {
      throw new Error(`kind.intervalMs: expected a number >= 0, got ${JSON.stringify(intervalMs)}`);
    }
  }
  if (fault.kind.type === 'reshape') {
    const { drop, set, status } = fault.kind;
    if (drop !== undefined && !(Array.isArray(drop) && drop.every((k) => typeof k === 'string'))) {
      throw new Error(`kind.drop: expected an array of key names, got ${JSON.stringify(drop)}`);
    }
    if (set !== undefined && !(set && typeof set === 'object' && !Array.isArray(set))) {
      throw new Error(`kind.set: expected an object of keys to set, got ${JSON.stringify(set)}`);
    }
    if (status !== undefined && !(Number.isInteger(status) && status >= 100 && status <= 599)) {
      throw new Error(`kind.status: expected an HTTP status 100-599, got ${JSON.stringify(status)}`);
    }
  }
  if (fault.kind.type === 'hold' && fault.kind.maxMs !== undefined && !(typeof fault.kind.maxMs === 'number' && fault.kind.maxMs >= 0)) {
    throw new Error(`kind.maxMs: expected a number >= 0, got ${JSON.stringify(fault.kind.maxMs)}`);
  }
  return { ...fault, times: parseTimes(fault.times) };
}

export class FaultQueue {
  private pending: PendingFault[] = [];

  add(fault: RequestFault): void {
    const left = parseTimes(fault.times);
    if (left > 0) this.pending.push({ fault, left });
  }

  clear(): void {
    this.pending = [];
  }

  get size(): number {
    return this.pending.length;
  }

  /** The first pending fault matching this request, consumed once; undefined if none. */
  take(target: FaultTarget): FaultKind | undefined {
    if (this.pending.length === 0) return undefined; // the common case: no work per request
    for (let i = 0; i < this.pending.length; i++) {
      const p = this.pending[i];
      if (!matches(p.fault, target)) continue;
      if (--p.left <= 0) this.pending.splice(i, 1);
      return p.fault.kind;
    }
    return undefined;
  }
}

function matches(f: RequestFault, t: FaultTarget): boolean {
  if (f.endpoint === undefined) {
    if (t.endpoint === 'output') return false;
  } else if (Array.isArray(f.endpoint) ? !f.endpoint.includes(t.endpoint) : f.endpoint !== t.endpoint) {
    return false;
  }
  if (f.model !== undefined && f.model !== t.model) return false;
  if (f.requestId !== undefined && f.requestId !== t.requestId) return false;
  return true;
}

const OUTCOMES = new Set(['complete', 'fail', 'never', 'unknown_status']);

export function validateJobScript(s: unknown): JobScript {
  if (!s || typeof s !== 'object') throw new Error(`job script: expected an object, got ${JSON.stringify(s)}`);
  const script = s as JobScript;
  if (!OUTCOMES.has(script.outcome)) {
    throw new Error(`outcome: expected one of ${[...OUTCOMES].join(', ')}, got ${JSON.stringify(script.outcome)}`);
  }
  if (script.durationSeconds !== undefined && !(typeof script.durationSeconds === 'number' && script.durationSeconds >= 0)) {
    throw new Error(`durationSeconds: expected a number >= 0, got ${JSON.stringify(script.durationSeconds)}`);
  }
  return { ...script, times: parseTimes(script.times) };
}

export class JobScriptQueue {
  private pending: { script: JobScript; left: number }[] = [];

  add(script: JobScript): void {
    const left = parseTimes(script.times);
    if (left > 0) this.pending.push({ script, left });
  }

  clear(): void {
    this.pending = [];
  }

  /** The first pending script for this model, consumed once. */
  take(model: string): JobScript | undefined {
    for (let i = 0; i < this.pending.length; i++) {
      const p = this.pending[i];
      if (p.script.model !== undefined && p.script.model !== model) continue;
      if (--p.left <= 0) this.pending.splice(i, 1);
      return p.script;
    }
    return undefined;
  }
}
