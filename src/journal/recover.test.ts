import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { Journal } from './journal.js';
import { recoverEntries } from './recover.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function journalWith(names: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'kiboko-recover-'));
  dirs.push(dir);
  const j = new Journal(dir);
  for (const name of names) await j.record({ runId: 'r', kind: 'pause', target: { id: name, name }, deadline: new Date().toISOString(), data: {} });
  return j;
}

describe('recoverEntries', () => {
  it('closes what it undid, keeps what failed for the next attempt, and only reports under dryRun', async () => {
    const j = await journalWith(['a', 'b']);
    const { entries } = await j.list();
    expect(await recoverEntries(j, entries, async () => 'restored' as const, { dryRun: true })).toEqual([
      { target: { id: 'a', name: 'a' }, kind: 'pause', outcome: 'dry-run', by: 'recovery' },
      { target: { id: 'b', name: 'b' }, kind: 'pause', outcome: 'dry-run', by: 'recovery' },
    ]);
    expect((await j.list()).entries).toHaveLength(2);
    const out = await recoverEntries(j, entries, async (e) => {
      if (e.target.name === 'b') throw new KibokoError('ACTION_FAILED', 'b is stuck');
      return 'restored' as const;
    });
    expect(out.map((r) => [r.target.name, r.outcome, r.error])).toEqual([
      ['a', 'restored', undefined],
      ['b', 'failed', 'b is stuck'],
    ]);
    expect((await j.list()).entries.map((e) => e.target.name)).toEqual(['b']);
  });

  it('stops at an unreachable engine: every other entry would fail the same way', async () => {
    const j = await journalWith(['a', 'b']);
    const { entries } = await j.list();
    let calls = 0;
    await expect(
      recoverEntries(j, entries, async () => {
        calls++;
        throw new KibokoError('ENGINE_UNREACHABLE', 'no engine');
      }),
    ).rejects.toThrow('no engine');
    expect(calls).toBe(1);
    expect((await j.list()).entries).toHaveLength(2);
  });
});
