// Import > Examples lists every example flow of the package; an imported, deployed example runs
// against the sandbox when its inject button is clicked, and the debug sidebar shows the completed
// job. All examples, deployed the way `npm run demo` deploys them, complete as well.
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLES_DIR, demoFlows, readExamples, type FlowNode } from '../../scripts/lib/demo-flows';
import { harness, openEditor as openPage, screenshot, setFlows, TIME_SCALE, type Harness } from './harness';
import { byId, deploy, parkPointer, showSidebar } from './editor';
import { PACKAGE_NAME } from '../../scripts/lib/start-node-red';
import { exampleFiles } from '../../scripts/lib/example-flows';

const examples = readExamples();

function node(example: { nodes: FlowNode[] }, pick: (n: FlowNode) => boolean, what: string): FlowNode {
  const found = example.nodes.find(pick);
  assert.ok(found, `the example has ${what}`);
  return found;
}

/** The debug node that receives the await node's first output (completed). */
function resultDebug(nodes: FlowNode[]): FlowNode {
  const awaitNode = nodes.find((n) => n.type === 'segmind await');
  assert.ok(awaitNode, 'an await job node');
  const target = (awaitNode.wires as string[][])[0][0];
  return nodes.find((n) => n.id === target)!;
}

/** The sidebar's debug messages: source node id (from the message's class) and the shown text. */
async function debugMessages(page: Page): Promise<Array<{ node: string; text: string }>> {
  return page.$$eval('#red-ui-sidebar .red-ui-debug-msg', (els) =>
    els.map((e) => ({
      node: /red-ui-debug-msg-node-(\S+)/.exec(e.className)?.[1] ?? '',
      text: (e as HTMLElement).innerText,
    })),
  );
}

/** Main menu > Import > Examples tab, this package's folder opened; the tree's locator. */
async function openExamples(page: Page): Promise<Locator> {
  await page.locator('#red-ui-header-button-sidemenu').click();
  await page.locator('#menu-item-import').click();
  await page.locator('#red-ui-clipboard-dialog-import-tabs').getByText('Examples', { exact: true }).click();
  const tree = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
  await tree.waitFor({ state: 'visible' });
  // Examples > flows > <package> > flows (our folder examples/flows/) > 01-...; the dialog keeps
  // folders open between visits, so open only what is closed
  const first = tree.locator('.red-ui-treeList-label', { hasText: examples[0].name });
  const ours = tree.locator('.red-ui-treeList-label', { hasText: /^flows$/ }).nth(1);
  await page.waitForTimeout(300);
  if (!(await first.isVisible())) {
    if (!(await ours.isVisible())) {
      await tree.locator('.red-ui-treeList-label', { hasText: PACKAGE_NAME }).click();
      await ours.waitFor({ state: 'visible' });
      await page.waitForTimeout(400); // the folder slides open
    }
    await ours.click();
    await first.waitFor({ state: 'visible' });
    await page.waitForTimeout(400);
  }
  return tree;
}

/** No selection, no notifications, palette hidden so the whole flow fits beside the sidebar. */
async function tidyForScreenshot(page: Page): Promise<void> {
  await page.evaluate(() => {
    const RED = (window as unknown as { RED: any }).RED;
    RED.view.select({ nodes: [] });
    RED.menu.setSelected('menu-item-palette', false);
    RED.actions.invoke('core:zoom-out');
    document.querySelectorAll<HTMLElement>('.red-ui-notification').forEach((n) => (n.style.display = 'none'));
    const chart = document.getElementById('red-ui-workspace-chart')!;
    chart.scrollTop = 0;
    chart.scrollLeft = 0;
  });
  await parkPointer(page);
}

async function clickInject(page: Page, id: string): Promise<void> {
  await page.locator(`${byId(id)} .red-ui-flow-node-button`).click();
}

describe('browser: example flows', function () {
  let h: Harness;
  let page: Page;

  before(async function () {
    h = await harness();
    await setFlows(h, [{ id: 'tab0000000000003', type: 'tab', label: 'Examples' }]);
    page = await openPage(h);
  });
  after(async () => page?.close());

  it('ships the examples the generator makes from the specs and the editor defaults', () => {
    const generated = exampleFiles();
    assert.deepEqual(examples.map((e) => `${e.name}.json`), [...generated.keys()].sort(), 'one file per model node and the generic node');
    for (const [name, text] of generated) {
      assert.equal(readFileSync(join(EXAMPLES_DIR, name), 'utf8'), text, `${name} is current (npx tsx scripts/build-examples.ts)`);
    }
    for (const example of examples) {
      for (const n of example.nodes) assert.ok(!('credentials' in n) && !('apiKey' in n), `${example.name}: no credentials on ${n.type}`);
      // the only key-like text is the sandbox's public test key in the comment
      const keys = JSON.stringify(example.nodes).match(/SG_[A-Za-z0-9_]+/g) ?? [];
      assert.deepEqual([...new Set(keys)].filter((k) => k !== 'SG_sandbox'), [], `${example.name}: no API key`);
    }
  });

  it('lists every example under Import > Examples', async () => {
    assert.ok(examples.length >= 6, 'examples/flows holds the five model examples and the generic one');
    const tree = await openExamples(page);
    for (const example of examples) {
      await tree.locator('.red-ui-treeList-label', { hasText: example.name }).waitFor({ state: 'visible' });
    }
    const labels = (await tree.locator('.red-ui-treeList-label').allInnerTexts()).map((l) => l.trim());
    for (const example of examples) assert.ok(labels.includes(example.name), `${example.name} is listed`);
    await page.locator('#red-ui-clipboard-dialog-cancel').click();
  });

  it('imports and deploys the SadTalker example; its inject button gives a completed job in the debug sidebar', async () => {
    const example = examples.find((e) => e.name.endsWith('-sadtalker'));
    assert.ok(example, 'a SadTalker example');
    const tree = await openExamples(page);
    await tree.locator('.red-ui-treeList-label', { hasText: example.name }).click();
    await page.locator('#red-ui-clipboard-dialog-ok').click();
    // an import follows the pointer until a click drops it
    await page.locator('#red-ui-clipboard-dialog-ok').waitFor({ state: 'hidden' });
    await page.mouse.move(400, 400, { steps: 5 });
    await page.mouse.move(200, 200, { steps: 10 });
    await page.mouse.click(200, 200);

    const inject = node(example, (n) => n.type === 'inject', 'an inject node');
    const config = node(example, (n) => n.type === 'segmind-config', 'a config node');
    const debug = resultDebug(example.nodes);
    assert.equal(await page.locator(byId(inject.id)).count(), 1, 'the example is on the canvas');

    // as a user switches the example to their account: here, to this test's sandbox
    await page.evaluate(
      ({ id, target }) => {
        const RED = (window as unknown as { RED: any }).RED;
        const cfg = RED.nodes.node(id);
        Object.assign(cfg, target, { changed: true });
        RED.nodes.dirty(true);
      },
      { id: config.id, target: { baseUrl: h.sandbox.url, uploadUrl: h.sandbox.uploadUrl, timeScale: TIME_SCALE } },
    );
    await deploy(page);
    await showSidebar(page, 'debug');
    const jobsBefore = h.sandbox.jobs.size;

    await clickInject(page, inject.id);
    const debugClass = debug.id.replace(/\./g, '_');
    await page.locator(`#red-ui-sidebar .red-ui-debug-msg-node-${debugClass}`).waitFor({ state: 'visible', timeout: 30000 });

    const messages = await debugMessages(page);
    const result = messages.find((m) => m.node === debugClass);
    assert.ok(result, 'the result debug node showed a message');
    assert.ok(result.text.includes(h.sandbox.filesUrl), `the completed job's output URL is shown: ${result.text}`);
    assert.ok(!messages.some((m) => m.node !== debugClass), 'nothing reached the failed/timed-out output');
    assert.equal(h.sandbox.jobs.size, jobsBefore + 1, 'one job was submitted');
    const job = [...h.sandbox.jobs.values()].at(-1)!;
    assert.equal(job.model, 'sadtalker');
    assert.ok(job.doneAt <= Date.now(), 'the sandbox job had completed');

    await tidyForScreenshot(page);
    await screenshot(page, 'flow-debug');
    // the palette's visibility is a user setting the runtime stores: give it back
    await page.evaluate(() => (window as unknown as { RED: any }).RED.menu.setSelected('menu-item-palette', true));
  });

  it('runs every example, deployed as `npm run demo` deploys them, to completion', async () => {
    const flows = demoFlows(examples, {
      name: 'browser sandbox',
      baseUrl: h.sandbox.url,
      uploadUrl: h.sandbox.uploadUrl,
      rpm: 600,
      timeScale: TIME_SCALE,
    });
    await setFlows(h, flows);
    const fresh = await openPage(h);
    try {
      await showSidebar(fresh, 'debug');
      const expected: string[] = [];
      for (const example of examples) {
        const tab = `demo-tab-${example.name}`;
        await fresh.evaluate((tab) => (window as unknown as { RED: any }).RED.workspaces.show(tab), tab);
        const inject = node(example, (n) => n.type === 'inject', 'an inject node');
        await clickInject(fresh, inject.id);
        expected.push(resultDebug(example.nodes).id.replace(/\./g, '_'));
      }
      await fresh.waitForFunction(
        (ids) => ids.every((id) => document.querySelector(`#red-ui-sidebar .red-ui-debug-msg-node-${id}`)),
        expected,
        { timeout: 60000 },
      );
      const messages = await debugMessages(fresh);
      for (const [i, id] of expected.entries()) {
        const shown = messages.filter((m) => m.node === id);
        assert.equal(shown.length, 1, `${examples[i].name}: one completed message`);
        assert.ok(shown[0].text.includes(h.sandbox.filesUrl), `${examples[i].name}: output URL shown`);
      }
      assert.equal(messages.length, expected.length, 'no example failed or timed out');
    } finally {
      await fresh.close();
    }
  });
});
