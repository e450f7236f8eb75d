// A real Node-RED process for the restart tests: `node node_modules/node-red/red.js` with a temp
// userDir that has this package linked in (as an npm install would place it), a settings.js as Node-RED
// installs it (no contextStorage: the job ledger needs none), and the admin API on 127.0.0.1 at an
// ephemeral port.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, prepareUserDir, REPO_ROOT } from '../../scripts/lib/start-node-red';

const RED_JS = join(REPO_ROOT, 'node_modules', 'node-red', 'red.js');

export interface NodeRedProcess {
  url: string;
  port: number;
  child: ChildProcess;
  log: string[];
  exited: Promise<void>;
}

/**
 * Links the package into userDir and writes settings.js (no context storage configured).
 * `credentials` (node id -> credentials) go to flows_cred.json, in clear (credentialSecret: false).
 */
export function prepare(userDir: string, port: number, flows: unknown[], credentials?: Record<string, Record<string, string>>): void {
  prepareUserDir(userDir, port, 'info');
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    credentialSecret: false,
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false, ui: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    editorTheme: { tours: false, projects: { enabled: false }, palette: { catalogues: [] } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
  };
  writeFileSync(join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows, null, 2));
  if (credentials) writeFileSync(join(userDir, 'flows_cred.json'), JSON.stringify(credentials, null, 2));
}

export { freePort };

/** Starts Node-RED on a prepared userDir and resolves once its flows have started. */
export function start(userDir: string, port: number, env: Record<string, string>, timeoutMs = 45_000): Promise<NodeRedProcess> {
  const child = spawn(process.execPath, [RED_JS, '--userDir', userDir, '--settings', join(userDir, 'settings.js')], {
    cwd: userDir,
    env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`Node-RED did not start within ${timeoutMs} ms:\n${log.join('\n')}`)), timeoutMs);
    let started = false;
    const fail = (err: Error) => {
      if (started) return;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    let rest = '';
    const onData = (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split(/\r?\n/);
      rest = lines.pop() ?? '';
      for (const line of lines) {
        log.push(line);
        if (!started && /\[info\] Started flows/.test(line)) {
          started = true;
          clearTimeout(timer);
          resolve({ url: `http://127.0.0.1:${port}`, port, child, log, exited });
        }
        if (/Waiting for missing types|\[error\]/.test(line)) fail(new Error(`Node-RED reported a problem:\n${log.join('\n')}`));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => fail(new Error(`Node-RED exited (${signal ?? code}) before it started:\n${log.join('\n')}`)));
  });
}

/** SIGKILL: no close handlers, no flush; resolves when the process is gone. */
export async function kill(p: NodeRedProcess): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await p.exited;
}

/**
 * The job ledger's live entries as the journal file holds them now (read-only replay; the running
 * Node-RED holds the journal's lock). A torn last line is skipped, as the journal does.
 */
export function ledgerEntries(userDir: string, configId: string): Array<Record<string, any>> {
  const file = join(userDir, 'segmind', `ledger-${configId}.jsonl`);
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const live = new Map<string, Record<string, any>>();
  for (const line of text.split('\n')) {
    let rec: any;
    try {
      rec = JSON.parse(line);
    } catch {
      continue;
    }
    if (rec.op === 'put') live.set(rec.e.key, rec.e);
    else if (rec.op === 'upd' && live.has(rec.k)) live.set(rec.k, { ...live.get(rec.k), ...rec.p });
    else if (rec.op === 'del') live.delete(rec.k);
  }
  return [...live.values()];
}
