// The one error type of src/media. `code` and the fields let the node layer translate the
// message (locales); `message` is the English text used when no translation is at hand.

export type MediaErrorCode =
  | 'missing' // nothing given for a required field
  | 'unreadable' // not a URL, data URI, base64 or Buffer
  | 'file_path' // looks like a file path: we never read the file system
  | 'bad_url' // a URL of another scheme (ftp:, file:) or malformed
  | 'unknown_bytes' // bytes whose format is not recognised
  | 'wrong_type' // a recognised format the field does not take
  | 'too_large'; // over the size limit

export interface MediaErrorInfo {
  code: MediaErrorCode;
  /** the API field, e.g. input_image */
  field: string;
  /** where it came from, e.g. msg.image (optional) */
  source?: string;
  /** abbreviated description of the value received */
  value: string;
  /** what is allowed */
  allowed: string;
  /** for wrong_type: the detected format, e.g. "WAV audio" */
  detected?: string;
  /** for too_large: sizes in MB, one decimal */
  sizeMB?: string;
  limitMB?: string;
}

export class MediaError extends Error implements MediaErrorInfo {
  readonly code: MediaErrorCode;
  readonly field: string;
  readonly source?: string;
  readonly value: string;
  readonly allowed: string;
  readonly detected?: string;
  readonly sizeMB?: string;
  readonly limitMB?: string;

  constructor(info: MediaErrorInfo) {
    super(englishMessage(info));
    this.name = 'MediaError';
    this.code = info.code;
    this.field = info.field;
    this.source = info.source;
    this.value = info.value;
    this.allowed = info.allowed;
    this.detected = info.detected;
    this.sizeMB = info.sizeMB;
    this.limitMB = info.limitMB;
  }

  /** the fields as translation parameters */
  get params(): Record<string, string> {
    const from = this.source ? ` (${this.source})` : '';
    return {
      field: this.field,
      from,
      value: this.value,
      allowed: this.allowed,
      detected: this.detected ?? '',
      size: this.sizeMB ?? '',
      limit: this.limitMB ?? '',
    };
  }
}

function englishMessage(i: MediaErrorInfo): string {
  const f = `${i.field}${i.source ? ` (${i.source})` : ''}`;
  switch (i.code) {
    case 'missing':
      return `${f} is required but got ${i.value}; give ${i.allowed}`;
    case 'file_path':
      return `${f}: got ${i.value}, which looks like a file path; files are not read, give ${i.allowed} (e.g. read the file into a Buffer first)`;
    case 'bad_url':
      return `${f}: got ${i.value}, which is not an http(s) URL; allowed: ${i.allowed}`;
    case 'unknown_bytes':
      return `${f}: got ${i.value}, which is not a recognised media file; allowed: ${i.allowed}`;
    case 'wrong_type':
      return `${f}: got ${i.detected} (${i.value}), but allowed is ${i.allowed}`;
    case 'too_large':
      return `${f}: got ${i.sizeMB} MB (${i.value}), over the limit of ${i.limitMB} MB`;
    default:
      return `${f}: cannot use ${i.value}; allowed: ${i.allowed}`;
  }
}
