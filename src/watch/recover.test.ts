import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeEngine } from '../engine/index.js';
import { Journal, type JournalEntry } from '../journal/index.js';
import { recoverContainerUpdates, undoContainerUpdate, WATCH_JOURNAL_KIND, type ContainerUpdateRecord } from './recover.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const entry = (data: ContainerUpdateRecord): JournalEntry<ContainerUpdateRecord> => ({
  id: 'e1',
  runId: 'watch-1',
  kind: WATCH_JOURNAL_KIND,
  target: { id: data.oldId, name: data.name },
  owner: { pid: 999_999_999, host: 'h', startTime: 'x' },
  createdAt: new Date().toISOString(),
  deadline: new Date().toISOString(),
  data,
});

describe('undoing a container update a crash interrupted', () => {
  it('the new container goes, the old one gets its name back and runs again (killed while the new one was starting)', async () => {
    const engine = new FakeEngine();
    const old = engine.add({ name: 'web.kiboko-old-abc', image: 'app:1', status: 'running' });
    const fresh = engine.add({ name: 'web', image: 'app:1', status: 'running' });
    const r = await undoContainerUpdate(engine, entry({ name: 'web', oldId: old.id, parked: 'web.kiboko-old-abc', image: 'app:1', wasRunning: true }));
    expect(r).toBe('restored');
    expect((await engine.inspect('web')).id).toBe(old.id);
    await expect(engine.inspect(fresh.id)).rejects.toMatchObject({ code: 'TARGET_NOT_FOUND' });
    expect((await engine.list({ all: true })).map((c) => c.name)).toEqual(['web']);
  });

  it('stop-first: the stopped old container is started again; killed before the rename: only started', async () => {
    const engine = new FakeEngine();
    const old = engine.add({ name: 'web', image: 'app:1', status: 'exited' });
    expect(await undoContainerUpdate(engine, entry({ name: 'web', oldId: old.id, parked: 'web.kiboko-old-x', image: 'app:1', wasRunning: true }))).toBe('restored');
    expect((await engine.inspect('web')).status).toBe('running');
  });

  it('the old container already removed: the update had finished and the new one stays', async () => {
    const engine = new FakeEngine();
    const fresh = engine.add({ name: 'web', image: 'app:2', status: 'running' });
    expect(await undoContainerUpdate(engine, entry({ name: 'web', oldId: 'f'.repeat(64), parked: 'web.kiboko-old-x', image: 'app:2', wasRunning: true }))).toBe('already-restored');
    expect((await engine.inspect('web')).id).toBe(fresh.id);
  });

  it('recoverContainerUpdates handles only orphaned watch entries and closes them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiboko-recover-'));
    dirs.push(dir);
    const journal = new Journal(dir);
    const engine = new FakeEngine();
    const old = engine.add({ name: 'web.kiboko-old-abc', image: 'app:1', status: 'running' });
    engine.add({ name: 'web', image: 'app:1', status: 'running' });
    // A live owner (this process): not an orphan, left alone.
    await journal.record({ runId: 'r', kind: WATCH_JOURNAL_KIND, target: { id: old.id, name: 'web' }, deadline: new Date().toISOString(), data: { name: 'web', oldId: old.id, parked: 'web.kiboko-old-abc', image: 'app:1', wasRunning: true } });
    expect(await recoverContainerUpdates(engine, journal)).toEqual([]);
    // The same entry owned by a dead process is recovered.
    const { entries } = await journal.list();
    const e = entries[0]!;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(journal.dir, `${e.id}.json`), JSON.stringify({ ...e, owner: { pid: 999_999_999, host: e.owner.host, startTime: 'gone' } }));
    expect(await recoverContainerUpdates(engine, journal, { dryRun: true })).toMatchObject([{ outcome: 'dry-run' }]);
    expect(await recoverContainerUpdates(engine, journal)).toMatchObject([{ kind: WATCH_JOURNAL_KIND, outcome: 'restored', target: { name: 'web' } }]);
    expect((await engine.inspect('web')).id).toBe(old.id);
    expect((await journal.list()).entries).toEqual([]);
  });
});
