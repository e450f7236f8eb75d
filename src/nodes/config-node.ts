// The segmind-config node: holds the API key (credential), the API hosts and the request budget,
// and owns the one SegmindClient (one keep-alive dispatcher, one budget) every other node shares.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { SegmindClient } from '../client/client';
import { validateApiUrl } from '../client/urls';
import { renderText, type ClientText } from '../client/errors';
import { chooseApiKey, foreignHosts } from './api-key';
import { runtimeText } from './runtime-text';
import { resolveEndpoint, SandboxClient, type EndpointKind, type NodeClient } from './endpoint';
import { accountFor } from '../jobs/account';
import { persistUsage } from '../jobs/usage-file';
import english from '../../nodes/locales/en-US/segmind-config.json';
import { name as packageName } from '../../package.json';
import type { JobLedger } from '../jobs/ledger';
import { openAccountLedger } from './account-ledger';

export const DEFAULT_BASE_URL = 'https://api.segmind.com';
export const DEFAULT_UPLOAD_URL = 'https://workflows-api.segmind.com/upload-asset';

interface ConfigDef extends NodeDef {
  endpoint?: string;
  baseUrl?: string;
  uploadUrl?: string;
  rpm?: string | number;
  timeScale?: string | number;
  /** where the job ledger lives: '' = a journal file in the user directory, else a context store name */
  store?: string;
  jobsPerHour?: string | number;
  maxSpendPerDay?: string | number;
}

interface ConfigCredentials {
  apiKey?: string;
}

export interface SegmindConfigNode extends Node<ConfigCredentials> {
  client: NodeClient;
  /** Segmind's hosts, the built-in sandbox or a custom URL */
  endpoint: EndpointKind;
  timeScale: number;
  baseUrl: string;
  uploadUrl: string;
  rpm: number;
  /** spending cap: most jobs per hour, most USD per 24 hours (0: none) */
  jobsPerHour: number;
  maxSpendPerDay: number;
  /** why the node cannot be used (bad URL); undefined when fine */
  problem?: string;
  /** the account's job ledger: every paid job from its submit to its delivery */
  ledger: JobLedger;
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
    const endpoint = resolveEndpoint(def);
    node.endpoint = endpoint.kind;
    node.baseUrl = endpoint.baseUrl;
    node.uploadUrl = endpoint.uploadUrl;
    node.rpm = positive(def.rpm, 5);
    node.timeScale = endpoint.timeScale;
    // The key lives only in this closure and the client; an empty credential falls back to the
    // environment so keys can stay out of flow files entirely, but only for Segmind's own hosts.
    const urls = { baseUrl: node.baseUrl, uploadUrl: node.uploadUrl };
    const keyChoice = chooseApiKey(node.credentials?.apiKey, process.env.SEGMIND_API_KEY, urls);
    const apiKey = keyChoice.key;
    if (endpoint.problem) {
      node.problem = configText(RED, endpoint.problem.key, endpoint.problem.params);
      node.error(node.problem);
    }
    // the built-in sandbox needs no key (and never gets the user's)
    if (!apiKey && endpoint.kind !== 'sandbox') {
      const envRefused = keyChoice.source === 'none' && keyChoice.envRefused;
      node.problem = node.problem ?? (envRefused ? configText(RED, 'envKeyNotForHost', { hosts: foreignHosts(urls) }) : configText(RED, 'noKey'));
    }
    const log: (level: 'debug' | 'info' | 'warn', message: string, text?: ClientText) => void = (level, message, text) => {
      if (level === 'warn') node.warn(text ? clientText(RED, text, message) : message);
      else node.debug(message);
    };
    node.client =
      endpoint.kind === 'sandbox'
        ? new SandboxClient({ requestsPerMinute: node.rpm, log, sandboxId: node.id, shareBudget: true })
        : new SegmindClient({
            apiKey,
            // a refused URL is replaced by the default so no request can reach an unvetted host
            baseUrl: safeUrl(node.baseUrl, DEFAULT_BASE_URL),
            uploadUrl: safeUrl(node.uploadUrl, DEFAULT_UPLOAD_URL),
            requestsPerMinute: node.rpm,
            timeScale: node.timeScale,
            // one budget per account in this process: config nodes with the same key share it, a redeploy keeps it
            shareBudget: true,
            log,
          });
    const ledgerSlot = openAccountLedger(RED, node, (def.store ?? '').trim(), node.timeScale, (key, params) => configText(RED, key, params));
    node.ledger = ledgerSlot.ledger;
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
      ledgerSlot.release();
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
function configText(RED: NodeAPI, key: string, params: Record<string, unknown> = {}): string {
  const full = `segmind-config.${key.includes('.') ? key : `errors.${key}`}`;
  try {
    const out = (RED._ as (k: string, p?: Record<string, unknown>) => string)(`${packageName}/segmind-config:${full}`, params);
    if (typeof out === 'string' && out && !out.endsWith(full)) return out;
  } catch {
    // fall through to the bundled English
  }
  let at: unknown = english;
  for (const part of full.split('.')) at = at && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined;
  if (typeof at !== 'string') return full;
  return at.replace(/__([A-Za-z0-9_]+?)__/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** A client text (a log warning) in the runtime's language, from the shared client texts; else its English. */
function clientText(RED: NodeAPI, text: ClientText, english: string): string {
  try {
    const t = runtimeText(RED);
    return renderText(text, (key, params) => t(`errors.client.${key}`, params));
  } catch {
    return english;
  }
}
