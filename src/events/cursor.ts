import { createHash } from 'node:crypto';
import { mkdirSync, openSync, closeSync, fsyncSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { KibokoError } from '../common/errors.js';

/** Where a reactor stopped: the last event whose firings all finished, and its boundary keys. */
export interface Cursor {
  /** Unix nanoseconds of the last handled event. */
  timeNano: string;
  /** Keys of the handled events at exactly `timeNano` (several events can share a nanosecond). */
  keys: string[];
  /** `<event key>#<rule>` of firings that finished for later events (while earlier ones still ran). */
  fired?: string[] | undefined;
  /** Debounce / once-per windows open at `timeNano`: `<rule>\0<scope>` → the firing event's unix ms. */
  windows?: Record<string, number> | undefined;
  updatedAt: string;
}

/**
 * One small JSON file per rules file under `<stateDir>/events/`, replaced atomically (write a
 * temp file, fsync, rename, fsync the folder), so a crash leaves either the old or the new cursor.
 */
export class CursorFile {
  readonly path: string;

  constructor(stateDir: string, name: string) {
    this.path = join(stateDir, 'events', `${name}.cursor.json`);
  }

  /** A cursor name per rules file: its base name plus a hash of its absolute path. */
  static nameFor(rulesFile: string): string {
    const abs = resolve(rulesFile);
    const base = abs.split('/').pop()!.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
    return `${base}-${createHash('sha256').update(abs).digest('hex').slice(0, 12)}`;
  }

  read(): Cursor | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new KibokoError('JOURNAL_ERROR', `cannot read the event cursor ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const c = JSON.parse(text) as Partial<Cursor>;
      if (typeof c.timeNano !== 'string' || !/^\d+$/.test(c.timeNano) || !Array.isArray(c.keys)) throw new Error('unexpected shape');
      const strings = (v: unknown) => (Array.isArray(v) ? v.filter((k): k is string => typeof k === 'string') : []);
      const windows: Record<string, number> = {};
      if (c.windows && typeof c.windows === 'object') for (const [k, v] of Object.entries(c.windows)) if (typeof v === 'number' && Number.isFinite(v)) windows[k] = v;
      return { timeNano: c.timeNano, keys: strings(c.keys), fired: strings(c.fired), windows, updatedAt: String(c.updatedAt ?? '') };
    } catch (err) {
      throw new KibokoError('JOURNAL_ERROR', `the event cursor ${this.path} is damaged: ${(err as Error).message}`, {
        cause: err,
        hint: 'delete it to start from now (events since the last run are then not replayed), or pass --since',
      });
    }
  }

  write(cursor: Omit<Cursor, 'updatedAt'>, now = new Date()): void {
    const dir = dirname(this.path);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${this.path}.${process.pid}.tmp`;
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeFileSync(fd, `${JSON.stringify({ ...cursor, updatedAt: now.toISOString() })}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
      const dfd = openSync(dir, 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch (err) {
      throw new KibokoError('JOURNAL_ERROR', `cannot write the event cursor ${this.path}: ${(err as Error).message}`, {
        cause: err,
        hint: 'pass --state-dir (or KIBOKO_STATE_DIR) pointing at a writable folder',
      });
    }
  }
}
