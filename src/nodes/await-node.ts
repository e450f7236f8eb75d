// The 'segmind await' node: waits for any Segmind job and sends the message on exactly one of three
// outputs (completed, failed, timed out/stopped). Node-RED glue only: parsing, scheduling, polling
// and delivery live in src/jobs. Pending jobs are kept in the node's context (the chosen store) so
// that a redeploy or a restart resumes them; each is deleted from the store before it is sent, so a
// crash can lose a delivery in that instant but never send one twice.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, NodeStatus } from 'node-red';
import english from '../../nodes/locales/en-US/segmind-await.json';
import { specs } from '../models/specs';
import { RESULT_MODES, type ResultMode } from '../jobs/deliver';
import { parseAwaitInput } from '../jobs/input';
import { applyEnd, errorOf, onOutput, OUTPUT } from '../jobs/messages';
import { basePrior, isModelStats, observe, observeInterval, priorFor, type ModelStats } from '../jobs/priors';
import { accountFor } from '../jobs/account';
import { ThrottledStatus } from '../jobs/status-throttle';
import { isPendingRecord, storableMessage, type JobStore, type PendingRecord } from '../jobs/store';
import { RETENTION_SECONDS, Waiter, type JobClient, type JobEnd, type WatchedJob } from '../jobs/waiter';
import { isSegmindError } from '../client/errors';
import { configProblem, getConfig } from './config-node';
import { errorMessage } from './input-errors';

export const DEFAULT_TIMEOUT_SECONDS = 900;
/** close() gives in-flight deliveries and store writes this long, then lets Node-RED go on. */
const CLOSE_GRACE_MS = 800;
const JOB_KEY_PREFIX = 'segmindJob_';
const STATS_KEY = 'segmindDurations';

interface Waiting {
  record: PendingRecord;
  /** the message as it arrived (Buffers and all) */
  msg: Record<string, unknown>;
  /** the input's done; undefined for jobs resumed by this instance */
  done?: Done;
}

/**
 * Jobs a closing instance hands to the next instance with the same id (a redeploy), in this process.
 * Node-RED deletes a node's context on close unless settings.js configures contextStorage, so the
 * store alone would lose them on a redeploy; this also keeps each message whole (Buffers included).
 */
const handover = new Map<string, Array<Omit<Waiting, 'done'>>>();

interface AwaitDef extends NodeDef {
  config?: string;
  timeout?: string | number;
  result?: string;
  folder?: string;
  store?: string;
}

type Send = (msg: NodeMessageInFlow | Array<NodeMessageInFlow | null>) => void;
type Done = (err?: Error) => void;
type Translate = (key: string, params?: Record<string, unknown>) => string;

/** Node-RED's context API in its callback form (works with sync and async stores alike). */
interface ContextApi {
  get(key: string, store: string | undefined, cb: (err: Error | null, value?: unknown) => void): void;
  set(key: string, value: unknown, store: string | undefined, cb: (err?: Error | null) => void): void;
  keys(store: string | undefined, cb: (err: Error | null, keys?: string[]) => void): void;
}

/** The pending-job store on a node's context, in the store the node names ('' = default). */
class ContextJobStore implements JobStore {
  constructor(
    private readonly ctx: ContextApi,
    private readonly store: string | undefined,
  ) {}

  private get<T>(key: string): Promise<T | undefined> {
    return new Promise((resolve, reject) =>
      this.ctx.get(key, this.store, (err, value) => (err ? reject(err) : resolve(value as T | undefined))),
    );
  }

  private set(key: string, value: unknown): Promise<void> {
    return new Promise((resolve, reject) => this.ctx.set(key, value, this.store, (err) => (err ? reject(err) : resolve())));
  }

  private keys(): Promise<string[]> {
    return new Promise((resolve, reject) => this.ctx.keys(this.store, (err, keys) => (err ? reject(err) : resolve(keys ?? []))));
  }

  async load(): Promise<PendingRecord[]> {
    const keys = (await this.keys()).filter((k) => k.startsWith(JOB_KEY_PREFIX));
    const out: PendingRecord[] = [];
    for (const k of keys) {
      const value = await this.get<unknown>(k);
      if (isPendingRecord(value) && `${JOB_KEY_PREFIX}${value.key}` === k) out.push(value);
      else await this.set(k, undefined); // unreadable leftovers would otherwise linger forever
    }
    return out.sort((a, b) => a.receivedAt - b.receivedAt);
  }

  put(record: PendingRecord): Promise<void> {
    return this.set(`${JOB_KEY_PREFIX}${record.key}`, record);
  }

  delete(key: string): Promise<void> {
    return this.set(`${JOB_KEY_PREFIX}${key}`, undefined);
  }

  async loadStats(): Promise<Record<string, ModelStats>> {
    const raw = await this.get<unknown>(STATS_KEY);
    const out: Record<string, ModelStats> = {};
    if (raw && typeof raw === 'object') {
      for (const [model, stats] of Object.entries(raw as Record<string, unknown>)) if (isModelStats(stats)) out[model] = stats;
    }
    return out;
  }

  saveStats(stats: Record<string, ModelStats>): Promise<void> {
    return this.set(STATS_KEY, stats);
  }
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
    const folder = def.folder?.trim() || join(tmpdir(), 'segmind');
    const storeName = def.store?.trim() || undefined;
    const storeLabel = storeName ?? 'default';
    const store = new ContextJobStore(node.context() as unknown as ContextApi, storeName);

    let learned: Record<string, ModelStats> = {};
    let closing = false;
    let removedOnClose = false;
    const handOver = (items: Array<Omit<Waiting, 'done'>>) => {
      if (removedOnClose || !items.length) return;
      handover.set(node.id, [...(handover.get(node.id) ?? []), ...items]);
    };
    /** waiting messages by record key */
    const waiting = new Map<string, Waiting>();
    const handed = handover.get(node.id) ?? [];
    handover.delete(node.id);
    const delivering = new Set<Promise<void>>();

    // the counts are taken when the status is shown (at most once a second), not on every change:
    // counting walks every job, and thousands of jobs change often
    const status = new ThrottledStatus<() => NodeStatus>((s) => node.status(s()));
    const countsStatus = (): NodeStatus => {
      const { running, queued } = waiter!.counts();
      return running + queued === 0 ? {} : { fill: 'blue', shape: 'dot', text: t('status.counts', { running, queued }) };
    };
    const showCounts = () => {
      if (!waiter) return;
      status.set(countsStatus);
    };

    // the account's register of jobs under way: admission control plans with it (src/jobs/account.ts)
    const account = config && !problem ? accountFor(config.client.account) : undefined;
    account?.noteWait(node, defaultTimeout);
    const learn = (model: string, stats: ModelStats) => {
      learned = { ...learned, [model]: stats };
      account?.noteBelief(model, priorFor(model, learned, typical));
      store.saveStats(learned).catch((err) => node.debug(`could not save run times: ${errorText(err)}`));
    };
    const waiter =
      config && !problem
        ? new Waiter({
            client: localizedClient(config.client, t),
            timeScale,
            resultMode: mode,
            folder,
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

    const jobOf = (r: PendingRecord): WatchedJob => ({
      requestId: r.requestId,
      model: r.model,
      statusUrl: r.statusUrl,
      responseUrl: r.responseUrl,
      submittedAt: r.submittedAt,
      knownSince: r.receivedAt,
    });

    const untilText = (r: PendingRecord) =>
      r.submittedAt !== undefined ? t('messages.until', { time: new Date(r.submittedAt + RETENTION_SECONDS * unit).toISOString() }) : '';

    /** Takes the record out of the store, then sends: a crash in between loses, never duplicates. */
    const deliver = (r: PendingRecord, msg: Record<string, unknown>, end: Exclude<JobEnd, { kind: 'closed' }>, send: Send, done?: Done) => {
      waiting.delete(r.key);
      const work = (async () => {
        try {
          await store.delete(r.key);
        } catch (err) {
          node.warn(t('messages.storeFailed', { id: r.requestId, store: storeLabel, error: errorText(err) }));
        }
        const output = applyEnd(msg, jobOf(r), end, {
          timedOut: t('messages.timedOut', { seconds: Math.round((r.deadline - r.receivedAt) / unit), until: untilText(r) }),
          stopped: t('messages.stopped', { until: untilText(r) }),
          failure: (f) => errorMessage(t, f, CLIENT_TEXTS),
        });
        send(onOutput(output, msg as NodeMessageInFlow));
        done?.();
      })();
      delivering.add(work);
      void work.finally(() => delivering.delete(work));
    };

    const watch = (r: PendingRecord, msg: Record<string, unknown>, send: Send, done?: Done) => {
      waiting.set(r.key, { record: r, msg, done });
      void waiter!.watch(jobOf(r), r.deadline).then((end) => {
        // closed: the job stays in the store for the next start; close() ends the input message
        if (end.kind !== 'closed') deliver(r, msg, end, send, done);
      });
    };

    const nodeSend: Send = (m) => node.send(m as NodeMessageInFlow);

    // Resume what a previous instance (before a redeploy or restart) left in the store.
    const ready: Promise<void> = (async () => {
      if (!waiter) return;
      try {
        learned = await store.loadStats();
        for (const model of Object.keys(learned)) account?.noteBelief(model, priorFor(model, learned, typical));
      } catch (err) {
        node.debug(`could not read run times: ${errorText(err)}`);
      }
      let records: PendingRecord[] = [];
      try {
        records = await store.load();
      } catch (err) {
        node.warn(t('messages.storeLoadFailed', { store: storeLabel, error: errorText(err) }));
      }
      if (closing) {
        // closed before resuming: pass what was handed to us on, untouched
        handOver(handed);
        return;
      }
      // a redeploy hands the jobs over whole; the store adds those of a previous process (restart)
      const fromHandover = new Set(handed.map((h) => h.record.key));
      const resumed = [...handed, ...records.filter((r) => !fromHandover.has(r.key)).map((r) => ({ record: r, msg: r.msg }))];
      if (resumed.length) node.log(t('messages.resumed', { count: resumed.length, store: storeLabel }));
      for (const { record, msg } of resumed) watch(record, msg, nodeSend);
    })();

    node.on('input', (msgIn: NodeMessageInFlow, sendIn?: Send, doneIn?: Done) => {
      const send: Send = sendIn ?? nodeSend;
      const done: Done = doneIn ?? ((err?: Error) => (err ? node.error(err, msgIn) : undefined));
      void (async () => {
        await ready;
        if (closing) return done();
        const msg = msgIn as unknown as Record<string, unknown>;
        const request = parseAwaitInput(msg, defaultTimeout);
        const now = Date.now();
        // not a job this node can wait for: the message leaves on the failed output as it came, plus msg.error
        const failNow = (code: string, message: string) => {
          msg.error = errorOf({ code, message });
          send(onOutput(OUTPUT.failed, msgIn));
          done();
        };
        if (request.kind === 'invalid') return failNow('bad_input', request.message);
        if (!waiter) return failNow('config', t('messages.noConfig', { problem: problem ?? '' }));
        if (request.kind === 'stop') {
          if (waiter.stop(request.requestId) === 0) node.warn(t('messages.stopUnknown', { id: request.requestId }));
          return done();
        }
        const { job, timeoutSeconds } = request;
        const record: PendingRecord = {
          v: 1,
          key: randomBytes(8).toString('hex'),
          requestId: job.requestId,
          model: job.model,
          statusUrl: job.statusUrl,
          responseUrl: job.responseUrl,
          submittedAt: job.submittedAt,
          receivedAt: now,
          deadline: now + timeoutSeconds * unit,
          msg: storableMessage(msg),
        };
        try {
          await store.put(record);
        } catch (err) {
          node.warn(t('messages.storeFailed', { id: job.requestId, store: storeLabel, error: errorText(err) }));
        }
        // closed while storing: the next instance resumes it
        if (closing) {
          handOver([{ record, msg }]);
          return done();
        }
        watch(record, msg, send, done);
      })().catch((err) => done(err instanceof Error ? err : new Error(String(err))));
    });

    node.on('close', (removed: boolean, closed: () => void) => {
      closing = true;
      account?.noteWait(node, undefined);
      removedOnClose = removed === true;
      status.close();
      waiter?.close(); // aborts every request and timer at once
      // Messages still waiting end here (done without output); their jobs stay stored for the next
      // start and, unless the node is gone, are handed to the next instance of this node.
      handOver([...waiting.values()].map(({ record, msg }) => ({ record, msg })));
      for (const w of waiting.values()) w.done?.();
      waiting.clear();
      const work: Promise<unknown>[] = [...delivering, ready];
      if (removed) {
        // the node is gone for good: nothing will resume its jobs, so do not keep them
        work.push(
          ready
            .then(() => store.load())
            .then((records) => Promise.all(records.map((r) => store.delete(r.key))))
            .catch(() => undefined),
        );
      }
      const grace = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
      void Promise.race([Promise.allSettled(work), grace]).then(() => closed());
    });
  }

  RED.nodes.registerType('segmind await', AwaitNode as never);
}
