// Which endpoint a path is: split by hand, cheaper than URL parsing at thousands of requests a second.

import type { Endpoint } from './types';

export interface Route {
  endpoint: Endpoint;
  /** methods the route answers; others get Segmind's HTML 405 */
  methods: readonly string[];
  model?: string;
  requestId?: string;
  /** unknown path: 404 */
  notFound?: boolean;
  /** files listener: an uploaded asset's name */
  asset?: string;
}

const GET = ['GET'] as const;
const GET_HEAD = ['GET', 'HEAD'] as const;
const POST = ['POST'] as const;

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function routeApi(pathname: string): Route {
  const parts = pathname.split('/');
  // parts[0] is '' (leading slash)
  if ((parts[1] === 'v2' || parts[1] === 'v1') && parts[2] === 'requests' && parts[3]) {
    const requestId = decode(parts[3]);
    if (requestId !== undefined) {
      if (parts.length === 4) {
        // v2 result; v1 is the SDK's poll_url, answered like status
        return { endpoint: parts[1] === 'v2' ? 'result' : 'status', methods: GET, requestId };
      }
      if (parts.length === 5 && parts[4] === 'status' && parts[1] === 'v2') return { endpoint: 'status', methods: GET, requestId };
    }
  } else if ((parts[1] === 'v2' || parts[1] === 'v1') && parts.length === 3 && parts[2]) {
    const model = decode(parts[2]);
    if (model !== undefined) return { endpoint: parts[1] === 'v2' ? 'submit' : 'v1', methods: POST, model };
  } else if (parts.length === 2 && parts[1] === 'upload-asset') {
    return { endpoint: 'upload', methods: POST };
  } else if (parts.length === 3 && parts[1] === 'outputs') {
    const requestId = outputId(parts[2]);
    if (requestId !== undefined) return { endpoint: 'output', methods: GET_HEAD, requestId };
  }
  return { endpoint: 'other', methods: GET_HEAD, notFound: true };
}

export function routeFiles(pathname: string): Route {
  const parts = pathname.split('/');
  if (parts.length === 3 && parts[1] === 'outputs') {
    const requestId = outputId(parts[2]);
    if (requestId !== undefined) return { endpoint: 'output', methods: GET_HEAD, requestId };
  }
  if (parts.length === 3 && parts[1] === 'assets' && parts[2]) {
    const asset = decode(parts[2]);
    if (asset !== undefined) return { endpoint: 'other', methods: GET_HEAD, asset };
  }
  return { endpoint: 'other', methods: GET_HEAD, notFound: true };
}

function outputId(file: string): string | undefined {
  if (!file.endsWith('.mp4')) return undefined;
  return decode(file.slice(0, -4)) || undefined;
}
