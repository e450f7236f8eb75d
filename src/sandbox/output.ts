// The bytes every job "generates": the sample MP4 (or the bytes given), optionally padded to a
// large size that is streamed, never held in memory.

import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';

/** Where assets/sample.mp4 is from src/sandbox (tsx), from the bundle nodes/lib, and from the package root. */
export function findSampleMp4(): string | undefined {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const candidates = [
    path.resolve(here, '../../assets/sample.mp4'), // src/sandbox/ and nodes/lib/
    path.resolve(here, '../assets/sample.mp4'),
    path.resolve(process.cwd(), 'assets/sample.mp4'),
  ];
  return candidates.find((p) => existsSync(p));
}

/** A minimal ISO-BMFF header, used only if the sample file cannot be found. */
function fallbackMp4(): Buffer {
  const ftyp = Buffer.alloc(24);
  ftyp.writeUInt32BE(24, 0);
  ftyp.write('ftypisom', 4, 'latin1');
  ftyp.writeUInt32BE(0x200, 12);
  ftyp.write('isomavc1', 16, 'latin1');
  return ftyp;
}

let cachedSample: Buffer | undefined;
export function sampleMp4(): Buffer {
  if (!cachedSample) {
    const file = findSampleMp4();
    cachedSample = file ? readFileSync(file) : fallbackMp4();
  }
  return cachedSample;
}

const ZEROS = Buffer.alloc(64 * 1024);

export class OutputSource {
  /** total bytes served: the head, then zero padding up to `length` */
  readonly length: number;

  constructor(
    readonly head: Buffer,
    length?: number,
  ) {
    if (length !== undefined && !(Number.isSafeInteger(length) && length >= 0)) {
      throw new Error(`outputBytes: expected a non-negative integer, got ${JSON.stringify(length)}`);
    }
    this.length = length ?? head.length;
  }

  /** The whole output in memory (for base64 answers and v1 with small outputs). */
  toBuffer(): Buffer {
    if (this.length <= this.head.length) return this.head.subarray(0, this.length);
    return Buffer.concat([this.head, Buffer.alloc(this.length - this.head.length)]);
  }

  /**
   * Writes the body to res with back-pressure. With `stopAfter`, destroys the socket once that many
   * bytes have been flushed (the truncate_body fault); otherwise ends the response.
   */
  pipeTo(res: ServerResponse, stopAfter?: number): void {
    const total = stopAfter === undefined ? this.length : Math.min(stopAfter, this.length);
    let sent = 0;
    const finish = (): void => {
      if (stopAfter === undefined) res.end();
      else res.socket?.destroy();
    };
    const next = (): void => {
      while (sent < total) {
        if (res.destroyed) return;
        let chunk: Buffer;
        if (sent < this.head.length) chunk = this.head.subarray(sent, Math.min(total, this.head.length));
        else chunk = ZEROS.subarray(0, Math.min(ZEROS.length, total - sent));
        sent += chunk.length;
        if (sent >= total) {
          if (stopAfter === undefined) res.end(chunk);
          // the callback runs once the bytes reached the socket: only then cut it
          else res.write(chunk, () => finish());
          return;
        }
        if (!res.write(chunk)) {
          res.once('drain', next);
          return;
        }
      }
      finish();
    };
    next();
  }

  /**
   * Writes the body without end (the endless_body fault): the output's own bytes, then zeros, in
   * chunks of `chunkBytes` every `intervalMs` (0: as fast as the client reads), until the client
   * goes away or the response is destroyed. No content-length: the client cannot know the size.
   */
  pipeEndless(res: ServerResponse, chunkBytes = ZEROS.length, intervalMs = 0): void {
    const zeros = chunkBytes <= ZEROS.length ? ZEROS.subarray(0, chunkBytes) : Buffer.alloc(chunkBytes);
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    res.once('close', () => clearTimeout(timer));
    const next = (): void => {
      timer = undefined;
      while (!res.destroyed) {
        const chunk = sent < this.head.length ? this.head.subarray(sent, sent + chunkBytes) : zeros;
        sent += chunk.length;
        const more = res.write(chunk);
        if (intervalMs > 0) {
          timer = setTimeout(() => (more ? next() : res.once('drain', next)), intervalMs);
          return;
        }
        if (!more) {
          res.once('drain', next);
          return;
        }
      }
    };
    next();
  }
}
