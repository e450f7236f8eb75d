// Turns a completed job's output into what the await node puts in msg.payload: the URL as it is,
// a Buffer of the file, or the path of a file written to a folder (temp name, then rename;
// streamed, so memory stays flat whatever the size; no partial file is ever left behind).

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { englishText, type ClientText } from '../client/errors';
import type { Download } from '../client/types';

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
  constructor(text: ClientText, readonly code: 'invalid_response' | 'bad_output' = 'bad_output') {
    super(englishText(text));
    this.name = 'OutputError';
    this.text = text;
  }
}

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)?(;[\w-]+=[\w.-]+)*;base64,/i;
const BASE64 = /^[A-Za-z0-9+/\r\n]+={0,2}$/;

/** The output of a result body: `output`, else `video.url` (some video models), decoded when inline. */
export function outputRef(raw: Record<string, unknown>): OutputRef {
  let output = raw.output;
  if ((output === undefined || output === null || output === '') && raw.video && typeof raw.video === 'object') {
    output = (raw.video as Record<string, unknown>).url;
  }
  if (Array.isArray(output) && output.length > 0) output = output[0];
  if (typeof output !== 'string' || output.trim() === '') {
    throw new OutputError({ key: 'noOutput', params: { output: describe(raw.output) } }, 'invalid_response');
  }
  const text = output.trim();
  if (/^https?:\/\//i.test(text)) return { kind: 'url', url: text };
  const dataUrl = DATA_URL.exec(text);
  if (dataUrl) return { kind: 'inline', data: Buffer.from(text.slice(dataUrl[0].length), 'base64'), mime: dataUrl[1] };
  if (/^[a-z][a-z0-9+.-]*:/i.test(text) && !BASE64.test(text.slice(0, 64))) {
    throw new OutputError({ key: 'notHttp', params: { url: JSON.stringify(text.slice(0, 200)) } });
  }
  if (text.length >= 16 && BASE64.test(text.slice(0, 4096))) return { kind: 'inline', data: Buffer.from(text, 'base64') };
  throw new OutputError({ key: 'notUrlOrBase64', params: { output: JSON.stringify(text.slice(0, 80)) } });
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
  requestId: string;
  downloader: Downloader;
  signal?: AbortSignal;
}

/** What goes in msg.payload for a completed job. Throws OutputError or the downloader's errors. */
export async function deliverOutput(raw: Record<string, unknown>, opts: DeliverOptions): Promise<string | Buffer> {
  const ref = outputRef(raw);
  if (opts.mode === 'url') return ref.kind === 'url' ? ref.url : (raw.output as string);
  if (opts.mode === 'buffer') {
    if (ref.kind === 'inline') return ref.data;
    const dl = await opts.downloader.download(ref.url, { signal: opts.signal });
    const chunks: Buffer[] = [];
    for await (const chunk of dl.stream as AsyncIterable<Buffer | string>) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    }
    return Buffer.concat(chunks);
  }
  await mkdir(opts.folder, { recursive: true });
  const base = join(opts.folder, fileBaseName(opts.requestId));
  if (ref.kind === 'inline') {
    const finalPath = `${base}.${extensionFor(ref.mime, undefined, ref.data.subarray(0, 16))}`;
    await writeAtomically(finalPath, (part) => writeFile(part, ref.data, { signal: opts.signal }));
    return finalPath;
  }
  const dl = await opts.downloader.download(ref.url, { signal: opts.signal });
  const finalPath = `${base}.${extensionFor(dl.contentType, dl.url || ref.url)}`;
  try {
    await writeAtomically(finalPath, async (part) => {
      const file = createWriteStream(part);
      try {
        await pipeline(dl.stream as NodeJS.ReadableStream, file, { signal: opts.signal });
      } finally {
        // a failed pipeline destroys the file stream while its open() may still be pending: wait for
        // the close, or the .part would be created after it was removed
        if (!file.closed) await once(file, 'close').catch(() => undefined);
      }
    });
  } finally {
    const s = dl.stream as NodeJS.ReadableStream & { destroy?: () => void; destroyed?: boolean };
    if (typeof s.destroy === 'function' && !s.destroyed) s.destroy();
  }
  return finalPath;
}

/** Writes to <path>.<random>.part, renames onto <path> when complete, removes the .part on any failure. */
async function writeAtomically(finalPath: string, write: (partPath: string) => Promise<unknown>): Promise<void> {
  // a unique temp name: two nodes fetching the same request id must not write into each other's file
  const part = `${finalPath}.${randomBytes(4).toString('hex')}.part`;
  try {
    await write(part);
    await rename(part, finalPath);
  } catch (err) {
    await rm(part, { force: true }).catch(() => undefined);
    throw err;
  }
}
