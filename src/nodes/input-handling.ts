// The Node-RED side of handling one message, shared by the model nodes and the generic node:
// done() exactly once, send/done fallbacks for old runtimes, and typedInput evaluation. On close
// the work before a submit is aborted at once, but a submit already on the wire is let finish
// (inside Node-RED's 15 s close timeout) so that its job, which Segmind has created and billed,
// is recorded in the ledger and sent on by the next instance of the node.
import type { Node, NodeAPI, NodeMessageInFlow } from 'node-red';
import type { Translate } from './runtime-text';
import { InterruptedSubmit, NodeInputError } from './input-errors';
import { rememberError, type ErrorDetails } from './error-details';

export type Send = (msg: NodeMessageInFlow) => void;

export interface HandlerContext {
  /** aborted on close: everything before the submit POST stops */
  signal: AbortSignal;
  /** aborted only when close can wait no longer: governs a submit already on the wire */
  submitSignal: AbortSignal;
  /** true once the node is closing (its messages must not be sent: the next instance sends them) */
  closing(): boolean;
}

export type Handler = (msg: NodeMessageInFlow, send: Send, ctx: HandlerContext) => Promise<void>;

/** How long close waits for a submit on the wire (Node-RED gives close 15 s). */
export const SUBMIT_CLOSE_GRACE_MS = 13_000;

/**
 * Registers the input handler. The handler resolves when the message is handled (it sent
 * what it sends) and throws to fail the message; done is called once either way. Messages
 * cut short by close end quietly (done() without error): the flow is being stopped.
 */
export function handleInput(node: Node, handler: Handler): void {
  const active = new Set<{ controller: AbortController; settled: Promise<void> }>();
  let closing = false;
  // one for all messages: close aborts it only once the grace for submits on the wire is over
  const submitController = new AbortController();
  const isClosing = () => closing;

  node.on('input', (msg: NodeMessageInFlow, send?: Send, done?: (err?: Error) => void) => {
    const sendOut: Send = send ?? ((m) => node.send(m));
    let finished = false;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      if (err) rememberError(node.id, msg, detailsOf(err));
      if (done) done(err);
      else if (err) node.error(err, msg);
    };
    const controller = new AbortController();
    const entry = { controller, settled: Promise.resolve() };
    entry.settled = (async () => {
      try {
        await handler(msg, sendOut, { signal: controller.signal, submitSignal: submitController.signal, closing: isClosing });
        finish();
      } catch (err) {
        // aborted work only happens on close (ours, or the config node's client): end quietly,
        // except for a submit already on its way, whose job may exist (and be billed)
        if (err instanceof InterruptedSubmit) {
          node.warn(err.message);
          finish();
        } else if (controller.signal.aborted || closing || (err as { code?: unknown })?.code === 'aborted') finish();
        else finish(err instanceof Error ? err : new Error(String(err)));
      } finally {
        active.delete(entry);
      }
    })();
    active.add(entry);
  });

  node.on('close', (_removed: boolean, closed: () => void) => {
    closing = true;
    const pending = [...active];
    for (const { controller } of pending) controller.abort();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SUBMIT_CLOSE_GRACE_MS);
    });
    // work before a submit ends at once on the abort; a submit on the wire gets until the grace ends
    void Promise.race([Promise.allSettled(pending.map((p) => p.settled)), grace]).then(() => {
      clearTimeout(timer);
      submitController.abort();
      closed();
    });
  });
}

/** What a Catch node learns of an error (see error-details.ts); unknown errors are not known to be safe. */
function detailsOf(err: Error): ErrorDetails {
  if (err instanceof NodeInputError) {
    return { code: err.code, resubmitSafe: err.resubmitSafe, field: err.field, httpStatus: err.httpStatus };
  }
  const code = (err as { code?: unknown }).code;
  return { code: typeof code === 'string' ? code : 'internal', resubmitSafe: false };
}

/** What a typedInput points at, in words for errors, e.g. "msg.image", "env SEGMIND_IMAGE". */
export function describeSource(value: string | undefined, type: string | undefined): string {
  const t = type || 'msg';
  if (t === 'str') return 'the node setting';
  if (t === 'env') return `env ${value ?? ''}`;
  return `${t}.${value ?? ''}`;
}

/**
 * The value of a typedInput for this message. flow/global use the callback form so persistent
 * context stores work. An empty property means "not set" (undefined).
 */
export function evaluateTyped(
  RED: NodeAPI,
  node: Node,
  msg: NodeMessageInFlow,
  value: string | undefined,
  type: string | undefined,
): Promise<unknown> {
  const t = type || 'msg';
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    return Promise.resolve(undefined);
  }
  if (t === 'str') return Promise.resolve(value);
  return new Promise((resolve, reject) => {
    try {
      RED.util.evaluateNodeProperty(value, t, node, msg, (err: Error | null, result: unknown) => {
        if (err) reject(err);
        else resolve(result);
      });
    } catch (err) {
      reject(err);
    }
  });
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A typedInput's value; a property that cannot be read (bad expression, store error) is an input error. */
export async function readProperty(
  RED: NodeAPI,
  node: Node,
  msg: NodeMessageInFlow,
  t: Translate,
  field: string,
  value: string,
  type: string,
): Promise<unknown> {
  try {
    return await evaluateTyped(RED, node, msg, value, type);
  } catch (err) {
    const source = describeSource(value, type);
    throw new NodeInputError(
      t('errors.property', { field, source, message: (err as Error)?.message ?? String(err) }),
      t('status.last.invalid', { field }),
      { field },
    );
  }
}
