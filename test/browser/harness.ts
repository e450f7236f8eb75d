// One real Node-RED 4 with this package PACKED (npm pack) and installed into a fresh userDir the way
// the palette manager installs it, and one headless Debian Chromium, shared by every browser test;
// started on first use, closed by hooks.ts. No other process: the examples run against the config
// node's built-in sandbox, inside Node-RED.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT, packTarball, startNodeRed, type RunningNodeRed } from '../../scripts/lib/start-node-red';

/** the key the config-node test types into the editor */
export const TYPED_KEY = 'SG_browser_typed_key_4f1c9e';
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const VIEWPORT = { width: 1000, height: 700 };
/**
 * Screenshots go to test-results/screenshots (git-ignored); `SCREENSHOT_DIR=docs/images` refreshes
 * the README's pictures.
 */
const SCREENSHOT_DIR = resolve(REPO_ROOT, process.env.SCREENSHOT_DIR || 'test-results/screenshots');
/** BROWSER_TARBALL: an already packed file to install instead of packing this checkout. */
const PACK_DIR = join(REPO_ROOT, '.tmp', 'browser');

export interface Harness {
  nodeRed: RunningNodeRed;
  /** the packed package Node-RED runs */
  tarball: string;
  browser: Browser;
  userDir: string;
}

let current: Promise<Harness> | null = null;

export function harness(): Promise<Harness> {
  current ??= start();
  return current;
}

async function start(): Promise<Harness> {
  const userDir = mkdtempSync(join(tmpdir(), 'segmind-browser-'));
  let nodeRed: RunningNodeRed | null = null;
  try {
    const tarball = process.env.BROWSER_TARBALL ? resolve(process.env.BROWSER_TARBALL) : await packTarball(PACK_DIR);
    nodeRed = await startNodeRed({
      userDir,
      tarball,
      flows: [],
      onLog: process.env.NODE_RED_LOG ? (line) => process.stdout.write(`[node-red] ${line}\n`) : undefined,
    });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    return { nodeRed, tarball, browser, userDir };
  } catch (err) {
    await nodeRed?.stop();
    rmSync(userDir, { recursive: true, force: true });
    throw err;
  }
}

export async function closeHarness(): Promise<void> {
  if (!current) return;
  const pending = current;
  current = null;
  const h = await pending.catch(() => null);
  if (!h) return;
  await h.browser.close().catch(() => undefined);
  await h.nodeRed.stop();
  rmSync(h.userDir, { recursive: true, force: true });
}

/** Replaces the deployed flows through the admin API (a full deploy). */
export async function setFlows(h: Harness, flows: unknown[]): Promise<void> {
  const res = await fetch(`${h.nodeRed.url}/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'node-red-deployment-type': 'full', 'node-red-api-version': 'v1' },
    body: JSON.stringify(flows),
  });
  if (res.status !== 204 && res.status !== 200) throw new Error(`POST /flows answered ${res.status}: ${await res.text()}`);
}

/** The deployed flows as the admin API returns them. */
export async function getFlows(h: Harness): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${h.nodeRed.url}/flows`, { headers: { 'node-red-api-version': 'v1' } });
  return (await res.json()) as Array<Record<string, unknown>>;
}

/**
 * A fresh editor tab, loaded with the palette and the flows, in its own browser context (the
 * editor keeps palette filter and view state in localStorage; tests must not inherit it).
 */
export async function openEditor(h: Harness, locale = 'en-US'): Promise<Page> {
  const context = await h.browser.newContext({ viewport: VIEWPORT, locale });
  const page = await context.newPage();
  page.once('close', () => void context.close().catch(() => undefined));
  page.setDefaultTimeout(10000);
  page.on('pageerror', (err) => process.stdout.write(`[editor page error] ${err.message}\n`));
  await page.goto(h.nodeRed.url);
  await page.waitForFunction(
    () => {
      const RED = (window as unknown as { RED?: { nodes?: { getType?: (t: string) => unknown } } }).RED;
      return Boolean(RED?.nodes?.getType?.('segmind-config')) && document.querySelector('#red-ui-palette .red-ui-palette-node');
    },
    undefined,
    { timeout: 30000 },
  );
  // the editor fades in; wait until the loading overlay is gone so clicks land
  await page.waitForSelector('#red-ui-loading-progress', { state: 'hidden', timeout: 30000 });
  // the palette's visibility is a user setting the runtime stores, and an earlier test (a
  // screenshot) may have hidden it with its restore still unsaved when its tab closed
  await page.evaluate(() => {
    const RED = (window as unknown as { RED: any }).RED;
    if (!RED.menu.isSelected('menu-item-palette')) RED.menu.setSelected('menu-item-palette', true);
  });
  await page.locator('#red-ui-palette-search input').waitFor({ state: 'visible' });
  return page;
}

export async function screenshot(page: Page, name: string, clip?: { x: number; y: number; width: number; height: number }): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, clip });
  return file;
}
