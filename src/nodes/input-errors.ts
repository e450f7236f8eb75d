// Turns whatever stopped a message into (a) the Error handed to done() — its message names the
// field, the value and what is allowed, translated — and (b) the short status text. No secret
// ever passes: texts from below are scrubbed of the API key as a last line of defence.
import { RESUBMIT_SAFE_CODES, renderText, type ClientText } from '../client/errors';
import { MediaError } from '../media';
import type { ParamError } from '../models/params';
import type { NodeAPI } from 'node-red';
import { configProblem, type SegmindConfigNode } from './config-node';
import type { Translate } from './runtime-text';

/** A field of the message is missing or not allowed: found before any request (safe to send again). */
export const INVALID_INPUT = 'invalid_input';
/** No usable config node (none, no key, a refused URL): found before any request (safe to send again). */
export const CONFIG_PROBLEM = 'config';
/** Anything unexpected (a bug). */
export const INTERNAL = 'internal';

export interface NodeErrorExtra {
  field?: string;
  /** the client's error code when a request failed; default invalid_input with a field, else internal */
  code?: string;
  /** default: true for invalid_input and config (nothing was sent), else false */
  resubmitSafe?: boolean;
  httpStatus?: number;
}

/** A problem found before any request, or a failed request, already worded for the user. */
export class NodeInputError extends Error {
  /** short status text */
  readonly short: string;
  /** the field at fault, when one is */
  readonly field?: string;
  /** what went wrong, for msg.error.code (Node-RED copies this own property to the Catch node) */
  readonly code: string;
  /** true only when Segmind certainly did not create a job from this message */
  readonly resubmitSafe: boolean;
  readonly httpStatus?: number;
  constructor(message: string, short: string, extra: NodeErrorExtra = {}) {
    super(message);
    this.name = 'Error';
    this.short = short;
    this.field = extra.field;
    this.code = extra.code ?? (extra.field !== undefined ? INVALID_INPUT : INTERNAL);
    this.resubmitSafe = extra.resubmitSafe ?? (this.code === INVALID_INPUT || this.code === CONFIG_PROBLEM);
    this.httpStatus = extra.httpStatus;
  }

  /** Node-RED puts err.toString() in msg.error.message: the text itself, with what matters first. */
  override toString(): string {
    return this.message;
  }
}

/** A submit that close interrupted after it was sent: the job may exist (and be billed). */
export class InterruptedSubmit extends NodeInputError {
  constructor(message: string) {
    super(message, '', { code: 'aborted', resubmitSafe: false });
  }
}

const PROBLEMS: [RegExp, string][] = [
  [/ is required;/, 'required'],
  [/ is not a finite number;/, 'notFinite'],
  [/ is not a number;/, 'notNumber'],
  [/ is not an integer;/, 'notInteger'],
  [/ is not allowed;/, 'notAllowed'],
  [/ is out of range;/, 'outOfRange'],
  [/ is not a boolean;/, 'notBoolean'],
  [/ is not text;/, 'notText'],
  [/ is too long;/, 'tooLong'],
];

/** A ParamError from src/models in the node's language (English text when the kind is unknown). */
export function paramFailure(t: Translate, error: ParamError & { problem?: string }): NodeInputError {
  const problem = error.problem ?? PROBLEMS.find(([re]) => re.test(error.message))?.[1];
  const value = typeof error.value === 'string' && error.value.length <= 40 ? JSON.stringify(error.value) : String(error.value);
  const message = problem
    ? t(`errors.param.${problem}`, { field: error.field, value, allowed: error.allowed })
    : error.message;
  return new NodeInputError(message, t('status.last.invalid', { field: error.field }), { field: error.field });
}

export function mediaFailure(t: Translate, error: MediaError): NodeInputError {
  return new NodeInputError(t(`errors.media.${error.code}`, error.params), t('status.last.invalid', { field: error.field }), {
    field: error.field,
  });
}

interface CodedError {
  code?: unknown;
  message?: unknown;
  text?: unknown;
}

function isClientText(v: unknown): v is ClientText {
  const c = v as ClientText | undefined;
  return !!c && typeof c === 'object' && typeof c.key === 'string' && !!c.params && typeof c.params === 'object';
}

/**
 * An error's message in the node's language: a client text (SegmindError, OutputError) rendered from
 * the templates at `<prefix>.<key>`, else the error's own (English) message.
 */
export function errorMessage(t: Translate, err: unknown, prefix: string): string {
  const e = (err ?? {}) as CodedError;
  if (isClientText(e.text)) {
    const text = e.text;
    return renderText(text, (key, params) => t(`${prefix}.${key}`, params));
  }
  return typeof e.message === 'string' ? e.message : String(err);
}

/** A failed request (upload or submit) as a node error; `key` says which. */
export function requestFailure(
  t: Translate,
  err: unknown,
  key: 'upload' | 'submit',
  params: Record<string, unknown>,
): NodeInputError {
  const e = (err ?? {}) as CodedError & { resubmitSafe?: unknown; httpStatus?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const detail = errorMessage(t, err, 'errors.client');
  const reasonKey = code && /^[a-z_]+$/.test(code) ? code : key === 'upload' ? 'upload' : 'internal';
  const reason = t(`status.reason.${reasonKey}`);
  return new NodeInputError(
    t(`errors.${key}`, { ...params, message: detail }),
    t('status.last.failed', { reason: reason.startsWith('segmind-model.') ? code : reason }),
    {
      code: code ?? (key === 'upload' ? 'upload' : INTERNAL),
      // uploads come before the submit: whatever became of them, no job was created yet
      resubmitSafe: key === 'upload' || e.resubmitSafe === true || (code !== undefined && RESUBMIT_SAFE_CODES.has(code as never)),
      httpStatus: typeof e.httpStatus === 'number' ? e.httpStatus : undefined,
    },
  );
}

/**
 * Anything unexpected: keep its message, mark it internal. `sent`: whether the submit may already
 * have gone out (then sending the message again is not known to be safe).
 */
export function toInputError(t: Translate, err: unknown, sent = false): NodeInputError {
  if (err instanceof NodeInputError) return err;
  if (err instanceof MediaError) return mediaFailure(t, err);
  const message = err instanceof Error ? err.message : String(err);
  return new NodeInputError(t('errors.internal', { message }), t('status.last.failed', { reason: t('status.reason.internal') }), {
    code: INTERNAL,
    resubmitSafe: !sent,
  });
}

/** Replaces the secret wherever it might appear (defence in depth; the client never includes it). */
export function scrubSecret(err: NodeInputError, secret: string | undefined): NodeInputError {
  if (!secret || (!err.message.includes(secret) && !err.short.includes(secret))) return err;
  const clean = (s: string) => s.split(secret).join('***');
  return new NodeInputError(clean(err.message), clean(err.short), {
    field: err.field,
    code: err.code,
    resubmitSafe: err.resubmitSafe,
    httpStatus: err.httpStatus,
  });
}

/** The config node, if it can be used; otherwise the input error both submitting nodes report. */
export function usableConfig(RED: NodeAPI, config: SegmindConfigNode | null, t: Translate): SegmindConfigNode {
  const problem = configProblem(RED, config);
  if (!config || problem) throw new NodeInputError(problem ?? t('errors.noConfig'), t('status.last.config'), { code: CONFIG_PROBLEM });
  return config;
}
