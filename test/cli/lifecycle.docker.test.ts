import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEAF, docker, events, exists, runCli, scope, startCli, state } from '../helpers.js';

const s = scope('life');
afterAll(() => s.cleanup());

describe('stop, rm, restart, exec (real engine)', () => {
  it('stop --time waits the grace period, then SIGKILLs a container that ignores SIGTERM', async () => {
    const id = await s.create('stop-deaf', { cmd: DEAF });
    const r = await runCli(['chaos', 'stop', '--time', '2', `${s.prefix}stop-deaf`], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    const st = await state(id);
    expect(st.status).toBe('exited');
    expect(st.exitCode).toBe(137);
    expect(r.ms).toBeGreaterThanOrEqual(2000);
    // The engine's own record: it finished at least the grace period after the stop began.
    expect(Date.parse(st.finishedAt) - (Date.now() - r.ms)).toBeGreaterThanOrEqual(1900);
  });

  it('stop lets a container that handles SIGTERM exit on its own, before the grace period', async () => {
    const id = await s.create('stop-trap');
    const r = await runCli(['chaos', 'stop', '-t', '10', `${s.prefix}stop-trap`], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    const st = await state(id);
    expect(st.exitCode).toBe(42);
    expect(r.ms).toBeLessThan(8000);
  });

  it('stop --restart --duration stops, then starts the container again', async () => {
    const id = await s.create('stop-restart');
    const before = await state(id);
    const p = startCli(['chaos', '--json', 'stop', '-t', '1', '--restart', '--duration', '2s', `${s.prefix}stop-restart`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    expect((await state(id)).status).toBe('exited');
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    const after = await state(id);
    expect(after.status).toBe('running');
    expect(after.startedAt).not.toBe(before.startedAt);
  });

  it('rm removes a container; --volumes removes its anonymous volumes too, --volumes=false keeps them', async () => {
    const withVol = await s.create('rm-vol', { volumes: ['/data'] });
    const keepVol = await s.create('rm-keep', { volumes: ['/data'] });
    const volOf = async (id: string) => (await docker.getContainer(id).inspect()).Mounts.find((m) => m.Destination === '/data')!.Name!;
    const v1 = await volOf(withVol);
    const v2 = await volOf(keepVol);
    const a = await runCli(['chaos', 'rm', '--volumes', `${s.prefix}rm-vol`], { stateDir: s.stateDir });
    const b = await runCli(['chaos', 'rm', '--volumes=false', `${s.prefix}rm-keep`], { stateDir: s.stateDir });
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(await exists(withVol)).toBe(false);
    expect(await exists(keepVol)).toBe(false);
    const volumeExists = (name: string) => docker.getVolume(name).inspect().then(() => true, () => false);
    expect(await volumeExists(v1)).toBe(false);
    expect(await volumeExists(v2)).toBe(true);
    await docker.getVolume(v2).remove();
  });

  it('rm also removes stopped containers (Pumba includes them)', async () => {
    const id = await s.create('rm-stopped', { start: false });
    const r = await runCli(['chaos', 'rm', `${s.prefix}rm-stopped`], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    expect(await exists(id)).toBe(false);
  });

  it('restart restarts: a new StartedAt, running again', async () => {
    const id = await s.create('restart');
    const before = await state(id);
    const r = await runCli(['chaos', 'restart', '--timeout', '1s', `${s.prefix}restart`], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    const after = await state(id);
    expect(after.status).toBe('running');
    expect(after.startedAt).not.toBe(before.startedAt);
  });

  it('exec runs the command inside the container', async () => {
    const id = await s.create('exec-ok');
    const r = await runCli(['chaos', 'exec', '--command', 'touch', '--args', '/tmp/kiboko-was-here', `${s.prefix}exec-ok`], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    const check = await docker.getContainer(id).exec({ Cmd: ['test', '-f', '/tmp/kiboko-was-here'], AttachStdout: true });
    const stream = await check.start({});
    await new Promise((res) => stream.on('end', res).resume());
    expect((await check.inspect()).ExitCode).toBe(0);
  });

  it('exec reports a non-zero exit as a failure (exit code 1, outcome failed in the report)', async () => {
    await s.create('exec-fail');
    const dir = mkdtempSync(join(tmpdir(), 'kiboko-report-'));
    const report = join(dir, 'report.json');
    const r = await runCli(['chaos', 'exec', '-s', 'sh', '-a', '-c', '-a', 'echo oops >&2; exit 3', '--report', report, `${s.prefix}exec-fail`], {
      stateDir: s.stateDir,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('exited with 3');
    const json = JSON.parse(readFileSync(report, 'utf8'));
    const action = json.cycles[0].actions[0];
    expect(action.outcome).toBe('failed');
    expect(action.detail.exitCode).toBe(3);
    expect(action.detail.stderr).toContain('oops');
  });

  it('--report records seed, targets and each action with start/end time and outcome', async () => {
    await s.create('rep-a');
    await s.create('rep-b');
    const dir = mkdtempSync(join(tmpdir(), 'kiboko-report-'));
    const report = join(dir, 'r.json');
    const r = await runCli(['chaos', 'kill', '--seed', '99', '--report', report, `re2:^${s.prefix}rep-`], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(report, 'utf8'));
    expect(json.seed).toBe(99);
    expect(json.cycles).toHaveLength(1);
    expect(json.cycles[0].targets.map((t: { name: string }) => t.name).sort()).toEqual([`${s.prefix}rep-a`, `${s.prefix}rep-b`]);
    for (const a of json.cycles[0].actions) {
      expect(a.outcome).toBe('ok');
      expect(Date.parse(a.endedAt)).toBeGreaterThanOrEqual(Date.parse(a.startedAt));
    }
    expect(json.totals).toMatchObject({ actions: 2, ok: 2, failed: 0 });
  });

  it('--dry-run changes nothing', async () => {
    const id = await s.create('dry');
    const before = await state(id);
    for (const args of [
      ['kill', `${s.prefix}dry`],
      ['pause', '-d', '1s', `${s.prefix}dry`],
      ['rm', `${s.prefix}dry`],
      ['stop', '--restart', `${s.prefix}dry`],
    ]) {
      const r = await runCli(['chaos', '--dry-run', '--json', ...args], { stateDir: s.stateDir });
      expect(r.code, r.stderr).toBe(0);
      expect(events(r.stdout).some((e) => e.event === 'action-finished' && (e.result as { outcome: string }).outcome === 'dry-run')).toBe(true);
    }
    const after = await state(id);
    expect(after).toEqual(before);
  });
});
