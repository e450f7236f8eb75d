// A valid request body for a model, built from its spec: every parameter at its default or its
// page example (media inputs as URLs, so nothing needs uploading).
import { getSpec } from '../../src/models/specs';

export const MODELS = ['sadtalker', 'infinite-talk', 'v-express', 'hallo', 'sync.so-react-1'] as const;

export function payloadFor(slug: string): Record<string, unknown> {
  const spec = getSpec(slug);
  if (!spec) throw new Error(`bench: no spec for model ${slug}`);
  const body: Record<string, unknown> = {};
  for (const p of spec.params) {
    if (p.type === 'media') body[p.name] = p.example ?? `https://example.com/bench/${p.name}`;
    else if (p.default !== undefined) body[p.name] = p.default;
    else if (p.example !== undefined) body[p.name] = p.example;
    else if (p.required) {
      if (p.type === 'string') body[p.name] = p.allowed?.[0] ?? 'a person talking';
      else if (p.type === 'boolean') body[p.name] = false;
      else body[p.name] = p.allowed?.[0] ?? p.min ?? 1;
    }
  }
  return body;
}
