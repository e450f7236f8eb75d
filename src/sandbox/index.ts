// The Segmind-compatible sandbox: `startSandbox(options)` starts it, `sandbox.close()` stops it.
export { startSandbox } from './server';
export { REQUIRED_FIELDS, TYPICAL_SECONDS } from './models';
export type {
  Endpoint,
  HeldRequest,
  JobScript,
  RecordedRequest,
  ReleaseFilter,
  RequestFault,
  Sandbox,
  SandboxJob,
  SandboxOptions,
} from './types';
