import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { docker, waitFor } from './helpers.js';

/**
 * Stopping and starting this host's dockerd, for the tests that restart it under kiboko. dockerd
 * is started again the way scripts/ensure-docker.sh starts it: the same command line, in the
 * background, its output appended to LOG.
 */
const SOCK = '/var/run/docker.sock';
const LOG = '/var/log/kiboko-dockerd.log';

/** Whether the engine answers `/_ping` on its socket (false on any error or after 2 s). */
export const pingEngine = () =>
  new Promise<boolean>((resolve) => {
    const req = request({ socketPath: SOCK, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });

export function dockerdPid(): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'dockerd') return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** The command line dockerd `pid` runs with, argv[0] its binary whatever PATH this process has. */
export function dockerdArgv(pid: number): string[] {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  argv[0] = readlinkSync(`/proc/${pid}/exe`);
  return argv;
}

/** As scripts/ensure-docker.sh: `nohup dockerd … >log 2>&1 &`, with the command line dockerd had. */
export function startDockerd(argv: string[]): void {
  rmSync('/var/run/docker.pid', { force: true });
  const out = openSync(LOG, 'a');
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  closeSync(out);
}

/** SIGTERM to dockerd `pid`, then waits (up to 60 s) until its socket no longer answers. */
export async function stopDockerd(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  await waitFor(async () => !(await pingEngine()), 60_000, 200);
}

/** Waits until the engine answers `/_ping`. */
export async function waitForEngine(timeoutMs = 60_000): Promise<void> {
  await waitFor(() => pingEngine(), timeoutMs, 250);
}

/** For `finally`: if the engine does not answer, starts dockerd with `argv` (unless one runs) and waits for it. */
export async function ensureDockerdRunning(argv: string[]): Promise<void> {
  if (await pingEngine()) return;
  if (!dockerdPid()) startDockerd(argv);
  await waitForEngine();
}

/** Starts again those of the containers `ids` that are not running (after a dockerd restart). */
export async function startStopped(ids: string[]): Promise<void> {
  for (const id of ids) {
    const st = await docker.getContainer(id).inspect().catch(() => undefined);
    if (st && !st.State.Running) await docker.getContainer(id).start().catch(() => undefined);
  }
}
