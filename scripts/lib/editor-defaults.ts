// The `defaults` each node type registers in its editor HTML, read by running the HTML's
// registerType scripts against a stand-in RED object: a node built from them carries exactly the
// properties the editor gives a freshly dropped node.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './start-node-red';

export interface EditorDefinition {
  category: string;
  defaults: Record<string, { value?: unknown; type?: string; required?: boolean }>;
  credentials?: Record<string, { type?: string }>;
  [key: string]: unknown;
}

/** Every node type registered by the package's editor HTML files under nodes/. */
export function editorDefinitions(root = REPO_ROOT): Map<string, EditorDefinition> {
  const found = new Map<string, EditorDefinition>();
  const always = () => true;
  const RED = {
    nodes: { registerType: (type: string, def: EditorDefinition) => void found.set(type, def) },
    // validators are factories: validators.number() -> (value) => boolean
    validators: new Proxy({}, { get: () => () => always }),
    _: (key: string) => key,
    settings: {},
  };
  for (const file of htmlFiles(root)) {
    const html = readFileSync(file, 'utf8');
    for (const match of html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)) {
      // the scripts only call RED.nodes.registerType at top level; jQuery is used inside callbacks
      new Function('RED', '$', match[1])(RED, () => ({}));
    }
  }
  return found;
}

function htmlFiles(root: string): string[] {
  const dirs = [join(root, 'nodes'), join(root, 'nodes', 'models')];
  return dirs
    .filter((d) => existsSync(d))
    .flatMap((d) =>
      readdirSync(d)
        .filter((f) => f.endsWith('.html'))
        .sort()
        .map((f) => join(d, f)),
    );
}

/** The property values a node of this type gets when dropped from the palette. */
export function defaultProperties(def: EditorDefinition): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  for (const [key, d] of Object.entries(def.defaults)) props[key] = d.value ?? '';
  return props;
}
