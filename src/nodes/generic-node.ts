// 'segmind model': submits any Segmind model (slug from the node or msg.model) with a JSON payload
// from the node merged under msg.payload. Top-level Buffer / data URI values are uploaded first
// and replaced by their URLs. Same msg.segmind, errors and status as the model nodes.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { classify, describeValue, type ClassifiedField } from '../media';
import { runtimeText, type Translate } from './runtime-text';
import { isPlainObject } from './input-handling';
import { NodeInputError } from './input-errors';
import { runSubmittingNode } from './submitting-node';
import { checkSlug, jsonProblem, parseEditorJson } from './generic-payload';
import { buildPayloadSchema, getSpec } from '../models';

// A known model sent through the generic node gets its spec's checks too: a payload Segmind would
// refuse costs nothing. Other slugs have no schema; Segmind checks them.
const knownSchemas = new Map<string, ReturnType<typeof buildPayloadSchema>>();
function schemaFor(slug: string): ReturnType<typeof buildPayloadSchema> | undefined {
  const spec = getSpec(slug);
  if (!spec) return undefined;
  let schema = knownSchemas.get(slug);
  if (!schema) knownSchemas.set(slug, (schema = buildPayloadSchema(spec)));
  return schema;
}

interface GenericDef extends NodeDef {
  config?: string;
  model?: string;
  payload?: string;
  maxMediaMB?: string | number;
}

export function registerGenericNode(RED: NodeAPI): void {
  function GenericNode(this: Node, def: GenericDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = runtimeText(RED);
    const editorPayload = parseEditorJson(def.payload);

    runSubmittingNode(RED, node, t, def, async (msg, { maxBytes }) => {
      const fromMsg = (msg as { model?: unknown }).model;
      const model = fromMsg !== undefined && fromMsg !== null && fromMsg !== '' ? fromMsg : def.model;
      const slug = checkSlug(model);
      if (slug === undefined) throw invalid(t, 'model', t('errors.model', { value: describeValue(model) }));
      if (!editorPayload.ok) {
        const message = editorPayload.notObject
          ? t('errors.payloadNotObject', { value: editorPayload.message })
          : t('errors.editorJson', { message: editorPayload.message });
        throw invalid(t, 'payload', message);
      }
      const fromPayload = isPlainObject(msg.payload) ? msg.payload : {};
      const merged: Record<string, unknown> = { ...editorPayload.value, ...fromPayload };

      // media at the top level is uploaded; everything else must be plain JSON
      const params: Record<string, unknown> = {};
      const fields: ClassifiedField[] = [];
      for (const [key, value] of Object.entries(merged)) {
        if (isMediaValue(value)) {
          const source = Object.prototype.hasOwnProperty.call(fromPayload, key) ? `msg.payload.${key}` : 'the node setting';
          // a MediaError becomes the node's error in runSubmittingNode
          fields.push({ field: key, media: await classify(value, { field: key, kind: 'any', maxBytes, source }) });
          continue;
        }
        const bad = jsonProblem(value, key);
        if (bad) throw invalid(t, bad.path, t('errors.payloadNotSerialisable', { field: bad.path, value: describeValue(bad.value) }));
        params[key] = value;
      }
      return { model: slug, schema: schemaFor(slug), params, fields };
    });
  }

  RED.nodes.registerType('segmind model', GenericNode as never);
}

function invalid(t: Translate, field: string, message: string): NodeInputError {
  return new NodeInputError(message, t('status.last.invalid', { field }), { field });
}

/** Values the generic node uploads: Buffers (also JSON-serialised ones), byte arrays, data URIs. */
function isMediaValue(v: unknown): boolean {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return true;
  if (typeof v === 'string') return /^\s*data:/i.test(v);
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((v as { data?: unknown }).data)
  );
}
