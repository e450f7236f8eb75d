// A real Node-RED as a child process: a fresh user directory with our tarball installed the way
// the palette manager installs it, a settings file bound to 127.0.0.1, and its log captured.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { envWithNode, runNpm, type PreparedTarget } from '../../../scripts/compat/prepare';

/** Every child started here, so none outlives the test process even when a test throws or the
 * run is interrupted. */
const live = new Set<ChildProcess>();
const killAll = (): void => {
  for (const child of live) child.kill('SIGKILL');
};
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  // once: the re-sent signal then takes its default course (ends this process)
  process.once(sig, () => {
    killAll();
    process.kill(process.pid, sig);
  });
}

export const CREDENTIAL_SECRET = 'compat-test-credential-secret';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh user directory holding our package, installed as the palette manager does. */
export async function createUserDir(target: PreparedTarget, tarball: string): Promise<string> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), `segmind-compat-${target.id.replace(/[^\w.-]/g, '_')}-`));
  fs.writeFileSync(
    path.join(userDir, 'package.json'),
    JSON.stringify({ name: 'node-red-project', description: 'compat test', version: '0.0.1', private: true }, null, 2),
  );
  // Node-RED's palette manager runs: npm install --no-audit --no-update-notifier --no-fund
  // --save --save-prefix=~ --omit=dev --engine-strict <module>, on the node that runs Node-RED.
  try {
    await runNpm(['install', '--save', '--save-prefix=~', '--omit=dev', '--engine-strict', '--prefer-offline', path.resolve(tarball)], {
      cwd: userDir,
      nodeBin: target.node.bin,
    });
  } catch (err) {
    fs.rmSync(userDir, { recursive: true, force: true });
    throw err;
  }
  return userDir;
}

export function writeSettings(userDir: string, port: number): string {
  const file = path.join(userDir, 'settings.js');
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    credentialSecret: CREDENTIAL_SECRET,
    logging: { console: { level: 'info', metrics: false, audit: false } },
    editorTheme: { tours: false },
    telemetry: { enabled: false },
    diagnostics: { enabled: false, ui: false },
    externalModules: { autoInstall: false },
    functionExternalModules: false,
  };
  fs.writeFileSync(file, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  return file;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class NodeRedProcess {
  readonly url: string;
  private output = '';
  private readonly exitPromise: Promise<ExitInfo>;
  private exitInfo: ExitInfo | null = null;

  constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly userDir: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    const logFile = fs.createWriteStream(path.join(userDir, 'node-red.log'));
    const append = (d: Buffer): void => {
      this.output += d.toString();
      logFile.write(d);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.exitPromise = new Promise((resolve) => {
      const ended = (info: ExitInfo): void => {
        if (this.exitInfo) return;
        live.delete(child);
        this.exitInfo = info;
        logFile.end();
        resolve(info);
      };
      child.on('exit', (code, signal) => ended({ code, signal }));
      // a node binary that cannot be started emits 'error' and no 'exit'
      child.on('error', (err) => {
        this.output += `failed to start ${String(child.spawnfile)}: ${err.message}\n`;
        ended({ code: null, signal: null });
      });
    });
  }

  /** Everything the process printed so far (stdout and stderr). */
  get log(): string {
    return this.output;
  }

  get exited(): ExitInfo | null {
    return this.exitInfo;
  }

  /** Waits for text matching re in the log from offset on. */
  async waitForLog(re: RegExp, timeoutMs: number, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.output.slice(from));
      if (m) return m[0];
      if (this.exitInfo) throw new Error(`node-red exited (${JSON.stringify(this.exitInfo)}) before logging ${re}`);
      if (Date.now() > deadline) throw new Error(`node-red did not log ${re} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM, then waits; SIGKILL after graceMs. Resolves how it ended and how long it took. */
  async stop(graceMs = 10_000): Promise<ExitInfo & { ms: number; killed: boolean }> {
    const started = Date.now();
    if (this.exitInfo) return { ...this.exitInfo, ms: 0, killed: false };
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), graceMs)));
    const first = await Promise.race([this.exitPromise, timedOut]);
    clearTimeout(timer);
    if (first === 'timeout') {
      this.child.kill('SIGKILL');
      const info = await this.exitPromise;
      return { ...info, ms: Date.now() - started, killed: true };
    }
    return { ...first, ms: Date.now() - started, killed: false };
  }
}

/** Starts Node-RED and resolves once its HTTP server listens (nodes loaded, flows started). */
export async function startNodeRed(target: PreparedTarget, userDir: string): Promise<NodeRedProcess> {
  // The free port is released before Node-RED binds it; another process may take it in between.
  for (let attempt = 1; ; attempt++) {
    const nr = spawnNodeRed(target, userDir, await freePort());
    try {
      await nr.waitForLog(/Server now running at http:\/\/127\.0\.0\.1:\d+/, 60_000);
      return nr;
    } catch (err) {
      await nr.stop(2000);
      if (attempt < 3 && /EADDRINUSE|port in use/i.test(nr.log)) continue;
      throw new Error(`${(err as Error).message}\n--- node-red log ---\n${nr.log}`);
    }
  }
}

function spawnNodeRed(target: PreparedTarget, userDir: string, port: number): NodeRedProcess {
  const settingsFile = writeSettings(userDir, port);
  const child = spawn(target.node.bin, [target.nodeRed.redJs, '--userDir', userDir, '--settings', settingsFile], {
    cwd: userDir,
    env: envWithNode(target.node.bin, { NODE_RED_DISABLE_TELEMETRY: '1', NO_COLOR: '1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  return new NodeRedProcess(child, port, userDir);
}
