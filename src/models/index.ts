export * from './spec';
export * from './params';
export { specs, getSpec } from './specs';
