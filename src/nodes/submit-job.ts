// The request part of a submitting node, shared by the model nodes and the generic node:
// a last schema check with placeholder URLs (before any request), one upload for all byte
// media, the final payload check, and the submit between its two ledger records (intent before
// the POST, the job and the message after it, both durable before anything moves on).
import type { z } from 'zod';
import type { JobHandle } from '../client/types';
import type { JobLedger } from '../jobs/ledger';
import { countUploads, resolveUrls, type ClassifiedField, type Uploader } from '../media';
import { InterruptedSubmit, NodeInputError, requestFailure } from './input-errors';
import type { Translate } from './runtime-text';

/** Admission control and the spending cap of the account (src/nodes/submit-gate.ts). */
export interface SubmitGate {
  /** waits until the account's budget can take the job; throws a NodeInputError (nothing sent) when it cannot */
  admit(signal: AbortSignal, requests: number): Promise<{ deadline?: number; submitted(handle: JobHandle): void; failed(maybeBilled: boolean): void }>;
}

export interface Submitter extends Uploader {
  submit(model: string, payload: Record<string, unknown>, options?: { signal?: AbortSignal; stopBeforeSend?: AbortSignal; deadline?: number }): Promise<JobHandle>;
}

/** Where the job is recorded: the account's ledger, the submitting node, the message. */
export interface SubmitRecord {
  ledger: JobLedger;
  origin: string;
  msg: Record<string, unknown>;
  /** aborted on close: stops everything before the POST */
  signal: AbortSignal;
  /** governs the POST once it is on the wire */
  submitSignal: AbortSignal;
}

type PayloadSchema = z.ZodTypeAny;

/** One job to submit: what to send, with what, and where it is recorded. */
export interface JobRequest {
  t: Translate;
  client: Submitter;
  model: string;
  /** the model's payload schema; none for an unknown model (the generic node) */
  schema?: PayloadSchema;
  params: Record<string, unknown>;
  fields: ClassifiedField[];
  record: SubmitRecord;
}

const PLACEHOLDER_URL = 'https://uploads.placeholder.invalid/file';
const MB = 1024 * 1024;

/** maxMediaMB from the editor ("50", 50, "" -> default), as bytes. */
export function maxBytesFrom(value: unknown, defaultMB: number): number {
  const n = typeof value === 'number' ? value : Number(String(value ?? '').trim() || NaN);
  return Math.round((Number.isFinite(n) && n > 0 ? n : defaultMB) * MB);
}

function assemble(params: Record<string, unknown>, urls: Record<string, string>): Record<string, unknown> {
  return { ...params, ...urls };
}

/** Throws a NodeInputError naming the first field the schema refuses. */
function check(t: Translate, schema: PayloadSchema, payload: Record<string, unknown>): void {
  const result = schema.safeParse(payload);
  if (result.success) return;
  const issue = result.error.issues[0];
  const field = issue.path.length > 0 ? issue.path.join('.') : 'payload';
  throw new NodeInputError(
    t('errors.payloadSchema', { field, message: issue.message }),
    t('status.last.invalid', { field }),
    { field },
  );
}

/** The payload with placeholder URLs for media still to upload must already pass the schema. */
export function checkPayload(
  t: Translate,
  schema: PayloadSchema | undefined,
  params: Record<string, unknown>,
  fields: ClassifiedField[],
): void {
  if (!schema) return;
  const urls: Record<string, string> = {};
  for (const { field, media } of fields) urls[field] = media.type === 'url' ? media.url : PLACEHOLDER_URL;
  check(t, schema, assemble(params, urls));
}

/**
 * Admission (budget, spending cap), uploads, the intent record, the submit, the job record with the
 * message (msg.segmind set to the handle). Resolves with the handle and the ledger key once both
 * records are durable. A message that must wait or is refused has cost nothing.
 */
export async function submitJob(job: JobRequest, gate?: SubmitGate): Promise<{ handle: JobHandle; key: string }> {
  const admitted = await gate?.admit(job.record.signal, 1 + (countUploads(job.fields) > 0 ? 1 : 0));
  const state = { posted: false };
  try {
    const done = await uploadAndSubmit(job, admitted?.deadline, state);
    admitted?.submitted(done.handle);
    return done;
  } catch (err) {
    // a submit that failed after it was sent may still have started (and billed) a job
    const code = (err as { code?: unknown })?.code;
    admitted?.failed(state.posted && (err instanceof InterruptedSubmit || AMBIGUOUS.has(String(code))));
    throw err;
  }
}

/** Submit failures after which Segmind may have started the job anyway. */
const AMBIGUOUS = new Set(['network', 'timeout', 'server', 'invalid_response', 'aborted']);

async function uploadAndSubmit(
  job: JobRequest,
  deadline: number | undefined,
  state: { posted: boolean },
): Promise<{ handle: JobHandle; key: string }> {
  const { t, client, model, schema, params, fields, record } = job;
  const { ledger, signal } = record;
  let urls: Record<string, string>;
  try {
    urls = await resolveUrls(client, fields, { signal });
  } catch (err) {
    const uploading = fields.filter((f) => f.media.type === 'bytes').map((f) => f.field);
    throw requestFailure(t, err, 'upload', { count: countUploads(fields), fields: uploading.join(', ') });
  }
  const payload = assemble(params, urls);
  if (schema) check(t, schema, payload);
  let key: string;
  try {
    key = await ledger.intent(record.origin, model);
  } catch (err) {
    throw new NodeInputError(t('errors.ledger', { message: (err as Error)?.message ?? String(err) }), t('status.last.failed', { reason: 'ledger' }), {
      code: 'ledger_unavailable',
      resubmitSafe: true, // nothing was sent
    });
  }
  let handle: JobHandle;
  try {
    state.posted = true;
    // admitted: its submit is due within the window admission control planned it in
    handle = await client.submit(model, payload, { signal: record.submitSignal, stopBeforeSend: signal, deadline });
  } catch (err) {
    // Reported to the user now (done(err) or the log): the intent must not be reported again after a restart.
    await ledger.abandon(key).catch(() => undefined);
    // A submit cut short by close may still have reached Segmind: say so instead of ending silently.
    const e = err as { code?: unknown; attempts?: unknown };
    if ((signal.aborted || e?.code === 'aborted') && typeof e?.attempts === 'number' && e.attempts > 0) {
      throw new InterruptedSubmit(t('errors.interruptedSubmit', { model }));
    }
    throw requestFailure(t, err, 'submit', { model });
  }
  record.msg.segmind = handle;
  const submittedAt = Date.parse(handle.submittedAt);
  await ledger.submitted(key, { ...handle, submittedAt: Number.isFinite(submittedAt) ? submittedAt : undefined }, record.msg);
  return { handle, key };
}
