// A short, safe description of any value for error messages: never the whole value (a data URI
// or a Buffer can be megabytes), never more than about 60 characters of it.

const MAX_CHARS = 48;

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (undefined)';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    if (value.trim() === '') return 'an empty string';
    const oneLine = value.replace(/\s+/g, ' ');
    if (oneLine.length <= MAX_CHARS) return JSON.stringify(oneLine);
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
