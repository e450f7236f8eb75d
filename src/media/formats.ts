// The media formats the five models take, keyed by file-type's extension, with the MIME type we
// send in the upload's data URL. file-type's own MIME is not always the common one (WAV is
// 'audio/vnd.wave', M4A 'audio/x-m4a'), and upload services match on the common ones.
import type { MediaKind } from '../models/spec';

/** What a field accepts: a model's MediaKind, or 'any' supported format (the generic node). */
export type AcceptKind = MediaKind | 'any';

export type FormatFamily = 'image' | 'audio' | 'video';

export interface MediaFormat {
  /** file-type's ext */
  ext: string;
  /** MIME used in data URLs */
  mime: string;
  family: FormatFamily;
  /** human name for messages */
  label: string;
}

const FORMATS: MediaFormat[] = [
  { ext: 'png', mime: 'image/png', family: 'image', label: 'PNG' },
  { ext: 'jpg', mime: 'image/jpeg', family: 'image', label: 'JPEG' },
  { ext: 'webp', mime: 'image/webp', family: 'image', label: 'WebP' },
  { ext: 'mp3', mime: 'audio/mpeg', family: 'audio', label: 'MP3' },
  { ext: 'wav', mime: 'audio/wav', family: 'audio', label: 'WAV' },
  { ext: 'm4a', mime: 'audio/mp4', family: 'audio', label: 'M4A' },
  { ext: 'aac', mime: 'audio/aac', family: 'audio', label: 'AAC' },
  { ext: 'ogg', mime: 'audio/ogg', family: 'audio', label: 'Ogg' },
  { ext: 'oga', mime: 'audio/ogg', family: 'audio', label: 'Ogg' },
  { ext: 'opus', mime: 'audio/ogg', family: 'audio', label: 'Ogg' },
  { ext: 'mp4', mime: 'video/mp4', family: 'video', label: 'MP4' },
  { ext: 'mov', mime: 'video/quicktime', family: 'video', label: 'MOV' },
  { ext: 'webm', mime: 'video/webm', family: 'video', label: 'WebM' },
];

const BY_EXT = new Map(FORMATS.map((f) => [f.ext, f]));

export function formatByExt(ext: string): MediaFormat | undefined {
  return BY_EXT.get(ext);
}

export function familiesFor(kind: AcceptKind): FormatFamily[] {
  switch (kind) {
    case 'image':
      return ['image'];
    case 'audio':
      return ['audio'];
    case 'video':
      return ['video'];
    case 'image-or-video':
      return ['image', 'video'];
    default:
      return ['image', 'audio', 'video'];
  }
}

export function accepts(kind: AcceptKind, format: MediaFormat): boolean {
  return familiesFor(kind).includes(format.family);
}

/** The format names of a family, e.g. ['PNG', 'JPEG', 'WebP']. */
export function formatLabels(family: FormatFamily): string[] {
  return [...new Set(FORMATS.filter((f) => f.family === family).map((f) => f.label))];
}

/** e.g. "PNG, JPEG or WebP image" / "PNG, JPEG, WebP image or MP4, MOV, WebM video" */
export function describeKind(kind: AcceptKind): string {
  const parts = familiesFor(kind).map((family) => `${formatLabels(family).join(', ')} ${family}`);
  return parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

/** The ways a value may be given, for messages. */
export const MEDIA_FORMS = 'an http(s) URL, a data URI, base64 data or a Buffer';
