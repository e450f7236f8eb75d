// src/media: what a message carries (URL, data URI, base64, Buffer) -> URLs the API accepts.
export { classify, type Classified, type ClassifyOptions } from './classify';
export { resolveUrls, countUploads, type ClassifiedField, type Uploader } from './upload';
export { MediaError, type MediaErrorCode, type MediaErrorInfo } from './media-error';
export { describeKind, familiesFor, type AcceptKind } from './formats';
export { describeValue } from './describe-value';

/** Default per-file size limit in MB (node setting maxMediaMB). */
export const DEFAULT_MAX_MEDIA_MB = 50;
