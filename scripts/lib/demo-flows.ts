// The example flows (examples/flows/*.json) as Node-RED flows: one tab per example, all sharing
// the one segmind-config node, which is pointed at the sandbox or at Segmind's API.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT } from './start-node-red';

export const EXAMPLES_DIR = join(REPO_ROOT, 'examples', 'flows');
/** The demo sandbox's port: the example flows' config node points at it. */
export const SANDBOX_PORT = 8990;
/** API-time multiplier of the demo and the examples: a 107 s SadTalker job takes about 3 s. */
export const DEMO_TIME_SCALE = 0.03;
/** The examples' config node name; the demo's sandbox config uses it too, so an example imported
 * into the demo matches the deployed config node and Node-RED reuses it. */
export const SANDBOX_CONFIG_NAME = 'Segmind sandbox (demo)';

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

/** Where the demo's config node points. */
export interface ConfigTarget {
  name: string;
  baseUrl: string;
  uploadUrl: string;
  rpm: number;
  timeScale: number;
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

/** All examples on their own tabs, one config node shared by all, pointed at `target`. */
export function demoFlows(examples: Example[], target: ConfigTarget): FlowNode[] {
  const flows: FlowNode[] = [];
  const configs = new Map<string, FlowNode>();
  for (const example of examples) {
    const tabId = `demo-tab-${example.name}`;
    flows.push({ id: tabId, type: 'tab', label: exampleTitle(example).replace(/ example$/i, ''), disabled: false, info: '' });
    for (const node of example.nodes) {
      if (isConfig(node)) configs.set(node.id, { ...node });
      else flows.push({ ...node, z: tabId });
    }
  }
  return pointConfigs([...flows, ...configs.values()], target);
}

/** Every segmind-config node in `flows` pointed at `target` (other fields kept). */
export function pointConfigs(flows: FlowNode[], target: ConfigTarget): FlowNode[] {
  return flows.map((node) => (isConfig(node) ? { ...node, ...target } : node));
}
