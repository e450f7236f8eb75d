import type { NodeAPI } from 'node-red';
// STUB: replaced by its owner.
export function registerGenericNode(_RED: NodeAPI): void {}
