// The example flows (examples/flows/*.json) as Node-RED flows: one tab per example, all sharing
// the examples' one config node (the built-in sandbox, or Segmind when the demo is given a key).
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT } from './start-node-red';

export const EXAMPLES_DIR = join(REPO_ROOT, 'examples', 'flows');

export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  name?: string;
  [key: string]: unknown;
}

export interface Example {
  /** file name without .json, e.g. '01-sadtalker' */
  name: string;
  nodes: FlowNode[];
}

export function readExamples(dir = EXAMPLES_DIR): Example[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: basename(f, '.json'), nodes: JSON.parse(readFileSync(join(dir, f), 'utf8')) as FlowNode[] }));
}

/** True for node types without a place on a tab (config nodes such as segmind-config). */
function isConfig(node: FlowNode): boolean {
  return node.type === 'segmind-config';
}

/** The example's title: its comment node's name, else the file name. */
export function exampleTitle(example: Example): string {
  const comment = example.nodes.find((n) => n.type === 'comment' && typeof n.name === 'string');
  return (comment?.name as string | undefined) ?? example.name;
}

/** The tab id an example gets in the demo. */
export function demoTabId(example: Example): string {
  return `demo-tab-${example.name}`;
}

/**
 * All examples on their own tabs, sharing one config node (each example file has its own, so that
 * importing several from the editor never conflicts). `config` changes that config node (the demo
 * points it at Segmind when given a key); by default it stays the built-in sandbox.
 */
export function demoFlows(examples: Example[], config: Record<string, unknown> = {}): FlowNode[] {
  const flows: FlowNode[] = [];
  let shared: FlowNode | undefined;
  const configIds = new Set<string>();
  for (const example of examples) {
    const tabId = demoTabId(example);
    flows.push({ id: tabId, type: 'tab', label: exampleTitle(example).replace(/ example$/i, ''), disabled: false, info: '' });
    for (const node of example.nodes) {
      if (isConfig(node)) {
        configIds.add(node.id);
        shared ??= { ...node, ...config };
      } else flows.push({ ...node, z: tabId });
    }
  }
  if (!shared) return flows;
  const sharedId = shared.id;
  return [...flows.map((n) => (typeof n.config === 'string' && configIds.has(n.config) ? { ...n, config: sharedId } : n)), shared];
}
