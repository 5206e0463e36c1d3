import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, docker, scope, startCli, waitFor, type CliProcess } from '../helpers.js';

/**
 * Exactly once across crashes, on the real engine: `kiboko react` is killed with SIGKILL (never
 * dockerd), labelled containers die while it is down, and a loopback webhook receiver counts
 * the POSTs once it is started again. Then `kiboko events --json` against `docker events
 * --format '{{json .}}'` for the same container, and `kiboko events | head -1`.
 */
const s = scope('exactly-once');
const dir = mkdtempSync(join(tmpdir(), 'kiboko-exactly-once-'));
const posts = new Map<string, { event: { Action: string; Actor: { ID: string; Attributes: Record<string, string> } } }[]>();
let server: Server;
let base = '';
const procs: CliProcess[] = [];
const run = promisify(execFile);

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const list = posts.get(req.url ?? '') ?? [];
      list.push(JSON.parse(body));
      posts.set(req.url ?? '', list);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await s.cleanup();
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A rules file of its own (so a cursor of its own) with one rule on this scenario's containers. */
function rulesFor(name: string, extra = ''): { file: string; stateDir: string } {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `rules:
  - name: ${name}
    on: { type: container, event: die, label: ["kiboko.test=${s.id}", "scenario=${name}"] }
${extra}    actions:
      - notify: { url: "${base}/${name}" }
`,
  );
  return { file, stateDir: mkdtempSync(join(dir, `state-${name}-`)) };
}

const react = (r: { file: string; stateDir: string }) => {
  const p = startCli(['react', r.file, '--json'], { stateDir: r.stateDir });
  procs.push(p);
  return p;
};
/** Starts (if needed) and SIGKILLs the container: one death. Returns its FinishedAt (unix ms). */
const death = async (id: string): Promise<number> => {
  const c = docker.getContainer(id);
  if (!(await c.inspect()).State.Running) await c.start();
  await c.kill({ signal: 'SIGKILL' });
  const st = await waitFor(async () => {
    const i = await c.inspect();
    return !i.State.Running && i.State.FinishedAt;
  }, 10_000);
  return Date.parse(st);
};
/** The POSTs of one scenario, once `n` arrived and nothing more came for a while. */
const settled = async (name: string, n: number) => {
  await waitFor(async () => (posts.get(`/${name}`)?.length ?? 0) >= n, 20_000);
  await new Promise((r) => setTimeout(r, 1500));
  return posts.get(`/${name}`) ?? [];
};
const crash = async (p: CliProcess) => {
  p.child.kill('SIGKILL');
  await p.done;
};

// The three scenarios are independent (own containers, rules file, cursor, webhook path): run at once.
describe.concurrent('kiboko react killed with SIGKILL', () => {
  it('two deaths while down → two POSTs', async ({ expect }) => {
    const r = rulesFor('twice');
    const id = await s.create('twice', { labels: { scenario: 'twice' } });
    const p = react(r);
    await p.waitForOutput('"event":"connected"');
    await crash(p);
    await death(id);
    await death(id);
    const again = react(r);
    const got = await settled('twice', 2);
    expect(got).toHaveLength(2);
    expect(got.map((x) => [x.event.Action, x.event.Actor.ID])).toEqual([
      ['die', id],
      ['die', id],
    ]);
    again.child.kill('SIGTERM');
    expect((await again.done).code).toBe(0);
  });

  it('three deaths while down under a debounced rule → the firings the window allows, each firing logged', async ({ expect }) => {
    const windowMs = 5000;
    const r = rulesFor('debounced', '    debounce: 5s\n');
    const id = await s.create('debounced', { labels: { scenario: 'debounced' } });
    const p = react(r);
    await p.waitForOutput('"event":"connected"');
    await crash(p);
    const t1 = await death(id);
    const t2 = await death(id);
    await new Promise((res) => setTimeout(res, Math.max(0, t1 + windowMs + 1000 - Date.now())));
    const t3 = await death(id);
    // What a live run decides: a death fires unless one fired less than the window before it.
    let last = -Infinity;
    const due = [t1, t2, t3].filter((t) => (t - last >= windowMs ? ((last = t), true) : false));
    expect(t2 - t1, 'the second death falls inside the window (else this test proves nothing)').toBeLessThan(windowMs);
    const again = react(r);
    const got = await settled('debounced', due.length);
    expect(got).toHaveLength(due.length);
    expect(due).toHaveLength(2);
    again.child.kill('SIGTERM');
    expect((await again.done).code).toBe(0);
    const logFile = readdirSync(join(r.stateDir, 'events')).find((f) => f.endsWith('.firings.ndjson'))!;
    const outcomes = readFileSync(join(r.stateDir, 'events', logFile), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { outcome: string }).outcome);
    expect(outcomes.sort()).toEqual(['debounced', 'ok', 'ok']);
  });

  it('a crash before the first firing of a new rules file → the death still fires', async ({ expect }) => {
    const r = rulesFor('first');
    const id = await s.create('first', { labels: { scenario: 'first' } });
    const p = react(r);
    await p.waitForOutput('"event":"connected"');
    await crash(p);
    await death(id);
    const again = react(r);
    await again.waitForOutput('"from":"cursor"');
    const got = await settled('first', 1);
    expect(got.map((x) => x.event.Actor.ID)).toEqual([id]);
    again.child.kill('SIGTERM');
    expect((await again.done).code).toBe(0);
  });
});

describe('kiboko events in docker’s shape', () => {
  it('--json prints the same objects as docker events --format {{json .}} for the same container', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    const id = await s.create('shape', { cmd: ['sh', '-c', 'exit 3'], labels: { scenario: 'shape' } });
    await waitFor(async () => !(await docker.getContainer(id).inspect()).State.Running, 10_000);
    const until = String(Math.floor(Date.now() / 1000) + 1);
    const args = ['events', '--since', since, '--until', until, '--filter', `container=${id}`];
    const [ours, theirs] = await Promise.all([startCli([...args, '--json']).done, run('docker', [...args, '--format', '{{json .}}'])]);
    expect(ours.code).toBe(0);
    // timeNano is a JSON number beyond 2^53: compared as its digits.
    const parse = (text: string) =>
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l.replace(/"timeNano":(\d+)/, '"timeNano":"$1"')) as Record<string, unknown>);
    const a = parse(ours.stdout);
    const b = parse(theirs.stdout);
    expect(a.map((e) => e.Action)).toEqual(expect.arrayContaining(['create', 'start', 'die']));
    expect(a).toEqual(b);
    expect(a.map((e) => Object.keys(e))).toEqual(b.map((e) => Object.keys(e)));
  });

  it('kiboko events | head -1 exits 0, with no stack trace', async () => {
    // A real shell pipeline; the arguments reach it as positional parameters, never as shell text.
    const sh = spawn('bash', ['-c', '"$@" | head -1; echo "status=${PIPESTATUS[0]}" >&2', 'pipeline', process.execPath, CLI, 'events', '--filter', `label=kiboko.test=${s.id}`, '--filter', 'label=scenario=piped'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    sh.stdout.on('data', (b: Buffer) => (out += b.toString()));
    sh.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const closed = new Promise<number | null>((res) => sh.on('close', res));
    // Events until the pipeline is done: head takes the first line and exits; kiboko's next write finds the pipe closed.
    let n = 0;
    let done = false;
    void closed.then(() => (done = true));
    while (!done && n < 10) {
      await s.create(`piped-${n++}`, { cmd: ['true'], labels: { scenario: 'piped' } });
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(await closed).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/status=0/);
    expect(err).not.toMatch(/EPIPE|Error|at /);
  });
});
