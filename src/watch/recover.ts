import { KibokoError } from '../common/errors.js';
import type { ContainerDetails, Engine } from '../engine/index.js';
import { recoverEntries, type Journal, type JournalEntry } from '../journal/index.js';

/** The journal kind of a standalone-container update in flight (written before anything is touched). */
export const WATCH_JOURNAL_KIND = 'watch-container-update';

/** What an in-flight container update records, so a crash can be undone. */
export interface ContainerUpdateRecord {
  /** The container's name, which the old container gets back. */
  name: string;
  /** The old container (renamed `<name>.kiboko-old-*` while the new one starts). */
  oldId: string;
  parked: string;
  image: string;
  wasRunning: boolean;
}

export interface UpdateRecoveryResult {
  target: { id: string; name: string };
  kind: string;
  /** `restored`: the old container is back under its name; `already-restored`: the update had finished (the old one was removed). */
  outcome: 'restored' | 'already-restored' | 'failed' | 'dry-run';
  error?: string | undefined;
  by: 'recovery';
}

const notFound = (err: unknown) => err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND';

async function inspectOrNone(engine: Engine, idOrName: string): Promise<ContainerDetails | undefined> {
  try {
    return await engine.inspect(idOrName);
  } catch (err) {
    if (notFound(err)) return undefined;
    throw err;
  }
}

/**
 * Undoes one interrupted container update, idempotently. While the old container exists the
 * update had not finished: whatever now holds the name (the new container) goes, the old one
 * gets its name back and runs again if it ran before. Once the old one is gone the update had
 * finished and the new container stays.
 */
export async function undoContainerUpdate(engine: Engine, entry: JournalEntry<ContainerUpdateRecord>): Promise<'restored' | 'already-restored'> {
  const d = entry.data;
  const old = await inspectOrNone(engine, d.oldId);
  if (!old) return 'already-restored';
  const holder = await inspectOrNone(engine, d.name);
  if (holder && holder.id !== d.oldId) await engine.remove(holder.id, { force: true });
  if (old.name !== d.name) await engine.rename(d.oldId, d.name);
  if (d.wasRunning && old.status !== 'running') await engine.start(d.oldId);
  return 'restored';
}

/**
 * Container updates whose `kiboko watch` (or daemon) died mid-way (SIGKILL, crash, power loss):
 * each is put back as it was. Runs when watch starts and in `kiboko chaos recover`.
 */
export async function recoverContainerUpdates(engine: Engine, journal: Journal, options: { dryRun?: boolean } = {}): Promise<UpdateRecoveryResult[]> {
  const orphans = (await journal.orphans()).filter((e) => e.kind === WATCH_JOURNAL_KIND) as unknown as JournalEntry<ContainerUpdateRecord>[];
  return recoverEntries(journal, orphans, (entry) => undoContainerUpdate(engine, entry), options);
}
