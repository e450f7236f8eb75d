// What each benchmark part hands back: plain JSON, so a part can run in its own process and its
// result can be kept on disk and folded into BENCHMARKS.md later.
import type { Table } from './table';
import type { Point } from './chart';

export type PartId = 'a' | 'b' | 'c' | 'd' | 'e';

export interface Target {
  /** what is measured, e.g. 'sadtalker: status requests vs fixed 2 s' */
  name: string;
  /** the figure reached, formatted */
  value: string;
  /** the limit, formatted, e.g. '<= 25 %' */
  limit: string;
  pass: boolean;
}

export interface PartReport {
  part: PartId;
  title: string;
  /** ISO time the part started */
  startedAt: string;
  durationSeconds: number;
  /** how it was measured, one paragraph per entry */
  method: string[];
  tables: Table[];
  targets: Target[];
  /** observations, and for any miss: why and what would fix it */
  notes: string[];
  chart?: { title: string; subtitle: string; points: Point[]; target?: { xMax: number; yMax: number; label: string }; line?: { label: string; points: Array<{ x: number; y: number }> } };
  /** the raw figures behind the tables */
  data: unknown;
  /** set when the part could not run to the end */
  error?: string;
}

export function target(name: string, value: number, limit: number, unit: string, digits: number, cmp: '<=' | '>=' | '=='): Target {
  const pass = cmp === '<=' ? value <= limit : cmp === '>=' ? value >= limit : value === limit;
  const f = (x: number) => `${Number.isFinite(x) ? x.toFixed(digits) : String(x)}${unit}`;
  return { name, value: f(value), limit: `${cmp === '==' ? '=' : cmp === '<=' ? '≤' : '≥'} ${f(limit)}`, pass };
}
