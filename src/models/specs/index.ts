import type { ModelSpec } from '../spec';
// STUB: replaced by its owner.
export const specs: ModelSpec[] = [];
