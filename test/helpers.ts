import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Docker from 'dockerode';

/**
 * Test-side access to the engine. Tests check the engine's state independently of kiboko's
 * engine module, straight through dockerode.
 */
export const docker = new Docker({ socketPath: '/var/run/docker.sock' });
export const IMAGE = 'kiboko/busybox:local';
export const TEST_LABEL = 'kiboko.test';
/** One test run's own containers carry its id, so a run never removes another developer's (the engine is shared). */
export const TEST_RUN_LABEL = 'kiboko.test.run';
export const TEST_RUN = process.env.KIBOKO_TEST_RUN ?? 'none';
export const CLI = resolve(import.meta.dirname, '..', 'dist', 'kiboko.cjs');

/** PID 1 traps SIGTERM and exits 42; sleeps in short steps so the trap runs promptly. */
export const TRAPPING = ['sh', '-c', 'trap "exit 42" TERM; while true; do sleep 0.1; done'];
/** PID 1 with no handler: the kernel drops SIGTERM for it, so only SIGKILL ends it. */
export const DEAF = ['sh', '-c', 'while true; do sleep 0.1; done'];

export interface Scope {
  /** Unique per test file: names start with it, and every container carries it as a label. */
  id: string;
  prefix: string;
  stateDir: string;
  create(name: string, options?: { cmd?: string[]; labels?: Record<string, string>; volumes?: string[]; start?: boolean }): Promise<string>;
  cleanup(): Promise<void>;
}

export function scope(tag: string): Scope {
  const id = `${tag}-${randomBytes(3).toString('hex')}`;
  const stateDir = mkdtempSync(join(tmpdir(), `kiboko-state-${tag}-`));
  return {
    id,
    prefix: `kt-${id}-`,
    stateDir,
    async create(name, options = {}) {
      const c = await docker.createContainer({
        Image: IMAGE,
        name: `kt-${id}-${name}`,
        Cmd: options.cmd ?? TRAPPING,
        Labels: { [TEST_LABEL]: id, [TEST_RUN_LABEL]: TEST_RUN, 'kiboko.managed': 'true', ...(options.labels ?? {}) },
        Volumes: options.volumes ? Object.fromEntries(options.volumes.map((v) => [v, {}])) : undefined,
        HostConfig: { Init: false },
      });
      if (options.start ?? true) await c.start();
      return c.id;
    },
    async cleanup() {
      await removeLabelled(`${TEST_LABEL}=${id}`);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export async function removeLabelled(label: string): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [label] }) });
  await Promise.all(
    list.map(async (c) => {
      const ctr = docker.getContainer(c.Id);
      if (c.State === 'paused') await ctr.unpause().catch(() => undefined);
      await ctr.remove({ force: true, v: true }).catch(() => undefined);
    }),
  );
}

export async function state(id: string) {
  const i = await docker.getContainer(id).inspect();
  return { status: i.State.Status, exitCode: i.State.ExitCode, startedAt: i.State.StartedAt, finishedAt: i.State.FinishedAt, running: i.State.Running, paused: i.State.Paused };
}

export async function exists(id: string): Promise<boolean> {
  try {
    await docker.getContainer(id).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  done: Promise<CliResult>;
  /** Resolves once stdout contains the text (e.g. an event name in --json output). */
  waitForOutput: (text: string | RegExp, timeoutMs?: number) => Promise<void>;
}

/** Starts the real, bundled CLI as a child process. */
export function startCli(args: string[], options: { stateDir?: string; env?: NodeJS.ProcessEnv } = {}): CliProcess {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, CI: 'true', ...(options.stateDir ? { KIBOKO_STATE_DIR: options.stateDir } : {}), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { test: (s: string) => boolean; resolve: () => void }[] = [];
  child.stdout!.on('data', (b: Buffer) => {
    stdout += b.toString();
    for (const w of [...waiters]) if (w.test(stdout)) w.resolve();
  });
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<CliResult>((resolveDone) =>
    child.on('close', (code, signal) => resolveDone({ code, signal, stdout, stderr, ms: Date.now() - started })),
  );
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    waitForOutput: (text, timeoutMs = 30_000) =>
      new Promise<void>((res, rej) => {
        const test = (s: string) => (typeof text === 'string' ? s.includes(text) : text.test(s));
        if (test(stdout)) return res();
        const timer = setTimeout(() => rej(new Error(`timed out waiting for ${String(text)} in output:\n${stdout}\n${stderr}`)), timeoutMs);
        waiters.push({
          test,
          resolve: () => {
            clearTimeout(timer);
            res();
          },
        });
        void done.then(() => {
          if (!test(stdout)) {
            clearTimeout(timer);
            rej(new Error(`CLI exited before printing ${String(text)}:\n${stdout}\n${stderr}`));
          }
        });
      }),
  };
}

export async function runCli(args: string[], options: { stateDir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Parses NDJSON output of `--json` into its event records. */
export function events(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Builds `tag` FROM the local busybox image through the engine (no registry): the Dockerfile's
 * `lines`, then `LABEL <label>` (for cleanup); `files` (path → text, mode 0755) go in the context.
 */
export async function buildFromBusybox(tag: string, lines: readonly string[], label: string, files: Readonly<Record<string, string>> = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kiboko-test-img-'));
  try {
    writeFileSync(join(dir, 'Dockerfile'), [`FROM ${IMAGE}`, ...lines, `LABEL ${label}`, ''].join('\n'));
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), text, { mode: 0o755 });
    }
    const stream = await docker.buildImage({ context: dir, src: ['Dockerfile', ...Object.keys(files)] }, { t: tag, rm: true, forcerm: true });
    const out = await new Promise<{ error?: string }[]>((res, rej) => docker.modem.followProgress(stream, (err, o) => (err ? rej(err) : res(o as { error?: string }[]))));
    const failed = out.find((o) => o.error);
    if (failed) throw new Error(failed.error);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function waitFor<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 15_000, stepMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function journalFiles(stateDir: string): string[] {
  try {
    return readdirSync(join(stateDir, 'journal')).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
}

/** Runs a command inside a container (test-side, through dockerode); returns exit code and output. */
export async function dexec(id: string, cmd: string[]): Promise<{ code: number; out: string; ms: number }> {
  const started = Date.now();
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  let out = '';
  stream.on('data', (b: Buffer) => (out += b.toString('latin1')));
  await new Promise((res) => stream.on('end', res));
  const code = (await exec.inspect()).ExitCode ?? -1;
  return { code, out, ms: Date.now() - started };
}

export async function ipOf(id: string): Promise<string> {
  const settings = (await docker.getContainer(id).inspect()).NetworkSettings as unknown as { IPAddress: string };
  return settings.IPAddress;
}

/** Reads kernel state inside a container's network namespace from the host (root). */
export async function inNetns(id: string, argv: string[]): Promise<string> {
  const pid = (await docker.getContainer(id).inspect()).State.Pid;
  const { execFileSync } = await import('node:child_process');
  return execFileSync('nsenter', ['-t', String(pid), '-n', '--', ...argv], { encoding: 'utf8' });
}

/** iptables-save without its timestamp comments. */
export async function iptablesSave(id: string): Promise<string> {
  return (await inNetns(id, ['iptables-save'])).split('\n').filter((l) => !l.startsWith('#')).join('\n');
}

export async function helperCount(): Promise<number> {
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['kiboko.role=helper'] }) });
  return list.length;
}
