// The segmind-config node: holds the API key (credential), the API hosts and the request budget,
// and owns the one SegmindClient (one keep-alive dispatcher, one budget) every other node shares.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { SegmindClient } from '../client/client';
import { validateApiUrl } from '../client/urls';
import { accountFor } from '../jobs/account';
import { persistUsage } from '../jobs/usage-file';
import english from '../../nodes/locales/en-US/segmind-config.json';
import { name as packageName } from '../../package.json';

export const DEFAULT_BASE_URL = 'https://api.segmind.com';
export const DEFAULT_UPLOAD_URL = 'https://workflows-api.segmind.com/upload-asset';

interface ConfigDef extends NodeDef {
  baseUrl?: string;
  uploadUrl?: string;
  rpm?: string | number;
  timeScale?: string | number;
  jobsPerHour?: string | number;
  maxSpendPerDay?: string | number;
}

interface ConfigCredentials {
  apiKey?: string;
}

export interface SegmindConfigNode extends Node<ConfigCredentials> {
  client: SegmindClient;
  timeScale: number;
  baseUrl: string;
  uploadUrl: string;
  rpm: number;
  /** spending cap: most jobs per hour, most USD per 24 hours (0: none) */
  jobsPerHour: number;
  maxSpendPerDay: number;
  /** why the node cannot be used (bad URL); undefined when fine */
  problem?: string;
}

/** A positive number from the editor ("5", 5); anything else is the fallback. */
function positive(value: unknown, fallback: number): number {
  const n = typeof value === 'number' ? value : Number(String(value ?? '').trim() || NaN);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

export function registerConfigNode(RED: NodeAPI): void {
  function SegmindConfig(this: SegmindConfigNode, def: ConfigDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    node.baseUrl = (def.baseUrl || DEFAULT_BASE_URL).trim();
    node.uploadUrl = (def.uploadUrl || DEFAULT_UPLOAD_URL).trim();
    node.rpm = positive(def.rpm, 5);
    node.timeScale = positive(def.timeScale, 1);
    // The key lives only in this closure and the client; an empty credential falls back to the
    // environment so keys can stay out of flow files entirely.
    const apiKey = (node.credentials?.apiKey || process.env.SEGMIND_API_KEY || '').trim();
    try {
      validateApiUrl('baseUrl', node.baseUrl);
      validateApiUrl('uploadUrl', node.uploadUrl);
    } catch (err) {
      node.problem = (err as Error).message;
      node.error(node.problem);
    }
    if (!apiKey) {
      node.problem = node.problem ?? configText(RED, 'noKey');
    }
    node.client = new SegmindClient({
      apiKey,
      // a refused URL is replaced by the default so no request can reach an unvetted host
      baseUrl: safeUrl(node.baseUrl, DEFAULT_BASE_URL),
      uploadUrl: safeUrl(node.uploadUrl, DEFAULT_UPLOAD_URL),
      requestsPerMinute: node.rpm,
      timeScale: node.timeScale,
      // one budget per account in this process: config nodes with the same key share it, a redeploy keeps it
      shareBudget: true,
      log: (level, message) => {
        if (level === 'warn') node.warn(message);
        else node.debug(message);
      },
    });
    // the account's jobs, admission queue and spending count (src/jobs/account.ts)
    node.jobsPerHour = positive(def.jobsPerHour, 0);
    node.maxSpendPerDay = positive(def.maxSpendPerDay, 0);
    const account = accountFor(node.client.account);
    const leave = account.join({
      rate: () => node.client.rate(),
      unit: 1000 * node.timeScale,
      limits: { jobsPerHour: node.jobsPerHour, maxSpendPerDay: node.maxSpendPerDay },
    });
    const userDir = (RED.settings as { userDir?: string }).userDir;
    const unpersist = userDir ? persistUsage(account, userDir, (m) => node.warn(m)) : () => undefined;
    node.on('close', (done: () => void) => {
      leave();
      unpersist();
      node.client.close().then(
        () => done(),
        () => done(),
      );
    });
  }
  RED.nodes.registerType('segmind-config', SegmindConfig as never, {
    credentials: { apiKey: { type: 'password' } },
  });
  registerUsageEndpoint(RED);
}

/**
 * GET <admin>/segmind-config/<id>/usage: jobs of the last hour and spend of the last 24 hours of a
 * deployed config node's account, for its edit dialog (a config node has no status of its own).
 */
function registerUsageEndpoint(RED: NodeAPI): void {
  const admin = (RED as unknown as { httpAdmin?: { get?: (...args: unknown[]) => void } }).httpAdmin;
  if (!admin?.get) return;
  const auth = (RED as unknown as { auth?: { needsPermission?: (p: string) => unknown } }).auth;
  const permission = auth?.needsPermission?.('segmind-config.read') ?? ((_req: unknown, _res: unknown, next: () => void) => next());
  admin.get('/segmind-config/:id/usage', permission, (req: { params: { id: string } }, res: { status(n: number): { json(b: unknown): void }; json(b: unknown): void }) => {
    const config = RED.nodes.getNode(req.params.id) as SegmindConfigNode | null;
    if (!config?.client) return res.status(404).json({ error: 'not deployed' });
    const usage = accountFor(config.client.account).usage();
    res.json({ ...usage, rpm: config.client.stats.effectiveRpm, configuredRpm: config.rpm });
  });
}

function safeUrl(url: string, fallback: string): string {
  try {
    validateApiUrl('url', url);
    return url;
  } catch {
    return fallback;
  }
}

/**
 * The config node a node points at, or null with a reason the caller shows via done(err).
 * A config that cannot work (no key, refused URL) is reported before any request is made.
 */
export function getConfig(
  RED: NodeAPI,
  _node: Node,
  id: string | undefined,
): SegmindConfigNode | null {
  if (!id) return null;
  const config = RED.nodes.getNode(id) as SegmindConfigNode | null;
  return config ?? null;
}

/** Why this config cannot be used, or undefined. */
export function configProblem(RED: NodeAPI, config: SegmindConfigNode | null): string | undefined {
  if (!config) return configText(RED, 'missing');
  return config.problem;
}

/**
 * The config node's error texts, addressed by its catalog's explicit namespace because other
 * node sets (model nodes, await node) call this with their own RED, which sees only their catalog.
 */
function configText(RED: NodeAPI, key: 'missing' | 'noKey'): string {
  const full = `segmind-config.errors.${key}`;
  try {
    const out = RED._(`${packageName}/segmind-config:${full}`);
    if (typeof out === 'string' && out && !out.endsWith(full)) return out;
  } catch {
    // fall through to the bundled English
  }
  return english['segmind-config'].errors[key];
}
