// The node type of one model spec ('segmind sadtalker', ...): validates every parameter and media
// input of a message, uploads byte media in one call, submits the job and passes the message on
// with msg.segmind. Nothing is requested until every field is valid.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { ModelSpec } from '../models/spec';
import { buildPayloadSchema, mediaParams, parseParams, valueParams } from '../models/params';
import { classify, type ClassifiedField } from '../media';
import { runtimeText } from './runtime-text';
import { describeSource, isPlainObject, readProperty } from './input-handling';
import { paramFailure } from './input-errors';
import { runSubmittingNode } from './submitting-node';

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
    // editor values of the non-media parameters, as the editor stored them (strings mostly)
    const settings: Record<string, unknown> = {};
    for (const p of valueParams(spec)) settings[p.name] = def[p.name];

    runSubmittingNode(RED, node, t, def, async (msg, { maxBytes }) => {
      const override = await readProperty(RED, node, msg, t, 'payload', def.paramsProperty || 'payload', def.paramsPropertyType || 'msg');
      const parsed = parseParams(spec, settings, isPlainObject(override) ? override : undefined);
      if (!parsed.ok) throw paramFailure(t, parsed.error);
      const fields: ClassifiedField[] = [];
      for (const p of media) {
        const prop = typeof def[p.name] === 'string' ? (def[p.name] as string) : p.defaultProperty;
        const type = typeof def[`${p.name}Type`] === 'string' ? (def[`${p.name}Type`] as string) : 'msg';
        const value = await readProperty(RED, node, msg, t, p.name, prop, type);
        const source = describeSource(prop, type);
        if (!p.required && (value === undefined || value === null || value === '')) continue;
        // a MediaError becomes the node's error in runSubmittingNode
        fields.push({ field: p.name, media: await classify(value, { field: p.name, kind: p.media, maxBytes, source }) });
      }
      return { model: spec.slug, schema, params: parsed.params, fields };
    });
  }

  RED.nodes.registerType(spec.nodeType, ModelNode as never);
}
