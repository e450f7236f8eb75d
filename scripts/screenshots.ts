// `npx tsx scripts/screenshots.ts`: the README's pictures (docs/images/*.png), taken from the demo.
// Builds the package, starts Node-RED 4 with it and the example flows on the built-in sandbox, as
// `npm run demo` does but in a temporary user directory on a free port, drives the editor in
// Debian's Chromium (playwright-core; CHROMIUM_PATH picks another binary) and writes:
//
//   flow-debug.png      the SadTalker example after a run: the flow and the debug sidebar
//   progress.png        the await node's status while the job runs
//   config-dialog.png   the config node's dialog with the endpoint choice
//   edit-dialog.png     the SadTalker node's edit dialog, each field with what it accepts
//   invalid-value.png   an invalid value in that dialog, with the reason it shows
//   palette.png         the Segmind palette category
//   help.png            a model node's help in the sidebar
//
// Taken at a 1280x800 window (the flow picture 1040 wide) and device scale 1, cropped to the part
// that matters, so they stay legible at the README's width (GitHub shows at most about 880 px).
// Nothing is changed in the flows: dialogs are cancelled. SCREENSHOT_DIR writes elsewhere.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT, startNodeRed, type RunningNodeRed } from './lib/start-node-red';
import { demoFlows, demoTabId, readExamples, type FlowNode } from './lib/demo-flows';
import { byId, openEditor } from './lib/editor-actions';

const OUT_DIR = resolve(REPO_ROOT, process.env.SCREENSHOT_DIR || join('docs', 'images'));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const VIEWPORT = { width: 1280, height: 800 };
/** the flow picture's window: narrow enough that the flow and the debug sidebar sit side by side */
const FLOW_VIEWPORT = { width: 1040, height: 800 };

type Clip = { x: number; y: number; width: number; height: number };

function say(text: string): void {
  process.stdout.write(`[screenshots] ${text}\n`);
}


/** The clip grown by `pad` pixels on each side, kept inside the window. */
function padded(box: Clip, pad: number, page: Page): Clip {
  const vp = page.viewportSize() ?? VIEWPORT;
  const x = Math.max(0, Math.floor(box.x - pad));
  const y = Math.max(0, Math.floor(box.y - pad));
  return {
    x,
    y,
    width: Math.min(vp.width - x, Math.ceil(box.width + 2 * pad)),
    height: Math.min(vp.height - y, Math.ceil(box.height + 2 * pad)),
  };
}

/** The smallest clip holding every box. */
function union(...boxes: Clip[]): Clip {
  const x = Math.min(...boxes.map((b) => b.x));
  const y = Math.min(...boxes.map((b) => b.y));
  const right = Math.max(...boxes.map((b) => b.x + b.width));
  const bottom = Math.max(...boxes.map((b) => b.y + b.height));
  return { x, y, width: right - x, height: bottom - y };
}

async function box(page: Page, selector: string): Promise<Clip> {
  const b = await page.locator(selector).first().boundingBox();
  if (!b) throw new Error(`${selector} is not shown`);
  return b;
}

async function shoot(page: Page, name: string, clip?: Clip): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, `${name}.png`);
  await page.screenshot({ path: file, clip });
  say(`${file}${clip ? ` (${clip.width}x${clip.height})` : ''}`);
}

/** Moves the pointer to an empty spot of the canvas so no tooltip or hover covers a picture. */
async function parkPointer(page: Page): Promise<void> {
  const vp = page.viewportSize() ?? VIEWPORT;
  await page.mouse.move(Math.round(vp.width * 0.45), vp.height - 60);
  await page.waitForTimeout(400);
}

async function openEditorPage(browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  page.on('pageerror', (err) => say(`editor page error: ${err.message}`));
  await page.goto(url);
  await page.waitForFunction(
    () => {
      const RED = (window as unknown as { RED?: { nodes?: { getType?: (t: string) => unknown } } }).RED;
      return Boolean(RED?.nodes?.getType?.('segmind-config')) && document.querySelector('#red-ui-palette .red-ui-palette-node');
    },
    undefined,
    { timeout: 60000 },
  );
  await page.waitForSelector('#red-ui-loading-progress', { state: 'hidden', timeout: 60000 });
  return page;
}


/** The tray slides in; form widgets (typedInput, spinner) are built in oneditprepare. */
async function settleTray(page: Page): Promise<void> {
  await page.waitForFunction(() => !document.querySelector('.red-ui-tray.red-ui-tray-opening'));
  await page.waitForTimeout(600);
}

/** The open tray (the topmost one) as a clip, from its header to its footer. */
async function trayClip(page: Page): Promise<Clip> {
  const tray = page.locator('.red-ui-tray').last();
  const b = await tray.boundingBox();
  if (!b) throw new Error('no edit tray is open');
  return b;
}

/** The bottom of the visible content of the topmost tray's form, in window pixels. */
async function trayContentBottom(page: Page): Promise<number> {
  return page.evaluate(() => {
    const trays = document.querySelectorAll<HTMLElement>('.red-ui-tray');
    const body = trays[trays.length - 1].querySelector<HTMLElement>('.red-ui-tray-body')!;
    const limit = body.getBoundingClientRect().bottom;
    let bottom = 0;
    for (const el of Array.from(body.querySelectorAll<HTMLElement>('.form-row, .form-row *, .form-tips'))) {
      if (!el.offsetParent) continue;
      const r = el.getBoundingClientRect();
      if (r.height > 0) bottom = Math.max(bottom, r.bottom);
    }
    return Math.min(bottom, limit);
  });
}

async function cancelTray(page: Page, button: string): Promise<void> {
  await page.locator(button).click();
  await page.waitForTimeout(500);
}

async function statusText(page: Page, id: string): Promise<string> {
  return (await page.locator(`${byId(id)} .red-ui-flow-node-status-label`).textContent()) ?? '';
}

/** No selection, no notifications, the flow scrolled to the canvas's top left corner. */
async function tidyCanvas(page: Page): Promise<void> {
  await page.evaluate(() => {
    const RED = (window as unknown as { RED: any }).RED;
    RED.view.select({ nodes: [] });
    document.querySelectorAll<HTMLElement>('.red-ui-notification').forEach((n) => (n.style.display = 'none'));
    const chart = document.getElementById('red-ui-workspace-chart')!;
    chart.scrollLeft = 0;
    chart.scrollTop = 0;
  });
  await parkPointer(page);
}

/** The canvas area the nodes of the active tab cover (node labels and status lines included). */
async function flowClip(page: Page, ids: string[]): Promise<Clip> {
  const boxes: Clip[] = [];
  for (const id of ids) {
    const b = await page.locator(byId(id)).first().boundingBox();
    if (b) boxes.push(b);
  }
  return union(...boxes);
}

async function palette(page: Page): Promise<void> {
  const search = page.locator('#red-ui-palette-search input');
  await search.click();
  await search.pressSequentially('segmind');
  await page.waitForFunction(() => document.querySelectorAll('#red-ui-palette-container .red-ui-palette-node[data-filter]').length > 0);
  await page.waitForTimeout(500);
  await parkPointer(page);
  const column = await box(page, '#red-ui-palette');
  const nodes = await box(page, '#red-ui-palette-container-Segmind');
  const bottom = nodes.y + nodes.height + 12;
  await shoot(page, 'palette', { x: column.x, y: column.y, width: column.width, height: Math.ceil(bottom - column.y) });
  await search.fill('');
  await search.press('Backspace');
  await page.waitForTimeout(300);
}

async function help(page: Page, type: string): Promise<void> {
  await page.evaluate((type) => (window as unknown as { RED: any }).RED.sidebar.help.show(type), type);
  await page.locator('#red-ui-tab-help.active').waitFor();
  await page.locator('#red-ui-sidebar-content .red-ui-help-title').first().waitFor({ state: 'visible' });
  // the topic list off, so the node's help fills the sidebar (its toolbar button, as a user does)
  const toc = page.locator('#red-ui-sidebar-help-show-toc');
  if (await toc.evaluate((e) => e.classList.contains('selected'))) await toc.click();
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.waitForTimeout(600);
  await parkPointer(page);
  await shoot(page, 'help', await box(page, '#red-ui-sidebar'));
}

async function editDialog(page: Page, modelId: string): Promise<void> {
  // tall enough for every field of the dialog; the picture is the tray alone
  await page.setViewportSize({ width: VIEWPORT.width, height: 1160 });
  await openEditor(page, modelId);
  await parkPointer(page);
  const tray = await trayClip(page);
  // the form ends with the last field's hint; below it only empty tray
  const bottom = (await trayContentBottom(page)) + 16;
  await shoot(page, 'edit-dialog', { x: tray.x, y: tray.y, width: Math.floor(tray.width), height: Math.ceil(bottom - tray.y) });
  await cancelTray(page, '#node-dialog-cancel');
  await page.setViewportSize(VIEWPORT);
  await page.waitForTimeout(400);
}

async function invalidValue(page: Page, modelId: string): Promise<void> {
  await openEditor(page, modelId);
  const field = page.locator('#node-input-pose_style');
  await field.fill('99');
  await field.press('Tab');
  // leave the field without selecting the next one's text
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.waitForFunction(() => document.getElementById('node-input-pose_style')?.classList.contains('input-error'));
  await field.hover();
  const tip = page.locator('.red-ui-popover:visible').last();
  await tip.waitFor({ state: 'visible', timeout: 5000 });
  await page.waitForTimeout(400);
  const row = await page.locator('#node-input-pose_style').locator('xpath=ancestor::div[contains(@class,"form-row")][1]').boundingBox();
  const tipBox = await tip.boundingBox();
  const tray = await trayClip(page);
  if (!row || !tipBox) throw new Error('the pose style row or its tooltip is not shown');
  // the rows around the invalid one, the tooltip, and the tray's left edge
  const area = union(row, tipBox);
  const clip = padded({ x: tray.x, y: area.y - 70, width: Math.max(area.x + area.width, row.x + row.width) - tray.x + 20, height: area.height + 140 }, 0, page);
  await shoot(page, 'invalid-value', clip);
  await parkPointer(page);
  await cancelTray(page, '#node-dialog-cancel');
}

async function configDialog(page: Page, modelId: string): Promise<void> {
  await page.setViewportSize({ width: VIEWPORT.width, height: 1000 });
  await openEditor(page, modelId);
  await page.locator('#node-input-btn-config-edit').click();
  await page.locator('#node-config-dialog-ok').waitFor({ state: 'visible' });
  await settleTray(page);
  // the choice a user makes to leave the sandbox: Segmind, with the key and the request budget
  await page.locator('#node-config-input-endpoint').selectOption('segmind');
  await page.waitForTimeout(400);
  await parkPointer(page);
  const tray = await trayClip(page);
  const bottom = (await trayContentBottom(page)) + 16;
  await shoot(page, 'config-dialog', { x: tray.x, y: tray.y, width: Math.floor(tray.width), height: Math.ceil(Math.min(tray.height, bottom - tray.y)) });
  await cancelTray(page, '#node-config-dialog-cancel');
  await settleTray(page);
  await cancelTray(page, '#node-dialog-cancel');
  await page.setViewportSize(VIEWPORT);
  await page.waitForTimeout(400);
}

/** Runs the SadTalker example: its await node's status while the job runs, then the flow with its result. */
async function runExample(page: Page, tabNodes: FlowNode[]): Promise<void> {
  const inject = tabNodes.find((n) => n.type === 'inject')!;
  const awaitNode = tabNodes.find((n) => n.type === 'segmind await')!;
  const completedId = (awaitNode.wires as string[][])[0][0];
  const onCanvas = tabNodes.map((n) => n.id);

  await page.setViewportSize(FLOW_VIEWPORT);
  await page.evaluate(() => {
    const RED = (window as unknown as { RED: any }).RED;
    RED.menu.setSelected('menu-item-palette', false);
    RED.sidebar.show('debug');
  });
  await page.locator('#red-ui-tab-debug.active').waitFor();
  // the debug sidebar shows this tab's messages only
  await page.locator('#red-ui-sidebar-debug-filter').click();
  await page.locator('input[name="filter-type"][value="filterCurrent"]').click();
  await page.keyboard.press('Escape');
  await page.mouse.click(FLOW_VIEWPORT.width - 200, FLOW_VIEWPORT.height - 150);
  await page.waitForTimeout(400);
  await tidyCanvas(page);

  const started = Date.now();
  await page.locator(`${byId(inject.id)} .red-ui-flow-node-button`).click();
  await parkPointer(page);
  // a third of the way or more, so the picture shows a job well under way
  await page.waitForFunction(
    (sel) => {
      const m = /^sadtalker (\d+) % · ~\d+ s/.exec(document.querySelector(`${sel} .red-ui-flow-node-status-label`)?.textContent ?? '');
      return Boolean(m && Number(m[1]) >= 30);
    },
    byId(awaitNode.id),
    { timeout: 60000, polling: 100 },
  );
  say(`progress at ${((Date.now() - started) / 1000).toFixed(1)} s: "${await statusText(page, awaitNode.id)}"`);
  await shoot(page, 'progress', padded(await flowClip(page, onCanvas), 16, page));

  await page.waitForFunction((sel) => /^completed · \$\d/.test(document.querySelector(`${sel} .red-ui-flow-node-status-label`)?.textContent ?? ''), byId(awaitNode.id), {
    timeout: 60000,
    polling: 100,
  });
  await page.locator(`#red-ui-sidebar .red-ui-debug-msg-node-${completedId}`).first().waitFor({ state: 'visible' });
  say(`completed at ${((Date.now() - started) / 1000).toFixed(1)} s: "${await statusText(page, awaitNode.id)}"`);
  await page.waitForTimeout(500);
  await parkPointer(page);
  // from the header to a little below the flow and the message
  const flow = await flowClip(page, onCanvas);
  const message = await box(page, `#red-ui-sidebar .red-ui-debug-msg-node-${completedId}`);
  const bottom = Math.max(flow.y + flow.height, message.y + message.height) + 30;
  await shoot(page, 'flow-debug', { x: 0, y: 0, width: FLOW_VIEWPORT.width, height: Math.ceil(bottom) });

  // the palette's visibility and the debug filter are user settings the runtime keeps: give them back
  await page.evaluate(() => (window as unknown as { RED: any }).RED.menu.setSelected('menu-item-palette', true));
  await page.locator('#red-ui-sidebar-debug-filter').click();
  await page.locator('input[name="filter-type"][value="filterAll"]').click();
  await page.keyboard.press('Escape');
  await page.setViewportSize(VIEWPORT);
}

function build(): void {
  say('npm run build');
  const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm run build exited with ${r.status ?? r.signal}`);
}

async function main(): Promise<void> {
  build();
  const examples = readExamples();
  const flows = demoFlows(examples);
  const sad = examples.find((e) => e.name.endsWith('-sadtalker'));
  if (!sad) throw new Error('no SadTalker example in examples/flows/');
  const tab = demoTabId(sad);
  const tabNodes = flows.filter((n) => n.z === tab);
  const model = tabNodes.find((n) => n.type === 'segmind sadtalker');
  if (!model) throw new Error('the SadTalker example has no SadTalker node');

  const userDir = mkdtempSync(join(tmpdir(), 'segmind-screenshots-'));
  let nodeRed: RunningNodeRed | null = null;
  let browser: Browser | null = null;
  const stop = async () => {
    await browser?.close().catch(() => undefined);
    await nodeRed?.stop().catch(() => undefined);
    rmSync(userDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(143)));
  try {
    nodeRed = await startNodeRed({ userDir, flows, onLog: process.env.NODE_RED_LOG ? (line) => process.stdout.write(`[node-red] ${line}\n`) : undefined });
    say(`Node-RED ${nodeRed.url} (user directory ${userDir})`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    const page = await openEditorPage(browser, nodeRed.url);
    await page.evaluate((tab) => (window as unknown as { RED: any }).RED.workspaces.show(tab), tab);
    await page.waitForTimeout(500);

    await palette(page);
    await help(page, model.type);
    await editDialog(page, model.id);
    await invalidValue(page, model.id);
    await configDialog(page, model.id);
    await runExample(page, tabNodes);
    say(`done: ${OUT_DIR}`);
  } finally {
    await stop();
  }
}

main().catch((err) => {
  process.stderr.write(`[screenshots] ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
