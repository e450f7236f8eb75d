// Driving Node-RED's editor in Chromium, shared by the browser tests (test/browser/editor.ts) and
// the README's screenshots (scripts/screenshots.ts).
import type { Page } from 'playwright-core';

/** `[id="..."]`: Node-RED ids may start with a digit, which a CSS #id selector does not allow. */
export function byId(id: string): string {
  return `[id="${id}"]`;
}

/** Opens a node's edit tray with a double click on the canvas. */
export async function openEditor(page: Page, id: string): Promise<void> {
  // under load Chromium can split a double click into two single clicks: try again, as a user would
  const ok = page.locator('#node-dialog-ok');
  for (let attempt = 1; ; attempt++) {
    await page.locator(`${byId(id)} .red-ui-flow-node`).first().dblclick();
    try {
      await ok.waitFor({ state: 'visible', timeout: 4000 });
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
  // the tray slides in; form widgets (typedInput, spinner) are built in oneditprepare
  await page.waitForFunction(() => !document.querySelector('.red-ui-tray.red-ui-tray-opening'));
  await page.waitForTimeout(300);
}
