// Turns a completed job's output into what the await node puts in msg.payload: the URL as it is,
// a Buffer of the file, or the path of a file written to a folder (temp name, then rename;
// streamed, so memory stays flat whatever the size; no partial file is ever left behind).
// Buffers and files have a size limit, checked against content-length before reading and against
// the bytes received while reading: a host that streams forever is cut off at the limit.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ct, englishText, formatBytes, type ClientText } from '../client/errors';
import type { Download } from '../client/types';
import { FILE_MODE, prepareFolder, writeAtomically } from './result-files';

export type ResultMode = 'url' | 'buffer' | 'file';
export const RESULT_MODES: readonly ResultMode[] = ['url', 'buffer', 'file'];

export interface Downloader {
  download(url: string, opts?: { signal?: AbortSignal }): Promise<Download>;
}

/** Where an output is: a fetchable URL, or bytes carried in the answer itself (base64: true). */
export type OutputRef = { kind: 'url'; url: string } | { kind: 'inline'; data: Buffer; mime?: string };

/** Thrown for an output this node cannot use; the waiter turns it into a failed job. */
export class OutputError extends Error {
  /** the message as template + parameters (client texts), for the node to translate */
  readonly text: ClientText;
  constructor(text: ClientText, readonly code: 'invalid_response' | 'bad_output' | 'output_too_large' = 'bad_output') {
    super(englishText(text));
    this.name = 'OutputError';
    this.text = text;
  }
}

/**
 * Default size limits (bytes). Buffer: these models make talking-head clips of a few MB to a few tens
 * of MB; 200 MiB is far above that, yet a few such Buffers (Node-RED copies a message for every extra
 * wire) stay well inside Node's heap. File: disk, not memory; 2 GiB holds minutes of high-bitrate
 * video and still stops a runaway host before it fills the disk.
 */
export const DEFAULT_MAX_BUFFER_BYTES = 200 * 1024 * 1024;
export const DEFAULT_MAX_FILE_BYTES = 2048 * 1024 * 1024;

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)?(;[\w-]+=[\w.-]+)*;base64,/i;
const BASE64 = /^[A-Za-z0-9+/\r\n]+={0,2}$/;

/** The output field of a result body: `output`, else `video.url` (some video models), the first of a list. */
function outputValue(raw: Record<string, unknown>): unknown {
  let output = raw.output;
  if ((output === undefined || output === null || output === '') && raw.video && typeof raw.video === 'object') {
    output = (raw.video as Record<string, unknown>).url;
  }
  if (Array.isArray(output) && output.length > 0) output = output[0];
  return output;
}

/** The output's http(s) URL when it has one (not inline data), without decoding anything. */
export function outputUrl(raw: Record<string, unknown>): string | undefined {
  const output = outputValue(raw);
  if (typeof output !== 'string') return undefined;
  const text = output.trim();
  return /^https?:\/\//i.test(text) ? text : undefined;
}

/**
 * The output of a result body, decoded when inline. With `limit` (see sizeLimit), inline data whose
 * size, estimated from its length, is over the limit is refused before it is decoded.
 */
export function outputRef(raw: Record<string, unknown>, limit?: SizeLimit): OutputRef {
  const output = outputValue(raw);
  if (typeof output !== 'string' || output.trim() === '') {
    throw new OutputError({ key: 'noOutput', params: { output: describe(raw.output) } }, 'invalid_response');
  }
  const text = output.trim();
  if (/^https?:\/\//i.test(text)) return { kind: 'url', url: text };
  const dataUrl = DATA_URL.exec(text);
  if (dataUrl) {
    if (limit) checkSize(Math.floor(((text.length - dataUrl[0].length) * 3) / 4), limit, 'exact');
    return { kind: 'inline', data: Buffer.from(text.slice(dataUrl[0].length), 'base64'), mime: dataUrl[1] };
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(text.slice(0, 256)) && !BASE64.test(text.slice(0, 64))) {
    throw new OutputError({ key: 'notHttp', params: { url: JSON.stringify(text.slice(0, 200)) } });
  }
  if (text.length >= 16 && BASE64.test(text.slice(0, 4096))) {
    if (limit) checkSize(Math.floor((text.length * 3) / 4), limit, 'exact');
    return { kind: 'inline', data: Buffer.from(text, 'base64') };
  }
  throw new OutputError({ key: 'notUrlOrBase64', params: { output: JSON.stringify(text.slice(0, 80)) } });
}

/** A result mode's size limit, with what the error needs to say. */
export interface SizeLimit {
  bytes: number;
  mode: 'buffer' | 'file';
  requestId: string;
  /** the output URL, when the output is one (the error points at it) */
  url?: string;
}

/** Throws output_too_large when `size` is over the limit; 'over' when reading stopped there (the whole size is unknown). */
function checkSize(size: number, limit: SizeLimit, how: 'exact' | 'over'): void {
  if (size <= limit.bytes) return;
  const shown = how === 'exact' ? formatBytes(size) : ct('job.sizeOver', { size: formatBytes(limit.bytes) });
  throw new OutputError(
    ct(limit.mode === 'buffer' ? 'job.bufferTooLarge' : 'job.fileTooLarge', {
      requestId: limit.requestId,
      size: shown,
      limit: formatBytes(limit.bytes),
      url: limit.url ? ct('job.outputAt') : '',
    }),
    'output_too_large',
  );
}

/** A pass-through that fails with output_too_large as soon as more than the limit has gone through. */
function sizeGuard(limit: SizeLimit): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit.bytes) {
        try {
          checkSize(seen, limit, 'over');
        } catch (err) {
          return cb(err as Error);
        }
      }
      cb(null, chunk);
    },
  });
}

function describe(v: unknown): string | ClientText {
  if (v === undefined) return { key: 'output.missing', params: {} };
  if (v === null) return { key: 'output.null', params: {} };
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 80));
  return typeof v;
}

const EXT_BY_MIME: Record<string, string> = {
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/webm': 'webm',
  'video/x-matroska': 'mkv',
  'image/gif': 'gif',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
};

/** File extension from a content type, else the URL's own, else sniffed bytes, else mp4 (these are video models). */
export function extensionFor(contentType: string | undefined, url: string | undefined, head?: Buffer): string {
  const mime = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (EXT_BY_MIME[mime]) return EXT_BY_MIME[mime];
  if (url) {
    try {
      const m = /\.([A-Za-z0-9]{2,5})$/.exec(new URL(url).pathname);
      if (m) return m[1].toLowerCase();
    } catch {
      // not a URL: fall through
    }
  }
  if (head && head.length >= 12 && head.toString('latin1', 4, 8) === 'ftyp') return 'mp4';
  return 'mp4';
}

/** A request id made safe as a file name (ids are UUIDs; anything else is replaced). */
export function fileBaseName(requestId: string): string {
  const safe = requestId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 120);
  return safe || 'output';
}

export interface DeliverOptions {
  mode: ResultMode;
  /** folder for file mode */
  folder: string;
  /** the folder is the node's default one (made private; see prepareFolder) */
  defaultFolder?: boolean;
  requestId: string;
  downloader: Downloader;
  signal?: AbortSignal;
  /** largest output kept, in bytes: the Buffer limit in buffer mode, the file limit in file mode */
  maxBytes?: number;
}

/** What goes in msg.payload for a completed job. Throws OutputError or the downloader's errors. */
export async function deliverOutput(raw: Record<string, unknown>, opts: DeliverOptions): Promise<string | Buffer> {
  if (opts.mode === 'url') {
    const ref = outputRef(raw);
    return ref.kind === 'url' ? ref.url : (raw.output as string);
  }
  const limit: SizeLimit = {
    bytes: opts.maxBytes ?? (opts.mode === 'buffer' ? DEFAULT_MAX_BUFFER_BYTES : DEFAULT_MAX_FILE_BYTES),
    mode: opts.mode,
    requestId: opts.requestId,
    url: outputUrl(raw),
  };
  const ref = outputRef(raw, limit);
  if (opts.mode === 'buffer') {
    if (ref.kind === 'inline') return ref.data;
    const dl = await download(opts, ref.url, limit);
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of dl.stream as AsyncIterable<Buffer | string>) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        size += bytes.length;
        checkSize(size, limit, 'over');
        chunks.push(bytes);
      }
    } finally {
      destroy(dl.stream);
    }
    return Buffer.concat(chunks, size);
  }
  await prepareFolder(opts.folder, opts.defaultFolder === true);
  const base = join(opts.folder, fileBaseName(opts.requestId));
  if (ref.kind === 'inline') {
    const finalPath = `${base}.${extensionFor(ref.mime, undefined, ref.data.subarray(0, 16))}`;
    await writeAtomically(finalPath, (part) => writeFile(part, ref.data, { signal: opts.signal, mode: FILE_MODE }));
    return finalPath;
  }
  const dl = await download(opts, ref.url, limit);
  const finalPath = `${base}.${extensionFor(dl.contentType, dl.url || ref.url)}`;
  try {
    await writeAtomically(finalPath, async (part) => {
      const file = createWriteStream(part, { mode: FILE_MODE });
      try {
        await pipeline(dl.stream as NodeJS.ReadableStream, sizeGuard(limit), file, { signal: opts.signal });
      } finally {
        // a failed pipeline destroys the file stream while its open() may still be pending: wait for
        // the close, or the .part would be created after it was removed
        if (!file.closed) await once(file, 'close').catch(() => undefined);
      }
    });
  } finally {
    destroy(dl.stream);
  }
  return finalPath;
}

/** Starts the download; an announced length over the limit ends it before a byte of the body is read. */
async function download(opts: DeliverOptions, url: string, limit: SizeLimit): Promise<Download> {
  const dl = await opts.downloader.download(url, { signal: opts.signal });
  if (dl.contentLength !== undefined && dl.contentLength > limit.bytes) {
    destroy(dl.stream);
    checkSize(dl.contentLength, limit, 'exact');
  }
  return dl;
}

function destroy(stream: NodeJS.ReadableStream): void {
  const s = stream as NodeJS.ReadableStream & { destroy?: () => void; destroyed?: boolean };
  if (typeof s.destroy === 'function' && !s.destroyed) s.destroy();
}
