import { appendFile, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { readdir as readdirCallback } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KibokoError } from '../common/errors.js';
import { randomUUID } from '../common/random.js';
import { currentProcess, isAlive, type ProcessIdentity } from './process.js';

/** One temporary change kiboko made and must undo: written durably *before* the change. */
export interface JournalEntry<D = Record<string, unknown>> {
  id: string;
  runId: string;
  /** What was changed, e.g. `pause`, `stop-restart`; the recoverer for that kind undoes it. */
  kind: string;
  target: { id: string; name: string };
  owner: ProcessIdentity;
  createdAt: string;
  /** When the change is due to be undone. */
  deadline: string;
  data: D;
}

export type NewEntry<D> = Omit<JournalEntry<D>, 'id' | 'owner' | 'createdAt'>;

export interface ClosedEntry {
  id: string;
  /** The run that made the change and when it was made (absent in lines written before they were recorded). */
  runId?: string | undefined;
  createdAt?: string | undefined;
  kind: string;
  target: { id: string; name: string };
  outcome: string;
  closedAt: string;
  by: 'owner' | 'recovery';
}

/** Structural check, so one foreign or damaged file is reported instead of breaking every run. */
function isEntry(v: unknown): v is JournalEntry {
  const e = v as Partial<JournalEntry> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.id === 'string' &&
    typeof e.kind === 'string' &&
    typeof e.createdAt === 'string' &&
    typeof e.deadline === 'string' &&
    typeof e.target?.id === 'string' &&
    typeof e.target?.name === 'string' &&
    typeof e.owner?.pid === 'number' &&
    typeof e.owner?.host === 'string' &&
    typeof e.owner?.startTime === 'string' &&
    typeof e.data === 'object' &&
    e.data !== null
  );
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KIBOKO_STATE_DIR) return env.KIBOKO_STATE_DIR;
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'kiboko');
}

/**
 * A crash-safe write-ahead journal: one file per open entry under `<stateDir>/journal`, written
 * with write-temp + fsync + rename + fsync(dir) so an entry is either wholly there or absent.
 * Closing an entry deletes it and appends a line to `history.ndjson`.
 */
export class Journal {
  readonly dir: string;
  private ensured: Promise<void> | undefined;

  constructor(readonly stateDir: string = defaultStateDir()) {
    this.dir = join(stateDir, 'journal');
  }

  private ensureDir(): Promise<void> {
    this.ensured ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).then(
      () => undefined,
      (cause) => {
        this.ensured = undefined;
        throw new KibokoError('JOURNAL_ERROR', `cannot create the journal folder ${this.dir}: ${(cause as Error).message}`, {
          cause,
          hint: 'pass --state-dir (or KIBOKO_STATE_DIR) pointing at a writable folder',
        });
      },
    );
    return this.ensured;
  }

  async record<D>(entry: NewEntry<D>): Promise<JournalEntry<D>> {
    await this.ensureDir();
    const full: JournalEntry<D> = { ...entry, id: randomUUID(), owner: currentProcess(), createdAt: new Date().toISOString() };
    await this.writeDurably(`${full.id}.json`, JSON.stringify(full, null, 2));
    return full;
  }

  /**
   * Rewrites an open entry (same id, same durability as `record`) when what it holds changes while
   * the fault runs, e.g. a proxy fault's toxics; only its owner calls it, before closing it.
   */
  async update<D>(entry: JournalEntry<D>): Promise<void> {
    await this.ensureDir();
    await this.writeDurably(`${entry.id}.json`, JSON.stringify(entry, null, 2));
  }

  async close(entry: JournalEntry<unknown>, outcome: string, by: ClosedEntry['by'] = 'owner'): Promise<void> {
    await this.ensureDir();
    const closed: ClosedEntry = { id: entry.id, runId: entry.runId, createdAt: entry.createdAt, kind: entry.kind, target: entry.target, outcome, closedAt: new Date().toISOString(), by };
    await appendFile(join(this.stateDir, 'history.ndjson'), `${JSON.stringify(closed)}\n`, { mode: 0o600 });
    try {
      await unlink(join(this.dir, `${entry.id}.json`));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await this.syncDir();
  }

  /** Every open entry; unreadable or torn files are reported, never silently dropped. */
  async list(): Promise<{ entries: JournalEntry[]; unreadable: string[] }> {
    let names: string[];
    try {
      // fs's callback form: every chaos run lists the journal, and loading fs/promises for it cost
      // ~8M instructions of `chaos kill`'s start (the bundles load fs/promises on first use).
      names = await new Promise<string[]>((resolve, reject) => readdirCallback(this.dir, (err, found) => (err ? reject(err) : resolve(found))));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], unreadable: [] };
      throw err;
    }
    const entries: JournalEntry[] = [];
    const unreadable: string[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      try {
        const parsed: unknown = JSON.parse(await readFile(join(this.dir, name), 'utf8'));
        if (isEntry(parsed)) entries.push(parsed);
        else unreadable.push(join(this.dir, name));
      } catch {
        unreadable.push(join(this.dir, name));
      }
    }
    entries.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return { entries, unreadable };
  }

  /** Entries whose owning process died without closing them: these need recovery. */
  async orphans(): Promise<JournalEntry[]> {
    const { entries } = await this.list();
    return entries.filter((e) => !isAlive(e.owner));
  }

  private async writeDurably(name: string, text: string): Promise<void> {
    const tmp = join(this.dir, `.${name}.${process.pid}.tmp`);
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, name));
    await this.syncDir();
  }

  private async syncDir(): Promise<void> {
    const fh = await open(this.dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}
