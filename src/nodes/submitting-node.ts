// What every submitting node (each model node, the generic node) does around building its own
// payload: its config and status, the jobs an earlier instance recorded but did not pass on, and per
// message: build and check everything first (nothing sent on bad input), then submit and pass the
// message on. The node type supplies only `prepare`.
import type { Node, NodeAPI, NodeMessageInFlow } from 'node-red';
import { DEFAULT_MAX_MEDIA_MB, type ClassifiedField } from '../media';
import { getConfig } from './config-node';
import { handleInput } from './input-handling';
import { scrubSecret, toInputError, usableConfig } from './input-errors';
import type { Translate } from './runtime-text';
import { SubmitStatus } from './submit-status';
import { sendUnsentJobs } from './unsent-jobs';
import { submitGate, usageText } from './submit-gate';
import { checkPayload, maxBytesFrom, submitJob, type JobRequest } from './submit-job';

/** A message's job, checked completely: what submitJob sends. */
export interface PreparedJob {
  model: string;
  schema?: JobRequest['schema'];
  params: Record<string, unknown>;
  fields: ClassifiedField[];
}

/** Builds and checks a message's job; throws a NodeInputError (nothing sent) when it cannot. */
export type Prepare = (msg: NodeMessageInFlow, limits: { maxBytes: number }) => Promise<PreparedJob>;

export function runSubmittingNode(
  RED: NodeAPI,
  node: Node,
  t: Translate,
  def: { config?: string; maxMediaMB?: string | number },
  prepare: Prepare,
): void {
  const config = getConfig(RED, node, def.config);
  const status = new SubmitStatus(node, t, () => usageText(t, config));
  const limits = { maxBytes: maxBytesFrom(def.maxMediaMB, DEFAULT_MAX_MEDIA_MB) };

  const stopUnsent = sendUnsentJobs(RED, node, config, (p) => status.succeeded(p.entry.requestId ?? ''));
  node.on('close', stopUnsent);
  handleInput(node, async (msg, send, { signal, submitSignal, closing }) => {
    let started = false;
    try {
      const usable = usableConfig(RED, config, t);
      // 1. everything the message says, checked completely before any request
      const job = await prepare(msg, limits);
      checkPayload(t, job.schema, job.params, job.fields);
      // 2. requests: one upload for all byte media, then the submit
      status.started();
      started = true;
      const { handle, key } = await submitJob(
        {
          t,
          client: usable.client,
          ...job,
          record: { ledger: usable.ledger, origin: node.id, msg: msg as unknown as Record<string, unknown>, signal, submitSignal },
        },
        submitGate(usable, t, job.model, status),
      );
      status.succeeded(handle.requestId);
      // closing: the job is recorded; the next instance of this node sends it on
      if (closing()) return;
      send(msg);
      usable.ledger.markSent(key);
    } catch (err) {
      const failure = scrubSecret(toInputError(t, err, started), config?.credentials?.apiKey);
      if (!signal.aborted && failure.code !== 'aborted') status.failed(failure.short, started);
      throw failure;
    }
  });
}
