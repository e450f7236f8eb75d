// What a message carries for a media field -> a URL to pass on, or bytes (with their detected
// MIME type) to upload first. Nothing here touches the network: classification of every field
// finishes before any request, so an invalid message costs nothing.
import { fromBuffer } from 'file-type';
import { describeValue } from './describe-value';
import { MediaError, type MediaErrorCode } from './media-error';
import { accepts, describeKind, formatByExt, MEDIA_FORMS, type AcceptKind } from './formats';

export interface ClassifyOptions {
  /** the API field, e.g. input_image (named in every error) */
  field: string;
  kind: AcceptKind;
  /** size limit for bytes (decoded), checked before decoding base64 */
  maxBytes: number;
  /** where the value came from, e.g. "msg.image" (errors only) */
  source?: string;
}

export type Classified = { type: 'url'; url: string } | { type: 'bytes'; data: Buffer; mime: string };

const MAX_URL_LENGTH = 8192;
/** the smallest media file any model takes is far larger; shorter "base64" is just a word */
const MIN_BASE64_LENGTH = 16;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
const BASE64_PREFIX = /^[A-Za-z0-9+/_-]*$/;
const MB = 1024 * 1024;
/** longer than any file path a system accepts */
const MAX_PATH_LENGTH = 4096;

/**
 * The longest string that can hold a value under `maxBytes`: its base64 (4 characters per 3 bytes)
 * with line breaks (MIME wraps at 76 characters: under 3 %, so 5 % allows for CRLF) and a data URL
 * header; never less than a URL may be long.
 */
export function maxChars(maxBytes: number): number {
  return Math.max(MAX_URL_LENGTH + 1024, Math.ceil((Math.ceil(maxBytes / 3) * 4 * 105) / 100) + 1024);
}

export async function classify(value: unknown, opts: ClassifyOptions): Promise<Classified> {
  const fail = (code: MediaErrorCode, extra: { detected?: string; size?: number; value?: string } = {}) =>
    new MediaError({
      code,
      field: opts.field,
      source: opts.source,
      value: extra.value ?? describeValue(value),
      allowed: `${describeKind(opts.kind)} as ${MEDIA_FORMS}`,
      detected: extra.detected,
      ...(extra.size === undefined ? {} : sizes(extra.size, opts.maxBytes)),
    });

  const bytes = (data: Buffer) => checkBytes(data, opts, fail);

  if (value === undefined || value === null) throw fail('missing');
  if (typeof value === 'string') return classifyString(value, opts, fail, bytes);
  if (Buffer.isBuffer(value)) return bytes(value);
  if (value instanceof Uint8Array) return bytes(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  if (value instanceof ArrayBuffer) return bytes(Buffer.from(value));
  if (isSerialisedBuffer(value)) {
    const data = value.data;
    if (data.length > opts.maxBytes) throw fail('too_large', { size: data.length });
    for (const b of data) {
      if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255) throw fail('unreadable');
    }
    return bytes(Buffer.from(data as number[]));
  }
  throw fail('unreadable');
}

type Fail = (code: MediaErrorCode, extra?: { detected?: string; size?: number; value?: string }) => MediaError;

async function classifyString(
  raw: string,
  opts: ClassifyOptions,
  fail: Fail,
  bytes: (data: Buffer) => Promise<Classified>,
): Promise<Classified> {
  // Before anything reads the string: a string too long to be any value under the limit is refused
  // by its length alone (O(1)). Reading even one character of a string built by concatenation makes
  // V8 flatten (copy) all of it, and a regex over hundreds of MB blocks the event loop for seconds.
  if (raw.length > maxChars(opts.maxBytes)) {
    throw fail('too_large', { size: Math.floor((raw.length * 3) / 4), value: `a string of ${raw.length} characters` });
  }
  const s = raw.trim();
  if (s === '') throw fail('missing');

  if (/^data:/i.test(s)) {
    const comma = s.indexOf(',');
    const header = comma > 0 && comma < 256 ? s.slice(5, comma) : undefined;
    if (header === undefined || !/;base64$/i.test(header)) throw fail('unreadable');
    return bytes(decodeBase64(s.slice(comma + 1), opts, fail, true));
  }

  if (/^https?:\/\//i.test(s)) {
    if (s.length > MAX_URL_LENGTH || /\s/.test(s)) throw fail('bad_url');
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      throw fail('bad_url');
    }
    if (!url.hostname) throw fail('bad_url');
    return { type: 'url', url: s };
  }

  // Windows paths (C:\...) have a colon but are paths, not URLs of another scheme. (Only the head is
  // looked at: "AAAA..." base64 would otherwise be scanned to its end.)
  if (/^[a-z][a-z0-9+.-]*:/i.test(s.slice(0, 256)) && !/^[a-z]:[\\/]/i.test(s)) throw fail('bad_url');

  // Base64 before the path test: JPEG base64 begins with "/9j/", which looks like a path.
  const compact = s.length > 1024 ? undefined : s.replace(/\s+/g, '');
  const looksBase64 = BASE64_PREFIX.test(s.slice(0, 1024).replace(/\s+/g, '').replace(/=+$/, ''));
  if (looksBase64 && (compact === undefined || compact.length >= MIN_BASE64_LENGTH)) {
    const data = decodeBase64(s, opts, fail, false);
    if (data.length > 0) {
      try {
        return await bytes(data);
      } catch (err) {
        if ((err as MediaError).code === 'unknown_bytes' && looksLikePath(s)) throw fail('file_path');
        throw err;
      }
    }
  }
  if (looksLikePath(s)) throw fail('file_path');
  throw fail('unreadable');
}

/**
 * Strict base64 (standard or URL-safe alphabet, whitespace allowed, sane length). The size is
 * estimated from the string length first, so an oversized string is refused without decoding.
 * Returns an empty buffer when the text is not base64 and `mustBe` is false.
 */
function decodeBase64(text: string, opts: ClassifyOptions, fail: Fail, mustBe: boolean): Buffer {
  const estimate = Math.floor((text.length * 3) / 4);
  if (estimate > opts.maxBytes + 3) {
    // only claim "too large" for what starts like base64; other huge strings are just unreadable
    const head = text.slice(0, 1024).replace(/\s+/g, '');
    if (BASE64_PREFIX.test(head.replace(/=+$/, ''))) throw fail('too_large', { size: estimate });
    throw fail('unreadable');
  }
  const compact = text.replace(/\s+/g, '');
  const valid =
    compact.length >= (mustBe ? 1 : MIN_BASE64_LENGTH) &&
    (BASE64.test(compact) || BASE64URL.test(compact)) &&
    (compact.endsWith('=') ? compact.length % 4 === 0 : compact.length % 4 !== 1);
  if (!valid) {
    if (mustBe) throw fail('unreadable');
    return Buffer.alloc(0);
  }
  return Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64');
}

async function checkBytes(data: Buffer, opts: ClassifyOptions, fail: Fail): Promise<Classified> {
  if (data.length === 0) throw fail('missing');
  if (data.length > opts.maxBytes) throw fail('too_large', { size: data.length });
  const found = await fromBuffer(data);
  if (!found) throw fail('unknown_bytes');
  const format = formatByExt(found.ext);
  if (!format) throw fail('wrong_type', { detected: `${found.ext.toUpperCase()} (${found.mime})` });
  if (!accepts(opts.kind, format)) throw fail('wrong_type', { detected: `${format.label} ${format.family}` });
  return { type: 'bytes', data, mime: format.mime };
}

function isSerialisedBuffer(v: unknown): v is { type: 'Buffer'; data: unknown[] } {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((v as { data?: unknown }).data)
  );
}

function looksLikePath(s: string): boolean {
  if (s.length > MAX_PATH_LENGTH) return false;
  return (
    /^(\/|\.{1,2}[\\/]|~[\\/]|[a-z]:[\\/]|\\\\)/i.test(s) ||
    (!/\s/.test(s) && /\.[a-z0-9]{2,5}$/i.test(s))
  );
}

/** Sizes in MB for messages: one decimal from 1 MB up, three significant digits below; more
 * decimals when both would read the same (50.04 MB over a 50.0 MB limit). */
function sizes(size: number, limit: number): { sizeMB: string; limitMB: string } {
  const fmt = (bytes: number, decimals: number) => {
    const mb = bytes / MB;
    return mb >= 1 ? mb.toFixed(decimals) : String(Number(mb.toPrecision(decimals + 2)));
  };
  for (const decimals of [1, 3, 6]) {
    const pair = { sizeMB: fmt(size, decimals), limitMB: fmt(limit, decimals) };
    if (pair.sizeMB !== pair.limitMB) return pair;
  }
  return { sizeMB: fmt(size, 6), limitMB: fmt(limit, 6) };
}
