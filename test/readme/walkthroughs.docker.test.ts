import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, docker, IMAGE } from '../helpers.js';

/**
 * Walks the README's three walkthroughs command by command on the engine and checks what each
 * command prints against the output the README shows, so the README cannot rot.
 *
 * - The README is parsed, not copied: every `$ command` of a ```console block under the headings
 *   "## 1." … "## 3." runs through bash, in order, in a fresh folder with a fresh HOME (so
 *   `~/.local/state/kiboko` is this test's own state directory) and `kiboko` on the PATH (the built
 *   CLI). A ```yaml block after "Save this as `NAME`:" is written to NAME.
 * - Each of the README's output lines must appear in the command's output (stdout and stderr
 *   together); lines it leaves out are allowed. Both sides are masked the same way: IDs and hashes
 *   (8+ hex digits), IPv4 addresses, times, durations and seeds; `…` in a README line matches anything.
 * - The exit code is 0, or N when the command line ends with `# exit N`.
 * - A command ending in `&` runs in the background until `$ kill %1`; the test goes on once the
 *   lines the README shows for it have appeared.
 * - Shared engine: the README's `demo` names become `kt-<random>-demo…` (and back in the output),
 *   its port 8555 a free port, and `busybox` the locally built test image (no registry here).
 *   Everything is removed afterwards by those names.
 */

const README = resolve(import.meta.dirname, '..', '..', 'README.md');
const id = `kt-${randomBytes(3).toString('hex')}-demo`;
const home = mkdtempSync(join(tmpdir(), 'kiboko-readme-'));
const work = join(home, 'walk');
let port = 0;

type Step =
  | { kind: 'file'; name: string; content: string }
  | { kind: 'cmd'; command: string; expected: string[]; exit: number; background: boolean; line: number };

/** The steps of the section whose heading starts with `## N.`. */
function steps(section: number): Step[] {
  const lines = readFileSync(README, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith(`## ${section}.`));
  if (start < 0) throw new Error(`README has no "## ${section}." section`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  const out: Step[] = [];
  let saveAs: string | undefined;
  for (let i = start + 1; i < (end < 0 ? lines.length : end); i++) {
    const l = lines[i]!;
    const save = /as `([^`]+)`:\s*$/.exec(l);
    if (save) saveAs = save[1];
    const fence = /^```(\w+)/.exec(l);
    if (!fence) continue;
    const body: string[] = [];
    const first = i + 1;
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    if (fence[1] === 'yaml' && saveAs) {
      out.push({ kind: 'file', name: saveAs, content: `${body.join('\n')}\n` });
      saveAs = undefined;
    } else if (fence[1] === 'console') {
      body.forEach((b, k) => {
        if (b.startsWith('$ ')) {
          const exit = /#\s*exit (\d+)\s*$/.exec(b);
          const command = b.slice(2).replace(/\s+#.*$/, '').trim();
          const background = command.endsWith('&');
          out.push({ kind: 'cmd', command: background ? command.slice(0, -1).trim() : command, expected: [], exit: exit ? Number(exit[1]) : 0, background, line: first + k + 1 });
        } else if (b.trim() !== '') {
          const last = out[out.length - 1];
          if (last?.kind !== 'cmd') throw new Error(`README line ${first + k + 1}: output before any command`);
          last.expected.push(b);
        }
      });
    }
  }
  return out;
}

/** README names → this test's names (commands and files); and back (output). */
const toTest = (s: string) => s.replace(/\bdemo\b/g, id).replace(/\bbusybox\b/g, IMAGE).replace(/\b8555\b/g, String(port));
const fromTest = (s: string) => s.split(id).join('demo').split(IMAGE).join('busybox').split(`:${port}`).join(':8555');

/** Masks what differs from run to run, on both sides. */
function mask(line: string): string {
  return line
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?/g, 'TIME')
    .replace(/\b\d\d:\d\d:\d\d(\.\d+)?Z\b/g, 'TIME')
    .replace(/\bseed \d+/g, 'seed N')
    .replace(/\b\d{1,3}(\.\d{1,3}){3}\b/g, 'IP')
    .replace(/\b[0-9a-f]{8,64}\b/g, 'HEX')
    .replace(/\b\d+(\.\d+)?m?s\b/g, 'DURATION')
    .replace(/\s+/g, ' ')
    .trim();
}

const pattern = (expected: string) =>
  new RegExp(`^${mask(expected).split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

/**
 * The README lines missing from the output; [] when each matches a line of its own. Order is not
 * checked: replicas start in parallel, so `web[1]` and `web[2]` lines may come either way.
 */
function missing(expected: string[], output: string): string[] {
  const actual = fromTest(output).split('\n').map(mask);
  const used = new Set<number>();
  return expected.filter((line) => {
    const re = pattern(line);
    const at = actual.findIndex((a, i) => !used.has(i) && re.test(a));
    if (at < 0) return true;
    used.add(at);
    return false;
  });
}

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, HOME: home, PATH: `${join(home, 'bin')}:${process.env.PATH}`, NO_COLOR: '1' };
  delete e.KIBOKO_STATE_DIR; // the README's ~/.local/state/kiboko, under this test's HOME
  return e;
}

function run(command: string): Promise<{ code: number; output: string }> {
  return new Promise((res, rej) => {
    const child = spawn('bash', ['-c', `exec 2>&1; ${command}`], { cwd: work, env: env(), stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('error', rej);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code: code ?? -1, output });
    });
  });
}

const swarmManager = async () => (await docker.info()).Swarm?.LocalNodeState === 'active';

let background: { child: ChildProcess; output: string } | undefined;

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await closed;
}

async function walk(section: number): Promise<void> {
  for (const step of steps(section)) {
    if (step.kind === 'file') {
      writeFileSync(join(work, step.name), toTest(step.content));
      continue;
    }
    const where = `README line ${step.line}: $ ${step.command}`;
    if (step.command === 'kill %1') {
      expect(background, `${where}: nothing runs in the background`).toBeDefined();
      await stop(background!.child, 'SIGTERM');
      background = undefined;
      continue;
    }
    if (step.background) {
      const child = spawn('bash', ['-c', `exec 2>&1; exec ${toTest(step.command)}`], { cwd: work, env: env(), stdio: ['ignore', 'pipe', 'inherit'] });
      const bg = { child, output: '' };
      child.stdout!.on('data', (d: Buffer) => (bg.output += d.toString()));
      background = bg;
      const until = Date.now() + 20_000;
      while (missing(step.expected, bg.output).length && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      expect(missing(step.expected, bg.output), `${where}\n--- its output so far:\n${fromTest(bg.output)}`).toEqual([]);
      continue;
    }
    const r = await run(toTest(step.command));
    const failed = r.code !== step.exit || missing(step.expected, r.output).length > 0;
    // Another developer's Swarm test can make the shared engine a manager mid-run: deploys then go to Swarm.
    const note = failed && (await swarmManager()) ? '\n(the engine is a Swarm manager now: the README walks a single engine)' : '';
    // README_WALK_LOG=FILE keeps what each command printed, to paste real output into the README.
    if (process.env.README_WALK_LOG) appendFileSync(process.env.README_WALK_LOG, `$ ${step.command}\n${fromTest(r.output)}`);
    expect(r.code, `${where}${note}\n--- output:\n${fromTest(r.output)}`).toBe(step.exit);
    expect(missing(step.expected, r.output), `${where}${note}\n--- output:\n${fromTest(r.output)}`).toEqual([]);
  }
}

beforeAll(async () => {
  port = await new Promise<number>((res) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => res(p));
    });
  });
  mkdirSync(join(home, 'bin'), { recursive: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(home, 'bin', 'kiboko'), `#!/bin/sh\nexec node ${JSON.stringify(CLI)} "$@"\n`);
  chmodSync(join(home, 'bin', 'kiboko'), 0o755);
});

afterAll(async () => {
  if (background) await stop(background.child, 'SIGKILL');
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.deploy.project=${id}`] }) });
  const named = await docker.listContainers({ all: true, filters: JSON.stringify({ name: [`^/${id}-app$`] }) });
  await Promise.all([...list, ...named].map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  const networks = await docker.listNetworks({ filters: JSON.stringify({ name: [id] }) });
  await Promise.all(networks.filter((n) => n.Name.startsWith(id)).map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)));
  for (const tag of ['1', '2']) await docker.getImage(`${id}/web:${tag}`).remove().catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
});

describe('the README walkthroughs, run as written', () => {
  it('1. break a container', () => walk(1), 120_000);
  // On a Swarm manager, `kiboko deploy` deploys Swarm services (other output, other names): the
  // README walks a single engine, so these two are skipped while another test holds a Swarm.
  it('2. deploy a two-service stack, update it, roll it back', async (ctx) => {
    ctx.skip(await swarmManager(), 'the shared engine is a Swarm manager (another test); the README walks a single engine');
    await walk(2);
  }, 400_000);
  it('3. start the daemon and open the dashboard', async (ctx) => {
    ctx.skip(await swarmManager(), 'the shared engine is a Swarm manager (another test); the README walks a single engine');
    await walk(3);
  }, 120_000);
});
