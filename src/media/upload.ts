// Bytes -> URLs: one upload call for all byte inputs of a message (Segmind's upload-asset takes a
// list of data URLs), then every field holds a URL. Classification must be complete before this
// runs: it is the first request a message makes.
import type { CallOptions, UploadInput } from '../client/types';
import type { Classified } from './classify';

/** The part of SegmindClient this module uses. */
export interface Uploader {
  uploadAsset(inputs: UploadInput[], options?: CallOptions): Promise<string[]>;
}

export interface ClassifiedField {
  field: string;
  media: Classified;
}

/** field -> URL for every field; uploads the byte inputs in one call (none when all are URLs). */
export async function resolveUrls(
  uploader: Uploader,
  fields: ClassifiedField[],
  options: CallOptions = {},
): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  const pending: { field: string; data: Buffer; mime: string }[] = [];
  for (const { field, media } of fields) {
    if (media.type === 'url') urls[field] = media.url;
    else pending.push({ field, data: media.data, mime: media.mime });
  }
  if (pending.length === 0) return urls;
  const uploaded = await uploader.uploadAsset(
    pending.map(({ data, mime }) => ({ data, mime })),
    options,
  );
  if (!Array.isArray(uploaded) || uploaded.length !== pending.length) {
    throw new Error(
      `upload returned ${Array.isArray(uploaded) ? uploaded.length : 'no'} URLs for ${pending.length} files`,
    );
  }
  pending.forEach(({ field }, i) => {
    urls[field] = uploaded[i];
  });
  return urls;
}

/** How many uploads a set of classified fields needs (0 = no upload request). */
export function countUploads(fields: ClassifiedField[]): number {
  return fields.filter((f) => f.media.type === 'bytes').length;
}
