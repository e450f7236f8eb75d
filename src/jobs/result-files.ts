// Where file-mode results go and how they are written: a private folder (0700) under Node-RED's user
// directory by default, files readable by their owner only (0600), each written under a temporary
// .part name and renamed when whole. A .part left by a crash is removed when an await node starts.

import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';

export const FILE_MODE = 0o600;
export const FOLDER_MODE = 0o700;
/** the folder's name under Node-RED's user directory */
export const RESULTS_FOLDER = 'segmind-results';

/**
 * The default folder: `<userDir>/segmind-results`. Only when Node-RED's user directory is unknown, a
 * folder of this user in the system's temporary folder (`segmind-<uid>`), never the shared folder itself.
 */
export function defaultResultFolder(userDir: string | undefined): string {
  if (typeof userDir === 'string' && userDir.trim() !== '') return join(userDir, RESULTS_FOLDER);
  return join(tmpdir(), `segmind-${uidOf()}`);
}

function uidOf(): string {
  try {
    const uid = process.getuid?.();
    if (uid !== undefined) return String(uid);
    return userInfo().username.replace(/[^A-Za-z0-9_-]/g, '_') || 'user';
  } catch {
    return 'user';
  }
}

/**
 * Creates the folder (0700) if missing. The default folder is also made private if it exists with
 * wider rights; in the shared temporary folder, where anyone could have created it first, it is
 * refused unless it is a directory of this user. A folder the user chose is used as it is.
 */
export async function prepareFolder(folder: string, isDefault: boolean): Promise<void> {
  await mkdir(folder, { recursive: true, mode: FOLDER_MODE });
  if (!isDefault) return;
  const st = await lstat(folder);
  const uid = process.getuid?.();
  const ours = uid === undefined || st.uid === uid;
  if (!st.isDirectory() || (!ours && isInside(folder, tmpdir()))) {
    throw new Error(`the result folder ${folder} is not a directory owned by this user; choose a folder in the await node`);
  }
  if (ours && (st.mode & 0o077) !== 0) await chmod(folder, FOLDER_MODE);
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** Parts this process is writing now: a node starting beside a running download must not remove them. */
const writing = new Set<string>();

/** `<final>.<pid>.<8 hex>.part`: the pid says whether the writer may still be running. */
const PART = /\.(?:(\d+)\.)?[0-9a-f]{8}\.part$/;

function partPath(finalPath: string): string {
  return `${finalPath}.${process.pid}.${randomBytes(4).toString('hex')}.part`;
}

/**
 * Writes to a .part beside `finalPath`, renames it onto `finalPath` when complete, removes the .part
 * on any failure (an abort included) before the promise settles.
 */
export async function writeAtomically(finalPath: string, write: (partPath: string) => Promise<unknown>): Promise<void> {
  // a unique temp name: two nodes fetching the same request id must not write into each other's file
  const part = partPath(finalPath);
  writing.add(part);
  try {
    await write(part);
    await rename(part, finalPath);
  } catch (err) {
    await rm(part, { force: true }).catch(() => undefined);
    throw err;
  } finally {
    writing.delete(part);
  }
}

/**
 * Removes the .part files a crashed or killed process left in `folder`: those of no running process
 * (and this process's own only when it is not writing them). Returns how many were removed; a
 * missing folder has none.
 */
export async function removeStaleParts(folder: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = PART.exec(name);
    if (!m) continue;
    const path = join(folder, name);
    const pid = m[1] === undefined ? undefined : Number(m[1]);
    if (pid === process.pid ? writing.has(path) : pid !== undefined && isRunning(pid)) continue;
    try {
      await rm(path, { force: true });
      removed++;
    } catch {
      // not ours to remove (permissions): leave it
    }
  }
  return removed;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user
    return (err as { code?: string }).code === 'EPERM';
  }
}
