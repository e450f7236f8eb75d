// The node type of one model spec ('segmind sadtalker', ...): validates every parameter and media
// input of a message, uploads byte media in one call, submits the job and passes the message on
// with msg.segmind. Nothing is requested until every field is valid.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { ModelSpec } from '../models/spec';
import { buildPayloadSchema, mediaParams, parseParams, valueParams } from '../models/params';
import { classify, DEFAULT_MAX_MEDIA_MB, type ClassifiedField } from '../media';
import { getConfig } from './config-node';
import { runtimeText } from './runtime-text';
import { describeSource, handleInput, isPlainObject, readProperty } from './input-handling';
import { NodeInputError, usableConfig, paramFailure, scrubSecret, toInputError } from './input-errors';
import { SubmitStatus } from './submit-status';
import { sendUnsentJobs } from './unsent-jobs';
import { submitGate, usageText } from './submit-gate';
import { checkPayload, maxBytesFrom, submitJob } from './submit-job';

type ModelNodeDef = NodeDef & Record<string, unknown> & {
  config?: string;
  paramsProperty?: string;
  paramsPropertyType?: string;
  maxMediaMB?: string | number;
};

/**
 * Root key under which the generated model catalogs (nodes/models/locales/<lang>/<file>.json)
 * repeat the shared runtime texts: SHARED_KEY of src/models/generate/text.ts (not imported, to keep
 * the generator out of the runtime bundle; a test checks they agree).
 */
export const SHARED_TEXT_KEY = 'segmind-model-node';

export function registerModelNode(RED: NodeAPI, spec: ModelSpec): void {
  const schema = buildPayloadSchema(spec);
  const media = mediaParams(spec);

  function ModelNode(this: Node, def: ModelNodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    // the generated catalogs repeat the shared runtime texts under this key (src/models/generate/text.ts)
    const t = runtimeText(RED, SHARED_TEXT_KEY);
    const config = getConfig(RED, node, def.config);
    const status = new SubmitStatus(node, t, () => usageText(t, config));
    const maxBytes = maxBytesFrom(def.maxMediaMB, DEFAULT_MAX_MEDIA_MB);
    // editor values of the non-media parameters, as the editor stored them (strings mostly)
    const settings: Record<string, unknown> = {};
    for (const p of valueParams(spec)) settings[p.name] = def[p.name];

    const stopUnsent = sendUnsentJobs(RED, node, config, (p) => status.succeeded(p.entry.requestId ?? ''));
    node.on('close', stopUnsent);
    handleInput(
      node,
      async (msg, send, { signal, submitSignal, closing }) => {
        let started = false;
        try {
          const usable = usableConfig(RED, config, t);
          // 1. everything the message says, checked completely before any request
          const override = await readProperty(RED, node, msg, t, 'payload', def.paramsProperty || 'payload', def.paramsPropertyType || 'msg');
          const overrides = isPlainObject(override) ? override : undefined;
          const parsed = parseParams(spec, settings, overrides);
          if (!parsed.ok) throw paramFailure(t, parsed.error);
          const fields: ClassifiedField[] = [];
          for (const p of media) {
            const prop = typeof def[p.name] === 'string' ? (def[p.name] as string) : p.defaultProperty;
            const type = typeof def[`${p.name}Type`] === 'string' ? (def[`${p.name}Type`] as string) : 'msg';
            const value = await readProperty(RED, node, msg, t, p.name, prop, type);
            const source = describeSource(prop, type);
            if (!p.required && (value === undefined || value === null || value === '')) continue;
            try {
              fields.push({ field: p.name, media: await classify(value, { field: p.name, kind: p.media, maxBytes, source }) });
            } catch (err) {
              throw toInputError(t, err);
            }
          }
          checkPayload(t, schema, parsed.params, fields);

          // 2. requests: one upload for all byte media, then the submit
          status.started();
          started = true;
          const { handle, key } = await submitJob(
            {
              t,
              client: usable.client,
              model: spec.slug,
              schema,
              params: parsed.params,
              fields,
              record: { ledger: usable.ledger, origin: node.id, msg: msg as unknown as Record<string, unknown>, signal, submitSignal },
            },
            submitGate(usable, t, spec.slug, status),
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
      },
    );
  }

  RED.nodes.registerType(spec.nodeType, ModelNode as never);
}
