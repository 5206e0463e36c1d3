import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../common/clock.js';
import { KibokoError } from '../common/errors.js';
import { FakeEngine } from '../engine/index.js';
import { Journal, type JournalEntry } from '../journal/index.js';
import { parseTargetArgs } from '../targets/index.js';
import { JOURNAL_KINDS, recoverOrphans } from './restore.js';
import { cycleSeed, runExperiment, validateExperiment, type ExperimentOptions } from './run.js';
import type { ChaosEvent, LifecycleAction } from './types.js';

function abortError(): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

/**
 * A clock that never really sleeps: each sleep advances virtual time at once, after an optional
 * hook runs (which may itself wait, e.g. until the signal fires).
 */
class FakeClock implements Clock {
  t = Date.parse('2024-05-01T12:00:00Z');
  readonly sleeps: number[] = [];
  onSleep: ((ms: number, signal: AbortSignal | undefined) => unknown) | undefined;

  now(): number {
    return this.t;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortError();
    this.sleeps.push(ms);
    await this.onSleep?.(ms, signal);
    if (signal?.aborted) throw abortError();
    this.t += ms;
  }
}

/** A sleep hook that waits until the signal fires, like a real held fault would. */
const untilAborted = (_ms: number, signal: AbortSignal | undefined) =>
  new Promise<void>((_resolve, reject) => {
    if (signal?.aborted) reject(abortError());
    signal?.addEventListener('abort', () => reject(abortError()), { once: true });
  });

const MUTATING = new Set(['create', 'start', 'stop', 'kill', 'pause', 'unpause', 'restart', 'remove', 'exec']);

let stateDir: string;
let engine: FakeEngine;
let journal: Journal;
let clock: FakeClock;
let events: ChaosEvent[];

beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'kiboko-run-'));
  engine = new FakeEngine();
  journal = new Journal(stateDir);
  clock = new FakeClock();
  events = [];
});
afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

const deps = (extra: { signal?: AbortSignal } = {}) => ({ engine, journal, clock, onEvent: (e: ChaosEvent) => events.push(e), ...extra });
const opts = (action: LifecycleAction, args: string[], extra: Partial<ExperimentOptions> = {}): ExperimentOptions => ({
  action,
  targets: parseTargetArgs(args),
  seed: 1234,
  ...extra,
});
const statusOf = async (name: string) => (await engine.inspect(name)).status;
const history = () => {
  const file = join(stateDir, 'history.ndjson');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
};
const ops = () => engine.calls.map((c) => c.op);

let exitedPid: number | undefined;
/** The pid of a process that has exited (spawned once per file: each spawn costs ~50 ms). */
function deadPid(): number {
  exitedPid ??= spawnSync(process.execPath, ['-e', '']).pid!;
  return exitedPid;
}

function writeOrphan(target: { id: string; name: string }, kind: string, startedAt: string): JournalEntry {
  const entry: JournalEntry = {
    id: `orphan-${target.name}`,
    runId: 'dead-run',
    kind,
    target,
    owner: { pid: deadPid(), startTime: '1', host: hostname() },
    createdAt: new Date(0).toISOString(),
    deadline: new Date(10_000).toISOString(),
    data: { startedAt },
  };
  mkdirSync(journal.dir, { recursive: true });
  writeFileSync(join(journal.dir, `${entry.id}.json`), JSON.stringify(entry));
  return entry;
}

describe('runExperiment', () => {
  it('a network fault whose targets match nothing says no containers and ends well, before any kernel probe or helper pull (as Pumba)', async () => {
    engine.add({ name: 'db' });
    const netem: LifecycleAction = {
      kind: 'netem',
      durationMs: 5000,
      iface: 'eth0',
      effects: { delay: { timeMs: 100, jitterMs: 0, correlation: 0, distribution: undefined } },
      scope: { targets: [], egressPorts: [], ingressPorts: [] },
      helperImage: 'kiboko/nettools:local',
      pullImage: true,
    };
    const report = await runExperiment(opts(netem, ['re2:^nothing-here']), deps());
    expect(report.cycles[0]!.targets).toEqual([]);
    expect(report.cycles[0]!.error).toBeUndefined();
    expect(events.some((e) => e.type === 'no-targets')).toBe(true);
    // Only the container listing happened: no image pull, no probe container, no exec.
    expect([...new Set(engine.calls.map((c) => c.op))]).toEqual(['list']);
  });

  it('kill selects by regex and kills with the signal', async () => {
    engine.add({ name: 'web-1' });
    engine.add({ name: 'web-2' });
    engine.add({ name: 'db' });
    const report = await runExperiment(opts({ kind: 'kill', signal: 'SIGTERM' }, ['re2:^web-']), deps());
    expect(await statusOf('web-1')).toBe('exited');
    expect(await statusOf('web-2')).toBe('exited');
    expect(await statusOf('db')).toBe('running');
    expect((await engine.inspect('web-1')).exitCode).toBe(128 + 15);
    expect(engine.calls.filter((c) => c.op === 'kill').map((c) => c.args)).toEqual(['SIGTERM', 'SIGTERM']);
    expect(report.cycles).toHaveLength(1);
    expect(report.cycles[0]!.targets.map((t) => t.name)).toEqual(['web-1', 'web-2']);
    expect(report.cycles[0]!.actions.map((a) => a.outcome)).toEqual(['ok', 'ok']);
    expect(report.totals).toEqual({ actions: 2, ok: 2, failed: 0, targetGone: 0, restoreFailed: 0 });
    expect(report.interrupted).toBe(false);
    expect(report.seed).toBe(1234);
    expect(events[0]!.type).toBe('run-started');
    expect(events.at(-1)!.type).toBe('run-finished');
  });

  it('dry-run selects but changes nothing', async () => {
    engine.add({ name: 'web-1' });
    engine.add({ name: 'web-2' });
    for (const action of [
      { kind: 'kill', signal: 'SIGKILL' },
      { kind: 'pause', durationMs: 5000 },
      { kind: 'rm', force: true, links: false, volumes: true },
      { kind: 'stop', timeSeconds: 5, restart: { durationMs: 1000 } },
      { kind: 'exec', command: ['kill', '1'] },
    ] satisfies LifecycleAction[]) {
      const report = await runExperiment(opts(action, ['re2:web'], { dryRun: true }), deps());
      expect(report.dryRun).toBe(true);
      expect(report.cycles[0]!.actions.map((a) => a.outcome)).toEqual(['dry-run', 'dry-run']);
    }
    expect(ops().filter((op) => MUTATING.has(op))).toEqual([]);
    expect(await statusOf('web-1')).toBe('running');
    expect(await statusOf('web-2')).toBe('running');
    expect((await journal.list()).entries).toEqual([]);
    expect(clock.sleeps).toEqual([]);
  });

  it('pause pauses, holds for the duration, unpauses and closes its journal entry', async () => {
    const web = engine.add({ name: 'web' });
    let duringHold: { status: string; entries: JournalEntry[] } | undefined;
    clock.onSleep = async () => {
      duringHold = { status: await statusOf('web'), entries: (await journal.list()).entries };
    };
    const start = clock.now();
    const report = await runExperiment(opts({ kind: 'pause', durationMs: 5000 }, ['web']), deps());
    expect(duringHold?.status).toBe('paused');
    expect(duringHold?.entries.map((e) => [e.kind, e.target.id])).toEqual([[JOURNAL_KINDS.pause, web.id]]);
    expect(clock.sleeps).toEqual([5000]);
    expect(clock.now() - start).toBe(5000);
    expect(await statusOf('web')).toBe('running');
    expect(ops().filter((op) => MUTATING.has(op))).toEqual(['pause', 'unpause']);
    expect((await journal.list()).entries).toEqual([]);
    expect(history()).toMatchObject([{ kind: 'pause', outcome: 'restored', by: 'owner', target: { id: web.id, name: 'web' } }]);
    const action = report.cycles[0]!.actions[0]!;
    expect(action.outcome).toBe('ok');
    expect(action.detail).toMatchObject({ heldMs: 5000, interrupted: false, restore: 'restored' });
    expect(events.some((e) => e.type === 'fault-held')).toBe(true);
  });

  it('an abort while the pause is being applied ends the hold at once (no wait for the duration)', async () => {
    engine.add({ name: 'web' });
    const controller = new AbortController();
    // The stop request lands while the engine's pause call is in flight, before the hold starts.
    const racing = Object.assign(Object.create(engine) as typeof engine, {
      pause: async (id: string) => {
        controller.abort(new Error('DELETE'));
        return engine.pause(id);
      },
    });
    const report = await runExperiment(opts({ kind: 'pause', durationMs: 300_000 }, ['web'], { intervalMs: 600_000 }), { ...deps({ signal: controller.signal }), engine: racing });
    expect(clock.sleeps).toEqual([]);
    expect(await statusOf('web')).toBe('running');
    expect((await journal.list()).entries).toEqual([]);
    expect(report.interrupted).toBe(true);
    expect(report.cycles[0]!.actions[0]).toMatchObject({ outcome: 'ok', detail: { interrupted: true, restore: 'restored' } });
  });

  it('an abort during the held pause restores at once and leaves the journal empty', async () => {
    engine.add({ name: 'web' });
    const controller = new AbortController();
    let held!: () => void;
    const isHeld = new Promise<void>((resolve) => (held = resolve));
    clock.onSleep = (ms, signal) => {
      held();
      return untilAborted(ms, signal);
    };
    const run = runExperiment(opts({ kind: 'pause', durationMs: 60_000 }, ['web'], { intervalMs: 120_000 }), deps({ signal: controller.signal }));
    await isHeld;
    expect(await statusOf('web')).toBe('paused');
    expect((await journal.list()).entries).toHaveLength(1);
    controller.abort(new Error('SIGINT'));
    const report = await run;
    expect(await statusOf('web')).toBe('running');
    expect((await journal.list()).entries).toEqual([]);
    expect(history()).toMatchObject([{ outcome: 'restored' }]);
    expect(report.interrupted).toBe(true);
    expect(report.cycles).toHaveLength(1);
    const action = report.cycles[0]!.actions[0]!;
    expect(action.outcome).toBe('ok');
    expect(action.detail).toMatchObject({ interrupted: true, restore: 'restored' });
    expect(action.detail!.heldMs as number).toBeLessThan(60_000);
    expect(clock.sleeps).toEqual([60_000]); // no interval wait after the abort
    expect(events.at(-1)).toMatchObject({ type: 'run-finished', interrupted: true });
  });

  it('a target that vanishes mid-pause is reported target-gone, not thrown', async () => {
    const web = engine.add({ name: 'web' });
    clock.onSleep = () => engine.vanish(web.id);
    const report = await runExperiment(opts({ kind: 'pause', durationMs: 1000 }, ['web']), deps());
    const action = report.cycles[0]!.actions[0]!;
    expect(action.outcome).toBe('target-gone');
    expect(action.detail).toMatchObject({ restore: 'target-gone' });
    expect(report.totals.targetGone).toBe(1);
    expect(report.totals.failed).toBe(0);
    expect((await journal.list()).entries).toEqual([]);
    expect(history()).toMatchObject([{ outcome: 'target-gone' }]);
  });

  it('a target unpaused by someone else during the hold is already-restored', async () => {
    const web = engine.add({ name: 'web' });
    clock.onSleep = () => engine.unpause(web.id);
    const report = await runExperiment(opts({ kind: 'pause', durationMs: 1000 }, ['web']), deps());
    expect(report.cycles[0]!.actions[0]).toMatchObject({ outcome: 'ok', detail: { restore: 'already-restored' } });
    expect((await journal.list()).entries).toEqual([]);
  });

  it('a failed restore keeps the journal entry and counts as restoreFailed', async () => {
    const web = engine.add({ name: 'web' });
    engine.failWith = (op) => (op === 'unpause' ? new KibokoError('ENGINE_ERROR', 'engine hiccup') : undefined);
    const report = await runExperiment(opts({ kind: 'pause', durationMs: 1000 }, ['web']), deps());
    expect(report.cycles[0]!.actions[0]!.outcome).toBe('failed');
    expect(report.totals.restoreFailed).toBe(1);
    expect(await statusOf('web')).toBe('paused');
    const { entries } = await journal.list();
    expect(entries.map((e) => e.target.id)).toEqual([web.id]);
  });

  it('exec with a non-zero exit is failed, with the exit code in the detail', async () => {
    engine.add({ name: 'web' });
    const seen: string[][] = [];
    engine.execHandler = (_id, cmd) => {
      seen.push([...cmd]);
      return { exitCode: 3, stdout: 'out', stderr: 'no such process' };
    };
    const report = await runExperiment(opts({ kind: 'exec', command: ['kill', '1'] }, ['web'], { intervalMs: 10_000, maxCycles: 5 }), deps());
    expect(seen).toEqual([['kill', '1']]);
    const action = report.cycles[0]!.actions[0]!;
    expect(action.outcome).toBe('failed');
    expect(action.detail).toMatchObject({ exitCode: 3, stderr: 'no such process' });
    expect(action.error?.code).toBe('ACTION_FAILED');
    expect(action.error?.message).toContain('exited with 3');
    expect(report.totals.failed).toBe(1);
    // a failure stops the run unless --skip-error
    expect(report.cycles).toHaveLength(1);
  });

  it('--skip-error keeps going after a failed cycle', async () => {
    engine.add({ name: 'web' });
    engine.execHandler = () => ({ exitCode: 1, stdout: '', stderr: '' });
    const report = await runExperiment(opts({ kind: 'exec', command: ['false'] }, ['web'], { intervalMs: 10_000, maxCycles: 3, skipError: true }), deps());
    expect(report.cycles).toHaveLength(3);
    expect(report.totals.failed).toBe(3);
  });

  it('interval with maxCycles 3 runs 3 cycles, one interval apart, with per-cycle seeds', async () => {
    engine.add({ name: 'web' });
    let execs = 0;
    engine.execHandler = () => {
      execs++;
      return { exitCode: 0, stdout: '', stderr: '' };
    };
    const start = clock.now();
    const report = await runExperiment(opts({ kind: 'exec', command: ['true'] }, ['web'], { intervalMs: 10_000, maxCycles: 3 }), deps());
    expect(report.cycles.map((c) => c.cycle)).toEqual([1, 2, 3]);
    expect(execs).toBe(3);
    expect(clock.sleeps).toEqual([10_000, 10_000]);
    expect(report.cycles.map((c) => Date.parse(c.startedAt) - start)).toEqual([0, 10_000, 20_000]);
    expect(report.cycles.map((c) => c.seed)).toEqual([1, 2, 3].map((n) => cycleSeed(1234, n)));
    expect(events.filter((e) => e.type === 'waiting')).toHaveLength(2);
    expect(report.interrupted).toBe(false);
  });

  it('an abort during the interval wait ends the run', async () => {
    engine.add({ name: 'web' });
    const controller = new AbortController();
    clock.onSleep = () => {
      if (clock.sleeps.length === 2) controller.abort();
    };
    const report = await runExperiment(opts({ kind: 'exec', command: ['true'] }, ['web'], { intervalMs: 10_000 }), deps({ signal: controller.signal }));
    expect(report.cycles).toHaveLength(2);
    expect(report.interrupted).toBe(true);
  });

  it('does nothing when already cancelled', async () => {
    engine.add({ name: 'web' });
    const controller = new AbortController();
    controller.abort();
    const report = await runExperiment(opts({ kind: 'kill', signal: 'SIGKILL' }, ['web']), deps({ signal: controller.signal }));
    expect(report.cycles).toEqual([]);
    expect(report.interrupted).toBe(true);
    expect(await statusOf('web')).toBe('running');
  });

  it('stop --restart stops, holds, starts again', async () => {
    engine.add({ name: 'web' });
    let during: string | undefined;
    clock.onSleep = async () => {
      during = await statusOf('web');
    };
    const report = await runExperiment(opts({ kind: 'stop', timeSeconds: 3, restart: { durationMs: 2000 } }, ['web']), deps());
    expect(during).toBe('exited');
    expect(await statusOf('web')).toBe('running');
    expect(engine.calls.filter((c) => MUTATING.has(c.op)).map((c) => [c.op, c.args])).toEqual([
      ['stop', 3],
      ['start', undefined],
    ]);
    expect(report.cycles[0]!.actions[0]).toMatchObject({ outcome: 'ok', detail: { restore: 'restored' } });
    expect(history()).toMatchObject([{ kind: JOURNAL_KINDS.stopRestart, outcome: 'restored' }]);
  });

  it("stop honours Pumba's stop-signal label", async () => {
    engine.add({ name: 'web', labels: { 'com.gaiaadm.pumba.stop-signal': 'SIGUSR1' } });
    const report = await runExperiment(opts({ kind: 'stop', timeSeconds: 5 }, ['web']), deps());
    expect(engine.calls.filter((c) => MUTATING.has(c.op)).map((c) => [c.op, c.args])).toEqual([['kill', 'SIGUSR1']]);
    expect(await statusOf('web')).toBe('exited');
    expect(report.cycles[0]!.actions[0]).toMatchObject({ outcome: 'ok', detail: { signal: 'SIGUSR1', escalated: false } });
  });

  it('rm removes stopped containers too, with the given options', async () => {
    engine.add({ name: 'old', status: 'exited' });
    engine.add({ name: 'live' });
    const report = await runExperiment(opts({ kind: 'rm', force: true, links: false, volumes: true }, ['re2:.']), deps());
    expect(report.cycles[0]!.actions.map((a) => [a.target.name, a.outcome])).toEqual([
      ['live', 'ok'],
      ['old', 'ok'],
    ]);
    expect(await engine.list({ all: true })).toEqual([]);
    expect(engine.calls.find((c) => c.op === 'remove')?.args).toEqual({ force: true, links: false, volumes: true });
  });

  it('reports unmatched names and skipped containers', async () => {
    engine.add({ name: 'web' });
    engine.add({ name: 'guarded', labels: { 'kiboko.skip': 'true' } });
    const report = await runExperiment(opts({ kind: 'kill', signal: 'SIGKILL' }, ['web', 'guarded', 'ghost']), deps());
    expect(report.cycles[0]!.targets.map((t) => t.name)).toEqual(['web']);
    expect(report.cycles[0]!.skipped).toMatchObject([{ name: 'guarded', reason: 'skip-label' }]);
    expect(report.cycles[0]!.unmatched).toEqual(['ghost']);
    expect(await statusOf('guarded')).toBe('running');
  });

  it('rejects a duration not shorter than the interval, before touching anything', async () => {
    engine.add({ name: 'web' });
    for (const action of [
      { kind: 'pause', durationMs: 10_000 },
      { kind: 'pause', durationMs: 20_000 },
      { kind: 'stop', timeSeconds: 5, restart: { durationMs: 10_000 } },
    ] satisfies LifecycleAction[]) {
      const err = await runExperiment(opts(action, ['web'], { intervalMs: 10_000 }), deps()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KibokoError);
      expect((err as KibokoError).code).toBe('INVALID_ARGUMENT');
      expect((err as KibokoError).message).toMatch(/--duration 10s|--duration 20s/);
    }
    expect(engine.calls).toEqual([]);
    expect(() => validateExperiment(opts({ kind: 'pause', durationMs: 9_999 }, ['web'], { intervalMs: 10_000 }))).not.toThrow();
  });

  it.each([
    { kind: 'kill', signal: 'SIGKILL' },
    { kind: 'stop', timeSeconds: 5 },
    { kind: 'rm', force: true, links: false, volumes: true },
  ] satisfies LifecycleAction[])('$kind with no targets is rejected before any engine call', async (action) => {
    engine.add({ name: 'web' });
    const err = await runExperiment(opts(action, []), deps()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KibokoError);
    expect((err as KibokoError).code).toBe('INVALID_ARGUMENT');
    expect((err as KibokoError).message).toContain(action.kind);
    expect(engine.calls).toEqual([]);
    expect(existsSync(journal.dir)).toBe(false);
    expect(await statusOf('web')).toBe('running');
  });

  it('pause with no targets acts on every eligible container', async () => {
    engine.add({ name: 'a' });
    engine.add({ name: 'b' });
    engine.add({ name: 'c', status: 'exited' });
    const report = await runExperiment(opts({ kind: 'pause', durationMs: 100 }, []), deps());
    expect(report.cycles[0]!.targets.map((t) => t.name)).toEqual(['a', 'b']);
  });

  it('rejects a bad limit or concurrency', () => {
    expect(() => validateExperiment(opts({ kind: 'kill', signal: 'SIGKILL' }, ['x'], { limit: -1 }))).toThrow(/expected/);
    expect(() => validateExperiment(opts({ kind: 'kill', signal: 'SIGKILL' }, ['x'], { limit: 1.5 }))).toThrow(/expected/);
    expect(() => validateExperiment(opts({ kind: 'kill', signal: 'SIGKILL' }, ['x'], { concurrency: 0 }))).toThrow(/expected/);
  });

  it('the same seed replays the same random pick', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `svc-${i}`);
    for (const name of names) engine.add({ name });
    const picks: string[] = [];
    for (let i = 0; i < 2; i++) {
      const report = await runExperiment(opts({ kind: 'exec', command: ['true'] }, ['re2:^svc-'], { random: true, seed: 99 }), deps());
      picks.push(report.cycles[0]!.targets.map((t) => t.name).join());
    }
    expect(picks[0]).toBe(picks[1]);
    expect(names).toContain(picks[0]);
  });

  it('recovers orphans before the first cycle', async () => {
    const frozen = engine.add({ name: 'frozen', status: 'paused' });
    writeOrphan({ id: frozen.id, name: 'frozen' }, JOURNAL_KINDS.pause, frozen.startedAt);
    engine.add({ name: 'web' });
    const report = await runExperiment(opts({ kind: 'kill', signal: 'SIGKILL' }, ['web']), deps());
    expect(report.recovery).toMatchObject([{ target: { name: 'frozen' }, outcome: 'restored', by: 'recovery' }]);
    expect(await statusOf('frozen')).toBe('running');
    expect(events.findIndex((e) => e.type === 'recovery')).toBeLessThan(events.findIndex((e) => e.type === 'cycle-started'));
  });
});

describe('recoverOrphans', () => {
  it("unpauses a container paused by a dead owner and closes the entry", async () => {
    const frozen = engine.add({ name: 'frozen', status: 'paused' });
    writeOrphan({ id: frozen.id, name: 'frozen' }, JOURNAL_KINDS.pause, frozen.startedAt);
    const results = await recoverOrphans(engine, journal);
    expect(results).toEqual([{ target: { id: frozen.id, name: 'frozen' }, kind: 'pause', outcome: 'restored', by: 'recovery' }]);
    expect(await statusOf('frozen')).toBe('running');
    expect((await journal.list()).entries).toEqual([]);
    expect(history()).toMatchObject([{ id: 'orphan-frozen', outcome: 'restored', by: 'recovery' }]);
  });

  it('reports target-gone for a missing container and closes the entry', async () => {
    writeOrphan({ id: 'f'.repeat(64), name: 'ghost' }, JOURNAL_KINDS.pause, 'whenever');
    const results = await recoverOrphans(engine, journal);
    expect(results).toMatchObject([{ target: { name: 'ghost' }, outcome: 'target-gone' }]);
    expect((await journal.list()).entries).toEqual([]);
    expect(history()).toMatchObject([{ outcome: 'target-gone', by: 'recovery' }]);
  });

  it('starts a container stopped with --restart by a dead owner', async () => {
    const stopped = engine.add({ name: 'stopped', status: 'exited' });
    writeOrphan({ id: stopped.id, name: 'stopped' }, JOURNAL_KINDS.stopRestart, stopped.startedAt);
    expect(await recoverOrphans(engine, journal)).toMatchObject([{ outcome: 'restored' }]);
    expect(await statusOf('stopped')).toBe('running');
  });

  it('leaves a replaced container alone (different start time)', async () => {
    const frozen = engine.add({ name: 'frozen', status: 'paused' });
    writeOrphan({ id: frozen.id, name: 'frozen' }, JOURNAL_KINDS.pause, '1999-01-01T00:00:00Z');
    expect(await recoverOrphans(engine, journal)).toMatchObject([{ outcome: 'target-replaced' }]);
    expect(await statusOf('frozen')).toBe('paused');
  });

  it('reports already-restored when the container is no longer paused', async () => {
    const web = engine.add({ name: 'web' });
    writeOrphan({ id: web.id, name: 'web' }, JOURNAL_KINDS.pause, web.startedAt);
    expect(await recoverOrphans(engine, journal)).toMatchObject([{ outcome: 'already-restored' }]);
    expect(ops().filter((op) => MUTATING.has(op))).toEqual([]);
  });

  it('dry-run reports without changing anything', async () => {
    const frozen = engine.add({ name: 'frozen', status: 'paused' });
    writeOrphan({ id: frozen.id, name: 'frozen' }, JOURNAL_KINDS.pause, frozen.startedAt);
    expect(await recoverOrphans(engine, journal, { dryRun: true })).toMatchObject([{ outcome: 'dry-run' }]);
    expect(await statusOf('frozen')).toBe('paused');
    expect((await journal.list()).entries).toHaveLength(1);
  });

  it("does not touch a live process's entries", async () => {
    const web = engine.add({ name: 'web' });
    await engine.pause(web.id);
    await journal.record({ runId: 'live', kind: JOURNAL_KINDS.pause, target: { id: web.id, name: 'web' }, deadline: new Date().toISOString(), data: { startedAt: web.startedAt } });
    expect(await recoverOrphans(engine, journal)).toEqual([]);
    expect(await statusOf('web')).toBe('paused');
    expect((await journal.list()).entries).toHaveLength(1);
  });

  it('keeps the entry when the restore fails, and rethrows an unreachable engine', async () => {
    const frozen = engine.add({ name: 'frozen', status: 'paused' });
    writeOrphan({ id: frozen.id, name: 'frozen' }, JOURNAL_KINDS.pause, frozen.startedAt);
    engine.failWith = (op) => (op === 'unpause' ? new KibokoError('ENGINE_ERROR', 'nope') : undefined);
    expect(await recoverOrphans(engine, journal)).toMatchObject([{ outcome: 'failed', error: 'nope' }]);
    expect((await journal.list()).entries).toHaveLength(1);
    engine.failWith = undefined;
    engine.unreachable = true;
    await expect(recoverOrphans(engine, journal)).rejects.toMatchObject({ code: 'ENGINE_UNREACHABLE' });
  });
});

describe('cycleSeed', () => {
  it('cycle 1 uses the run seed; later cycles derive deterministic, distinct seeds', () => {
    expect(cycleSeed(1234, 1)).toBe(1234);
    expect(cycleSeed(-1, 1)).toBe(0xffffffff);
    const seeds = Array.from({ length: 100 }, (_, i) => cycleSeed(1234, i + 1));
    expect(seeds).toEqual(Array.from({ length: 100 }, (_, i) => cycleSeed(1234, i + 1)));
    expect(new Set(seeds).size).toBe(100);
    for (const s of seeds) {
      expect(Number.isInteger(s)).toBe(true);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(0xffffffff);
    }
    expect(cycleSeed(1, 2)).not.toBe(cycleSeed(2, 2));
  });
});
