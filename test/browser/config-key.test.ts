// The config node's endpoint choice (Segmind, built-in sandbox, custom URL) shows the fields that
// apply with what each accepts, and says why a value is refused. Its API key is a password field,
// and after a user types a key and deploys, no export of the flows (the editor's Export dialog, RED.nodes.createCompleteNodeSet, GET /flows,
// flows.json on disk) carries it; the runtime has it (GET /credentials answers has_apiKey only).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { harness, openEditor as openPage, screenshot, setFlows, getFlows, TYPED_KEY, type Harness } from './harness';
import { addNode, closeEditor, deploy, invalidReason, openEditor, parkPointer, showsInvalidMarker, trayScreenshot } from './editor';

async function configField(page: Page, name: string): Promise<{ type: string; error: boolean }> {
  return page.locator(`#node-config-input-${name}`).evaluate((el) => ({
    type: (el as HTMLInputElement).type,
    error: el.classList.contains('input-error'),
  }));
}

async function typeConfig(page: Page, name: string, value: string): Promise<void> {
  const input = page.locator(`#node-config-input-${name}`);
  await input.fill(value);
  await input.press('Tab');
}

describe('browser: config node and the API key', function () {
  let h: Harness;
  let page: Page;
  let configId = '';

  before(async function () {
    h = await harness();
    await setFlows(h, [{ id: 'tab0000000000002', type: 'tab', label: 'Key' }]);
    page = await openPage(h);
  });
  after(async () => page?.close());

  it('edits the key in a password field, validates the other fields, and deploys', async () => {
    const nodeId = await addNode(page, 'segmind sadtalker', { config: '' });
    await openEditor(page, nodeId);
    // no config node yet: the + button next to the config select opens a new one
    await page.locator('#node-input-btn-config-add').click();
    await page.locator('#node-config-dialog-ok').waitFor({ state: 'visible' });
    await page.waitForTimeout(300);

    const key = await configField(page, 'apiKey');
    assert.equal(key.type, 'password', 'the API key input is a password field');
    assert.equal(await page.locator('#node-config-input-apiKey').getAttribute('autocomplete'), 'off');

    // defaults: Segmind's own hosts, the Free plan's budget; the URLs and time scale are not shown
    const endpoint = page.locator('#node-config-input-endpoint');
    assert.equal(await endpoint.inputValue(), 'segmind');
    assert.equal(await page.locator('#node-config-input-baseUrl').inputValue(), 'https://api.segmind.com');
    assert.equal(await page.locator('#node-config-input-rpm').inputValue(), '5');
    assert.equal(await page.locator('#node-config-input-baseUrl').isVisible(), false, 'no URL to edit for Segmind');
    assert.equal(await page.locator('#node-config-input-timeScale').isVisible(), false, 'no time scale for Segmind');
    // what each field accepts, as visible text under it
    const hints = await page.$$eval('.red-ui-editor .segmind-hint', (els) => els.filter((e) => (e as HTMLElement).offsetParent).map((e) => (e as HTMLElement).innerText));
    assert.ok(hints.some((t) => /Built-in sandbox: a Segmind-compatible server inside Node-RED/.test(t)), JSON.stringify(hints));
    assert.ok(hints.some((t) => /Number from 1 to 10000/.test(t)), 'the budget says its range');

    // the built-in sandbox needs no key: the key field gives way to a note
    await endpoint.selectOption('sandbox');
    assert.equal(await page.locator('#node-config-input-apiKey').isVisible(), false);
    assert.match(await page.locator('.segmind-config-sandbox').innerText(), /gets a key of its own, never yours/);

    // a custom URL shows the URLs and the time scale, each saying what it accepts
    await endpoint.selectOption('custom');
    assert.equal(await page.locator('#node-config-input-baseUrl').isVisible(), true);
    assert.equal(await page.locator('#node-config-input-timeScale').isVisible(), true);

    // invalid: plain http to a remote host, a non-numeric budget, a time scale above 1, and
    // a time scale below 1 for a host that is not this machine; each says why
    await typeConfig(page, 'baseUrl', 'http://example.com');
    assert.equal((await configField(page, 'baseUrl')).error, true, 'plain http off loopback is refused');
    assert.match(await invalidReason(page, '#node-config-input-baseUrl'), /use https, or http only for localhost/);
    await typeConfig(page, 'rpm', 'lots');
    assert.equal((await configField(page, 'rpm')).error, true, 'rpm must be a number');
    assert.match(await invalidReason(page, '#node-config-input-rpm'), /number from 1 to 10000/);
    await typeConfig(page, 'timeScale', '2');
    assert.equal((await configField(page, 'timeScale')).error, true, 'timeScale above 1 is refused');
    await typeConfig(page, 'baseUrl', 'https://proxy.example');
    await typeConfig(page, 'timeScale', '0.5');
    assert.equal((await configField(page, 'timeScale')).error, true, 'a time scale below 1 for a remote host is refused');
    assert.match(await invalidReason(page, '#node-config-input-timeScale'), /only works with a sandbox on this machine/);
    await parkPointer(page);

    // a sandbox on this machine may run on compressed time
    await page.locator('#node-config-input-apiKey').fill(TYPED_KEY);
    await typeConfig(page, 'name', 'local sandbox');
    await typeConfig(page, 'baseUrl', 'http://127.0.0.1:8990');
    await typeConfig(page, 'uploadUrl', 'http://127.0.0.1:8990/upload-asset');
    await typeConfig(page, 'rpm', '60');
    await typeConfig(page, 'timeScale', '0.03');
    for (const f of ['baseUrl', 'uploadUrl', 'rpm', 'timeScale']) {
      assert.equal((await configField(page, f)).error, false, `${f} accepted`);
    }
    await trayScreenshot(page, () => screenshot(page, 'config-dialog'));
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-dialog-ok').waitFor({ state: 'detached' });
    configId = await page.locator('#node-input-config').inputValue();
    assert.match(configId, /^[0-9a-f]{16}$/, 'the new config node is selected');
    await closeEditor(page);
    assert.equal(await showsInvalidMarker(page, nodeId, false), false);
    await deploy(page);

    const deployed = await getFlows(h);
    const config = deployed.find((n) => n.id === configId);
    assert.ok(config, 'the config node was deployed');
    assert.equal(config.endpoint, 'custom');
    assert.equal(config.baseUrl, 'http://127.0.0.1:8990');
    assert.equal(config.timeScale, '0.03');
  });

  it('keeps the key out of the Export dialog, createCompleteNodeSet, GET /flows and flows.json', async () => {
    assert.ok(configId, 'the previous test created the config node');

    // the editor's Export dialog, "all flows", as JSON text
    await page.evaluate(() => (window as unknown as { RED: any }).RED.actions.invoke('core:show-export-dialog'));
    await page.locator('#red-ui-clipboard-dialog-export-rng-full').click();
    const exported = await page.locator('#red-ui-clipboard-dialog-export-text').inputValue();
    await page.locator('#red-ui-clipboard-dialog-cancel').click();
    assert.ok(exported.includes(configId), 'the export holds the config node');
    assert.ok(!exported.includes(TYPED_KEY), 'the Export dialog has no key');
    assert.ok(!/apiKey/.test(exported), 'nor a credentials field');

    const nodeSet = await page.evaluate(() => JSON.stringify((window as unknown as { RED: any }).RED.nodes.createCompleteNodeSet()));
    assert.ok(nodeSet.includes(configId));
    assert.ok(!nodeSet.includes(TYPED_KEY), 'createCompleteNodeSet has no key');

    const viaApi = JSON.stringify(await getFlows(h));
    assert.ok(viaApi.includes(configId));
    assert.ok(!viaApi.includes(TYPED_KEY), 'GET /flows has no key');

    const onDisk = readFileSync(h.nodeRed.flowsFile, 'utf8');
    assert.ok(onDisk.includes(configId));
    assert.ok(!onDisk.includes(TYPED_KEY), 'flows.json has no key');
    const credFile = join(h.nodeRed.userDir, 'flows_cred.json');
    assert.ok(existsSync(credFile), 'the key went to the credentials file');
    assert.ok(!readFileSync(credFile, 'utf8').includes(TYPED_KEY), 'which is encrypted');

    // the runtime has the key, and tells the editor only that it has one
    const res = await fetch(`${h.nodeRed.url}/credentials/segmind-config/${configId}`);
    const creds = (await res.json()) as Record<string, unknown>;
    assert.equal(creds.has_apiKey, true);
    assert.ok(!JSON.stringify(creds).includes(TYPED_KEY));
  });

  it('shows a stored key as a masked placeholder after reloading the editor', async () => {
    const fresh = await openPage(h);
    try {
      await fresh.evaluate((id) => (window as unknown as { RED: any }).RED.editor.editConfig('', 'segmind-config', id), configId);
      await fresh.locator('#node-config-dialog-ok').waitFor({ state: 'visible' });
      await fresh.waitForTimeout(300);
      const shown = await fresh.locator('#node-config-input-apiKey').inputValue();
      assert.notEqual(shown, TYPED_KEY, 'the editor never receives the key back');
      assert.equal(shown, '__PWRD__', "Node-RED's placeholder for a stored password");
      // the deployed node's jobs and spend, in words from the package's catalog (not a raw key)
      const usage = fresh.locator('#node-config-segmind-usage');
      await fresh.waitForFunction(() => (document.querySelector('#node-config-segmind-usage')?.textContent ?? '').trim() !== '');
      assert.match(await usage.innerText(), /^Last hour: 0 jobs · last 24 h: \$0\.00 .* 0 waiting for budget$/);
    } finally {
      await fresh.close();
    }
  });
});
