// Shapes the message that leaves the await node for each end of a job. The texts come in already
// translated (the node owns the locales); everything else about the message shape lives here.

import type { JobEnd, JobFailure, WatchedJob } from './waiter';

export type Output = 0 | 1 | 2; // completed, failed, timed out
export const OUTPUT = { completed: 0, failed: 1, timedOut: 2 } as const;

/** Flags a previous pass through an await node left on msg.segmind; a resumed wait starts clean. */
// redelivered: a model node's flag (its output may have been seen before); the await node sets its own
const TRANSIENT = ['timedOut', 'stopped', 'message', 'result', 'status', 'output', 'redelivered'] as const;

/** msg.segmind for a job: what the message had, with the request id (and known handle fields) filled in. */
export function jobHandleOf(msg: Record<string, unknown>, job: WatchedJob): Record<string, unknown> {
  const had = msg.segmind && typeof msg.segmind === 'object' && !Array.isArray(msg.segmind) ? (msg.segmind as Record<string, unknown>) : {};
  const out: Record<string, unknown> = { ...had, requestId: job.requestId };
  for (const k of TRANSIENT) delete out[k];
  if (job.model && out.model === undefined) out.model = job.model;
  if (job.submittedAt !== undefined && out.submittedAt === undefined) out.submittedAt = new Date(job.submittedAt).toISOString();
  return out;
}

export interface EndTexts {
  /** for a timed-out message: it may still finish, Segmind keeps results an hour, wire it back to resume */
  timedOut: string;
  /** for a message whose job COMPLETED but whose result or output was still being fetched at its deadline (default: timedOut) */
  timedOutFetching?: string;
  /** for a stopped message */
  stopped: string;
  /** msg.error.message for a failure, in the node's language (default: the failure's own message) */
  failure?: (f: JobFailure) => string;
}

/**
 * Puts the end of a job on the message (mutates and returns it) and says which output it leaves on.
 * 'closed' has no output: the caller keeps the job for the next start.
 */
export function applyEnd(msg: Record<string, unknown>, job: WatchedJob, end: Exclude<JobEnd, { kind: 'closed' }>, texts: EndTexts): Output {
  const seg = jobHandleOf(msg, job);
  msg.segmind = seg;
  switch (end.kind) {
    case 'completed':
      seg.status = 'COMPLETED';
      seg.result = end.result;
      msg.payload = end.payload;
      delete msg.error;
      return OUTPUT.completed;
    case 'failed':
      if (end.status) seg.status = end.status;
      if (end.result) seg.result = end.result;
      if (end.output) seg.output = end.output;
      msg.error = errorOf(end.error, texts.failure?.(end.error));
      return OUTPUT.failed;
    case 'timeout':
      if (end.status) seg.status = end.status;
      if (end.output) seg.output = end.output;
      seg.timedOut = true;
      seg.message = end.status === 'COMPLETED' ? (texts.timedOutFetching ?? texts.timedOut) : texts.timedOut;
      return OUTPUT.timedOut;
    case 'stopped':
      if (end.status) seg.status = end.status;
      seg.stopped = true;
      seg.message = texts.stopped;
      return OUTPUT.timedOut;
  }
}

/** msg.error on the failed output. */
export interface FailedError {
  message: string;
  code: string;
  /**
   * Whether sending this message to the model node again is safe from double billing. Always false
   * here: the message names a job that Segmind created (and billed), whatever became of it. For a
   * FAILED job a new submit starts a new, billed job: that is the flow's choice, not something an
   * automatic Catch-and-retry loop should make. A message the await node cannot read (no request
   * id) is false too: whether a job was made for it is unknown.
   */
  resubmitSafe: false;
  /** the field at fault, for a message the await node cannot read */
  field?: string;
  httpStatus?: number;
}

/** msg.error for the failed output: message (translated when given), code, and HTTP status or field when there is one. */
export function errorOf(f: JobFailure & { field?: string }, message: string = f.message): FailedError {
  const e: FailedError = { message, code: f.code, resubmitSafe: false };
  if (f.field !== undefined) e.field = f.field;
  if (f.httpStatus !== undefined) e.httpStatus = f.httpStatus;
  return e;
}

/** The three-slot array Node-RED's send() takes, with the message on one output. */
export function onOutput<T>(output: Output, msg: T): [T | null, T | null, T | null] {
  const out: [T | null, T | null, T | null] = [null, null, null];
  out[output] = msg;
  return out;
}
