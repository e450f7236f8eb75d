// What the sandbox knows of the five models, taken from Segmind's API pages
// (/work/shared/segmind-api/*.txt), not from src/models: the sandbox is the other side of the wire.

/** Required fields per model slug, in the order the pages list them. */
export const REQUIRED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  sadtalker: ['input_audio', 'input_image'],
  'infinite-talk': ['audio', 'image', 'prompt'],
  'v-express': ['input_audio', 'input_image'],
  hallo: ['input_audio', 'input_image'],
  'sync.so-react-1': ['audio_url', 'video_url'],
};

/** Typical run time in API seconds, from the pages. */
export const TYPICAL_SECONDS: Readonly<Record<string, number>> = {
  sadtalker: 107.5,
  'infinite-talk': 283.4,
  'v-express': 196.3,
  hallo: 303.3,
  'sync.so-react-1': 329.7,
};

/** Run time of any other model slug. */
export const DEFAULT_TYPICAL_SECONDS = 20;

/** The first required field the payload lacks (undefined, null or ''), or undefined. */
export function missingRequiredField(model: string, payload: Record<string, unknown>): string | undefined {
  const fields = REQUIRED_FIELDS[model];
  if (!fields) return undefined;
  for (const f of fields) {
    const v = payload[f];
    if (v === undefined || v === null || v === '') return f;
  }
  return undefined;
}
