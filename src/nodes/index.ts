// Entry of the runtime bundle (nodes/lib/segmind.js). Each thin nodes/**/<file>.js written by
// scripts/build-nodes.ts does `module.exports = require('<rel>/lib/segmind.js').nodeSet('<file>')`.
import type { NodeAPI } from 'node-red';
import { registerConfigNode } from './config-node';
import { registerAwaitNode } from './await-node';
import { registerGenericNode } from './generic-node';
import { registerModelNode } from './model-node';
import { installCatchHook } from './error-details';
import { specs } from '../models/specs';
import { exposeSamples } from './samples';

type Register = (RED: NodeAPI) => void;

const sets: Record<string, Register> = {
  'segmind-config': registerConfigNode,
  'segmind-await': registerAwaitNode,
  'segmind-model': registerGenericNode,
};
for (const spec of specs) sets[spec.file] = (RED) => registerModelNode(RED, spec);

// the example flows find the bundled sample media through this environment variable
exposeSamples();

export function nodeSet(name: string): Register {
  const register = sets[name];
  if (!register) throw new Error(`unknown node set ${name}`);
  return (RED) => {
    // msg.error.resubmitSafe and .field for Catch nodes: one runtime hook, whichever set loads first
    installCatchHook(RED);
    register(RED);
  };
}

export { specs };
