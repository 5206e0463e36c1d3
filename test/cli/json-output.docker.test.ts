import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonLineProblems } from '../../src/common/ndjson.js';
import { docker, IMAGE, runCli, scope, TEST_LABEL, TEST_RUN, TEST_RUN_LABEL } from '../helpers.js';

/**
 * `--json` event streams of several commands, each line checked against the one documented shape
 * (docs/json-output.md): `{"level","time","event",…,"msg"}`.
 */
const s = scope('json');
const dir = mkdtempSync(join(tmpdir(), 'kiboko-json-output-'));
const project = `${s.prefix}deploy`.replace(/-+$/, '');

afterAll(async () => {
  await runCli(['deploy', 'down', '-p', project, '--json'], { stateDir: s.stateDir }).catch(() => undefined);
  const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.deploy.project=${project}`] }) });
  await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  await s.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** Every non-empty stdout line, with what is wrong with it. */
function check(stdout: string): { lines: Record<string, unknown>[]; problems: string[] } {
  const raw = stdout.split('\n').filter((l) => l.trim() !== '');
  const problems = raw.flatMap((l) => jsonLineProblems(l).map((p) => `${p}: ${l.slice(0, 200)}`));
  return { lines: problems.length ? [] : raw.map((l) => JSON.parse(l) as Record<string, unknown>), problems };
}

describe('--json output: one NDJSON shape', () => {
  it('chaos kill and a chaos pause dry run', async () => {
    await s.create('a');
    const kill = await runCli(['chaos', 'kill', '--json', `${s.prefix}a`], { stateDir: s.stateDir });
    expect(kill.code, kill.stderr).toBe(0);
    const k = check(kill.stdout);
    expect(k.problems).toEqual([]);
    expect(k.lines.map((l) => l.event)).toEqual(expect.arrayContaining(['run-started', 'targets-selected', 'action-finished', 'run-finished']));

    await s.create('b');
    const pause = await runCli(['chaos', 'pause', '--json', '--dry-run', '--duration', '1s', `${s.prefix}b`], { stateDir: s.stateDir });
    expect(pause.code, pause.stderr).toBe(0);
    const p = check(pause.stdout);
    expect(p.problems).toEqual([]);
    expect(p.lines.length).toBeGreaterThan(1);
  });

  it('a template run (env backend)', async () => {
    const confdir = join(dir, 'confd');
    mkdirSync(join(confdir, 'conf.d'), { recursive: true });
    mkdirSync(join(confdir, 'templates'), { recursive: true });
    const dest = join(dir, 'app.conf');
    writeFileSync(join(confdir, 'conf.d', 'app.toml'), `[template]\nsrc = "app.tmpl"\ndest = ${JSON.stringify(dest)}\nkeys = ["/app"]\n`);
    writeFileSync(join(confdir, 'templates', 'app.tmpl'), 'port={{getv "/app/port"}}\n');
    const r = await runCli(['template', '--onetime', '--backend', 'env', '--confdir', confdir, '--json'], { env: { APP_PORT: '8080' } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(dest, 'utf8')).toBe('port=8080\n');
    const t = check(r.stdout);
    expect(t.problems).toEqual([]);
    expect(t.lines.length).toBeGreaterThan(0);
  });

  it('a deploy apply', async () => {
    const compose = join(dir, 'compose.yaml');
    writeFileSync(
      compose,
      `name: ${project}\nservices:\n  web:\n    image: ${IMAGE}\n    command: ["sleep", "3600"]\n    labels:\n      ${TEST_LABEL}: ${s.id}\n      ${TEST_RUN_LABEL}: ${TEST_RUN}\n`,
    );
    const r = await runCli(['deploy', 'apply', '--json', '-f', compose], { stateDir: s.stateDir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const d = check(r.stdout);
    expect(d.problems).toEqual([]);
    expect(d.lines.map((l) => l.event)).toContain('deploy-finished');
  });

  it('an error', async () => {
    const r = await runCli(['chaos', 'kill', '--json', '--signal', 'SIGNOPE', `${s.prefix}none`], { stateDir: s.stateDir });
    expect(r.code).toBe(2);
    const e = check(r.stdout);
    expect(e.problems).toEqual([]);
    expect(e.lines).toEqual([expect.objectContaining({ level: 'error', event: 'error', error: expect.objectContaining({ code: 'INVALID_ARGUMENT' }) })]);
  });
});
