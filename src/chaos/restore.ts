import { KibokoError } from '../common/errors.js';
import type { ContainerDetails, Engine } from '../engine/index.js';
import { isAlive, recoverEntries, type Journal, type JournalEntry } from '../journal/index.js';
import { removeStaleHelpers } from './net/exec.js';
import { JOURNAL_KINDS } from './journal-kinds.js';
import type { RestoreResult } from './types.js';

/** What a journal entry of each kind records about the target when the fault began. */
export interface TargetIdentity {
  /** State.StartedAt when the fault began: a different value means another process now. */
  startedAt: string;
}

export { JOURNAL_KINDS };

/**
 * Undoes one journaled change, idempotently and only when the container is still the one kiboko
 * changed: a paused container is unpaused, a container stopped with --restart is started.
 */
export async function undoEntry(engine: Engine, entry: JournalEntry): Promise<RestoreResult['outcome']> {
  // The fault modules are loaded only when an entry of their kind is left to undo.
  if (entry.kind === JOURNAL_KINDS.net) return (await (await import('./net/hold.js')).undoNetEntry(engine, entry)).outcome;
  if (entry.kind === JOURNAL_KINDS.stress) return (await import('./stress.js')).undoStressEntry(engine, entry);
  if (entry.kind === JOURNAL_KINDS.proxy) return (await (await import('./proxy/hold.js')).undoProxyEntry(engine, entry)).outcome;
  const identity = entry.data as unknown as TargetIdentity;
  let now: ContainerDetails;
  try {
    now = await engine.inspect(entry.target.id);
  } catch (err) {
    if (err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND') return 'target-gone';
    throw err;
  }
  if (identity.startedAt && now.startedAt !== identity.startedAt) return 'target-replaced';
  switch (entry.kind) {
    case JOURNAL_KINDS.pause:
      if (now.status !== 'paused') return 'already-restored';
      await engine.unpause(entry.target.id);
      return 'restored';
    case JOURNAL_KINDS.stopRestart:
      if (now.status === 'running' || now.status === 'restarting' || now.status === 'paused') return 'already-restored';
      await engine.start(entry.target.id);
      return 'restored';
    default:
      throw new KibokoError('JOURNAL_ERROR', `journal entry ${entry.id} has unknown kind '${entry.kind}'`, {
        hint: 'it was written by a newer kiboko; recover with that version',
      });
  }
}

/**
 * Restores every change whose owning kiboko process died (SIGKILL, crash, power loss). Runs at
 * the start of every chaos command and as `kiboko chaos recover`. Entries that fail to restore
 * stay in the journal for the next attempt.
 */
export async function recoverOrphans(engine: Engine, journal: Journal, options: { dryRun?: boolean; kinds?: readonly string[] } = {}): Promise<RestoreResult[]> {
  // Another capability's entries (watch's container updates) are theirs to recover.
  const orphans = (await journal.orphans()).filter((e) => (!options.kinds || options.kinds.includes(e.kind)) && Object.values(JOURNAL_KINDS).includes(e.kind as never));
  const results: RestoreResult[] = await recoverEntries(journal, orphans, (entry) => undoEntry(engine, entry), options);
  if (!options.dryRun) {
    const { entries } = await journal.list();
    const live = new Set(entries.filter((e) => isAlive(e.owner)).map((e) => e.runId));
    const removed = await removeStaleHelpers(engine, (runId) => live.has(runId));
    if (removed) results.push({ target: { id: '', name: `${removed} helper container(s)` }, kind: 'helper', outcome: 'restored', by: 'recovery' });
  }
  return results;
}
