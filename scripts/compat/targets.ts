// The compatibility matrix: which Node-RED release line runs on which Node.js line.
// Node-RED 5 needs Node >= 22.9; 3.1 and 4.1 run on Node 20. 4.1 also runs on 22 (what
// current Home Assistant and Docker images ship), so it is proven on both.
import path from 'node:path';

export interface CompatTarget {
  /** short id, also the folder name under .cache/compat/ holding this Node-RED line */
  id: string;
  /** Node-RED release line, e.g. '3.1' (we install the newest patch of it) */
  nodeRedLine: string;
  /** Node.js major line, e.g. '22' */
  nodeLine: string;
}

export const TARGETS: CompatTarget[] = [
  { id: 'nr-3.1@node20', nodeRedLine: '3.1', nodeLine: '20' },
  { id: 'nr-4.1@node20', nodeRedLine: '4.1', nodeLine: '20' },
  { id: 'nr-4.1@node22', nodeRedLine: '4.1', nodeLine: '22' },
  { id: 'nr-5.0@node22', nodeRedLine: '5.0', nodeLine: '22' },
];

/** Repository root (scripts/compat/ is two levels below it). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** Everything downloaded lives here: gitignored, survives between runs. */
export const CACHE_DIR = path.join(REPO_ROOT, '.cache', 'compat');
/** npm's own download cache, kept inside the clone so a second run needs no network. */
export const NPM_CACHE_DIR = path.join(CACHE_DIR, 'npm-cache');

export function nodeRedDir(line: string): string {
  return path.join(CACHE_DIR, `nr-${line}`);
}

export function nodeDir(line: string): string {
  return path.join(CACHE_DIR, `node${line}`);
}

/** Keeps only the targets whose id contains one of the filters (COMPAT_ONLY=5.0,3.1). */
export function selectTargets(filter: string | undefined): CompatTarget[] {
  const parts = (filter ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) return TARGETS;
  const chosen = TARGETS.filter((t) => parts.some((p) => t.id.includes(p)));
  if (chosen.length === 0) {
    throw new Error(
      `COMPAT_ONLY=${JSON.stringify(filter)} matches no target; allowed ids: ${TARGETS.map((t) => t.id).join(', ')}`,
    );
  }
  return chosen;
}
