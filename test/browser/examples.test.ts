// As a new user does it, against the packed package installed from its tarball and nothing else
// running: Import > Examples lists every example; each one, imported from there onto its own tab,
// deployed and started with its inject button, ends with a completed result in the debug sidebar,
// computed by the config node's built-in sandbox. While a job runs the await node's status shows its
// progress; afterwards "completed" and the cost.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { EXAMPLES_DIR, readExamples, type Example, type FlowNode } from '../../scripts/lib/demo-flows';
import { harness, openEditor as openPage, screenshot, setFlows, type Harness } from './harness';
import { byId, deploy, parkPointer, showSidebar } from './editor';
import { PACKAGE_NAME } from '../../scripts/lib/start-node-red';
import { exampleFiles } from '../../scripts/lib/example-flows';

const examples = readExamples();

function node(example: { nodes: FlowNode[] }, pick: (n: FlowNode) => boolean, what: string): FlowNode {
  const found = example.nodes.find(pick);
  assert.ok(found, `the example has ${what}`);
  return found;
}

/** The await node's outputs' first targets: completed, failed, timed out. */
function outputs(nodes: FlowNode[]): { await: FlowNode; completed: FlowNode; failed: FlowNode; timedOut: FlowNode } {
  const awaitNode = node({ nodes }, (n) => n.type === 'segmind await', 'an await job node');
  const [completed, failed, timedOut] = (awaitNode.wires as string[][]).map((w) => nodes.find((n) => n.id === w[0] && n.type === 'debug')!);
  return { await: awaitNode, completed, failed, timedOut };
}

/** The debug sidebar's class for a node id. */
const cls = (id: string): string => id.replace(/\./g, '_');

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

/** Imports an example from Import > Examples onto a new tab, as a user does; its tab's id. */
async function importExample(page: Page, example: Example): Promise<string> {
  const tree = await openExamples(page);
  await tree.locator('.red-ui-treeList-label', { hasText: example.name }).click();
  await page.locator('#red-ui-clipboard-dialog-import-opt-new').click();
  await page.locator('#red-ui-clipboard-dialog-ok').click();
  await page.locator('#red-ui-clipboard-dialog-ok').waitFor({ state: 'hidden' });
  // an import follows the pointer until a click drops it; its first node (the comment) lands where
  // the click is: drop it where the example file puts it, so the flow keeps its layout
  const comment = node(example, (n) => n.type === 'comment', 'a comment');
  const chart = (await page.locator('#red-ui-workspace-chart').boundingBox())!;
  const at = { x: chart.x + Number(comment.x), y: chart.y + Number(comment.y) };
  await page.mouse.move(at.x + 200, at.y + 200, { steps: 5 });
  await page.mouse.move(at.x, at.y, { steps: 10 });
  await page.mouse.click(at.x, at.y);
  const inject = node(example, (n) => n.type === 'inject', 'an inject node');
  await page.locator(byId(inject.id)).waitFor({ state: 'attached' });
  return page.evaluate(() => (window as unknown as { RED: any }).RED.workspaces.active() as string);
}

/**
 * Presses an inject node's button and waits for the runtime to answer the inject request. A press
 * that sent no request (the canvas was still being redrawn under the pointer on a busy machine)
 * is made again: nothing was injected, so nothing runs twice.
 */
async function pressInject(page: Page, id: string): Promise<void> {
  const button = page.locator(`${byId(id)} .red-ui-flow-node-button`);
  for (let attempt = 1; ; attempt++) {
    const request = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname.endsWith(`/inject/${id}`), { timeout: 15000 });
    await button.click();
    const sent = await request.catch(() => undefined);
    if (sent) {
      const response = await sent.response();
      assert.equal(response?.status(), 200, `the runtime accepted the inject of ${id}`);
      return;
    }
    assert.ok(attempt < 3, `pressing the button of inject ${id} sent no request (${attempt} presses)`);
    process.stdout.write(`      (inject ${id}: press ${attempt} sent no request; pressing again)\n`);
  }
}

/** No selection, no notifications, palette hidden so the whole flow fits beside the sidebar. */
async function tidyForScreenshot(page: Page): Promise<void> {
  await page.evaluate(() => {
    const RED = (window as unknown as { RED: any }).RED;
    RED.view.select({ nodes: [] });
    RED.menu.setSelected('menu-item-palette', false);
    document.querySelectorAll<HTMLElement>('.red-ui-notification').forEach((n) => (n.style.display = 'none'));
    // scroll the flow to the top left corner of the canvas
    const z = RED.workspaces.active();
    let minX = Infinity;
    let minY = Infinity;
    RED.nodes.eachNode((n: { z: string; x: number; y: number; w?: number; h?: number }) => {
      if (n.z !== z) return;
      minX = Math.min(minX, n.x - (n.w ?? 100) / 2);
      minY = Math.min(minY, n.y - (n.h ?? 30) / 2);
    });
    const chart = document.getElementById('red-ui-workspace-chart')!;
    const scale = RED.view.scale();
    chart.scrollLeft = Number.isFinite(minX) ? Math.max(0, (minX - 30) * scale) : 0;
    chart.scrollTop = Number.isFinite(minY) ? Math.max(0, (minY - 30) * scale) : 0;
  });
  await parkPointer(page);
}

describe('browser: example flows from Import > Examples, on the built-in sandbox', function () {
  // every example's job runs at once; the slowest model takes about 20 s in the sandbox
  this.timeout(150000);
  let h: Harness;
  let page: Page;
  const tabs = new Map<string, string>();

  before(async function () {
    h = await harness();
    await setFlows(h, [{ id: 'tab0000000000003', type: 'tab', label: 'Start' }]);
    page = await openPage(h);
  });
  after(async () => page?.close());

  it('ships the examples the generator makes from the specs and the editor defaults, with no key', () => {
    const generated = exampleFiles();
    assert.deepEqual(examples.map((e) => `${e.name}.json`), [...generated.keys()].sort(), 'one file per model node, the generic node and the file example');
    for (const [name, text] of generated) {
      assert.equal(readFileSync(join(EXAMPLES_DIR, name), 'utf8'), text, `${name} is current (npx tsx scripts/build-examples.ts)`);
    }
    for (const example of examples) {
      for (const n of example.nodes) assert.ok(!('credentials' in n) && !('apiKey' in n), `${example.name}: no credentials on ${n.type}`);
      assert.deepEqual(JSON.stringify(example.nodes).match(/SG_[A-Za-z0-9_]+/g) ?? [], [], `${example.name}: no API key`);
      const config = node(example, (n) => n.type === 'segmind-config', 'a config node');
      assert.equal(config.endpoint, 'sandbox', `${example.name} uses the built-in sandbox`);
      const { await: aw, completed, failed, timedOut } = outputs(example.nodes);
      assert.ok(completed && failed && timedOut && new Set([completed.id, failed.id, timedOut.id]).size === 3, `${example.name}: a debug node per output`);
      // the timed-out output also goes back to the await node, through a switch on msg.segmind.timedOut
      const back = example.nodes.find((n) => (aw.wires as string[][])[2].includes(n.id) && n.type === 'switch');
      assert.ok(back && (back.wires as string[][])[0].includes(aw.id) && back.property === 'segmind.timedOut', `${example.name}: timed out resumes`);
      const comment = node(example, (n) => n.type === 'comment', 'a comment');
      assert.match(String(comment.info), /\*\*Click the button of the \*[a-z]+\* inject node\*\*/, `${example.name}: says what to click`);
      assert.match(String(comment.info), /debug sidebar shows/, `${example.name}: says what to expect`);
    }
    const files = examples.find((e) => e.name.endsWith('-buffers-to-file'));
    assert.ok(files, 'an example with Buffers from files');
    const reads = files.nodes.filter((n) => n.type === 'file in');
    assert.equal(reads.length, 2, 'a photo and a speech clip read by file-in nodes');
    for (const r of reads) {
      assert.equal(r.filenameType, 'env');
      const path = String(r.filename).replace('${SEGMIND_VIDEO_SAMPLES}', join(__dirname, '..', '..', 'assets', 'samples'));
      assert.ok(existsSync(path), `${r.filename} is bundled`);
    }
  });

  it('lists every example under Import > Examples', async () => {
    const tree = await openExamples(page);
    for (const example of examples) {
      await tree.locator('.red-ui-treeList-label', { hasText: example.name }).waitFor({ state: 'visible' });
    }
    const labels = (await tree.locator('.red-ui-treeList-label').allInnerTexts()).map((l) => l.trim());
    for (const example of examples) assert.ok(labels.includes(example.name), `${example.name} is listed`);
    await page.locator('#red-ui-clipboard-dialog-cancel').click();
  });

  it('imports every example onto its own tab and deploys them with no key and no other process', async () => {
    for (const example of examples) tabs.set(example.name, await importExample(page, example));
    assert.equal(new Set(tabs.values()).size, examples.length, 'one tab each');
    const configs = await page.evaluate(() => {
      const RED = (window as unknown as { RED: any }).RED;
      const out: Array<{ id: string; endpoint: string }> = [];
      RED.nodes.eachConfig((n: { type: string; id: string; endpoint: string }) => {
        if (n.type === 'segmind-config') out.push({ id: n.id, endpoint: n.endpoint });
      });
      return out;
    });
    assert.ok(configs.length >= 1 && configs.every((c) => c.endpoint === 'sandbox'), JSON.stringify(configs));
    // no node of any example is marked invalid (the deploy would ask for confirmation otherwise)
    const invalid = await page.evaluate(() => {
      const RED = (window as unknown as { RED: any }).RED;
      const out: string[] = [];
      RED.nodes.eachNode((n: { valid?: boolean; type: string; id: string }) => {
        if (n.valid === false) out.push(`${n.type} ${n.id}`);
      });
      return out;
    });
    assert.deepEqual(invalid, []);
    await deploy(page);
    await showSidebar(page, 'debug');
  });

  it('each inject gives a completed result in the debug sidebar; the await status shows progress, then the cost', async () => {
    assert.equal(tabs.size, examples.length, 'the previous test imported the examples');
    const progress = new Map<string, string>();
    // the SadTalker tab: its await node shows how far the job is while it runs. Every status it
    // shows is kept as the editor receives it, since on a busy machine the job may be done before
    // the clicks on the other tabs are
    const sad = examples.find((e) => e.name.endsWith('-sadtalker'))!;
    const sadAwait = outputs(sad.nodes).await;
    await page.evaluate((id) => {
      const w = window as unknown as { RED: any; sadStatuses: string[] };
      w.sadStatuses = [];
      w.RED.comms.subscribe(`status/${id}`, (_topic: string, status: { text?: string } | null) => w.sadStatuses.push(status?.text ?? ''));
    }, sadAwait.id);
    for (const example of examples) {
      await page.evaluate((tab) => (window as unknown as { RED: any }).RED.workspaces.show(tab), tabs.get(example.name)!);
      await pressInject(page, node(example, (n) => n.type === 'inject', 'an inject node').id);
    }
    await page.evaluate((tab) => (window as unknown as { RED: any }).RED.workspaces.show(tab), tabs.get(sad.name)!);
    const running = await page
      .waitForFunction(
        () => (window as unknown as { sadStatuses: string[] }).sadStatuses.find((t) => /^sadtalker \d+ % · ~\d+ s/.test(t)),
        undefined,
        { timeout: 60000 },
      )
      .catch(async (err: Error) => {
        // what the editor and the runtime saw, so that a failure on a busy machine can be read
        const seen = await page.evaluate(() => (window as unknown as { sadStatuses: string[] }).sadStatuses);
        const debug = await debugMessages(page);
        throw new Error(
          `${err.message}\nstatuses of ${sadAwait.id} received by the editor: ${JSON.stringify(seen)}\n` +
            `debug sidebar: ${JSON.stringify(debug)}\nNode-RED log (last 40 lines):\n${h.nodeRed.log.slice(-40).join('\n')}`,
        );
      });
    progress.set(sad.name, String(await running.jsonValue()));
    // the README's picture of it: the flow's part of the canvas
    await tidyForScreenshot(page);
    const chart = (await page.locator('#red-ui-workspace-chart').boundingBox())!;
    await screenshot(page, 'progress', { x: chart.x, y: chart.y, width: Math.min(chart.width, 680), height: 220 });

    const expected = examples.map((e) => cls(outputs(e.nodes).completed.id));
    await page.waitForFunction(
      (ids) => ids.every((id) => document.querySelector(`#red-ui-sidebar .red-ui-debug-msg-node-${id}`)),
      expected,
      { timeout: 90000 },
    );
    const messages = await debugMessages(page);
    for (const example of examples) {
      const { completed, failed } = outputs(example.nodes);
      const shown = messages.filter((m) => m.node === cls(completed.id));
      assert.equal(shown.length, 1, `${example.name}: one completed message`);
      if (example.name.endsWith('-buffers-to-file')) {
        // Result: File: the path of the saved video (the sidebar may cut a long path short with "...")
        const shownPath = /"(\/[^"]+?)(?:\.\.\.)?"/.exec(shown[0].text)?.[1] ?? '';
        const folder = dirname(shownPath);
        const file = existsSync(folder) ? readdirSync(folder).map((f) => join(folder, f)).find((f) => f.startsWith(shownPath.replace(/\.\.\.$/, '')) && f.endsWith('.mp4')) : undefined;
        assert.ok(file && statSync(file).size > 0, `${example.name}: the video file ${shown[0].text}`);
      } else {
        assert.match(shown[0].text, /http:\/\/127\.0\.0\.\d+:\d+\/\S+\.mp4/, `${example.name}: the output URL of the built-in sandbox`);
      }
      assert.equal(messages.filter((m) => m.node === cls(failed.id)).length, 0, `${example.name}: nothing failed`);
    }
    assert.match(progress.get(sad.name)!, /^sadtalker \d+ % · ~\d+ s/);
    // done: "completed" with the cost the sandbox reports, as Segmind does
    await page.waitForFunction(
      (sel) => /^completed · \$\d/.test(document.querySelector(`${sel} .red-ui-flow-node-status-label`)?.textContent ?? ''),
      byId(sadAwait.id),
      { timeout: 10000 },
    );

    // the README's picture: the SadTalker example, done, with its messages only
    await showSidebar(page, 'debug');
    await page.locator('#red-ui-sidebar-debug-filter').click();
    await page.locator('input[name="filter-type"][value="filterCurrent"]').click();
    await page.locator('input[name="filter-type"]').first().waitFor({ state: 'hidden' });
    await tidyForScreenshot(page);
    await screenshot(page, 'flow-debug');
    // the palette's visibility and the debug filter are user settings the runtime stores: give them back
    await page.evaluate(() => (window as unknown as { RED: any }).RED.menu.setSelected('menu-item-palette', true));
    await page.locator('#red-ui-sidebar-debug-filter').click();
    await page.locator('input[name="filter-type"][value="filterAll"]').click();
  });
});
