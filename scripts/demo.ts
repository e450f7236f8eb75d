// `npm run demo`: Node-RED 4 with this package installed and the example flows deployed, one tab
// each. The examples use the config node's built-in sandbox (inside Node-RED: no key, nothing
// billed, jobs take seconds); with SEGMIND_API_KEY set, a first start points them at Segmind.
// Everything lives in .demo/ (git-ignored); edits made in the editor are kept across restarts.
// Ctrl-C, SIGTERM or SIGHUP to this process stops Node-RED.
//
//   npm run demo                          the built-in sandbox, jobs take seconds
//   SEGMIND_API_KEY=SG_... npm run demo   Segmind's real API (billed), on the first start or with --reset
//   npm run demo -- --reset               rewrite .demo/flows.json from examples/flows/
//   DEMO_PORT=1881 npm run demo           editor port (default 1880, else a free one)
//   DEMO_DIR=/tmp/x npm run demo          another user directory than .demo/
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { specs } from '../src/models/specs';
import { REPO_ROOT, freePort, portIsFree, startNodeRed, type RunningNodeRed } from './lib/start-node-red';
import { demoFlows, readExamples, type FlowNode } from './lib/demo-flows';
import { expectedSandboxSeconds } from './lib/example-flows';

// DEMO_DIR: another user directory (the demo's own test uses one, so it never touches .demo/)
const USER_DIR = process.env.DEMO_DIR ? resolve(process.env.DEMO_DIR) : join(REPO_ROOT, '.demo');
const FLOWS_FILE = join(USER_DIR, 'flows.json');
const EDITOR_PORT = Number(process.env.DEMO_PORT) || 1880;

function say(text: string): void {
  process.stdout.write(`[demo] ${text}\n`);
}

/** The flows to write, or undefined to keep .demo/flows.json (the user's edits) as it is. */
function flowsToWrite(realApi: boolean, reset: boolean): FlowNode[] | undefined {
  if (!reset && existsSync(FLOWS_FILE)) return undefined;
  // the key stays in the environment (the config node reads SEGMIND_API_KEY), never in .demo/
  return demoFlows(readExamples(), realApi ? { name: 'Segmind', endpoint: 'segmind', rpm: 5 } : {});
}

/** "SadTalker ~6 s, V-Express ~12 s, ...": what the user will see, shortest first. */
function sandboxTimes(): string {
  return [...specs]
    .sort((a, b) => a.typicalSeconds - b.typicalSeconds)
    .map((s) => `${s.title} ~${expectedSandboxSeconds(s)} s`)
    .join(', ');
}

async function main(): Promise<void> {
  const realApi = Boolean(process.env.SEGMIND_API_KEY?.trim());
  const reset = process.argv.includes('--reset');
  let nodeRed: RunningNodeRed | null = null;

  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping Node-RED…');
    await nodeRed?.stop().catch(() => undefined);
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stopAll(0));
  // `npm run demo` runs this under a shell; a SIGTERM to npm ends the shell but not this process,
  // which then gets a new parent: take that as the signal to stop too
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stopAll(0);
  }, 1000).unref();

  try {
    const flows = flowsToWrite(realApi, reset);
    if (!flows) {
      say(`keeping your flows in ${FLOWS_FILE} (npm run demo -- --reset starts over from the examples).`);
    } else if (realApi) {
      say('SEGMIND_API_KEY is set: the examples call Segmind\'s real API (jobs are billed and take minutes).');
    }

    const port = (await portIsFree(EDITOR_PORT)) ? EDITOR_PORT : await freePort();
    if (port !== EDITOR_PORT) say(`port ${EDITOR_PORT} is taken; the editor uses ${port}.`);

    // started only now: a signal that came earlier finds nothing to stop
    nodeRed = await startNodeRed({
      userDir: USER_DIR,
      port,
      flows,
      onLog: (line) => process.stdout.write(`[node-red] ${line}\n`),
    });
    if (stopping) return;

    say('');
    say(`Node-RED editor: ${nodeRed.url}`);
    say('Each tab holds one example: click its inject button and watch the debug sidebar (bug icon, right)');
    say('and the await job node\'s status (progress, then "completed").');
    say(
      flows && realApi
        ? 'Calling api.segmind.com with your SEGMIND_API_KEY: SadTalker takes about 2 minutes, the others up to 6.'
        : `With the built-in sandbox a job takes about: ${sandboxTimes()}.`,
    );
    say(`Ctrl-C (or kill ${process.pid}) stops Node-RED.`);

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
