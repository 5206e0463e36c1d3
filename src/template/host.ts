import { chmod, chown, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Destination } from './apply.js';
import { checkArgv, reloadArgv, runCommand, type CommandRunner } from './commands.js';
import type { CurrentFile } from './plan.js';

/** Reads the destination as it is now; undefined when there is none. */
export async function readHostFile(dest: string): Promise<CurrentFile | undefined> {
  try {
    const st = await stat(dest);
    if (st.isDirectory()) throw Object.assign(new Error(`${dest} is a folder, not a file`), { code: 'EISDIR' });
    return { content: await readFile(dest), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const processUid = () => (typeof process.geteuid === 'function' ? process.geteuid() : -1);
const processGid = () => (typeof process.getegid === 'function' ? process.getegid() : -1);

/** Sets the owner when asked; a kept owner that cannot be set (not root) is a warning, an explicit one an error. */
async function applyOwner(path: string, uid: number | undefined, gid: number | undefined, required: boolean): Promise<string[]> {
  const u = uid ?? -1;
  const g = gid ?? -1;
  if ((u === -1 || u === processUid()) && (g === -1 || g === processGid())) return [];
  try {
    await chown(path, u, g);
    return [];
  } catch (err) {
    if (required) throw err;
    return [`could not keep the owner ${u}:${g} of ${path.replace(/\/\.([^/]*)\.kiboko-[0-9a-f]+$/, '/$1')} (${(err as NodeJS.ErrnoException).code ?? 'error'}); it is now owned by ${processUid()}:${processGid()}`];
  }
}

/**
 * The host's filesystem: files are created exclusively, fsynced, chmod'ed (so the umask does not
 * weaken the mode) and chown'ed before anything looks at them; renames are followed by an fsync
 * of the folder so the new name survives a crash.
 */
export function hostDestination(run: CommandRunner = runCommand): Destination {
  return {
    label: 'host',
    atomic: true,
    read: readHostFile,
    async create(path, content, mode, uid, gid, ownerRequired) {
      const fh = await open(path, 'wx', mode);
      try {
        await fh.writeFile(content);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await chmod(path, mode);
      return applyOwner(path, uid, gid, ownerRequired);
    },
    async replace(staged, dest) {
      await rename(staged, dest);
      await fsyncDir(dirname(dest));
    },
    async overwrite(dest, content, mode, uid, gid) {
      await writeFile(dest, content, { mode });
      await chmod(dest, mode);
      const fh = await open(dest, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      return applyOwner(dest, uid, gid, false);
    },
    async remove(path) {
      try {
        await unlink(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      await fsyncDir(dirname(path)).catch(() => undefined);
    },
    run(kind, command, staged, timeoutMs, signal) {
      return run(kind === 'check' ? checkArgv(command, staged!) : reloadArgv(command), { timeoutMs, signal });
    },
  };
}
