// `npm run demo` as a user runs it (the real script, a real Node-RED): it deploys the examples on
// the built-in sandbox, keeps the user's edits across a restart, and stops Node-RED when it gets
// SIGTERM, or when the shell that started it (npm) goes away. Uses its own DEMO_DIR, not .demo/.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, portIsFree, REPO_ROOT } from '../../scripts/lib/start-node-red';
import { readExamples } from '../../scripts/lib/demo-flows';

interface Demo {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

/** Starts the demo under `sh -c` (as npm does) and resolves once it printed everything about the editor. */
async function startDemo(dir: string, port: number): Promise<Demo> {
  // a command after it keeps the shell from exec'ing it, as with npm's `npm run build && ...`
  const child = spawn('sh', ['-c', `"${process.execPath}" --import tsx scripts/demo.ts; exit $?`], {
    cwd: REPO_ROOT,
    env: { ...process.env, DEMO_DIR: dir, DEMO_PORT: String(port), SEGMIND_API_KEY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start:\n${output.join('')}`)), 60_000);
    const onData = (d: Buffer) => {
      output.push(d.toString());
      // the last line it prints once Node-RED runs
      if (/stops Node-RED\./.test(output.join(''))) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`the demo exited:\n${output.join('')}`)));
  });
  return { child, output, exited };
}

/** Resolves once nothing listens on the port any more (Node-RED stopped), or rejects after ms. */
async function portFreed(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!(await portIsFree(port))) {
    if (Date.now() > until) throw new Error(`port ${port} is still taken after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('npm run demo (real process)', function () {
  this.timeout(180_000);
  let dir: string;
  const started: ChildProcess[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'segmind-demo-'));
  });
  after(() => {
    for (const c of started) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys the examples on the built-in sandbox, keeps edits across restarts, and SIGTERM stops Node-RED', async () => {
    const port = await freePort();
    const demo = await startDemo(dir, port);
    started.push(demo.child);
    const text = demo.output.join('');
    assert.match(text, /With the built-in sandbox a job takes about: SadTalker ~\d+ s/, 'it says how long a job takes');
    const flows = (await (await fetch(`http://127.0.0.1:${port}/flows`)).json()) as Array<Record<string, unknown>>;
    const tabs = flows.filter((n) => n.type === 'tab');
    assert.equal(tabs.length, readExamples().length, 'one tab per example');
    const configs = flows.filter((n) => n.type === 'segmind-config');
    assert.equal(configs.length, 1, 'one config node shared by all');
    assert.equal(configs[0].endpoint, 'sandbox');

    // the user edits the flows in the editor (a deploy through the admin API)
    const edited = flows.map((n) => (n.type === 'segmind-config' ? { ...n, name: 'my edited config', rpm: 7 } : n));
    const res = await fetch(`http://127.0.0.1:${port}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'node-red-deployment-type': 'full' },
      body: JSON.stringify(edited),
    });
    assert.ok(res.ok, `deploy answered ${res.status}`);

    // SIGTERM to the demo's own process (the shell's child) stops Node-RED
    const demoPid = Number(/kill (\d+)\)/.exec(text)?.[1]);
    assert.ok(demoPid > 0 && demoPid !== demo.child.pid, 'it prints its process id (under the shell)');
    process.kill(demoPid, 'SIGTERM');
    await portFreed(port, 20_000);
    await demo.exited;

    // started again: the edits are still there
    const again = await startDemo(dir, port);
    started.push(again.child);
    assert.match(again.output.join(''), /keeping your flows/);
    const kept = (await (await fetch(`http://127.0.0.1:${port}/flows`)).json()) as Array<Record<string, unknown>>;
    const config = kept.find((n) => n.type === 'segmind-config');
    assert.equal(config?.name, 'my edited config');
    assert.equal(config?.rpm, 7);

    // the shell that started it (as npm's) is killed: the demo notices and stops Node-RED too
    const againPid = Number(/kill (\d+)\)/.exec(again.output.join(''))?.[1]);
    again.child.kill('SIGKILL');
    await portFreed(port, 20_000);
    const gone = await new Promise<boolean>((resolve) => {
      const check = (left: number) => {
        try {
          process.kill(againPid, 0);
        } catch {
          return resolve(true);
        }
        if (left <= 0) return resolve(false);
        setTimeout(() => check(left - 1), 200);
      };
      check(50);
    });
    assert.ok(gone, 'the demo process ended too');
  });
});
