// Runtime parameter handling derived from a ModelSpec: the wire payload schema (zod), the
// merge of message override > node setting > model default for the non-media parameters,
// and the human text of what a parameter allows. No Node-RED, no HTTP.
import { z } from 'zod';
import type {
  BooleanParam,
  MediaParam,
  ModelSpec,
  NumberParam,
  ParamSpec,
  StringParam,
} from './spec';

/** Longest free text (e.g. a prompt) we pass on. */
export const MAX_TEXT_LENGTH = 10000;
/** Longest string we try to read as a number; anything longer is not a plausible number. */
const MAX_NUMERIC_STRING = 40;
/** How much of an offending value an error shows. */
const SHOWN_CHARS = 40;

export interface ParamError {
  /** the parameter's name */
  field: string;
  /**
   * the value received: as given when it is a number, boolean, null, undefined or a string of
   * at most 40 characters; otherwise its abbreviated description (never a huge input)
   */
  value: unknown;
  /** what the parameter allows, e.g. 'integer 0 to 45' */
  allowed: string;
  /** one line: field, abbreviated value, what is allowed */
  message: string;
}

export type ParseResult =
  | { ok: true; params: Record<string, unknown> }
  | { ok: false; error: ParamError };

export type ValueParam = NumberParam | StringParam | BooleanParam;

export function isMediaParam(p: ParamSpec): p is MediaParam {
  return p.type === 'media';
}

export function mediaParams(spec: ModelSpec): MediaParam[] {
  return spec.params.filter(isMediaParam);
}

export function valueParams(spec: ModelSpec): ValueParam[] {
  return spec.params.filter((p): p is ValueParam => !isMediaParam(p));
}

const MEDIA_WORDS: Record<MediaParam['media'], string> = {
  image: 'image',
  audio: 'audio',
  video: 'video',
  'image-or-video': 'image or video',
};

/**
 * What a parameter allows, in words: 'integer 0 to 45, default 4'. Used in errors
 * (withDefault false), editor tooltips and the help.
 */
export function describeAllowed(param: ParamSpec, options: { withDefault?: boolean } = {}): string {
  const withDefault = options.withDefault ?? true;
  let text: string;
  switch (param.type) {
    case 'media':
      text = `${MEDIA_WORDS[param.media]}: http(s) URL, data URI, base64 string or Buffer`;
      break;
    case 'integer':
    case 'number': {
      const kind = param.type === 'integer' ? 'integer' : 'number';
      if (param.allowed) text = `${kind}, one of ${param.allowed.join(', ')}`;
      else if (param.min !== undefined && param.max !== undefined) text = `${kind} ${param.min} to ${param.max}`;
      else if (param.min !== undefined) text = `${kind} from ${param.min}`;
      else if (param.max !== undefined) text = `${kind} up to ${param.max}`;
      else text = kind;
      break;
    }
    case 'string':
      text = param.allowed
        ? `one of ${param.allowed.map((v) => JSON.stringify(v)).join(', ')}`
        : `text up to ${MAX_TEXT_LENGTH} characters`;
      break;
    case 'boolean':
      text = 'true or false';
      break;
  }
  if (withDefault && param.type !== 'media' && param.default !== undefined) {
    text += `, default ${showDefault(param.default)}`;
  }
  return text;
}

/** A default as shown in tooltips and help: in full unless it is very long. */
export function showDefault(value: string | number | boolean): string {
  if (typeof value !== 'string') return String(value);
  return value.length <= 100 ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, 97))}…`;
}

/** A short, safe rendering of any value for an error message: never dumps large input. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    if (value.length <= SHOWN_CHARS) return JSON.stringify(value);
    return `${JSON.stringify(value.slice(0, SHOWN_CHARS))}… (${value.length} characters)`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (Buffer.isBuffer(value)) return `a Buffer (${value.length} bytes)`;
  if (Array.isArray(value)) return `an array (${value.length} ${value.length === 1 ? "item" : "items"})`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  return 'an object';
}

function paramError(param: ParamSpec, value: unknown, problem: string): ParamError {
  const allowed = describeAllowed(param, { withDefault: false });
  const message =
    problem === 'is required'
      ? `${param.name} is required; allowed: ${allowed}`
      : `${param.name}: ${showValue(value)} ${problem}; allowed: ${allowed}`;
  return { field: param.name, value: keepable(value) ? value : showValue(value), allowed, message };
}

function keepable(value: unknown): boolean {
  if (typeof value === 'string') return value.length <= SHOWN_CHARS;
  return value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean';
}

const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

type Check = { ok: true; value: unknown } | { ok: false; error: ParamError };

function checkNumber(param: NumberParam, raw: unknown): Check {
  let n: number;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string') {
    const s = raw.trim();
    if (s.length > MAX_NUMERIC_STRING || !NUMERIC.test(s)) {
      return { ok: false, error: paramError(param, raw, 'is not a number') };
    }
    n = Number(s);
  } else return { ok: false, error: paramError(param, raw, 'is not a number') };
  if (!Number.isFinite(n)) return { ok: false, error: paramError(param, raw, 'is not a finite number') };
  if (param.type === 'integer' && !Number.isInteger(n)) {
    return { ok: false, error: paramError(param, raw, 'is not an integer') };
  }
  if (param.allowed && !param.allowed.includes(n)) {
    return { ok: false, error: paramError(param, raw, 'is not allowed') };
  }
  if ((param.min !== undefined && n < param.min) || (param.max !== undefined && n > param.max)) {
    return { ok: false, error: paramError(param, raw, 'is out of range') };
  }
  // -0 would serialise as 0 anyway; normalise so equality checks are unsurprising
  return { ok: true, value: n === 0 ? 0 : n };
}

function checkBoolean(param: BooleanParam, raw: unknown): Check {
  if (typeof raw === 'boolean') return { ok: true, value: raw };
  if (typeof raw === 'string') {
    const s = raw.trim().toLowerCase();
    if (s === 'true') return { ok: true, value: true };
    if (s === 'false') return { ok: true, value: false };
  }
  return { ok: false, error: paramError(param, raw, 'is not a boolean') };
}

function checkString(param: StringParam, raw: unknown): Check {
  if (typeof raw !== 'string') return { ok: false, error: paramError(param, raw, 'is not text') };
  if (param.allowed) {
    return param.allowed.includes(raw)
      ? { ok: true, value: raw }
      : { ok: false, error: paramError(param, raw, 'is not allowed') };
  }
  if (raw.trim() === '') {
    return param.required
      ? { ok: false, error: paramError(param, raw, 'is required') }
      : { ok: true, value: undefined };
  }
  if (raw.length > MAX_TEXT_LENGTH) return { ok: false, error: paramError(param, raw, 'is too long') };
  return { ok: true, value: raw };
}

function checkValue(param: ValueParam, raw: unknown): Check {
  switch (param.type) {
    case 'integer':
    case 'number':
      return checkNumber(param, raw);
    case 'boolean':
      return checkBoolean(param, raw);
    case 'string':
      return checkString(param, raw);
  }
}

function own(obj: Record<string, unknown> | undefined, key: string): unknown {
  return obj && Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/**
 * The non-media parameters of one request: message override > node setting > model default.
 *
 * - setting: the node's editor values (strings such as "4", "true"; booleans from checkboxes;
 *   numbers). undefined, null or "" mean "use the default".
 * - override: usually msg.payload. Anything that is not a plain object carries no overrides
 *   (msg.payload is often a string or a timestamp). Unknown keys and media keys are ignored.
 *   undefined means "not given"; null means "not given" for an optional parameter and is
 *   rejected for a required one. Numbers must be finite numbers or numeric strings; booleans
 *   true/false or "true"/"false"; strings must be strings.
 * Missing optional parameters without a default are omitted; a missing required one is an error.
 */
export function parseParams(
  spec: ModelSpec,
  setting: Record<string, unknown>,
  override: Record<string, unknown> | undefined,
): ParseResult {
  const overrides = isPlainObject(override) ? override : undefined;
  const params: Record<string, unknown> = {};
  for (const param of valueParams(spec)) {
    const fromMsg = own(overrides, param.name);
    if (fromMsg === null && param.required) {
      return { ok: false, error: paramError(param, null, 'is required') };
    }
    let value: unknown;
    if (fromMsg !== undefined && fromMsg !== null) {
      const checked = checkValue(param, fromMsg);
      if (!checked.ok) return checked;
      value = checked.value;
      // an explicit empty required text is an error, not a fall-through (checkString said so)
    } else {
      const fromSetting = own(setting, param.name);
      if (fromSetting !== undefined && fromSetting !== null && fromSetting !== '') {
        const checked = checkValue(param, fromSetting);
        if (!checked.ok) return checked;
        value = checked.value;
      }
    }
    if (value === undefined) value = param.default;
    if (value === undefined) {
      if (param.required) return { ok: false, error: paramError(param, undefined, 'is required') };
      continue;
    }
    params[param.name] = value;
  }
  return { ok: true, params };
}

function httpUrl(): z.ZodTypeAny {
  return z
    .string()
    .url()
    .refine((s) => /^https?:\/\//i.test(s), { message: 'must be an http(s) URL' });
}

function fieldSchema(param: ParamSpec): z.ZodTypeAny {
  switch (param.type) {
    case 'media':
      return httpUrl();
    case 'integer':
    case 'number': {
      let n = z.number().finite();
      if (param.type === 'integer') n = n.int();
      if (param.min !== undefined) n = n.min(param.min);
      if (param.max !== undefined) n = n.max(param.max);
      if (param.allowed) {
        const allowed = param.allowed;
        return n.refine((v) => allowed.includes(v), { message: `must be one of ${allowed.join(', ')}` });
      }
      return n;
    }
    case 'string':
      if (param.allowed && param.allowed.length > 0) {
        return z.enum(param.allowed as [string, ...string[]]);
      }
      return z
        .string()
        .max(MAX_TEXT_LENGTH)
        .refine((s) => !param.required || s.trim() !== '', { message: 'must not be empty' });
    case 'boolean':
      return z.boolean();
  }
}

/** The final wire payload of POST /v2/{slug}: media as http(s) URLs, everything typed and ranged. */
export function buildPayloadSchema(spec: ModelSpec): z.ZodObject<Record<string, z.ZodTypeAny>> {
  const shape: Record<string, z.ZodTypeAny> = {};
  for (const param of spec.params) {
    const s = fieldSchema(param);
    shape[param.name] = param.required ? s : s.optional();
  }
  return z.object(shape).strict();
}
