import type { NodeAPI } from 'node-red';
import type { ModelSpec } from '../models/spec';
// STUB: replaced by its owner.
export function registerModelNode(_RED: NodeAPI, _spec: ModelSpec): void {}
