// The palette lists every node of the package under "Segmind" with its label and its icon.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { harness, openEditor as openPage, screenshot, type Harness } from './harness';
import { PACKAGE_TYPES, expectedIcon, expectedPaletteLabel, parkPointer } from './editor';

describe('browser: palette', function () {
  let h: Harness;
  let page: Page;

  before(async function () {
    h = await harness();
    page = await openPage(h);
  });
  after(async () => page?.close());

  it('shows every node under the Segmind category with its label', async () => {
    const header = page.locator('#red-ui-palette-header-Segmind');
    assert.equal((await header.innerText()).trim(), 'Segmind');
    const listed = await page.$$eval('#red-ui-palette-container-Segmind .red-ui-palette-node', (els) =>
      els.map((e) => ({ type: e.getAttribute('data-palette-type'), label: e.getAttribute('data-palette-label') })),
    );
    assert.deepEqual(
      listed.map((n) => n.type).sort(),
      [...PACKAGE_TYPES].sort(),
      'the Segmind category holds exactly the package nodes',
    );
    for (const n of listed) assert.equal(n.label, expectedPaletteLabel(n.type!), `label of ${n.type}`);
    // the config node is not a palette node
    assert.equal(await page.locator('.red-ui-palette-node[data-palette-type="segmind-config"]').count(), 0);
  });

  it('shows each node with its own icon, served by Node-RED as an SVG', async () => {
    for (const type of PACKAGE_TYPES) {
      const icon = await page
        .locator(`.red-ui-palette-node[data-palette-type="${type}"] .red-ui-palette-icon`)
        .evaluate((e) => (e as HTMLElement).style.backgroundImage);
      const url = /url\("?([^")]+)"?\)/.exec(icon)?.[1];
      assert.ok(url, `${type} has an icon`);
      assert.ok(url.endsWith(`/${expectedIcon(type)}`), `${type} uses ${expectedIcon(type)}, got ${url}`);
      const res = await page.request.get(new URL(url, `${h.nodeRed.url}/`).toString());
      assert.equal(res.status(), 200, `icon ${url} is served`);
      assert.match(res.headers()['content-type'] ?? '', /image\/svg\+xml/);
      assert.match(await res.text(), /<svg[\s>]/);
      // a visible icon, not the generic fallback Node-RED shows for a missing file
      const box = await page.locator(`.red-ui-palette-node[data-palette-type="${type}"] .red-ui-palette-icon`).boundingBox();
      assert.ok(box && box.width > 0 && box.height > 0);
    }
  });

  it('filters to the Segmind nodes (screenshot)', async () => {
    const search = page.locator('#red-ui-palette-search input');
    await search.click();
    await search.pressSequentially('segmind');
    await page.waitForFunction(() => document.querySelectorAll('#red-ui-palette-container .red-ui-palette-node[data-filter]').length > 0);
    await page.waitForTimeout(300);
    const visible = await page.$$eval('#red-ui-palette-container .red-ui-palette-node:not([data-filter])', (els) =>
      els.map((e) => e.getAttribute('data-palette-type')),
    );
    assert.deepEqual([...visible].sort(), [...PACKAGE_TYPES].sort());
    await parkPointer(page);
    // the palette column only: legible at the README's width
    await screenshot(page, 'palette', { x: 0, y: 48, width: 180, height: 410 });
    await search.fill('');
    await search.press('Backspace');
  });
});
