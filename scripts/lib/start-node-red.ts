// Starts a real Node-RED 4 (the dev dependency) as a child process with this package installed
// into its userDir, the way a user's `npm install` would place it: <userDir>/node_modules/<name>
// is a link to the repository root and <userDir>/package.json lists it, so Node-RED loads it as an
// installed module with its icons and its Import > Examples entries. Used by `npm run demo` and the
// browser tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const PACKAGE_NAME: string = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).name;
const RED_JS = join(REPO_ROOT, 'node_modules', 'node-red', 'red.js');

export interface NodeRedOptions {
  /** created if missing; the package link, package.json and settings.js in it are rewritten */
  userDir: string;
  /**
   * A packed tarball (npm pack) to install into userDir the way Node-RED's palette manager does,
   * instead of linking the repository.
   */
  tarball?: string;
  /** editor/admin port; 0 or undefined picks a free one */
  port?: number;
  /** flows written to <userDir>/flows.json before start; undefined leaves the file as it is */
  flows?: unknown[];
  /** extra environment for the Node-RED process (e.g. SEGMIND_API_KEY) */
  env?: Record<string, string>;
  /** Node-RED console log level, 'info' (the default; needed to see "Started flows") or more */
  logLevel?: 'info' | 'debug' | 'trace';
  /** every line Node-RED prints; default: discarded */
  onLog?: (line: string) => void;
  /** ms to wait for "Started flows"; default 60 s */
  startTimeoutMs?: number;
}

export interface RunningNodeRed {
  /** e.g. http://127.0.0.1:1880 (no trailing slash) */
  url: string;
  port: number;
  userDir: string;
  flowsFile: string;
  child: ChildProcess;
  /** everything Node-RED printed so far */
  log: string[];
  /** stops Node-RED (SIGINT, then SIGKILL after 10 s); safe to call more than once */
  stop(): Promise<void>;
}

/** A port nobody listens on at the moment (there is a small race until Node-RED binds it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

/** Whether `port` can be bound on `host` right now. */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((ok) => {
    const server = createServer();
    server.once('error', () => ok(false));
    server.listen(port, host, () => server.close(() => ok(true)));
  });
}

/** Links the package into userDir and writes package.json and settings.js. */
export function prepareUserDir(userDir: string, port: number, logLevel: string): void {
  mkdirSync(userDir, { recursive: true });
  const link = join(userDir, 'node_modules', ...PACKAGE_NAME.split('/'));
  mkdirSync(dirname(link), { recursive: true });
  let linked = false;
  try {
    linked = lstatSync(link).isSymbolicLink() && resolve(dirname(link), readlinkSync(link)) === REPO_ROOT;
  } catch {
    linked = false;
  }
  if (!linked) {
    rmSync(link, { recursive: true, force: true });
    // 'junction' lets Windows users without symlink rights run the demo; ignored elsewhere
    symlinkSync(relative(dirname(link), REPO_ROOT) || '.', link, 'junction');
  }
  const spec = `file:${relative(userDir, REPO_ROOT).split('\\').join('/') || '.'}`;
  const pkg = {
    name: 'segmind-node-red-userdir',
    description: 'Node-RED user directory made by scripts/lib/start-node-red.ts',
    version: '0.0.0',
    private: true,
    dependencies: { [PACKAGE_NAME]: spec },
  };
  writeFileSync(join(userDir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  writeFileSync(join(userDir, 'settings.js'), settingsJs(port, logLevel, credentialSecret(userDir)));
}

/** A random secret made once per user directory, so keys entered in the editor are encrypted with it. */
function credentialSecret(userDir: string): string {
  const file = join(userDir, '.credential-secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const secret = randomBytes(24).toString('hex');
    writeFileSync(file, secret + '\n', { mode: 0o600 });
    return secret;
  }
}

function settingsJs(port: number, logLevel: string, secret: string): string {
  // Everything that would reach the internet or interrupt the editor is off: telemetry and the
  // update check, the welcome tour, the palette catalogue and installs.
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    flowFilePretty: true,
    credentialSecret: secret,
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false, ui: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    functionExternalModules: false,
    editorTheme: {
      tours: false,
      projects: { enabled: false },
      palette: { catalogues: [] },
    },
    logging: { console: { level: logLevel, metrics: false, audit: false } },
  };
  return `// Written by scripts/lib/start-node-red.ts on every start; edits here are lost.\nmodule.exports = ${JSON.stringify(settings, null, 2)};\n`;
}

/** Runs npm with the variables npm sets for scripts removed (they would point it at this project). */
function npm(args: string[], cwd: string): Promise<string> {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('npm_') || k === 'INIT_CWD') delete env[k];
  return new Promise((ok, fail) => {
    const child = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', fail);
    child.once('close', (code) => (code === 0 ? ok(out) : fail(new Error(`npm ${args.join(' ')} (in ${cwd}) exited with ${code}:\n${out}`))));
  });
}

/** npm pack of this repository into `dir` (prepack builds it); the tarball's path. */
export async function packTarball(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const out = await npm(['pack', '--pack-destination', resolve(dir)], REPO_ROOT);
  const file = out.trim().split(/\r?\n/).filter((l) => l.endsWith('.tgz')).at(-1);
  if (!file) throw new Error(`npm pack named no tarball:\n${out}`);
  return join(resolve(dir), file.trim());
}

/**
 * Installs a packed tarball into userDir as Node-RED's palette manager installs a module: npm
 * install --no-audit --no-update-notifier --no-fund --save --save-prefix=~ --omit=dev
 * --engine-strict <tarball>, in the user directory; then writes settings.js.
 */
export async function installTarball(userDir: string, tarball: string, port: number, logLevel: string): Promise<void> {
  mkdirSync(userDir, { recursive: true });
  const pkg = { name: 'node-red-project', description: 'A Node-RED Project', version: '0.0.1', private: true };
  writeFileSync(join(userDir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  await npm(['install', '--no-audit', '--no-update-notifier', '--no-fund', '--save', '--save-prefix=~', '--omit=dev', '--engine-strict', '--prefer-offline', resolve(tarball)], userDir);
  writeFileSync(join(userDir, 'settings.js'), settingsJs(port, logLevel, credentialSecret(userDir)));
}

export async function startNodeRed(options: NodeRedOptions): Promise<RunningNodeRed> {
  const userDir = resolve(options.userDir);
  const port = options.port || (await freePort());
  const logLevel = options.logLevel ?? 'info';
  if (options.tarball) await installTarball(userDir, options.tarball, port, logLevel);
  else prepareUserDir(userDir, port, logLevel);
  const flowsFile = join(userDir, 'flows.json');
  if (options.flows) writeFileSync(flowsFile, JSON.stringify(options.flows, null, 2) + '\n');

  const child = spawn(process.execPath, [RED_JS, '--userDir', userDir, '--settings', join(userDir, 'settings.js')], {
    cwd: userDir,
    env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // If this process dies without stopping Node-RED, take it along rather than leave an orphan.
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  const log: string[] = [];
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  exited.then(() => process.off('exit', killOnExit));

  const started = new Promise<void>((ok, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`Node-RED did not start within ${options.startTimeoutMs ?? 60000} ms:\n${log.join('\n')}`)),
      options.startTimeoutMs ?? 60000,
    );
    const onLine = (line: string) => {
      log.push(line);
      options.onLog?.(line);
      if (/\[info\] Started flows/.test(line)) {
        clearTimeout(timer);
        ok();
      } else if (/Waiting for missing types/.test(line)) {
        // the flows name a node type this package (or Node-RED) did not register: not started
        clearTimeout(timer);
        fail(new Error(`Node-RED is missing node types (is the package built?):\n${log.join('\n')}`));
      }
    };
    lines(child.stdout!, onLine);
    lines(child.stderr!, onLine);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`Node-RED exited (${signal ?? code}) before it started:\n${log.join('\n')}`));
    });
  });

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };

  try {
    await started;
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `http://127.0.0.1:${port}`, port, userDir, flowsFile, child, log, stop };
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split(/\r?\n/);
    rest = parts.pop() ?? '';
    for (const part of parts) onLine(part);
  });
  stream.on('end', () => {
    if (rest) onLine(rest);
  });
}
