// Each node's edit dialog shows every parameter with its default and, under it, what it accepts;
// marks invalid values (the input gets Node-RED's 'input-error' class, a tooltip says why, and the
// node its red triangle on the canvas) and accepts valid ones.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { specs } from '../../src/models/specs';
import type { NumberParam, ParamSpec } from '../../src/models/spec';
import { harness, openEditor as openPage, screenshot, setFlows, type Harness } from './harness';
import { describeAllowed } from '../../src/models/params';
import { addNode, closeEditor, invalidReason, nodeProperty, openEditor, showsInvalidMarker, trayScreenshot } from './editor';

/** What the dialog's input for a parameter holds: checkbox state or the field's text. */
async function field(page: Page, name: string): Promise<string | boolean | null> {
  return page.evaluate((name) => {
    const el = document.getElementById(`node-input-${name}`) as HTMLInputElement | HTMLSelectElement | null;
    if (!el) return null;
    return el instanceof HTMLInputElement && el.type === 'checkbox' ? el.checked : el.value;
  }, name);
}

/** A typedInput hides the original <input> and shows its own container right after it. */
function typedInputContainer(name: string): string {
  return `#node-input-${name} + .red-ui-typedInput-container`;
}

async function isTypedInput(page: Page, name: string): Promise<boolean> {
  return (await page.locator(typedInputContainer(name)).count()) > 0;
}

/** Node-RED's invalid mark: 'input-error' on the input (and on a typedInput's container). */
async function hasError(page: Page, name: string): Promise<boolean> {
  const onInput = await page.locator(`#node-input-${name}`).evaluate((el) => el.classList.contains('input-error'));
  if (!(await isTypedInput(page, name))) return onInput;
  const onContainer = await page.locator(typedInputContainer(name)).evaluate((el) => el.classList.contains('input-error'));
  assert.equal(onContainer, onInput, `${name}: the typedInput shows the same state as its input`);
  return onContainer;
}

/** Types a value the way a user does and leaves the field, which is when Node-RED validates. */
async function typeInto(page: Page, name: string, value: string): Promise<void> {
  const input = (await isTypedInput(page, name))
    ? page.locator(`${typedInputContainer(name)} input.red-ui-typedInput-input`)
    : page.locator(`#node-input-${name}`);
  await input.fill(value);
  await input.press('Tab');
}

function assertDefault(p: ParamSpec, shown: string | boolean | null): void {
  assert.notEqual(shown, null, `${p.name} has an input in the dialog`);
  switch (p.type) {
    case 'media':
      assert.equal(shown, p.defaultProperty, `${p.name} reads msg.${p.defaultProperty} by default`);
      break;
    case 'boolean':
      assert.equal(shown, p.default ?? false, `${p.name} default`);
      break;
    case 'integer':
    case 'number':
      assert.equal(Number(shown), p.default, `${p.name} default`);
      break;
    case 'string':
      assert.equal(shown, p.default ?? '', `${p.name} default`);
      break;
  }
}

/** Values the parameter must refuse, each with why. */
function invalidValues(p: NumberParam): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (p.max !== undefined) out.push([String(p.max + 1), 'above the maximum']);
  if (p.min !== undefined) out.push([String(p.min - 1), 'below the minimum']);
  if (p.type === 'integer' && p.min !== undefined) out.push([String(p.min + 0.5), 'not an integer']);
  return out;
}

function validValue(p: NumberParam): string {
  if (p.min !== undefined && p.max !== undefined) return String(p.type === 'integer' ? Math.floor((p.min + p.max) / 2) : (p.min + p.max) / 2);
  return String(p.default ?? 1);
}

describe('browser: edit dialogs', function () {
  let h: Harness;
  let page: Page;
  const configId = 'c0ffee0000000001';

  before(async function () {
    h = await harness();
    await setFlows(h, [
      { id: 'tab0000000000001', type: 'tab', label: 'Dialogs' },
      {
        id: configId,
        type: 'segmind-config',
        name: 'Built-in sandbox',
        endpoint: 'sandbox',
        rpm: 5,
      },
    ]);
    page = await openPage(h);
  });
  after(async () => page?.close());

  for (const spec of specs) {
    const numeric = spec.params.filter((p): p is NumberParam => (p.type === 'integer' || p.type === 'number') && !p.allowed);

    it(`${spec.title}: shows every parameter with its default`, async () => {
      const id = await addNode(page, spec.nodeType, { config: configId });
      await openEditor(page, id);
      for (const p of spec.params) {
        assertDefault(p, await field(page, p.name));
        assert.ok(await page.locator(`label[for="node-input-${p.name}"]`).isVisible(), `${p.name} has a visible label`);
        if (p.type === 'media') assert.equal(await field(page, `${p.name}Type`), 'msg');
        assert.equal(await hasError(page, p.name), false, `${p.name}'s default is valid`);
        // what the field accepts is written under it, visibly
        const hint = page.locator(`#node-input-${p.name} ~ .segmind-hint`).first();
        assert.ok(await hint.isVisible(), `${p.name} shows what it accepts`);
        const text = await hint.innerText();
        if (p.type === 'media') assert.match(text, /URL, data URI, base64 string or Buffer/, p.name);
        else assert.equal(text.toLowerCase(), describeAllowed(p).toLowerCase(), p.name);
      }
      assert.equal(await page.locator('#node-input-config').inputValue(), configId, 'the config node is preselected');
      if (spec.slug === 'sadtalker') {
        await trayScreenshot(page, () => screenshot(page, 'edit-dialog'));
      }
      await closeEditor(page);
      assert.equal(await showsInvalidMarker(page, id, false), false, 'a node with defaults is valid');
    });

    it(`${spec.title}: marks invalid values and the node, accepts valid ones`, async () => {
      const id = await addNode(page, spec.nodeType, { config: configId });
      await openEditor(page, id);
      const media = spec.params.find((p) => p.type === 'media')!;
      // a required media source left empty
      await typeInto(page, media.name, '');
      assert.equal(await hasError(page, media.name), true, `empty ${media.name} is invalid`);
      for (const p of numeric) {
        for (const [value, why] of invalidValues(p)) {
          await typeInto(page, p.name, value);
          assert.equal(await hasError(page, p.name), true, `${p.name} = ${value} (${why}) is marked invalid`);
        }
      }
      // and says why, beside the field (one model is enough: all are generated alike)
      const first = numeric[0];
      if (first && spec === specs[0]) {
        const reason = await invalidReason(page, `#node-input-${first.name}`, () => screenshot(page, 'invalid-value'));
        assert.equal(reason, `Not valid: expected ${describeAllowed(first, { withDefault: false })}`);
      }
      await closeEditor(page);
      assert.equal(await showsInvalidMarker(page, id, true), true, 'the node shows the invalid marker');

      await openEditor(page, id);
      await typeInto(page, media.name, 'face');
      assert.equal(await hasError(page, media.name), false);
      for (const p of numeric) {
        await typeInto(page, p.name, validValue(p));
        assert.equal(await hasError(page, p.name), false, `${p.name} = ${validValue(p)} is accepted`);
      }
      await closeEditor(page);
      assert.equal(await showsInvalidMarker(page, id, false), false, 'the marker is gone');
      assert.equal(await nodeProperty(page, id, media.name), 'face');
      for (const p of numeric) assert.equal(Number(await nodeProperty(page, id, p.name)), Number(validValue(p)), `${p.name} saved`);
    });
  }

  it('segmind model: an invalid slug or a non-object payload is marked invalid; valid ones accepted', async () => {
    const id = await addNode(page, 'segmind model', { config: configId });
    await openEditor(page, id);
    assert.equal(await field(page, 'model'), '');
    assert.equal(await field(page, 'payload'), '{}');
    assert.equal(await field(page, 'payloadType'), 'json');
    assert.equal(Number(await field(page, 'maxMediaMB')), 50);
    await typeInto(page, 'model', 'Not A Slug/..');
    assert.equal(await hasError(page, 'model'), true, 'a slug with spaces and slashes is invalid');
    assert.match(await invalidReason(page, '#node-input-model'), /expected a lowercase model slug/);
    await typeInto(page, 'payload', '[1, 2]');
    assert.equal(await hasError(page, 'payload'), true, 'a JSON array is not a parameter object');
    await closeEditor(page);
    assert.equal(await showsInvalidMarker(page, id, true), true);

    await openEditor(page, id);
    await typeInto(page, 'model', 'sync.so-react-1');
    await typeInto(page, 'payload', '{"sync_mode": "loop"}');
    assert.equal(await hasError(page, 'model'), false);
    assert.equal(await hasError(page, 'payload'), false);
    await closeEditor(page);
    assert.equal(await showsInvalidMarker(page, id, false), false);
    assert.equal(await nodeProperty(page, id, 'model'), 'sync.so-react-1');
  });

  it('await job: a non-numeric or out-of-range timeout is marked invalid; a valid one accepted', async () => {
    const id = await addNode(page, 'segmind await', { config: configId });
    await openEditor(page, id);
    assert.equal(Number(await field(page, 'timeout')), 900);
    assert.equal(await field(page, 'result'), 'url');
    await typeInto(page, 'timeout', 'soon');
    assert.equal(await hasError(page, 'timeout'), true, 'text is not a timeout');
    await typeInto(page, 'timeout', '0');
    assert.equal(await hasError(page, 'timeout'), true, 'zero is not a timeout');
    assert.match(await invalidReason(page, '#node-input-timeout'), /number of seconds above 0 and at most 86400/);
    await closeEditor(page);
    assert.equal(await showsInvalidMarker(page, id, true), true);

    await openEditor(page, id);
    await typeInto(page, 'timeout', '120');
    assert.equal(await hasError(page, 'timeout'), false);
    await closeEditor(page);
    assert.equal(await showsInvalidMarker(page, id, false), false);
    assert.equal(Number(await nodeProperty(page, id, 'timeout')), 120);
  });

  it('a model node without a config node is invalid', async () => {
    const id = await addNode(page, specs[0].nodeType, { config: '' });
    assert.equal(await showsInvalidMarker(page, id, true), true);
  });
});
