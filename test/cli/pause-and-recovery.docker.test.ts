import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { docker, events, journalFiles, runCli, scope, startCli, state, waitFor } from '../helpers.js';

const s = scope('pause');
afterAll(() => s.cleanup());

describe('pause and restore (real engine)', () => {
  it('is paused during the duration and running after it', async () => {
    const id = await s.create('plain');
    const p = startCli(['chaos', '--json', 'pause', '--duration', '2s', `${s.prefix}plain`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    expect((await state(id)).status).toBe('paused');
    expect(journalFiles(s.stateDir)).toHaveLength(1); // journaled while held
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    expect((await state(id)).status).toBe('running');
    expect(journalFiles(s.stateDir)).toHaveLength(0);
    expect(r.ms).toBeGreaterThanOrEqual(2000);
  });

  it('SIGTERM mid-pause unpauses at once and exits cleanly', async () => {
    const id = await s.create('term');
    const p = startCli(['chaos', '--json', 'pause', '--duration', '60s', `${s.prefix}term`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    expect((await state(id)).status).toBe('paused');
    const sent = Date.now();
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(Date.now() - sent).toBeLessThan(5000);
    expect(r.code, r.stderr).toBe(0);
    expect((await state(id)).status).toBe('running');
    expect(journalFiles(s.stateDir)).toHaveLength(0);
    const finished = events(r.stdout).find((e) => e.event === 'run-finished');
    expect(finished?.interrupted).toBe(true);
  });

  it('SIGKILL mid-pause leaves a journal entry; `kiboko chaos recover` unpauses', async () => {
    const id = await s.create('crash');
    const p = startCli(['chaos', '--json', 'pause', '--duration', '60s', `${s.prefix}crash`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    p.child.kill('SIGKILL');
    await p.done;
    expect((await state(id)).status).toBe('paused'); // nothing could restore it
    const files = journalFiles(s.stateDir);
    expect(files).toHaveLength(1);
    const entry = JSON.parse(readFileSync(join(s.stateDir, 'journal', files[0]!), 'utf8'));
    expect(entry).toMatchObject({ kind: 'pause', target: { id } });

    const r = await runCli(['chaos', 'recover'], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/recovered pause of .*crash.*restored/);
    expect((await state(id)).status).toBe('running');
    expect(journalFiles(s.stateDir)).toHaveLength(0);
  });

  it('the next kiboko run recovers a crashed run’s pause automatically', async () => {
    const id = await s.create('auto');
    const other = await s.create('auto-other');
    const p = startCli(['chaos', '--json', 'pause', '--duration', '60s', `${s.prefix}auto`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    p.child.kill('SIGKILL');
    await p.done;
    expect((await state(id)).status).toBe('paused');
    // Any chaos command (here a dry run on another container) recovers first.
    const r = await runCli(['chaos', '--json', 'kill', '--dry-run', `${s.prefix}auto-other`], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    // A dry run only reports what recovery would do…
    expect(events(r.stdout).some((e) => e.event === 'recovery')).toBe(true);
    expect((await state(id)).status).toBe('paused');
    // …a real run does it.
    const r2 = await runCli(['chaos', 'restart', `${s.prefix}auto-other`], { stateDir: s.stateDir });
    expect(r2.code, r2.stderr).toBe(0);
    expect((await state(id)).status).toBe('running');
    expect((await state(other)).status).toBe('running');
    expect(journalFiles(s.stateDir)).toHaveLength(0);
  });

  it('a live run’s entries are not touched by a concurrent run’s recovery', async () => {
    const id = await s.create('live');
    const p = startCli(['chaos', '--json', 'pause', '--duration', '4s', `${s.prefix}live`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    const r = await runCli(['chaos', 'recover'], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/in progress: pause/);
    expect((await state(id)).status).toBe('paused');
    expect((await p.done).code).toBe(0);
    expect((await state(id)).status).toBe('running');
  });

  it('a target removed mid-pause is an outcome in the report, not a crash', async () => {
    const id = await s.create('vanish');
    const report = join(s.stateDir, 'vanish-report.json');
    const p = startCli(['chaos', '--json', 'pause', '--duration', '3s', '--report', report, `${s.prefix}vanish`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    await docker.getContainer(id).remove({ force: true });
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(report, 'utf8'));
    expect(json.cycles[0].actions[0].outcome).toBe('target-gone');
    expect(journalFiles(s.stateDir)).toHaveLength(0);
  });
});

describe('--interval (real engine)', () => {
  it('repeats every interval (≥ 3 cycles observed in the container) and stops cleanly on SIGTERM', async () => {
    const id = await s.create('tick');
    const p = startCli(
      ['chaos', '--json', '--interval', '1s', 'exec', '-s', 'sh', '-a', '-c', '-a', 'echo tick >> /tmp/ticks', `${s.prefix}tick`],
      { stateDir: s.stateDir },
    );
    await waitFor(async () => (p.stdout().match(/"event":"cycle-finished"/g) ?? []).length >= 3, 15_000);
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    const ev = events(r.stdout);
    const cycles = ev.filter((e) => e.event === 'cycle-finished').length;
    expect(cycles).toBeGreaterThanOrEqual(3);
    expect(ev.find((e) => e.event === 'run-finished')?.interrupted).toBe(true);
    // The engine's side: the command really ran once per cycle.
    const exec = await docker.getContainer(id).exec({ Cmd: ['cat', '/tmp/ticks'], AttachStdout: true });
    const stream = await exec.start({});
    let out = '';
    stream.on('data', (b: Buffer) => (out += b.toString('latin1')));
    await new Promise((res) => stream.on('end', res));
    // Every exec reported ok ran its command once. A SIGTERM that lands during a cycle ends that
    // cycle with its command run or not (it still reports the cycle): between the two counts.
    const ticks = (out.match(/tick/g) ?? []).length;
    const ok = ev.filter((e) => e.event === 'action-finished' && (e.result as { outcome?: string } | undefined)?.outcome === 'ok').length;
    expect(ok).toBeGreaterThanOrEqual(3);
    expect(ticks).toBeGreaterThanOrEqual(ok);
    expect(ticks).toBeLessThanOrEqual(cycles);
  });

  it('pause with --interval: each cycle pauses and restores; SIGTERM mid-cycle leaves it running', async () => {
    const id = await s.create('ipause');
    const p = startCli(['chaos', '--json', '--interval', '1500ms', 'pause', '-d', '500ms', `${s.prefix}ipause`], { stateDir: s.stateDir });
    await waitFor(async () => (p.stdout().match(/"event":"cycle-finished"/g) ?? []).length >= 2, 15_000);
    await p.waitForOutput(/"event":"fault-held"[\s\S]*"event":"fault-held"[\s\S]*"event":"fault-held"/, 15_000);
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    expect((await state(id)).status).toBe('running');
    expect(journalFiles(s.stateDir)).toHaveLength(0);
  });

  it('--duration must be shorter than --interval', async () => {
    const id = await s.create('iv-bad');
    const r = await runCli(['chaos', '--interval', '1s', 'pause', '-d', '2s', `${s.prefix}iv-bad`], { stateDir: s.stateDir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/must be shorter than --interval/);
    expect((await state(id)).status).toBe('running');
  });
});

describe('stop --restart restores too', () => {
  it('SIGTERM during the stopped period starts the container at once', async () => {
    const id = await s.create('sr-term');
    const p = startCli(['chaos', '--json', 'stop', '-t', '1', '--restart', '--duration', '60s', `${s.prefix}sr-term`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    expect((await state(id)).status).toBe('exited');
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    expect((await state(id)).status).toBe('running');
    expect(journalFiles(s.stateDir)).toHaveLength(0);
  });

  it('SIGKILL during the stopped period: `kiboko chaos recover` starts it again', async () => {
    const id = await s.create('sr-kill');
    const p = startCli(['chaos', '--json', 'stop', '-t', '1', '--restart', '--duration', '60s', `${s.prefix}sr-kill`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    p.child.kill('SIGKILL');
    await p.done;
    expect((await state(id)).status).toBe('exited');
    expect(journalFiles(s.stateDir)).toHaveLength(1);
    const r = await runCli(['chaos', 'recover', '--json'], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    expect(events(r.stdout).some((e) => (e.result as { outcome?: string } | undefined)?.outcome === 'restored')).toBe(true);
    expect((await state(id)).status).toBe('running');
    expect(journalFiles(s.stateDir)).toHaveLength(0);
  });
});
