// Public face of the Segmind client.
export { SegmindClient, USER_AGENT, type JobRef } from './client';
export { SegmindError, isSegmindError } from './errors';
export { validateApiUrl, isLoopbackHost, DEFAULT_BASE_URL, DEFAULT_UPLOAD_URL } from './urls';
export { PRIORITY } from './budget';
export type { BudgetStats, RateSnapshot } from './budget';
export { accountId } from './budget-registry';
export type * from './types';
