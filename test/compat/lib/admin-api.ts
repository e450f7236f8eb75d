// The few Node-RED admin API calls the compatibility test makes (no adminAuth configured).

export interface NodeSetInfo {
  id: string;
  name: string;
  types: string[];
  enabled: boolean;
  /** absent on some versions when the set loaded */
  loaded?: boolean;
  module: string;
  version?: string;
  err?: string;
}

async function call(base: string, method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.body);
  }
  return fetch(`${base}${path}`, { method, headers, body });
}

async function expectOk(res: Response, what: string): Promise<Response> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

export async function getNodeSets(base: string): Promise<NodeSetInfo[]> {
  const res = await expectOk(await call(base, 'GET', '/nodes', { headers: { accept: 'application/json' } }), 'GET /nodes');
  return (await res.json()) as NodeSetInfo[];
}

/** The editor's node definitions (HTML of every node set), as the editor loads them. */
export async function getNodesHtml(base: string): Promise<string> {
  const res = await expectOk(await call(base, 'GET', '/nodes', { headers: { accept: 'text/html' } }), 'GET /nodes (html)');
  return res.text();
}

/** The editor's message catalogues of all non-core node sets in one language, keyed by set id. */
export async function getNodeMessages(base: string, lng: string): Promise<Record<string, Record<string, unknown>>> {
  const res = await expectOk(await call(base, 'GET', `/nodes/messages?lng=${encodeURIComponent(lng)}`), 'GET /nodes/messages');
  return (await res.json()) as Record<string, Record<string, unknown>>;
}

/** Full deploy of the given flow (v1 API: a plain array of nodes, credentials inline). */
export async function deployFlows(base: string, flows: unknown[]): Promise<void> {
  await expectOk(
    await call(base, 'POST', '/flows', { body: flows, headers: { 'Node-RED-Deployment-Type': 'full' } }),
    'POST /flows',
  );
}

/** Presses an inject node's button. */
export async function inject(base: string, nodeId: string): Promise<void> {
  await expectOk(await call(base, 'POST', `/inject/${nodeId}`), `POST /inject/${nodeId}`);
}

/** Icon file names Node-RED found per module (what the editor's icon picker lists). */
export async function getIcons(base: string): Promise<Record<string, string[]>> {
  const res = await expectOk(await call(base, 'GET', '/icons', { headers: { accept: 'application/json' } }), 'GET /icons');
  return (await res.json()) as Record<string, string[]>;
}

/** One icon as the editor fetches it; resolves with its content type. */
export async function getIcon(base: string, module: string, icon: string): Promise<string> {
  const res = await expectOk(await call(base, 'GET', `/icons/${module}/${encodeURIComponent(icon)}`), `GET /icons/${module}/${icon}`);
  await res.arrayBuffer();
  return res.headers.get('content-type') ?? '';
}
