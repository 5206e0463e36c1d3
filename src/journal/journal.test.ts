import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultStateDir, Journal, type JournalEntry, type NewEntry } from './journal.js';
import { currentProcess, isAlive } from './process.js';

let stateDir: string;
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'kiboko-journal-'));
});
afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

const newEntry = (name = 'web-1'): NewEntry<{ startedAt: string }> => ({
  runId: 'run-1',
  kind: 'pause',
  target: { id: 'a'.repeat(64), name },
  deadline: new Date(Date.now() + 10_000).toISOString(),
  data: { startedAt: '2024-01-01T00:00:00Z' },
});

/** A pid that certainly belonged to a process which has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  expect(r.pid).toBeGreaterThan(0);
  return r.pid!;
}

function writeEntryByHand(journal: Journal, owner: JournalEntry['owner'], name: string): JournalEntry {
  const entry: JournalEntry = {
    id: `hand-${name}`,
    runId: 'old-run',
    kind: 'pause',
    target: { id: 'b'.repeat(64), name },
    owner,
    createdAt: new Date(0).toISOString(),
    deadline: new Date(1000).toISOString(),
    data: { startedAt: 'x' },
  };
  mkdirSync(journal.dir, { recursive: true });
  writeFileSync(join(journal.dir, `${entry.id}.json`), JSON.stringify(entry));
  return entry;
}

describe('Journal', () => {
  it('records an entry durably, owned by the current process', async () => {
    const journal = new Journal(stateDir);
    const entry = await journal.record(newEntry());
    expect(entry.owner).toEqual(currentProcess());
    expect(entry.owner.pid).toBe(process.pid);
    expect(entry.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(entry.createdAt))).toBe(false);
    const file = join(stateDir, 'journal', `${entry.id}.json`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(entry);
    // no temp files left behind
    expect(readdirSync(journal.dir)).toEqual([`${entry.id}.json`]);
  });

  it('lists open entries', async () => {
    const journal = new Journal(stateDir);
    const a = await journal.record(newEntry('a'));
    const b = await journal.record(newEntry('b'));
    const { entries, unreadable } = await journal.list();
    expect(unreadable).toEqual([]);
    expect(entries.map((e) => e.id).sort()).toEqual([a.id, b.id].sort());
    expect(entries.find((e) => e.id === a.id)).toEqual(a);
  });

  it('lists nothing when the folder does not exist yet', async () => {
    const journal = new Journal(join(stateDir, 'never-created'));
    expect(await journal.list()).toEqual({ entries: [], unreadable: [] });
    expect(await journal.orphans()).toEqual([]);
  });

  it('close removes the entry and appends to history.ndjson', async () => {
    const journal = new Journal(stateDir);
    const a = await journal.record(newEntry('a'));
    const b = await journal.record(newEntry('b'));
    await journal.close(a, 'restored');
    await journal.close(b, 'target-gone', 'recovery');
    expect(existsSync(join(journal.dir, `${a.id}.json`))).toBe(false);
    expect((await journal.list()).entries).toEqual([]);
    const lines = readFileSync(join(stateDir, 'history.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ id: a.id, runId: a.runId, createdAt: a.createdAt, kind: 'pause', target: a.target, outcome: 'restored', by: 'owner' });
    expect(lines[1]).toMatchObject({ id: b.id, outcome: 'target-gone', by: 'recovery' });
    expect(Number.isNaN(Date.parse(String(lines[0]!.closedAt)))).toBe(false);
  });

  it('closing an entry whose file is already gone still records history', async () => {
    const journal = new Journal(stateDir);
    const a = await journal.record(newEntry());
    rmSync(join(journal.dir, `${a.id}.json`));
    await expect(journal.close(a, 'restored')).resolves.toBeUndefined();
    expect(readFileSync(join(stateDir, 'history.ndjson'), 'utf8')).toContain(a.id);
  });

  it('treats an entry whose owner died as an orphan, and a live owner as not', async () => {
    const journal = new Journal(stateDir);
    const live = await journal.record(newEntry('live'));
    const dead = writeEntryByHand(journal, { pid: deadPid(), startTime: '1', host: hostname() }, 'dead');
    const orphans = await journal.orphans();
    expect(orphans.map((e) => e.id)).toEqual([dead.id]);
    expect(orphans.map((e) => e.id)).not.toContain(live.id);
  });

  it('treats a reused pid (different start time) as dead', async () => {
    const journal = new Journal(stateDir);
    const reused = writeEntryByHand(journal, { ...currentProcess(), startTime: '1' }, 'reused');
    expect(currentProcess().startTime).not.toBe('1');
    expect((await journal.orphans()).map((e) => e.id)).toEqual([reused.id]);
  });

  it("leaves another host's entries alone", async () => {
    const journal = new Journal(stateDir);
    writeEntryByHand(journal, { pid: deadPid(), startTime: '1', host: `${hostname()}-elsewhere` }, 'remote');
    expect(await journal.orphans()).toEqual([]);
  });

  it('reports torn or garbage files as unreadable instead of dropping them', async () => {
    const journal = new Journal(stateDir);
    const good = await journal.record(newEntry());
    writeFileSync(join(journal.dir, 'torn.json'), '{"id": "x", "runId": "r", "ki');
    writeFileSync(join(journal.dir, 'empty.json'), '');
    writeFileSync(join(journal.dir, 'notes.txt'), 'not an entry');
    const { entries, unreadable } = await journal.list();
    expect(entries.map((e) => e.id)).toEqual([good.id]);
    expect(unreadable.sort()).toEqual([join(journal.dir, 'empty.json'), join(journal.dir, 'torn.json')]);
    expect(await journal.orphans()).toEqual([]);
  });

  // Regression: a file that is valid JSON but not an entry (e.g. `{}` after a bad manual edit) was not
  // reported unreadable: list() returned it as an entry and orphans() crashed on `owner.host`.
  it('reports a valid-JSON file that is not an entry as unreadable', async () => {
    const journal = new Journal(stateDir);
    await journal.record(newEntry());
    writeFileSync(join(journal.dir, 'wrong-shape.json'), '{}');
    const { entries, unreadable } = await journal.list();
    expect(unreadable).toEqual([join(journal.dir, 'wrong-shape.json')]);
    expect(entries).toHaveLength(1);
    await expect(journal.orphans()).resolves.toEqual([]);
  });

  it('fails with JOURNAL_ERROR when the folder cannot be created', async () => {
    const blocker = join(stateDir, 'file');
    writeFileSync(blocker, '');
    const journal = new Journal(blocker);
    await expect(journal.record(newEntry())).rejects.toMatchObject({ code: 'JOURNAL_ERROR' });
  });
});

describe('isAlive', () => {
  it('is true for this process and false for an exited one', () => {
    expect(isAlive(currentProcess())).toBe(true);
    expect(isAlive({ pid: deadPid(), startTime: '', host: hostname() })).toBe(false);
  });
});

describe('defaultStateDir', () => {
  it('prefers KIBOKO_STATE_DIR, then XDG_STATE_HOME, then ~/.local/state', () => {
    expect(defaultStateDir({ KIBOKO_STATE_DIR: '/s', XDG_STATE_HOME: '/x', HOME: '/h' })).toBe('/s');
    expect(defaultStateDir({ XDG_STATE_HOME: '/x', HOME: '/h' })).toBe(join('/x', 'kiboko'));
    expect(defaultStateDir({ HOME: '/h' })).toBe(join('/h', '.local', 'state', 'kiboko'));
  });
});
