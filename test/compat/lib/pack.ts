// Packs the project the way it is published (npm pack runs prepack = npm run build) and reads
// back the package.json that is inside the tarball, so the test checks what users install.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../../scripts/compat/targets';
import { runNpm } from '../../../scripts/compat/prepare';

export interface PackedPackage {
  tarball: string;
  name: string;
  version: string;
  /** node-red.nodes of the packed package.json: set name -> file */
  nodeSets: Record<string, string>;
}

interface PackageJson {
  name?: unknown;
  version?: unknown;
  'node-red'?: { nodes?: Record<string, string> };
}

export const PACK_DIR = path.join(REPO_ROOT, '.tmp', 'compat');

export function readPackedPackage(tarball: string): PackedPackage {
  const text = execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' });
  const pkg = JSON.parse(text) as PackageJson;
  const nodeSets = pkg['node-red']?.nodes ?? {};
  if (typeof pkg.name !== 'string' || typeof pkg.version !== 'string' || Object.keys(nodeSets).length === 0) {
    throw new Error(`${tarball}: package.json needs name, version and node-red.nodes; got ${text.slice(0, 500)}`);
  }
  return { tarball, name: pkg.name, version: pkg.version, nodeSets };
}

/** npm pack into .tmp/compat/, or use COMPAT_TARBALL when given (an already packed file). */
export async function packProject(): Promise<PackedPackage> {
  const given = process.env.COMPAT_TARBALL;
  if (given) return readPackedPackage(path.resolve(given));

  fs.mkdirSync(PACK_DIR, { recursive: true });
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
  // npm's file name: scope without '@', '/' -> '-'.
  const file = `${String(pkg.name).replace(/^@/, '').replace('/', '-')}-${String(pkg.version)}.tgz`;
  const tarball = path.join(PACK_DIR, file);
  fs.rmSync(tarball, { force: true });
  await runNpm(['pack', '--pack-destination', PACK_DIR], { cwd: REPO_ROOT });
  if (!fs.existsSync(tarball)) throw new Error(`npm pack did not write ${tarball}`);
  return readPackedPackage(tarball);
}
