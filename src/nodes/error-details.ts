// What a Catch node gets beyond Node-RED's own msg.error. Node-RED builds msg.error itself
// (Flow.handleError) and copies only `code`, `stack` and `cause` from the Error handed to done(err);
// `resubmitSafe` and `field` would be lost. So a node that fails a message notes them here, keyed by
// its id and the message id, and one runtime hook (onReceive) adds them to the error message as a
// Catch node receives it. The note is bounded (oldest dropped first) and costs a Map entry per error.
// The hook goes in with the first error: any onReceive hook costs every message delivery in the
// runtime about 0.1 µs, which a flow whose nodes never fail need not pay.
import type { NodeAPI } from 'node-red';

/** What a Catch node should see on msg.error besides Node-RED's message and source. */
export interface ErrorDetails {
  code: string;
  /** true only when Segmind certainly did not create a job from this message */
  resubmitSafe: boolean;
  /** the input field at fault (validation errors) */
  field?: string;
  httpStatus?: number;
}

/** Label of the hook (one per runtime): `onReceive.<label>`. No dot: Node-RED splits ids on it. */
export const HOOK_LABEL = 'segmindErrorDetails';
const HOOK_ID = `onReceive.${HOOK_LABEL}`;
/** Errors remembered at most; far more than Catch nodes take in the instant between done(err) and receive. */
export const MAX_REMEMBERED = 1000;

/**
 * One store per process, shared by every copy of this module: the hook is one per runtime (by its
 * label), so whichever copy added it must find what any copy noted (two builds loaded side by side).
 */
const STORE = Symbol.for('segmind-video.errorDetails');
const remembered: Map<string, ErrorDetails> = ((globalThis as Record<symbol, unknown>)[STORE] ??= new Map()) as Map<string, ErrorDetails>;
/** the runtime's hooks, from the first node set registered */
let runtimeHooks: Hooks | undefined;

function keyOf(nodeId: string, msgId: string): string {
  return `${nodeId}\n${msgId}`;
}

/** Notes what the Catch node of this node's failed message should see; call just before done(err). */
export function rememberError(nodeId: string, msg: unknown, details: ErrorDetails): void {
  const msgId = (msg as { _msgid?: unknown } | null)?._msgid;
  if (typeof msgId !== 'string') return;
  if (runtimeHooks) addHook(runtimeHooks);
  const key = keyOf(nodeId, msgId);
  // a message that fails again (a Catch-and-retry loop keeps its _msgid) takes the newest details
  remembered.delete(key);
  remembered.set(key, details);
  if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
}

/** The details noted for an error message, if it came from one of our nodes. */
export function detailsFor(msg: unknown): ErrorDetails | undefined {
  const m = msg as { _msgid?: unknown; error?: { source?: { id?: unknown } } } | null;
  const sourceId = m?.error?.source?.id;
  if (typeof sourceId !== 'string' || typeof m?._msgid !== 'string') return undefined;
  return remembered.get(keyOf(sourceId, m._msgid));
}

/** Adds the details to msg.error of a message a Catch node is about to receive. */
export function addDetails(msg: unknown): void {
  const details = detailsFor(msg);
  if (!details) return;
  const error = (msg as { error: Record<string, unknown> }).error;
  if (error.code === undefined) error.code = details.code;
  error.resubmitSafe = details.resubmitSafe;
  if (details.field !== undefined) error.field = details.field;
  if (details.httpStatus !== undefined && error.httpStatus === undefined) error.httpStatus = details.httpStatus;
}

interface ReceiveEvent {
  msg?: unknown;
  destination?: { node?: { type?: unknown } };
}

interface Hooks {
  add(id: string, cb: (event: ReceiveEvent) => void): void;
  has?(id: string): boolean;
}

/**
 * Takes the runtime's hooks (every node set calls this at registration); the hook itself is added
 * with the first error (rememberError), once per runtime. Runtimes without RED.hooks (before
 * Node-RED 2) get no extra fields; msg.error.code still arrives (an own property of the Error).
 */
export function installCatchHook(RED: NodeAPI, now = false): void {
  const hooks = (RED as unknown as { hooks?: Hooks }).hooks;
  if (!hooks || typeof hooks.add !== 'function') return;
  runtimeHooks = hooks;
  if (now) addHook(hooks);
}

/** true when the hook is in the runtime */
export function catchHookInstalled(): boolean {
  return runtimeHooks?.has?.(HOOK_ID) === true;
}

function addHook(hooks: Hooks): void {
  if (typeof hooks.has === 'function' && hooks.has(HOOK_ID)) return;
  try {
    // synchronous (one parameter, no promise): the message goes on at once
    hooks.add(HOOK_ID, (event: ReceiveEvent) => {
      if (event.destination?.node?.type === 'catch') addDetails(event.msg);
    });
  } catch {
    // already registered (a runtime without hooks.has): nothing to do
  }
}
