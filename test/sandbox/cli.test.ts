import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { optionsFromArgs } from '../../src/sandbox/cli';
import { SADTALKER, get, post } from './helpers';

const ROOT = path.resolve(__dirname, '../..');

/** Resolves with the stdout seen once `pattern` appears. */
function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (pattern.test(out)) resolve(out);
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`sandbox CLI exited with ${code} before printing ${pattern}: ${err}`)));
  });
}

describe('sandbox: CLI', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('starts, prints its URLs and key, answers, and exits cleanly on SIGTERM', async function () {
    this.timeout(20000); // spawning node with tsx takes a moment
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/sandbox/cli.ts', '--port', '0', '--key', 'SG_one', '--key', 'SG_two', '--time-scale', '0.001', '--quiet'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out = await waitForOutput(child, /API key:.*\n/);
    const url = /Segmind sandbox API:\s+(\S+)/.exec(out)?.[1];
    assert.ok(url, out);
    assert.match(out, new RegExp(`Upload URL:\\s+${url}/upload-asset`));
    assert.match(out, /SG_one, SG_two/);

    const ok = await post(`${url}/v2/sadtalker`, SADTALKER, { 'content-type': 'application/json', 'x-api-key': 'SG_two' });
    assert.equal(ok.status, 200);
    assert.equal((await get(ok.json.status_url, { 'x-api-key': 'SG_sandbox' })).status, 401, 'only the given keys');

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  it('parses flags and names a bad value', () => {
    const opts = optionsFromArgs(['--port', '0', '--rpm', '5', '--retention', '60', '--time-scale', '0.01']);
    assert.ok(opts !== 'help');
    assert.equal(opts.port, 0);
    assert.equal(opts.rateLimitPerMinute, 5);
    assert.equal(opts.retentionSeconds, 60);
    assert.equal(opts.timeScale, 0.01);
    assert.deepEqual(opts.apiKeys, ['SG_sandbox']);
    assert.throws(() => optionsFromArgs(['--port', 'abc']), /--port: expected a port 0-65535, got "abc"/);
    assert.throws(() => optionsFromArgs(['--rpm', '0']), /--rpm/);
    assert.equal(optionsFromArgs(['--help']), 'help');
  });
});
