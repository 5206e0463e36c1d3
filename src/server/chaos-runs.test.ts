import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeEngine } from '../engine/index.js';
import { Journal, processStartTime, type JournalEntry } from '../journal/index.js';
import { ChaosService } from './chaos.js';
import { ChaosRuns, closedStatus } from './chaos-runs.js';

let stateDir: string;
let engine: FakeEngine;
let journal: Journal;
let chaos: ChaosService;
let holder: ChildProcess;

beforeAll(async () => {
  // A live process standing in for a `kiboko chaos pause` run of the CLI.
  holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((r) => holder.once('spawn', r));
});
afterAll(() => {
  holder.kill('SIGKILL');
});
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'kiboko-runs-'));
  engine = new FakeEngine();
  journal = new Journal(stateDir);
  chaos = new ChaosService({ engine, journal });
});
afterEach(async () => {
  await chaos.close();
  rmSync(stateDir, { recursive: true, force: true });
});

/** Writes an open entry as another process (the CLI) would have. */
function writeEntry(runId: string, target: { id: string; name: string }, owner: JournalEntry['owner'], deadlineMs = 60_000): JournalEntry {
  const entry: JournalEntry = {
    id: `${runId}-${target.name}`,
    runId,
    kind: 'pause',
    target,
    owner,
    createdAt: new Date().toISOString(),
    deadline: new Date(Date.now() + deadlineMs).toISOString(),
    data: { startedAt: new Date(0).toISOString() },
  };
  mkdirSync(journal.dir, { recursive: true });
  writeFileSync(join(journal.dir, `${entry.id}.json`), JSON.stringify(entry));
  return entry;
}
const liveOwner = () => ({ pid: holder.pid!, startTime: processStartTime(holder.pid!), host: hostname() });
const deadOwner = () => ({ pid: spawnSync(process.execPath, ['-e', '']).pid!, startTime: '1', host: hostname() });

describe('chaos runs from the journal (CLI runs in the same state directory)', () => {
  it('lists a held CLI pause with its container, deadline and owner, and stops it with SIGTERM to that process', async () => {
    const web = engine.add({ name: 'web-1', status: 'paused' });
    const entry = writeEntry('run-cli', { id: web.id, name: web.name }, liveOwner(), 90_000);
    const signals: [number, string][] = [];
    // The CLI restores on SIGTERM: the stand-in does what it would (unpause, close the entry).
    const runs = new ChaosRuns({
      engine,
      chaos,
      journal,
      kill: (pid, sig) => {
        signals.push([pid, sig]);
        void engine.unpause(web.id).then(() => journal.close(entry, 'restored'));
      },
    });
    const [run] = await runs.list();
    expect(run).toMatchObject({ runId: 'run-cli', source: 'cli', action: 'pause', status: 'running', deadline: entry.deadline, owner: { pid: holder.pid } });
    expect(run!.hits).toEqual([{ id: web.id, name: 'web-1', kind: 'pause', open: true, deadline: entry.deadline, outcome: undefined }]);

    const stopped = await runs.stop('run-cli');
    expect(signals).toEqual([[holder.pid, 'SIGTERM']]);
    expect(stopped).toMatchObject({ runId: 'run-cli', by: 'signal', run: { status: 'stopped', hits: [{ name: 'web-1', open: false, outcome: 'restored' }] } });
    expect((await engine.inspect(web.id)).status).toBe('running');
  });

  it('a run whose process died is shown as orphaned and recovered by a stop (the container is unpaused)', async () => {
    const web = engine.add({ name: 'web-2', status: 'paused' });
    writeEntry('run-dead', { id: web.id, name: web.name }, deadOwner());
    const runs = new ChaosRuns({ engine, chaos, journal, kill: () => expect.fail('a dead process is not signalled') });
    expect((await runs.list())[0]).toMatchObject({ runId: 'run-dead', status: 'orphaned' });
    const stopped = await runs.stop('run-dead');
    expect(stopped).toMatchObject({ by: 'recovery', run: { status: 'recovered', hits: [{ name: 'web-2', outcome: 'recovered' }] } });
    expect((await engine.inspect(web.id)).status).toBe('running');
  });

  it('never signals a process whose start time differs from the entry (a reused pid): it is treated as gone', async () => {
    const web = engine.add({ name: 'web-3', status: 'paused' });
    writeEntry('run-reused', { id: web.id, name: web.name }, { ...liveOwner(), startTime: '42' });
    const runs = new ChaosRuns({ engine, chaos, journal, kill: () => expect.fail('not the same process') });
    expect((await runs.stop('run-reused')).by).toBe('recovery');
  });

  it('finished CLI runs come from history.ndjson: a target that vanished reads target-gone, never finished', async () => {
    const file = join(stateDir, 'history.ndjson');
    const line = (o: Record<string, unknown>) => appendFileSync(file, `${JSON.stringify(o)}\n`);
    line({ id: 'old', kind: 'pause', target: { id: 'x', name: 'before-run-ids' }, outcome: 'restored', closedAt: '2026-01-01T00:00:00Z', by: 'owner' });
    line({ id: 'a', runId: 'run-ok', createdAt: '2026-01-02T00:00:00Z', kind: 'pause', target: { id: 'a', name: 'api-1' }, outcome: 'restored', closedAt: '2026-01-02T00:00:10Z', by: 'owner' });
    line({ id: 'b', runId: 'run-gone', createdAt: '2026-01-03T00:00:00Z', kind: 'pause', target: { id: 'b', name: 'web-1' }, outcome: 'target-gone', closedAt: '2026-01-03T00:00:10Z', by: 'owner' });
    line({ id: 'c', runId: 'run-gone', createdAt: '2026-01-03T00:00:00Z', kind: 'pause', target: { id: 'c', name: 'web-2' }, outcome: 'restored', closedAt: '2026-01-03T00:00:11Z', by: 'owner' });
    appendFileSync(file, '{"torn'); // a crash mid-append
    const runs = await new ChaosRuns({ engine, chaos, journal }).list();
    expect(runs.map((r) => [r.runId, r.status, r.hits.map((h) => h.name).join(',')])).toEqual([
      ['run-gone', 'target-gone', 'web-1,web-2'],
      ['run-ok', 'finished', 'api-1'],
    ]);
    expect(runs[0]).toMatchObject({ startedAt: '2026-01-03T00:00:00Z', endedAt: '2026-01-03T00:00:11Z' });
  });

  it('reads only the end of a long history', async () => {
    const file = join(stateDir, 'history.ndjson');
    for (let i = 0; i < 200; i++) appendFileSync(file, `${JSON.stringify({ id: `e${i}`, runId: `run-${String(i).padStart(3, '0')}`, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), kind: 'pause', target: { id: `t${i}`, name: `c${i}` }, outcome: 'restored', closedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), by: 'owner' })}\n`);
    const runs = await new ChaosRuns({ engine, chaos, journal, historyBytes: 2000 }).list();
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.length).toBeLessThan(20);
    expect(runs[0]!.runId).toBe('run-199');
  });

  it('a stop of an unknown run is a clear not-found', async () => {
    await expect(new ChaosRuns({ engine, chaos, journal }).stop('nope')).rejects.toMatchObject({ code: 'TARGET_NOT_FOUND' });
  });

  it('status from closed hits', () => {
    expect(closedStatus([{ id: 'a', name: 'a', kind: 'pause', open: false, outcome: 'restored' }])).toBe('finished');
    expect(closedStatus([{ id: 'a', name: 'a', kind: 'pause', open: false, outcome: 'target-replaced' }])).toBe('target-gone');
    expect(closedStatus([{ id: 'a', name: 'a', kind: 'pause', open: false, outcome: 'not-applied' }])).toBe('failed');
  });
});

describe('chaos runs of the daemon', () => {
  it('lists a running experiment with the container it holds and its deadline; a stop by run id restores it', async () => {
    const web = engine.add({ name: 'shop-web-1' });
    const x = await chaos.start({ action: 'pause', targets: ['shop-web-1'], duration: '5m' });
    const runs = new ChaosRuns({ engine, chaos, journal });
    const run = await (async () => {
      for (let i = 0; i < 100; i++) {
        const r = (await runs.list()).find((r) => r.experiment === x.id);
        // The entry (with its deadline) is journaled before the pause is applied: wait for both.
        if (r?.deadline && (await engine.inspect(web.id)).status === 'paused') return r;
        await new Promise((res) => setTimeout(res, 10));
      }
      throw new Error('the experiment never held its fault');
    })();
    expect(run).toMatchObject({ source: 'daemon', experiment: x.id, action: 'pause', status: 'running' });
    expect(run.hits).toEqual([expect.objectContaining({ name: 'shop-web-1', open: true })]);
    expect(Date.parse(run.deadline!) - Date.now()).toBeGreaterThan(4 * 60_000);
    expect((await engine.inspect(web.id)).status).toBe('paused');
    const stopped = await runs.stop(run.runId);
    expect(stopped).toMatchObject({ by: 'daemon', run: { status: 'stopped' } });
    expect((await engine.inspect(web.id)).status).toBe('running');
  });

  it('an experiment whose target vanished ends as target-gone, not finished', async () => {
    const web = engine.add({ name: 'shop-web-2' });
    const x = await chaos.start({ action: 'pause', targets: ['shop-web-2'], duration: '300ms' });
    for (let i = 0; i < 100 && (await engine.inspect(web.id)).status !== 'paused'; i++) await new Promise((r) => setTimeout(r, 5));
    engine.vanish(web.id); // e.g. a deploy replaced the replica while it was paused
    const runs = new ChaosRuns({ engine, chaos, journal });
    for (let i = 0; i < 200 && chaos.get(x.id).status === 'running'; i++) await new Promise((r) => setTimeout(r, 10));
    const run = (await runs.list()).find((r) => r.experiment === x.id);
    expect(run).toMatchObject({ status: 'target-gone', hits: [expect.objectContaining({ name: 'shop-web-2', outcome: 'target-gone' })] });
  });
});
