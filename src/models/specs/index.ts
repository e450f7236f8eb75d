// Every model the package offers. Adding a model: one spec file here, one line below,
// one icon in icons/; `npm run build` generates the node and registers it in package.json.
import type { ModelSpec } from '../spec';
import { sadtalker } from './sadtalker';
import { infiniteTalk } from './infinite-talk';
import { vExpress } from './v-express';
import { hallo } from './hallo';
import { syncReact1 } from './sync-react-1';

export const specs: ModelSpec[] = [sadtalker, infiniteTalk, vExpress, hallo, syncReact1];

/** The spec for a Segmind slug (e.g. 'sync.so-react-1'), or undefined. */
export function getSpec(slug: string): ModelSpec | undefined {
  return specs.find((s) => s.slug === slug);
}
