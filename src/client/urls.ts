// URL rules for the places the API key is sent to. Exported for the config node's validation.

export const DEFAULT_BASE_URL = 'https://api.segmind.com';
export const DEFAULT_UPLOAD_URL = 'https://workflows-api.segmind.com/upload-asset';

/** Origins of Segmind's own API hosts: the default API and upload hosts. */
const SEGMIND_ORIGINS: ReadonlySet<string> = new Set([new URL(DEFAULT_BASE_URL).origin, new URL(DEFAULT_UPLOAD_URL).origin]);

/** true when the URL is on one of Segmind's own hosts (https://api.segmind.com, https://workflows-api.segmind.com). */
export function isSegmindHost(value: string): boolean {
  const origin = originOf(value.trim());
  return origin !== undefined && SEGMIND_ORIGINS.has(origin);
}

/** true for localhost, 127.0.0.0/8 and ::1: the only hosts where plain http is allowed. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  // IPv4-mapped IPv6 loopback, as WHATWG URL normalises it
  if (/^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host)) return true;
  return false;
}

/**
 * Validates a Segmind API URL (base URL or upload URL) and returns it normalised (no trailing slash
 * for a bare origin). Throws an Error naming the field, the value and what is allowed.
 * https only, except http on loopback hosts (for the sandbox).
 */
export function validateApiUrl(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`${field} must be an https URL such as ${field === 'uploadUrl' ? DEFAULT_UPLOAD_URL : DEFAULT_BASE_URL}; got ${describeValue(value)}`);
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new Error(`${field} is not a valid URL: ${JSON.stringify(value)}; expected an https URL`);
  }
  if (url.username || url.password) {
    throw new Error(`${field} must not contain a user name or password: ${JSON.stringify(redactUserInfo(url))}`);
  }
  if (url.search || url.hash) {
    throw new Error(`${field} must not contain a query or fragment: ${JSON.stringify(value)}`);
  }
  if (url.protocol === 'https:') return stripTrailingSlash(url.toString());
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return stripTrailingSlash(url.toString());
  if (url.protocol === 'http:') {
    throw new Error(
      `${field} ${JSON.stringify(value)} uses plain http on a non-loopback host; only https is allowed ` +
        `(http only for localhost, 127.0.0.0/8 and ::1), because the API key would travel unencrypted`,
    );
  }
  throw new Error(`${field} ${JSON.stringify(value)} has protocol ${url.protocol}; only https is allowed (http on loopback hosts)`);
}

/** The URL's origin, or undefined if it does not parse. */
export function originOf(value: string): string | undefined {
  try {
    return new URL(value).origin;
  } catch {
    return undefined;
  }
}

/** A URL that may be fetched without a key (outputs): http or https only. */
export function parseFetchableUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

function stripTrailingSlash(s: string): string {
  return s.endsWith('/') ? s.slice(0, -1) : s;
}

function redactUserInfo(url: URL): string {
  const copy = new URL(url.toString());
  copy.username = '';
  copy.password = '';
  return copy.toString();
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  return `a ${typeof v}`;
}
