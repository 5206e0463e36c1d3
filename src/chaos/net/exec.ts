import { execFile } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { KibokoError } from '../../common/errors.js';
import { LABELS } from '../../common/labels.js';
import type { ContainerRef, Engine } from '../../engine/index.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs tools (tc, iptables, nft, ip) inside one target's network namespace. Commands are argv
 * arrays, never shell strings.
 */
export interface NetnsExec {
  /** How commands reach the namespace: `nsenter` (root, local engine) or `helper` (a container). */
  readonly via: 'nsenter' | 'helper';
  run(argv: readonly string[]): Promise<CommandResult>;
  close(): Promise<void>;
}

/** Runs argv and fails with the tool's own message when it exits non-zero. */
export async function runChecked(exec: NetnsExec, argv: readonly string[]): Promise<string> {
  const r = await exec.run(argv);
  if (r.code !== 0) {
    throw new KibokoError('ACTION_FAILED', `\`${argv.join(' ')}\` failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`, {
      details: { argv: [...argv], ...r },
    });
  }
  return r.stdout;
}

export function execFileResult(file: string, args: readonly string[], timeoutMs = 30_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(file, [...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 127) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err && code === 127 ? err.message : '') });
    });
  });
}

/** The network namespace identity of a process (`net:[4026532…]`), to tell a restarted target. */
export function netnsOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return '';
  }
}

/** nsenter into the target's namespace: needs root and the engine on this host. */
export function nsenterExec(pid: number): NetnsExec {
  return {
    via: 'nsenter',
    run: (argv) => execFileResult('nsenter', ['-t', String(pid), '-n', '--', ...argv]),
    close: async () => undefined,
  };
}

export interface HelperOptions {
  image: string;
  runId: string;
  /** Extra capabilities beyond NET_ADMIN (e.g. NET_RAW for ping-based checks). */
  capAdd?: string[];
}

/**
 * A short-lived helper container that joins the target's network namespace with only NET_ADMIN
 * (Pumba's model). It carries the skip label and kiboko's labels, and is always removed.
 */
export async function helperExec(engine: Engine, target: ContainerRef, options: HelperOptions): Promise<NetnsExec> {
  if (!(await engine.imageExists(options.image))) {
    throw new KibokoError('INVALID_ARGUMENT', `helper image '${options.image}' is not on the engine`, {
      hint: 'build it with `bash images/nettools/build-local.sh` (no registry needed), or pass --tc-image with an image that has tc and iptables',
    });
  }
  const ref = await engine.create({
    image: options.image,
    name: `kiboko-helper-${target.name}-${options.runId.slice(0, 8)}-${Math.random().toString(16).slice(2, 6)}`,
    entrypoint: ['sleep'],
    cmd: ['2147483647'],
    stopSignal: 'SIGKILL',
    networkMode: `container:${target.id}`,
    capAdd: ['NET_ADMIN', ...(options.capAdd ?? [])],
    labels: { [LABELS.skip]: 'true', [LABELS.managed]: 'true', [LABELS.role]: 'helper', [LABELS.runId]: options.runId },
  });
  try {
    await engine.start(ref.id);
  } catch (err) {
    await engine.remove(ref.id, { force: true }).catch(() => undefined);
    throw err;
  }
  return {
    via: 'helper',
    run: async (argv) => {
      const r = await engine.exec(ref.id, { cmd: argv });
      return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
    },
    close: async () => {
      await engine.remove(ref.id, { force: true }).catch(() => undefined);
    },
  };
}

/** Removes a helper container a journal entry names: true when it was there, false when it was gone already. */
export async function removeHelper(engine: Engine, id: string): Promise<boolean> {
  try {
    await engine.remove(id, { force: true });
    return true;
  } catch (err) {
    if (err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND') return false;
    throw err;
  }
}

/** Removes helper containers a crashed run left behind (found by kiboko's labels). */
export async function removeStaleHelpers(engine: Engine, isLiveRun: (runId: string) => boolean, minAgeSeconds = 120): Promise<number> {
  // Both lists asked together (every chaos run starts with this sweep: one engine round trip, not
  // two); a failure is the first list's, in order, as when they were asked one after the other.
  const lists = await Promise.allSettled(
    ['helper', 'stress'].map((role) => engine.list({ all: true, labels: [`${LABELS.role}=${role}`, `${LABELS.managed}=true`] })),
  );
  const helpers = lists.flatMap((l) => {
    if (l.status === 'rejected') throw l.reason;
    return l.value;
  });
  let removed = 0;
  const now = Date.now() / 1000;
  for (const h of helpers) {
    // Young helpers may belong to a run that is still applying its fault.
    if (isLiveRun(h.labels[LABELS.runId] ?? '') || now - h.created < minAgeSeconds) continue;
    await engine.remove(h.id, { force: true }).catch(() => undefined);
    removed++;
  }
  return removed;
}
