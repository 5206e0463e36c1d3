// Shared helpers for the bench scripts: build-if-missing, timing a child process, statistics,
// table printing and writing results. Plain Node ESM, no dependencies.
import { randomBytes } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI = join(ROOT, 'dist', 'kiboko.cjs');
export const RESULTS_DIR = join(ROOT, 'bench', 'results');

/** Builds dist/ with `npm run build` when the CLI bundle or the library is missing. */
export async function ensureBuilt() {
  if (existsSync(CLI) && existsSync(join(ROOT, 'dist', 'lib', 'index.js'))) return;
  console.error('dist/ is missing: running `npm run build`…');
  await new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`npm run build failed (${signal ?? `exit ${code}`})`))));
  });
}

/** Live child processes, so a signal handler can end them (by pid) before exiting. */
export const liveChildren = new Set();

/**
 * Runs a program with an argv array (never a shell) and resolves with its wall time in ms,
 * measured from just before spawn until the process has exited and its pipes are closed.
 */
export function timeProcess(file, args, options = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = execFile(file, args, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, ...options }, (err, stdout, stderr) => {
      const ms = performance.now() - t0;
      liveChildren.delete(child);
      if (err) {
        err.message = `${file} ${args.join(' ')} failed: ${err.message}${stderr ? `\n${stderr}` : ''}`;
        err.stdout = stdout;
        err.stderr = stderr;
        return reject(err);
      }
      resolve({ ms, stdout, stderr });
    });
    liveChildren.add(child);
  });
}

export function killLiveChildren() {
  for (const child of liveChildren) {
    try {
      child.kill('SIGTERM');
    } catch {
      // already gone
    }
  }
}

export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  // nearest-rank: the smallest value with at least p% of the samples at or below it
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1];
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export const fmtMs = (ms) => (Number.isFinite(ms) ? ms.toFixed(1) : 'n/a');
export const fmtRatio = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a');

/** Prints rows (arrays of strings) as a left/right aligned text table; first row is the header. */
export function printTable(rows, rightAligned = []) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) =>
    r
      .map((cell, i) => (rightAligned.includes(i) ? String(cell).padStart(widths[i]) : String(cell).padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  console.log(line(rows[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) console.log(line(r));
}

export function writeResult(name, data) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

export function machine() {
  const c = cpus();
  return { node: process.version, platform: `${process.platform}/${process.arch}`, cpus: c.length, cpuModel: c[0]?.model ?? 'unknown' };
}

/** Runs a program and resolves with its stdout (for setup, not timing). */
export function run(file, args) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: ROOT }, (err, stdout, stderr) => (err ? reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

/** A run id unique enough to fence a bench's objects by name and label. */
export const newRunId = () => `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/** The engine's unix socket, from DOCKER_HOST when it names one. */
export const SOCKET = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice('unix://'.length) : '/var/run/docker.sock';

/** A whole-number setting from the environment (BENCH_REPEAT, …), with its fallback. */
export function positiveInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number ≥ 1, got '${raw}'`);
  return n;
}

/** Runs `fn` over `items` with at most `limit` at once; results in input order. */
export async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** The machine's busy share (0..1) over `ms`, from /proc/stat (all CPUs). */
export async function cpuBusy(ms = 1000) {
  const read = () => {
    const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total);
}

/**
 * Waits (up to `maxMs`) until the machine has settled — under `threshold` busy over a whole second —
 * after a set-up that started or removed many containers; resolves with the last busy share seen.
 */
export async function settle({ threshold = 0.25, maxMs = 90_000 } = {}) {
  const until = Date.now() + maxMs;
  let busy = await cpuBusy();
  while (busy >= threshold && Date.now() < until) busy = await cpuBusy();
  return busy;
}
