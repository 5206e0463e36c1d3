import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { KibokoError } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import type { ContainerRef, Engine } from '../engine/index.js';
import { isAlive, processStartTime, type JournalEntry, type ProcessIdentity } from '../journal/index.js';
import type { ApplyContext } from './types.js';
import { removeHelper } from './net/exec.js';
import { holdUntil } from './wait.js';
import { JOURNAL_KINDS } from './journal-kinds.js';
import type { LifecycleAction } from './types.js';

export const STRESS_JOURNAL_KIND = JOURNAL_KINDS.stress;
type StressAction = Extract<LifecycleAction, { kind: 'stress' }>;

export type StressEntryData =
  | { via: 'host'; process: ProcessIdentity }
  | { via: 'helper'; helperId: string };

export interface CgroupMount {
  path: string;
  /** 'cgroup2' for the unified hierarchy, else the v1 controllers/name options of the mount. */
  kind: 'cgroup2' | string[];
}

/** cgroup mounts from a mounts table (`/proc/self/mounts` format). */
export function parseCgroupMounts(mounts: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mounts.split('\n')) {
    const [, path, fstype, options] = line.split(' ');
    if (!path) continue;
    if (fstype === 'cgroup2') out.push({ path, kind: 'cgroup2' });
    else if (fstype === 'cgroup') out.push({ path, kind: (options ?? '').split(',') });
  }
  return out;
}

/**
 * The cgroup.procs files of every hierarchy a process belongs to, found through the mount table
 * so cgroup v1, v2 and hybrid layouts (v2 under /sys/fs/cgroup/unified) all work.
 */
export function cgroupProcsFiles(pid: number, read: (p: string) => string = (p) => readFileSync(p, 'utf8')): string[] {
  const mounts = parseCgroupMounts(read('/proc/self/mounts'));
  const files: string[] = [];
  for (const line of read(`/proc/${pid}/cgroup`).split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, , controllers, path] = m;
    const mount =
      controllers === ''
        ? mounts.find((x) => x.kind === 'cgroup2')
        : mounts.find((x) => x.kind !== 'cgroup2' && controllers!.split(',').every((c) => (x.kind as string[]).includes(c)));
    if (mount) files.push(`${mount.path}${path === '/' ? '' : path}/cgroup.procs`);
  }
  return files;
}

/**
 * The cgroup parent for a --stress-image helper. cgroupfs: the target's own cgroup
 * (`/docker/<id>`), so the helper is nested and the target's limits apply. systemd driver: the
 * engine only accepts a slice, so the target's slice (the helper becomes a sibling; `kiboko
 * doctor` warns that the target's limits then do not apply).
 */
export function cgroupParentOf(pid: number, targetId: string, read: (p: string) => string = (p) => readFileSync(p, 'utf8')): string {
  let path: string | undefined;
  try {
    for (const line of read(`/proc/${pid}/cgroup`).split('\n')) {
      const m = /^\d+:(?:cpu,cpuacct|cpuacct,cpu|cpu|):(\/.+)$/.exec(line.trim());
      if (m) {
        path = m[1]!;
        break;
      }
    }
  } catch {
    // not on the engine's host
  }
  if (!path) return `/docker/${targetId}`;
  if (path.endsWith('.scope')) {
    const slice = path.split('/').filter(Boolean).reverse().find((p) => p.endsWith('.slice'));
    return slice ?? 'system.slice';
  }
  return path;
}

function withTimeout(stressors: readonly string[], durationMs: number): string[] {
  const args = [...stressors];
  // stress-ng's own --timeout is the dead-man's switch if kiboko dies.
  if (!args.some((a) => a === '--timeout' || a === '-t' || a.startsWith('--timeout='))) args.push('--timeout', `${Math.ceil(durationMs / 1000)}s`);
  return args;
}

const root = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Runs stress-ng inside the target's cgroup for the duration, so the target's own limits apply
 * and the engine's stats show the load: on the host (root beside a local engine, stress-ng
 * installed), or in a helper container nested under the target's cgroup (--stress-image).
 */
export async function holdStress(target: ContainerRef, action: StressAction, ctx: ApplyContext): Promise<Record<string, unknown>> {
  const { engine, journal, clock } = ctx;
  const details = await engine.inspect(target.id);
  if (details.pid <= 0) throw new KibokoError('CONFLICT', `${target.name} is not running`);
  const args = withTimeout(action.stressors, action.durationMs);
  const deadline = clock.now() + action.durationMs;
  const record = (data: StressEntryData) =>
    journal.record<Record<string, unknown>>({ runId: ctx.runId, kind: STRESS_JOURNAL_KIND, target, deadline: new Date(deadline).toISOString(), data: data as unknown as Record<string, unknown> });

  if (action.image) {
    if (action.pullImage) await (await import('../registry/index.js')).pullImage(engine, action.image);
    const ref = await engine.create({
      image: action.image,
      name: `kiboko-stress-${target.name}-${ctx.runId.slice(0, 8)}`,
      cmd: args,
      cgroupParent: cgroupParentOf(details.pid, details.id),
      stopSignal: 'SIGKILL',
      labels: { [LABELS.skip]: 'true', [LABELS.managed]: 'true', [LABELS.role]: 'stress', [LABELS.runId]: ctx.runId },
    });
    const entry = await record({ via: 'helper', helperId: ref.id });
    try {
      await engine.start(ref.id);
      ctx.emit({ type: 'fault-held', at: new Date(clock.now()).toISOString(), cycle: ctx.cycle, target, action: 'stress', untilMs: deadline });
      const interrupted = await holdUntil(clock, deadline, ctx.signal, engine.wait(ref.id));
      const exit = (await engine.inspect(ref.id)).exitCode;
      const logs = await engine.logs(ref.id).catch(() => '');
      if (!interrupted && exit !== 0 && clock.now() < deadline - 500) {
        throw new KibokoError('ACTION_FAILED', `stress-ng exited early with ${exit}: ${logs.trim().split('\n').slice(-3).join(' | ')}`);
      }
      return { via: 'helper', interrupted, restore: 'restored', exitCode: exit };
    } finally {
      await engine.remove(ref.id, { force: true }).catch(() => undefined);
      await journal.close(entry, 'stopped');
    }
  }

  if (!root() || !engine.endpoint.startsWith('unix://')) {
    throw new KibokoError('INVALID_ARGUMENT', 'stress needs kiboko running as root beside a local engine, or --stress-image with stress-ng in it', {
      hint: 'run as root on the engine host (with stress-ng installed: apt-get install stress-ng), or pass --stress-image IMAGE',
    });
  }
  const files = cgroupProcsFiles(details.pid);
  // A constant shell snippet: wait for the go-ahead, then exec the argv given after it. Nothing
  // from the user is ever part of the script text.
  const child: ChildProcess = spawn('/bin/sh', ['-c', 'read _go && exec "$@"', 'kiboko-stress', 'stress-ng', ...args], {
    stdio: ['pipe', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const spawnError = new Promise<never>((_, reject) =>
    child.on('error', (err) => reject(new KibokoError('ACTION_FAILED', `cannot start stress-ng: ${err.message}`, { hint: 'install it: apt-get install stress-ng' }))),
  );
  const pid = child.pid!;
  const entry = await record({ via: 'host', process: { pid, startTime: processStartTime(pid), host: hostname() } });
  try {
    for (const f of files) {
      try {
        writeFileSync(f, String(pid));
      } catch (err) {
        throw new KibokoError('ACTION_FAILED', `cannot place stress-ng in ${target.name}'s cgroup (${f}): ${(err as Error).message}`);
      }
    }
    child.stdin!.end('\n');
    ctx.emit({ type: 'fault-held', at: new Date(clock.now()).toISOString(), cycle: ctx.cycle, target, action: 'stress', untilMs: deadline });
    const interrupted = await holdUntil(clock, deadline, ctx.signal, Promise.race([exited, spawnError]));
    const code = child.exitCode ?? (await stopGroup(pid, exited));
    if (!interrupted && code !== 0 && code !== null && clock.now() < deadline - 500) {
      throw new KibokoError('ACTION_FAILED', `stress-ng exited early with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`, {
        hint: stderr.includes('not found') ? 'install stress-ng: apt-get install stress-ng' : 'check the --stressors arguments (stress-ng --help)',
      });
    }
    return { via: 'host', interrupted, restore: 'restored', cgroups: files.length };
  } finally {
    if (child.exitCode === null) await stopGroup(pid, exited);
    await journal.close(entry, 'stopped');
  }
}

/** SIGTERM to the whole process group, then SIGKILL after 3 s. */
async function stopGroup(pid: number, exited: Promise<number | null>): Promise<number | null> {
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  kill('SIGTERM');
  const timer = setTimeout(() => kill('SIGKILL'), 3000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** Recovery: stop a stressor whose kiboko process died. */
export async function undoStressEntry(engine: Engine, entry: JournalEntry): Promise<'restored' | 'already-restored'> {
  const data = entry.data as unknown as StressEntryData;
  if (data.via === 'helper') return (await removeHelper(engine, data.helperId)) ? 'restored' : 'already-restored';
  if (!isAlive(data.process)) return 'already-restored';
  try {
    process.kill(-data.process.pid, 'SIGKILL');
  } catch {
    return 'already-restored';
  }
  return 'restored';
}
