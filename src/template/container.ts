import { basename, posix } from 'node:path';
import { errorMessage, KibokoError } from '../common/errors.js';
import { packTar, readTar } from '../common/tar.js';
import type { Engine, ExecResult } from '../engine/index.js';
import type { Destination } from './apply.js';
import { checkArgv, reloadArgv, splitWords, type CommandResult } from './commands.js';
import type { CurrentFile } from './plan.js';

export interface ContainerRefLike {
  id: string;
  name: string;
}

/** What the container offers for a transactional write (probed once per apply). */
export interface ContainerTools {
  /** sh, mv and rm: stage, check and rename inside the container. */
  atomic: boolean;
  /** A `timeout` program to kill a hung check/reload inside the container. */
  timeout: boolean;
}

const PROBE = 'command -v mv >/dev/null 2>&1 && command -v rm >/dev/null 2>&1 && echo atomic; command -v timeout >/dev/null 2>&1 && echo timeout; true';

export async function probeTools(engine: Engine, id: string): Promise<ContainerTools> {
  try {
    const r = await engine.exec(id, { cmd: ['sh', '-c', PROBE] });
    if (r.exitCode !== 0) return { atomic: false, timeout: false };
    return { atomic: /\batomic\b/.test(r.stdout), timeout: /\btimeout\b/.test(r.stdout) };
  } catch (err) {
    // No shell at all: the runtime refuses the exec.
    if (err instanceof KibokoError && (err.code === 'TARGET_NOT_FOUND' || err.code === 'CONFLICT')) throw err;
    return { atomic: false, timeout: false };
  }
}

/** What readTarFile finds: the archive's first entry. */
export interface TarFile {
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
  type: string;
  linkname?: string;
}

/** The single file in a `docker cp`-style archive (following a symlink once or twice). */
export async function readTarFile(tar: Buffer): Promise<TarFile | undefined> {
  const first = (await readTar(tar))[0];
  if (!first) return undefined;
  const found: TarFile = { content: first.data, mode: first.mode & 0o7777, uid: first.uid, gid: first.gid, type: first.type };
  if (first.linkname) found.linkname = first.linkname;
  return found;
}

export async function packFile(name: string, content: Buffer, mode: number, uid: number, gid: number): Promise<Buffer> {
  return packTar([{ name, mode, uid, gid, mtime: new Date(), type: 'file', data: content }]);
}

function toCommandResult(r: ExecResult, ms: number, timedOut: boolean, cancelled: boolean): CommandResult {
  return { exitCode: r.exitCode, signal: null, timedOut, cancelled, output: `${r.stdout}${r.stderr}`.slice(-64 * 1024), ms };
}

/**
 * A running container's filesystem, reached only through the Engine API: files are read with
 * getArchive, staged with putArchive (mode and owner in the tar header), checked, renamed
 * (`mv -f`) and reloaded with exec — no agent in the image. Without sh/mv the file is written
 * in place (reported as not atomic) and reload_cmd is split into words and exec'd directly.
 */
export function containerDestination(engine: Engine, container: ContainerRefLike, tools: ContainerTools): Destination {
  const { id, name } = container;
  const execOk = async (cmd: string[], what: string) => {
    const r = await engine.exec(id, { cmd });
    if (r.exitCode !== 0) throw new KibokoError('ACTION_FAILED', `${what} in ${name} failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim()}`);
  };
  const put = async (path: string, content: Buffer, mode: number, uid: number | undefined, gid: number | undefined) => {
    await engine.putArchive(id, posix.dirname(path), await packFile(basename(path), content, mode, uid ?? 0, gid ?? 0));
  };
  const read = async (dest: string, depth = 0): Promise<CurrentFile | undefined> => {
    let tar: Buffer;
    try {
      tar = await engine.getArchive(id, dest);
    } catch (err) {
      if (err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND') return undefined;
      throw err;
    }
    const f = await readTarFile(tar);
    if (!f) return undefined;
    if (f.type === 'symlink' && f.linkname && depth < 8) return read(posix.resolve(posix.dirname(dest), f.linkname), depth + 1);
    if (f.type === 'directory') throw new KibokoError('ACTION_FAILED', `${dest} in ${name} is a folder, not a file`);
    return { content: f.content, mode: f.mode, uid: f.uid, gid: f.gid };
  };
  return {
    label: name,
    atomic: tools.atomic,
    read: (dest) => read(dest),
    async create(path, content, mode, uid, gid) {
      await put(path, content, mode, uid, gid);
      return [];
    },
    async replace(staged, dest) {
      await execOk(['mv', '-f', staged, dest], `mv ${staged} ${dest}`);
    },
    async overwrite(dest, content, mode, uid, gid) {
      await put(dest, content, mode, uid, gid);
      return [];
    },
    async remove(path) {
      if (!tools.atomic) throw new KibokoError('ACTION_FAILED', `cannot remove ${path} in ${name}: no sh/rm in the container`);
      await execOk(['rm', '-f', path], `rm ${path}`);
    },
    async run(kind, command, staged, timeoutMs, signal) {
      const started = Date.now();
      let argv = tools.atomic ? (kind === 'check' ? checkArgv(command, staged!, 'sh') : reloadArgv(command, 'sh')) : splitWords(command);
      if (tools.timeout) argv = ['timeout', '-s', 'KILL', String(Math.max(1, Math.ceil(timeoutMs / 1000))), ...argv];
      // The host-side deadline is a backstop (and the only one without `timeout` in the image).
      const backstop = AbortSignal.timeout(timeoutMs + (tools.timeout ? 2_000 : 0));
      const combined = signal ? AbortSignal.any([signal, backstop]) : backstop;
      try {
        const r = await engine.exec(id, { cmd: argv, signal: combined });
        const ms = Date.now() - started;
        const killedByTimeout = tools.timeout && (r.exitCode === 137 || r.exitCode === 124) && ms >= timeoutMs * 0.9;
        return toCommandResult(r, ms, killedByTimeout, false);
      } catch (err) {
        const ms = Date.now() - started;
        const cancelled = signal?.aborted === true;
        const timedOut = !cancelled && backstop.aborted;
        return { exitCode: null, signal: null, timedOut, cancelled, output: timedOut || cancelled ? '' : errorMessage(err), ms };
      }
    },
  };
}
