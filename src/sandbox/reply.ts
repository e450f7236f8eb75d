// Answers as values: handlers build a Reply, the server decides (faults) how it goes on the wire.

import type { IncomingMessage } from 'node:http';
import type { OutputSource } from './output';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  /** a small body, or a streamed output */
  body?: Buffer | OutputSource;
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(value)),
  };
}

export function errorReply(status: number, message: string, headers: Record<string, string> = {}): Reply {
  return json(status, { error: message }, headers);
}

/** Segmind answers 405 with an HTML page, not JSON. */
export function html405(): Reply {
  const page =
    '<!DOCTYPE html>\n<html><head><title>405 Method Not Allowed</title></head>' +
    '<body><h1>405 Method Not Allowed</h1><p>The method is not allowed for the requested URL.</p></body></html>\n';
  return { status: 405, headers: { 'content-type': 'text/html; charset=utf-8' }, body: Buffer.from(page) };
}

export class BodyTooLarge extends Error {}

/** Reads the whole request body; over `limit` bytes it drains the rest and rejects with BodyTooLarge. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) reject(new BodyTooLarge(`request body over ${limit} bytes`));
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase() === 'application/json';
}
