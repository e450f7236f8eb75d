// File-mode results on disk: the default folder, its rights, atomic writes, and the clean-up of .part
// files a crashed process left (but never those a running writer still writes).
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultResultFolder, prepareFolder, removeStaleParts, writeAtomically } from '../../src/jobs/result-files';

describe('jobs/result-files', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'segmind-result-files-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("defaults to segmind-results in Node-RED's user directory; without one, a folder of this user in the temp folder", () => {
    assert.equal(defaultResultFolder('/home/nr/.node-red'), join('/home/nr/.node-red', 'segmind-results'));
    const fallback = defaultResultFolder(undefined);
    assert.equal(fallback, join(tmpdir(), `segmind-${process.getuid!()}`));
    assert.notEqual(fallback, join(tmpdir(), 'segmind'), 'not a name shared by every user');
    assert.equal(defaultResultFolder('  '), fallback);
  });

  it('creates the folder 0700; makes an existing default folder private; leaves a chosen folder as it is', async () => {
    const fresh = join(root, 'fresh', 'deep');
    await prepareFolder(fresh, false);
    assert.equal((await stat(fresh)).mode & 0o777, 0o700);
    const wide = join(root, 'wide');
    await mkdir(wide);
    await chmod(wide, 0o777);
    await prepareFolder(wide, false);
    assert.equal((await stat(wide)).mode & 0o777, 0o777, "the user's own folder keeps its rights");
    await prepareFolder(wide, true);
    assert.equal((await stat(wide)).mode & 0o777, 0o700, 'the default folder is made private');
    const file = join(root, 'a-file');
    await writeFile(file, 'x');
    await assert.rejects(prepareFolder(file, true));
  });

  it("refuses a default folder in the temp folder that another user created first", async function () {
    if (process.getuid?.() !== 0) return this.skip(); // making a folder another user's needs root
    const foreign = join(root, 'foreign'); // root lies in the system's temp folder
    await mkdir(foreign, { mode: 0o777 });
    await chown(foreign, 12345, 12345);
    await assert.rejects(prepareFolder(foreign, true), /not a directory owned by this user; choose a folder in the await node/);
    await prepareFolder(foreign, false); // a folder the user chose is theirs to choose
  });

  it('writes atomically (0600), and removes the .part when writing fails', async () => {
    const dir = join(root, 'atomic');
    await prepareFolder(dir, false);
    const target = join(dir, 'r1.mp4');
    await writeAtomically(target, (part) => writeFile(part, 'whole', { mode: 0o600 }));
    assert.deepEqual(await readdir(dir), ['r1.mp4']);
    assert.equal((await stat(target)).mode & 0o777, 0o600);
    await assert.rejects(
      writeAtomically(join(dir, 'r2.mp4'), async (part) => {
        assert.match(part, new RegExp(`r2\\.mp4\\.${process.pid}\\.[0-9a-f]{8}\\.part$`));
        await writeFile(part, 'half');
        throw new Error('broke off');
      }),
      /broke off/,
    );
    assert.deepEqual(await readdir(dir), ['r1.mp4']);
  });

  it('removes .part files of no running process, keeps those being written (this process or another)', async () => {
    const dir = join(root, 'stale');
    await mkdir(dir);
    const names = {
      dead: 'a.mp4.4194399.0123abcd.part', // above Linux's pid_max: no such process
      old: 'b.mp4.deadbeef.part', // the name form without a pid
      ownLeftover: `c.mp4.${process.pid}.00000000.part`, // this pid, but no writer: left by an earlier process with the same pid
      otherLive: `d.mp4.${process.ppid}.11111111.part`,
      unrelated: 'notes.part.txt',
    };
    for (const n of Object.values(names)) await writeFile(join(dir, n), 'x');
    let removed = -1;
    let writing = '';
    // a download of this process is under way while the clean-up runs
    await writeAtomically(join(dir, 'e.mp4'), async (part) => {
      writing = part;
      await writeFile(part, 'x');
      removed = await removeStaleParts(dir);
      assert.ok((await readdir(dir)).includes(part.slice(dir.length + 1)), 'the running download keeps its .part');
    });
    assert.ok(writing);
    assert.equal(removed, 3);
    assert.deepEqual((await readdir(dir)).sort(), [names.otherLive, names.unrelated, 'e.mp4'].sort());
    assert.equal(await removeStaleParts(join(root, 'missing')), 0);
  });
});
