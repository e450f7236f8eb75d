import type { NodeAPI } from 'node-red';
// STUB: replaced by its owner.
export function registerAwaitNode(_RED: NodeAPI): void {}
