// Mocha root hook: every test gets its own Node-RED user directory in node-red-node-test-helper, so
// the job ledger (a journal under <userDir>/segmind/, one per config node id) starts empty and the
// jobs one test leaves behind never resume in the next test's nodes with the same ids.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper') as { settings(s: Record<string, unknown>): unknown };

const made: string[] = [];

export const mochaHooks = {
  beforeEach(): void {
    const dir = mkdtempSync(join(tmpdir(), 'segmind-userdir-'));
    made.push(dir);
    helper.settings({ userDir: dir });
  },
  afterAll(): void {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  },
};
