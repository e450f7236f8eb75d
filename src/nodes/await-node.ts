// The 'segmind await' node: waits for any Segmind job and sends the message on exactly one of three
// outputs (completed, failed, timed out/stopped). Node-RED glue only: parsing, scheduling, polling
// and delivery live in src/jobs. Every job it waits for is claimed in its account's job ledger
// (src/jobs/ledger.ts) before anything else happens, so a redeploy, a restart, a crash or being
// disabled resumes it; a message is marked 'delivering' durably before it is sent, so a crash in
// between delivers it again after the restart, flagged msg.segmind.redelivered, never loses it.
import { constants as bufferConstants } from 'node:buffer';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import english from '../../nodes/locales/en-US/segmind-await.json';
import { specs } from '../models/specs';
import { DEFAULT_MAX_BUFFER_BYTES, DEFAULT_MAX_FILE_BYTES, RESULT_MODES, type ResultMode } from '../jobs/deliver';
import { defaultResultFolder, removeStaleParts } from '../jobs/result-files';
import { parseAwaitInput } from '../jobs/input';
import { applyEnd, errorOf, onOutput, OUTPUT } from '../jobs/messages';
import { basePrior, isModelStats, observe, observeInterval, priorFor, type ModelStats } from '../jobs/priors';
import { accountFor } from '../jobs/account';
import type { JobLedger, LedgerEntry, Pending } from '../jobs/ledger';
import type { ContextApi } from '../jobs/context-storage';
import { RETENTION_SECONDS, Waiter, type JobClient, type JobEnd, type WatchedJob } from '../jobs/waiter';
import { isSegmindError } from '../client/errors';
import { configProblem, getConfig } from './config-node';
import { errorMessage, INTERNAL, INVALID_INPUT } from './input-errors';
import { rememberError } from './error-details';
import { AwaitStatus } from './await-status';

export const DEFAULT_TIMEOUT_SECONDS = 900;
const MB = 1024 * 1024;
/** close() gives in-flight deliveries and ledger writes this long, then lets Node-RED go on. */
const CLOSE_GRACE_MS = 800;
const STATS_KEY = 'segmindDurations';

interface Waiting {
  entry: LedgerEntry;
  /** the message (the live one; after a restart the ledger's stored copy) */
  msg: Record<string, unknown>;
  /** the input's done; undefined for jobs resumed by this instance */
  done?: Done;
}

interface AwaitDef extends NodeDef {
  config?: string;
  timeout?: string | number;
  result?: string;
  folder?: string;
  /** size limits in MB (MiB) for Buffer and file results */
  maxBufferMB?: string | number;
  maxFileMB?: string | number;
}

type Send = (msg: NodeMessageInFlow | Array<NodeMessageInFlow | null>) => void;
type Done = (err?: Error) => void;
type Translate = (key: string, params?: Record<string, unknown>) => string;

/** Learned run times in the node's context (default store): a hint for the schedule, not a promise. */
function runTimeStats(ctx: ContextApi) {
  return {
    load: () =>
      new Promise<Record<string, ModelStats>>((resolve) =>
        ctx.get(STATS_KEY, undefined, (err, raw) => {
          const out: Record<string, ModelStats> = {};
          if (!err && raw && typeof raw === 'object') {
            for (const [model, stats] of Object.entries(raw as Record<string, unknown>)) if (isModelStats(stats)) out[model] = stats;
          }
          resolve(out);
        }),
      ),
    save: (stats: Record<string, ModelStats>) => new Promise<void>((resolve) => ctx.set(STATS_KEY, stats, undefined, () => resolve())),
  };
}

/** Texts from this node set's catalog; the bundled English answers where the runtime has none (test helper). */
function translator(RED: NodeAPI): Translate {
  const root = 'segmind-await';
  return (key, params = {}) => {
    const full = `${root}.${key}`;
    let out: unknown;
    try {
      out = (RED._ as (k: string, p?: Record<string, unknown>) => string)(full, params);
    } catch {
      out = undefined;
    }
    if (typeof out === 'string' && out !== '' && !out.endsWith(full)) return out;
    let at: unknown = english;
    for (const part of full.split('.')) at = at && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined;
    if (typeof at !== 'string') return full;
    return at.replace(/__([A-Za-z0-9_]+?)__/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
  };
}

/** Client texts for this node: segmind-await.clientErrors.<key>. */
const CLIENT_TEXTS = 'clientErrors';

/**
 * The client as the waiter sees it, with the errors it throws worded in the node's language: the waiter
 * puts err.message on msg.error as it is, so the translation happens where the error leaves the client.
 */
function localizedClient(client: JobClient, t: Translate): JobClient {
  const localize = (err: unknown): never => {
    if (isSegmindError(err) && err.text) {
      try {
        err.message = errorMessage(t, err, CLIENT_TEXTS);
      } catch {
        // keep the English message
      }
    }
    throw err;
  };
  return {
    status: (job, opts) => client.status(job, opts).catch(localize),
    result: (job, opts) => client.result(job, opts).catch(localize),
    download: (url, opts) => client.download(url, opts).catch(localize),
    pacingMs: client.pacingMs ? () => client.pacingMs!() : undefined,
  };
}

function positiveNumber(v: unknown, fallback: number): number {
  const n = typeof v === 'number' ? v : Number(String(v ?? '').trim() || NaN);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function registerAwaitNode(RED: NodeAPI): void {
  const typical: Record<string, number> = {};
  for (const spec of specs) typical[spec.slug] = spec.typicalSeconds;

  function AwaitNode(this: Node, def: AwaitDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED);
    const config = getConfig(RED, node, def.config);
    const problem = configProblem(RED, config);
    const timeScale = config?.timeScale ?? 1;
    const unit = 1000 * timeScale; // real ms per API second
    const defaultTimeout = positiveNumber(def.timeout, DEFAULT_TIMEOUT_SECONDS);
    const mode: ResultMode = RESULT_MODES.includes(def.result as ResultMode) ? (def.result as ResultMode) : 'url';
    const defaultFolder = !def.folder?.trim();
    const folder = def.folder?.trim() || defaultResultFolder((RED.settings as { userDir?: string }).userDir);
    // no Buffer can be larger than buffer.constants.MAX_LENGTH
    const maxBytes =
      mode === 'buffer'
        ? Math.min(bufferConstants.MAX_LENGTH, positiveNumber(def.maxBufferMB, DEFAULT_MAX_BUFFER_BYTES / MB) * MB)
        : mode === 'file'
          ? positiveNumber(def.maxFileMB, DEFAULT_MAX_FILE_BYTES / MB) * MB
          : undefined;
    const statsStore = runTimeStats(node.context() as unknown as ContextApi);
    const ledger: JobLedger | undefined = config && !problem ? config.ledger : undefined;

    let learned: Record<string, ModelStats> = {};
    let closing = false;
    /** waiting messages by ledger key */
    const waiting = new Map<string, Waiting>();
    /** deliveries and claims under way: close() lets them finish */
    const working = new Set<Promise<unknown>>();
    const track = <T>(p: Promise<T>): Promise<T> => {
      working.add(p);
      void p.then(
        () => working.delete(p),
        () => working.delete(p),
      );
      return p;
    };

    // progress of the running jobs, then how the last one ended (src/nodes/await-status.ts)
    const status = new AwaitStatus({
      apply: (s) => node.status(s),
      t,
      jobs: () => waiter?.jobs() ?? [],
      belief: (model) => priorFor(model, learned, typical),
      unitMs: unit,
    });
    const showCounts = () => status.update();

    // the account's register of jobs under way: admission control plans with it (src/jobs/account.ts)
    const account = config && !problem ? accountFor(config.client.account) : undefined;
    account?.noteWait(node, defaultTimeout);
    const learn = (model: string, stats: ModelStats) => {
      learned = { ...learned, [model]: stats };
      account?.noteBelief(model, priorFor(model, learned, typical));
      statsStore.save(learned).catch((err) => node.debug(`could not save run times: ${errorText(err)}`));
    };
    const waiter =
      ledger
        ? new Waiter({
            client: localizedClient(config!.client, t),
            timeScale,
            resultMode: mode,
            folder,
            defaultFolder,
            maxBytes,
            belief: (model) => priorFor(model, learned, typical),
            observed: (model, seconds) => learn(model, observe(learned[model], seconds, basePrior(model, typical))),
            observedInterval: (model, lo, hi) => learn(model, observeInterval(learned[model], lo, hi, basePrior(model, typical))),
            tracker: account,
            onChange: showCounts,
            expiredText: (job) =>
              t('messages.retained', {
                id: job.requestId,
                at: job.submittedAt !== undefined ? t('messages.at', { time: new Date(job.submittedAt).toISOString() }) : '',
              }),
          })
        : undefined;
    if (!waiter) node.status({ fill: 'red', shape: 'ring', text: t('status.noConfig') });

    const jobOf = (e: LedgerEntry): WatchedJob => ({
      requestId: e.requestId!,
      model: e.model,
      statusUrl: e.statusUrl,
      responseUrl: e.responseUrl,
      submittedAt: e.submittedAt,
      knownSince: e.receivedAt,
    });

    const untilText = (e: LedgerEntry) =>
      e.submittedAt !== undefined ? t('messages.until', { time: new Date(e.submittedAt + RETENTION_SECONDS * unit).toISOString() }) : '';

    /**
     * Marks the job 'delivering' (durably), sends, then drops it from the ledger: a crash before the
     * mark resumes the wait, a crash after it delivers again with msg.segmind.redelivered = true.
     */
    const deliver = (w: Waiting, end: Exclude<JobEnd, { kind: 'closed' }>, send: Send, redelivered: boolean) => {
      const { entry, msg, done } = w;
      waiting.delete(entry.key);
      void track(
        (async () => {
          try {
            await ledger!.delivering(entry.key);
          } catch (err) {
            node.warn(t('messages.ledgerFailed', { id: entry.requestId, error: errorText(err) }));
          }
          const output = applyEnd(msg, jobOf(entry), end, {
            timedOut: t('messages.timedOut', { seconds: Math.round(((entry.deadline ?? 0) - (entry.receivedAt ?? 0)) / unit), until: untilText(entry) }),
            timedOutFetching: t('messages.timedOutFetching', { seconds: Math.round(((entry.deadline ?? 0) - (entry.receivedAt ?? 0)) / unit), until: untilText(entry) }),
            stopped: t('messages.stopped', { until: untilText(entry) }),
            failure: (f) => errorMessage(t, f, CLIENT_TEXTS),
          });
          if (redelivered) (msg.segmind as Record<string, unknown>).redelivered = true;
          send(onOutput(output, msg as NodeMessageInFlow));
          ledger!.delivered(entry.key, redelivered);
          done?.();
        })(),
      );
    };

    const watch = (entry: LedgerEntry, msg: Record<string, unknown>, send: Send, done?: Done, redelivered = false) => {
      const w: Waiting = { entry, msg, done };
      waiting.set(entry.key, w);
      void waiter!.watch(jobOf(entry), entry.deadline ?? Date.now()).then((end) => {
        // closed: the job stays claimed in the ledger for the next start; close() ends the input message
        if (end.kind !== 'closed') {
          status.ended(end);
          deliver(w, end, send, redelivered);
        }
      });
    };

    const nodeSend: Send = (m) => node.send(m as NodeMessageInFlow);
    const resume = (p: Pending) => {
      if (closing || waiting.has(p.entry.key)) return;
      if (p.entry.state === 'delivering') p.redelivered = true;
      watch(p.entry, p.msg, nodeSend, undefined, p.redelivered);
    };

    // Resume what this node claimed before (a redeploy, a restart, being disabled and enabled again).
    const ready: Promise<boolean> = (async () => {
      if (!ledger || !waiter) return false;
      if (mode === 'file') {
        // partial downloads a crash left behind: before any download of this node starts
        const removed = await removeStaleParts(folder);
        if (removed) node.log(t('messages.partsRemoved', { count: removed, folder }));
      }
      learned = await statsStore.load();
      for (const model of Object.keys(learned)) account?.noteBelief(model, priorFor(model, learned, typical));
      try {
        await ledger.ready;
      } catch (err) {
        node.error(t('messages.ledgerUnavailable', { error: errorText(err) }));
        node.status({ fill: 'red', shape: 'ring', text: t('status.noLedger') });
        return false;
      }
      if (closing) return false;
      ledger.attach(node.id, resume);
      const resumed = ledger.claimedBy(node.id);
      if (resumed.length) node.log(t('messages.resumed', { count: resumed.length, store: ledger.label }));
      for (const p of resumed) resume(p);
      return true;
    })();

    node.on('input', (msgIn: NodeMessageInFlow, sendIn?: Send, doneIn?: Done) => {
      const send: Send = sendIn ?? nodeSend;
      const done: Done = doneIn ?? ((err?: Error) => (err ? node.error(err, msgIn) : undefined));
      const msg = msgIn as unknown as Record<string, unknown>;
      // not a job this node can wait for: the message leaves on the failed output as it came, plus msg.error
      const failNow = (code: string, message: string, field?: string) => {
        msg.error = errorOf({ code, message, field });
        send(onOutput(OUTPUT.failed, msgIn));
        done();
      };
      const request = parseAwaitInput(msg, defaultTimeout);
      if (request.kind === 'invalid') return failNow(INVALID_INPUT, request.message, request.field);
      if (!ledger || !waiter) return failNow('config', t('messages.noConfig', { problem: problem ?? '' }));
      if (request.kind === 'stop') {
        if (waiter.stop(request.requestId) === 0) node.warn(t('messages.stopUnknown', { id: request.requestId }));
        return done();
      }
      void track(
        (async () => {
          const { job, timeoutSeconds } = request;
          const now = Date.now();
          await ledger.ready.catch(() => undefined);
          let entry: LedgerEntry;
          try {
            entry = await ledger.claim(node.id, job, { receivedAt: now, deadline: now + timeoutSeconds * unit }, msg);
          } catch (err) {
            return failNow('ledger_unavailable', t('messages.ledgerUnavailable', { error: errorText(err) }));
          }
          // A handle that arrives while the node closes is kept: claimed above, it resumes in the next
          // instance of this node (or in whichever await node is sent its request id).
          if (closing || !(await ready)) {
            ledger.handOver(entry.key);
            return done();
          }
          watch(entry, msg, send, done);
        })().catch((err) => {
          const error = err instanceof Error ? err : new Error(String(err));
          const code = (error as { code?: unknown }).code;
          // a bug, not a job outcome: the job may exist, so sending the message on again is not known to be safe
          if (typeof code !== 'string') Object.assign(error, { code: INTERNAL });
          rememberError(node.id, msgIn, { code: typeof code === 'string' ? code : INTERNAL, resubmitSafe: false });
          done(error);
        }),
      );
    });

    node.on('close', (removed: boolean, closed: () => void) => {
      closing = true;
      account?.noteWait(node, undefined);
      status.close();
      waiter?.close(); // aborts every request and timer at once
      // Messages still waiting end here (done without output); their jobs stay claimed in the ledger.
      for (const w of waiting.values()) w.done?.();
      waiting.clear();
      if (ledger) {
        ledger.detach(node.id, resume);
        // a stop or redeploy, not a crash: what this node delivered is done with
        void track(ledger.settleNow());
        if (removed) {
          // disabled or deleted (Node-RED says removed for both): say which jobs stay, and until when
          const pending = ledger.pendingOf(node.id);
          if (pending.length) {
            node.warn(
              t('messages.removedPending', {
                count: pending.length,
                ids: pending.map((e) => e.requestId).join(', '),
              }),
            );
          }
        }
      }
      const grace = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
      void Promise.race([Promise.allSettled([...working, ready]), grace]).then(() => closed());
    });
  }

  RED.nodes.registerType('segmind await', AwaitNode as never);
}
