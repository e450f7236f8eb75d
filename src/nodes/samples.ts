// The bundled sample media (assets/samples: a face photo and a short speech clip) for the example
// flows. Their file-in nodes read `${SEGMIND_VIDEO_SAMPLES}/face.jpg`, so the path is set here, where
// the package's own location is known, whatever folder the palette manager installed it into.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const SAMPLES_ENV = 'SEGMIND_VIDEO_SAMPLES';

/** assets/samples of this package: from the bundle (nodes/lib) and from the sources (src/nodes) alike. */
export function samplesDir(here: string = __dirname): string | undefined {
  const dir = resolve(here, '..', '..', 'assets', 'samples');
  return existsSync(dir) ? dir : undefined;
}

/** Sets SEGMIND_VIDEO_SAMPLES unless the user set it (then theirs wins). */
export function exposeSamples(env: NodeJS.ProcessEnv = process.env): void {
  if (env[SAMPLES_ENV]) return;
  const dir = samplesDir();
  if (dir) env[SAMPLES_ENV] = dir;
}
