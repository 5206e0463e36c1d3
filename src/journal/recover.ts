import { asKibokoError } from '../common/errors.js';
import type { Journal, JournalEntry } from './journal.js';

/** What recovering one orphaned entry did. */
export interface RecoveredEntry<O extends string> {
  target: { id: string; name: string };
  kind: string;
  outcome: O | 'failed' | 'dry-run';
  error?: string | undefined;
  by: 'recovery';
}

/**
 * Undoes each orphaned entry (its owner died) with `undo` and closes it with the outcome; with
 * `dryRun` only says what it would do. An entry whose undo fails stays open for the next attempt;
 * an unreachable engine stops the sweep (every other entry would fail the same way).
 */
export async function recoverEntries<E extends JournalEntry<unknown>, O extends string>(journal: Journal, entries: readonly E[], undo: (entry: E) => Promise<O>, options: { dryRun?: boolean | undefined } = {}): Promise<RecoveredEntry<O>[]> {
  const out: RecoveredEntry<O>[] = [];
  for (const entry of entries) {
    if (options.dryRun) {
      out.push({ target: entry.target, kind: entry.kind, outcome: 'dry-run', by: 'recovery' });
      continue;
    }
    try {
      const outcome = await undo(entry);
      await journal.close(entry, outcome, 'recovery');
      out.push({ target: entry.target, kind: entry.kind, outcome, by: 'recovery' });
    } catch (err) {
      const e = asKibokoError(err);
      if (e.code === 'ENGINE_UNREACHABLE') throw e;
      out.push({ target: entry.target, kind: entry.kind, outcome: 'failed', error: e.message, by: 'recovery' });
    }
  }
  return out;
}
