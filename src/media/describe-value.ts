// A short, safe description of any value for error messages: never the whole value (a data URI
// or a Buffer can be megabytes), never more than about 60 characters of it.

const MAX_CHARS = 48;
/** characters of a string read to describe it (whitespace runs shrink to one space) */
const HEAD_CHARS = 1024;

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (undefined)';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    // only the head is looked at: a replace over a whole data URI of hundreds of MB would copy it
    const head = value.length > HEAD_CHARS ? value.slice(0, HEAD_CHARS) : value;
    if (head.length === value.length && value.trim() === '') return 'an empty string';
    const oneLine = head.replace(/\s+/g, ' ');
    if (head.length === value.length && oneLine.length <= MAX_CHARS) return JSON.stringify(oneLine);
    return `${JSON.stringify(oneLine.slice(0, MAX_CHARS))}… (${value.length} characters)`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${String(value)}`;
  }
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.length} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  if (typeof value === 'object') {
    const keys = Object.keys(value as object);
    const shown = keys.slice(0, 4).join(', ');
    return keys.length === 0
      ? 'an empty object'
      : `an object {${shown}${keys.length > 4 ? ', …' : ''}}`;
  }
  return `a ${typeof value}`;
}
