// A submitting node's jobs that were answered but never reached an await node: after a restart
// (the crash fell between the submit's record and the await node's claim) and after a redeploy
// that let a submit on the wire finish while the node closed. The node sends them on once the
// flows have started, so the await node wired after it takes them. Glue for src/jobs/ledger.ts.
import type { Node, NodeAPI, NodeMessageInFlow } from 'node-red';
import type { Pending } from '../jobs/ledger';
import type { SegmindConfigNode } from './config-node';

/** Arranges the sending; returns what close() calls to stop it. */
export function sendUnsentJobs(RED: NodeAPI, node: Node, config: SegmindConfigNode | null, sent: (p: Pending) => void): () => void {
  if (!config?.ledger || config.problem) return () => undefined;
  const ledger = config.ledger;
  let stopped = false;
  const run = () => {
    ledger.ready.then(
      () => {
        if (stopped) return;
        for (const p of ledger.takeUnsent(node.id)) {
          const seg = { ...((p.msg.segmind as Record<string, unknown> | undefined) ?? {}) };
          if (p.redelivered) seg.redelivered = true;
          p.msg.segmind = seg;
          node.send(p.msg as NodeMessageInFlow);
          sent(p);
        }
      },
      () => undefined, // the config node reports an unavailable ledger
    );
  };
  // every node of the new flows exists by then, the await node included
  const cancel = onFlowsStarted(RED.events as unknown as NodeJS.EventEmitter, run);
  return () => {
    stopped = true;
    cancel();
  };
}

/**
 * Runs `fn` once at the next 'flows:started'. One listener per runtime for all nodes: a listener
 * per node would pass EventEmitter's limit of 10 in a flow with many model nodes and warn in the log.
 */
const waiting = new WeakMap<NodeJS.EventEmitter, Set<() => void>>();

function onFlowsStarted(events: NodeJS.EventEmitter, fn: () => void): () => void {
  let runs = waiting.get(events);
  if (!runs) {
    const these = (runs = new Set());
    waiting.set(events, these);
    events.once('flows:started', () => {
      waiting.delete(events);
      for (const run of these) run();
    });
  }
  runs.add(fn);
  const registered = runs;
  return () => void registered.delete(fn);
}
