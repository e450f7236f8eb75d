// Editor actions the browser tests share, done the way a user does them where that is reliable
// (clicks, typing) and through the editor's own RED API where a pointer gesture would only add
// flakiness (placing a node, reading state).
import type { Page } from 'playwright-core';
import { specs } from '../../src/models/specs';
import { editorDefinitions } from '../../scripts/lib/editor-defaults';
import { byId, openEditor } from '../../scripts/lib/editor-actions';

export { byId, openEditor };

export const PACKAGE_TYPES = ['segmind await', 'segmind model', ...specs.map((s) => s.nodeType)];

/** Palette labels as the package defines them (model titles; the await node's from its locale). */
export function expectedPaletteLabel(type: string): string {
  const spec = specs.find((s) => s.nodeType === type);
  // non-breaking hyphens: the palette shows "V-Express", not "V - Express"
  if (spec) return spec.title.replace(/-/g, '\u2011');
  if (type === 'segmind await') return 'await job';
  return type;
}

/** The icon file each type registers in its editor HTML. */
export function expectedIcon(type: string): string {
  const def = editorDefinitions().get(type);
  if (!def || typeof def.icon !== 'string') throw new Error(`no icon for ${type}`);
  return def.icon;
}

/**
 * Places a node of `type` with the editor's defaults (plus `props`) on the active tab, as if
 * dropped from the palette, after clearing the tab of earlier test nodes; returns its id.
 */
export async function addNode(page: Page, type: string, props: Record<string, unknown> = {}, x = 300, y = 160): Promise<string> {
  return page.evaluate(
    ({ type, props, x, y }) => {
      const RED = (window as unknown as { RED: any }).RED;
      const z = RED.workspaces.active();
      const old: string[] = [];
      RED.nodes.eachNode((n: { id: string; z: string }) => {
        if (n.z === z) old.push(n.id);
      });
      for (const id of old) RED.nodes.remove(id);
      const id = RED.nodes.id();
      // RED.nodes.import, unlike RED.view.importNodes, does not leave the node stuck to the pointer
      RED.nodes.import([{ id, type, x, y, z, wires: [], ...props }], { generateIds: false, markChanged: true, applyNodeDefaults: true });
      RED.nodes.dirty(true);
      RED.view.redraw(true);
      return id;
    },
    { type, props, x, y },
  );
}


export async function closeEditor(page: Page, button: 'ok' | 'cancel' = 'ok'): Promise<void> {
  await page.locator(button === 'ok' ? '#node-dialog-ok' : '#node-dialog-cancel').click();
  await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
}

/**
 * Whether the canvas shows the node's red "invalid properties" triangle, once it shows `expected`
 * or 5 s have passed (the editor redraws on an animation frame, late on a busy machine).
 */
export async function showsInvalidMarker(page: Page, id: string, expected: boolean): Promise<boolean> {
  const shown = (sel: string) => {
    const badge = document.querySelector(`${sel} .red-ui-flow-node-error`);
    return Boolean(badge && !badge.classList.contains('hide') && (badge as SVGGraphicsElement).getBBox().width > 0);
  };
  const until = Date.now() + 5000;
  for (;;) {
    const now = await page.evaluate(shown, byId(id));
    if (now === expected || Date.now() > until) return now;
    await page.waitForTimeout(50);
  }
}

export async function nodeProperty(page: Page, id: string, key: string): Promise<unknown> {
  return page.evaluate(({ id, key }) => (window as unknown as { RED: any }).RED.nodes.node(id)?.[key], { id, key });
}

/** Clicks Deploy and waits until the editor reports the flows deployed. */
export async function deploy(page: Page): Promise<void> {
  await page.locator('#red-ui-header-button-deploy').click();
  await page.waitForFunction(() => {
    const RED = (window as unknown as { RED: any }).RED;
    // the button greys out once the runtime accepted the flows
    return !RED.nodes.dirty() && Boolean(document.querySelector('#red-ui-header-button-deploy.disabled'));
  });
}

/** Opens a sidebar tab ('debug', 'help', 'info', ...) with its button. */
export async function showSidebar(page: Page, tab: string): Promise<void> {
  await page.evaluate((tab) => (window as unknown as { RED: any }).RED.sidebar.show(tab), tab);
  await page.locator(`#red-ui-tab-${tab}.active`).waitFor();
}

/** Moves the pointer to an empty spot of the canvas so no tooltip covers a screenshot. */
export async function parkPointer(page: Page): Promise<void> {
  await page.mouse.move(430, 640);
  await page.waitForTimeout(400);
}

/**
 * The reason Node-RED shows for an invalid field: a two-argument validator's string becomes a
 * tooltip on the input, shown while the pointer rests on it.
 */
export async function invalidReason(page: Page, selector: string, whileShown?: () => Promise<unknown>): Promise<string> {
  await page.locator(selector).hover();
  const tip = page.locator('.red-ui-popover:visible').last();
  await tip.waitFor({ state: 'visible', timeout: 5000 });
  const text = (await tip.innerText()).trim();
  await whileShown?.();
  await parkPointer(page);
  return text;
}

/**
 * A screenshot of an open edit tray with the sidebar hidden, so the tray has the window's width
 * (at 1000 pixels it would otherwise run under the sidebar); the sidebar is shown again after.
 */
export async function trayScreenshot(page: Page, take: () => Promise<unknown>): Promise<void> {
  const sidebar = () => (window as unknown as { RED: any }).RED.menu.setSelected('menu-item-sidebar', false);
  await page.evaluate(sidebar);
  await page.evaluate(() => window.dispatchEvent(new Event('resize')));
  await page.waitForTimeout(400);
  await parkPointer(page);
  try {
    await take();
  } finally {
    await page.evaluate(() => (window as unknown as { RED: any }).RED.menu.setSelected('menu-item-sidebar', true));
    await page.evaluate(() => window.dispatchEvent(new Event('resize')));
  }
}
