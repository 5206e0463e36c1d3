import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, events, runCli, scope, startCli, waitFor, type CliProcess } from '../helpers.js';

/**
 * `kiboko events` and `kiboko react` against the real engine: a rule on `die` of a labelled
 * container posts to a webhook served by this test — once per event; a react process killed with
 * SIGKILL misses nothing when started again (its cursor → the Engine API's `since`).
 */
const s = scope('react');
const dir = mkdtempSync(join(tmpdir(), 'kiboko-react-'));
const rules = join(dir, 'rules.yaml');
const posts: { text: string; event: { Action: string; Actor: { ID: string; Attributes: Record<string, string> } } }[] = [];
let server: Server;
let url = '';
const procs: CliProcess[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      posts.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  writeFileSync(
    rules,
    `rules:
  - name: victim-died
    on: { type: container, event: die, label: ["kiboko.test=${s.id}", "role=victim"] }
    when: { exitCode: "!=0" }
    actions:
      - notify: { url: "${url}", text: "{{.Actor.Attributes.name}} died with {{.Actor.Attributes.exitCode}}" }
`,
  );
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await s.cleanup();
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const react = () => {
  const p = startCli(['react', rules, '--json'], { stateDir: s.stateDir });
  procs.push(p);
  return p;
};
const killVictim = async (id: string) => {
  const c = docker.getContainer(id);
  if (!(await c.inspect()).State.Running) await c.start();
  await c.kill({ signal: 'SIGKILL' });
  await waitFor(async () => !(await c.inspect()).State.Running, 10_000);
};
/** Waits for `n` posts, then a little longer to be sure no more arrive. */
const exactly = async (n: number) => {
  await waitFor(async () => posts.length >= n, 15_000);
  await new Promise((r) => setTimeout(r, 750));
  expect(posts).toHaveLength(n);
};

describe('kiboko events', () => {
  it('streams engine events with docker filters, as lines or JSON, and ends at --until', async () => {
    const t0 = Math.floor(Date.now() / 1000) - 1;
    const id = await s.create('streamed', { cmd: ['true'], labels: { role: 'streamed' } });
    await waitFor(async () => !(await docker.getContainer(id).inspect()).State.Running, 10_000);
    const until = String(Math.floor(Date.now() / 1000) + 1);
    const filter = ['--filter', 'type=container', '--filter', `label=kiboko.test=${s.id}`, '--filter', 'label=role=streamed', '--since', String(t0), '--until', until];
    const human = await runCli(['events', ...filter]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]{18}Z container start ${id} \\(.*name=kt-${s.id}-streamed.*\\)$`, 'm'));
    const json = await runCli(['events', ...filter, '--filter', 'event=die', '--json']);
    const lines = events(json.stdout) as { Type: string; Action: string; Actor: { ID: string } }[];
    expect(lines.map((l) => [l.Type, l.Action, l.Actor.ID])).toEqual([['container', 'die', id]]);
    expect(json.stdout).toMatch(/"timeNano":\d{19}\}$/m);
    const formatted = await runCli(['events', ...filter, '--format', '{{.Action}} {{index .Actor.Attributes "role"}}']);
    expect(formatted.stdout.trim().split('\n')).toEqual(expect.arrayContaining(['create streamed', 'start streamed', 'die streamed']));
    const bad = await runCli(['events', '--filter', 'colour=red']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown key 'colour'/);
  });
});

describe('kiboko react', () => {
  it('fires once per die of a labelled container, and catches up with what it missed while killed', async () => {
    const victim = await s.create('victim', { labels: { role: 'victim' } });
    const bystander = await s.create('bystander', { labels: { role: 'bystander' } });
    let p = react();
    await p.waitForOutput('"event":"connected"');
    await killVictim(victim);
    await killVictim(bystander);
    await killVictim(victim);
    await exactly(2);
    expect(posts.map((x) => [x.event.Action, x.event.Actor.ID, x.text])).toEqual([
      ['die', victim, `kt-${s.id}-victim died with 137`],
      ['die', victim, `kt-${s.id}-victim died with 137`],
    ]);

    // Killed without a chance to save anything more; the victim dies while nobody listens.
    await waitFor(async () => events(p.stdout()).filter((l) => l.event === 'firing').length === 2, 10_000);
    p.child.kill('SIGKILL');
    await p.done;
    await killVictim(victim);
    p = react();
    await p.waitForOutput('"event":"catch-up"');
    expect(events(p.stdout()).find((l) => l.event === 'catch-up')).toMatchObject({ from: 'cursor', clamped: false });
    await exactly(3);
    expect(posts[2]!.event.Actor.ID).toBe(victim);

    p.child.kill('SIGTERM');
    const done = await p.done;
    expect(done.code).toBe(0);
    expect(events(done.stdout).some((l) => l.event === 'stopped')).toBe(true);
    const log = readFileSync(join(s.stateDir, 'events', readdirSync(join(s.stateDir, 'events')).find((f) => f.endsWith('.firings.ndjson'))!), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { rule: string; outcome: string; event: { key: string } });
    expect(log.map((l) => [l.rule, l.outcome])).toEqual([
      ['victim-died', 'ok'],
      ['victim-died', 'ok'],
      ['victim-died', 'ok'],
    ]);
    expect(new Set(log.map((l) => l.event.key)).size).toBe(3);
  });

  it('refuses a bad rules file with the line of each problem, before starting', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'rules:\n  - name: x\n    on: { event: [die }\n');
    const r = await runCli(['react', bad], { stateDir: s.stateDir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:3/);
    writeFileSync(bad, 'rules:\n  - name: x\n    on: { event: die }\n    actions:\n      - restart: { container: x, colour: red }\n');
    const r2 = await runCli(['react', bad], { stateDir: s.stateDir });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/bad\.yaml:5 rules\[0\]\.actions\[0\]\.restart\.colour: unknown key "colour"/);
  });
});

