// `npm run demo`: Node-RED 4 with this package installed, the example flows deployed and, unless
// SEGMIND_API_KEY is set, the Segmind-compatible sandbox answering them with compressed time.
// Everything lives in .demo/ (git-ignored). Ctrl-C stops Node-RED and the sandbox.
//
//   npm run demo                     sandbox on 127.0.0.1:8990, jobs take seconds
//   SEGMIND_API_KEY=SG_... npm run demo   Segmind's real API (billed), 5 requests/minute
//   npm run demo -- --reset          rewrite .demo/flows.json from examples/flows/
//   DEMO_PORT=1881 npm run demo      editor port (default 1880, else a free one)
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox } from '../src/sandbox';
import type { Sandbox } from '../src/sandbox/types';
import { REPO_ROOT, freePort, portIsFree, startNodeRed, type RunningNodeRed } from './lib/start-node-red';
import { DEMO_TIME_SCALE, SANDBOX_CONFIG_NAME, SANDBOX_PORT, demoFlows, pointConfigs, readExamples, type ConfigTarget, type FlowNode } from './lib/demo-flows';

const USER_DIR = join(REPO_ROOT, '.demo');
const EDITOR_PORT = Number(process.env.DEMO_PORT) || 1880;

function say(text: string): void {
  process.stdout.write(`[demo] ${text}\n`);
}

async function startDemoSandbox(): Promise<Sandbox> {
  const options = { host: '127.0.0.1', timeScale: DEMO_TIME_SCALE, quiet: false };
  if (await portIsFree(SANDBOX_PORT)) {
    try {
      return await startSandbox({ ...options, port: SANDBOX_PORT });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  const sandbox = await startSandbox({ ...options, port: 0 });
  say(
    `port ${SANDBOX_PORT} is taken, so the sandbox listens on ${sandbox.url} instead. The deployed demo ` +
      `flows point there; an example imported from the editor's menu points at 127.0.0.1:${SANDBOX_PORT}: ` +
      `edit its segmind-config node's URLs to ${sandbox.url}.`,
  );
  return sandbox;
}

function loadFlows(target: ConfigTarget, reset: boolean): FlowNode[] {
  const file = join(USER_DIR, 'flows.json');
  if (!reset && existsSync(file)) {
    // keep the user's edits; only re-point the config node (the sandbox port or the mode may differ)
    return pointConfigs(JSON.parse(readFileSync(file, 'utf8')) as FlowNode[], target);
  }
  return demoFlows(readExamples(), target);
}

async function main(): Promise<void> {
  const realApi = Boolean(process.env.SEGMIND_API_KEY?.trim());
  const reset = process.argv.includes('--reset');
  let sandbox: Sandbox | null = null;
  let nodeRed: RunningNodeRed | null = null;

  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    await nodeRed?.stop().catch(() => undefined);
    await sandbox?.close().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  process.on('SIGHUP', () => void stopAll(0));

  try {
    let target: ConfigTarget;
    const env: Record<string, string> = {};
    if (realApi) {
      // The key stays in the environment: the config node reads SEGMIND_API_KEY when its own
      // credential is empty, so it is never written to .demo/.
      target = {
        name: 'Segmind',
        baseUrl: 'https://api.segmind.com',
        uploadUrl: 'https://workflows-api.segmind.com/upload-asset',
        rpm: 5,
        timeScale: 1,
      };
      say('SEGMIND_API_KEY is set: the flows call Segmind\'s real API (jobs are billed and take minutes).');
    } else {
      sandbox = await startDemoSandbox();
      target = { name: SANDBOX_CONFIG_NAME, baseUrl: sandbox.url, uploadUrl: sandbox.uploadUrl, rpm: 60, timeScale: DEMO_TIME_SCALE };
      env.SEGMIND_API_KEY = sandbox.apiKeys[0] ?? 'SG_sandbox';
      say(`sandbox (Segmind-compatible, time x${DEMO_TIME_SCALE}) on ${sandbox.url}`);
    }

    const port = (await portIsFree(EDITOR_PORT)) ? EDITOR_PORT : await freePort();
    if (port !== EDITOR_PORT) say(`port ${EDITOR_PORT} is taken; the editor uses ${port}.`);

    nodeRed = await startNodeRed({
      userDir: USER_DIR,
      port,
      flows: loadFlows(target, reset),
      env,
      onLog: (line) => process.stdout.write(`[node-red] ${line}\n`),
    });

    say('');
    say(`Node-RED editor: ${nodeRed.url}`);
    say('Each tab holds one example: click its inject button and watch the debug sidebar (bug icon, right).');
    say(realApi ? 'Calling api.segmind.com with your SEGMIND_API_KEY.' : 'Jobs complete in a few seconds against the sandbox.');
    say(sandbox ? 'Ctrl-C stops Node-RED and the sandbox.' : 'Ctrl-C stops Node-RED.');

    nodeRed.child.once('exit', (code) => {
      if (!stopping) {
        say(`Node-RED exited (${code}).`);
        void stopAll(code ?? 1);
      }
    });
  } catch (err) {
    process.stderr.write(`[demo] ${(err as Error).message}\n`);
    await stopAll(1);
  }
}

void main();
