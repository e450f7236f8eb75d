// Loading the BUILT node sets (npm run build first) into node-red-node-test-helper the way Node-RED's
// registry does: each set's message catalog registered under '<package>/<set>' from
// <dir>/locales/<lang>/<set>.json, and RED._ bound to that namespace.
import * as fs from 'node:fs';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { i18n, hooks } = require('@node-red/util');

export const ROOT = path.resolve(__dirname, '..', '..');
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).name as string;

export type NodeModule = (RED: unknown) => unknown;

/** One built node set, e.g. 'nodes/models/sadtalker.js', from `root` (default this checkout). */
export function builtNodeSet(rel: string, root: string = ROOT): NodeModule {
  const file = path.join(root, rel);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  const set = path.basename(file, '.js');
  const namespace = `${PACKAGE}/${set}`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as NodeModule;
  initI18n();
  return async (red: unknown) => {
    await i18n.registerMessageCatalog(namespace, path.join(path.dirname(file), 'locales'), `${set}.json`);
    const own = Object.create(red as object);
    own._ = (key: string, params?: unknown) => i18n._(key.includes(':') ? key : `${namespace}:${key}`, params);
    // Node-RED's registry hands nodes RED.hooks (the runtime's, i.e. @node-red/util's hooks); the
    // test helper's stand-in runtime leaves it out, so it is added here as the real one has it.
    if (!(red as { hooks?: unknown }).hooks) own.hooks = hooks;
    return mod(own);
  };
}

let i18nReady = false;
/** Node-RED's i18n, initialised once in English (tests switch languages with i18n.i.changeLanguage). */
export function initI18n(): void {
  if (i18nReady) return;
  i18n.init({ lang: 'en-US' });
  i18nReady = true;
}
