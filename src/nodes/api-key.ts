// Which API key a config node uses. The SEGMIND_API_KEY environment variable is meant for Segmind:
// it goes only to Segmind's own hosts. Any other endpoint (a sandbox, an imported flow's host) gets
// the config node's own credential or nothing, so a flow cannot send the environment's key elsewhere.
import { isSegmindHost } from '../client/urls';

export type KeyChoice =
  | { key: string; source: 'credential' | 'environment' }
  /** no usable key; `envRefused`: the environment has one, but the endpoint is not Segmind's */
  | { key: ''; source: 'none'; envRefused: boolean };

export function chooseApiKey(credential: unknown, environment: unknown, urls: { baseUrl: string; uploadUrl: string }): KeyChoice {
  const own = typeof credential === 'string' ? credential.trim() : '';
  if (own) return { key: own, source: 'credential' };
  const env = typeof environment === 'string' ? environment.trim() : '';
  if (!env) return { key: '', source: 'none', envRefused: false };
  // both: the key travels to the API host and to the upload host
  if (isSegmindHost(urls.baseUrl) && isSegmindHost(urls.uploadUrl)) return { key: env, source: 'environment' };
  return { key: '', source: 'none', envRefused: true };
}

/** The hosts a refused environment key would have gone to, for the message. */
export function foreignHosts(urls: { baseUrl: string; uploadUrl: string }): string {
  const hosts = new Set<string>();
  for (const u of [urls.baseUrl, urls.uploadUrl]) {
    if (isSegmindHost(u)) continue;
    try {
      hosts.add(new URL(u.trim()).host);
    } catch {
      hosts.add(u.trim());
    }
  }
  return [...hosts].join(', ');
}
