import type { NodeAPI } from 'node-red';
// STUB: replaced by its owner.
export function registerConfigNode(_RED: NodeAPI): void {}
