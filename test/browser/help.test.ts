// The help sidebar shows each node's own help: its first paragraph as written in the package's
// en-US help file, and for model nodes every Segmind parameter.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { specs } from '../../src/models/specs';
import { REPO_ROOT } from '../../scripts/lib/start-node-red';
import { harness, openEditor as openPage, screenshot, type Harness } from './harness';
import { PACKAGE_TYPES, expectedPaletteLabel, parkPointer, showSidebar } from './editor';

/** type -> the help HTML the package ships for it (en-US). */
function helpFiles(): Map<string, string> {
  const found = new Map<string, string>();
  for (const dir of [join(REPO_ROOT, 'nodes', 'locales', 'en-US'), join(REPO_ROOT, 'nodes', 'models', 'locales', 'en-US')]) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.html'))) {
      const html = readFileSync(join(dir, file), 'utf8');
      for (const m of html.matchAll(/<script type="text\/html" data-help-name="([^"]+)">([\s\S]*?)<\/script>/g)) found.set(m[1], m[2]);
    }
  }
  return found;
}

function text(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

function firstParagraph(html: string): string {
  const m = /<p>([\s\S]*?)<\/p>/.exec(html);
  assert.ok(m, 'the help starts with a paragraph');
  return text(m[1]);
}

async function helpShown(page: Page): Promise<{ title: string; body: string }> {
  const panel = page.locator('#red-ui-sidebar-content .red-ui-sidebar-help-stack .red-ui-help:has(> .red-ui-help-title)');
  await panel.locator('.red-ui-help-title').waitFor({ state: 'visible' });
  return {
    title: (await panel.locator('.red-ui-help-title').innerText()).trim(),
    body: (await panel.innerText()).replace(/\s+/g, ' '),
  };
}

describe('browser: help sidebar', function () {
  let h: Harness;
  let page: Page;
  const helps = helpFiles();

  before(async function () {
    h = await harness();
    page = await openPage(h);
    await showSidebar(page, 'help');
  });
  after(async () => page?.close());

  it('ships an en-US help for every node type', () => {
    for (const type of [...PACKAGE_TYPES, 'segmind-config']) assert.ok(helps.get(type), `help for ${type}`);
  });

  for (const type of PACKAGE_TYPES) {
    it(`shows the help of '${type}' from its palette entry's book button`, async () => {
      const paletteNode = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
      await paletteNode.scrollIntoViewIfNeeded();
      // a click shows the node's popover (its summary), whose book button opens the help
      await parkPointer(page);
      // the previous node's popover closes once the pointer leaves it
      await page
        .waitForFunction(() => !Array.from(document.querySelectorAll<HTMLElement>('.red-ui-popover')).some((e) => e.offsetParent), undefined, { timeout: 3000 })
        .catch(() => undefined);
      await paletteNode.click();
      const popover = page.locator('.red-ui-popover', { hasText: `: ${type}` });
      await popover.waitFor({ state: 'visible' });
      await popover.locator('button:has(i.fa-book)').click();
      await page.waitForFunction(
        (label) => document.querySelector('#red-ui-sidebar-content .red-ui-help-title')?.textContent?.trim() === label,
        expectedPaletteLabel(type),
      );
      const shown = await helpShown(page);
      assert.equal(shown.title, expectedPaletteLabel(type));
      assert.ok(shown.body.includes(firstParagraph(helps.get(type)!)), `the help of ${type} opens with its own text`);
      const spec = specs.find((s) => s.nodeType === type);
      for (const p of spec?.params ?? []) assert.ok(shown.body.includes(p.name), `${type}: help names ${p.name}`);
      if (spec?.slug === 'sadtalker') {
        await parkPointer(page);
        await screenshot(page, 'help');
      }
    });
  }

  it("shows the config node's help", async () => {
    await page.evaluate(() => (window as unknown as { RED: any }).RED.sidebar.help.show('segmind-config'));
    await page.waitForFunction(() => /segmind-config|Segmind/.test(document.querySelector('#red-ui-sidebar-content .red-ui-help-title')?.textContent ?? ''));
    const shown = await helpShown(page);
    assert.ok(shown.body.includes(firstParagraph(helps.get('segmind-config')!)));
  });
});
