// Segmind storage stand-in: data URLs in, file URLs out; bytes kept in memory.

import { randomUUID } from 'node:crypto';

export interface StoredAsset {
  mime: string;
  bytes: Buffer;
}

const EXTENSIONS: Record<string, string> = {
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/webp': '.webp',
  'image/gif': '.gif',
  'audio/mpeg': '.mp3',
  'audio/mp3': '.mp3',
  'audio/wav': '.wav',
  'audio/x-wav': '.wav',
  'audio/wave': '.wav',
  'audio/ogg': '.ogg',
  'audio/mp4': '.m4a',
  'audio/aac': '.aac',
  'audio/flac': '.flac',
  'video/mp4': '.mp4',
  'video/webm': '.webm',
  'video/quicktime': '.mov',
};

const BASE64 = /^[A-Za-z0-9+/\-_\s]*={0,2}\s*$/;

/** Parses `data:<mime>[;params];base64,<data>` (or percent-encoded data); throws naming what is wrong. */
export function parseDataUrl(url: unknown, index: number): StoredAsset {
  const where = `data_urls[${index}]`;
  if (typeof url !== 'string') throw new Error(`${where}: expected a data URL string, got ${typeof url}`);
  if (!url.startsWith('data:')) throw new Error(`${where}: expected a data URL starting with "data:", got "${url.slice(0, 40)}"`);
  const comma = url.indexOf(',');
  if (comma < 0) throw new Error(`${where}: data URL has no "," before its data`);
  const meta = url.slice(5, comma).split(';');
  const mime = (meta[0] || 'text/plain').trim().toLowerCase();
  const isBase64 = meta.slice(1).some((m) => m.trim().toLowerCase() === 'base64');
  const data = url.slice(comma + 1);
  let bytes: Buffer;
  if (isBase64) {
    if (!BASE64.test(data)) throw new Error(`${where}: data is not valid base64`);
    bytes = Buffer.from(data, 'base64');
  } else {
    try {
      bytes = Buffer.from(decodeURIComponent(data), 'utf8');
    } catch {
      throw new Error(`${where}: data is not valid percent-encoding`);
    }
  }
  if (bytes.length === 0) throw new Error(`${where}: data URL holds no bytes`);
  return { mime, bytes };
}

export class AssetStore {
  private assets = new Map<string, StoredAsset>();

  /** Stores an asset and returns its file name (id + extension). */
  put(asset: StoredAsset): string {
    const name = randomUUID() + (EXTENSIONS[asset.mime] ?? '.bin');
    this.assets.set(name, asset);
    return name;
  }

  get(name: string): StoredAsset | undefined {
    return this.assets.get(name);
  }

  clear(): void {
    this.assets.clear();
  }
}
