import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { KibokoError } from './errors.js';

export type Database = BetterSqlite3.Database;

/**
 * Opens (creating) a SQLite file the way kiboko's stores need it: WAL journal, synchronous=FULL
 * so a crash never leaves a torn write, and a busy timeout for concurrent kiboko processes. The
 * native driver is loaded here, on first use, so commands that never store anything start fast.
 */
export function openDatabase(file: string): Database {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let Driver: typeof BetterSqlite3;
  try {
    Driver = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  } catch (cause) {
    throw new KibokoError('INTERNAL', `the SQLite driver (better-sqlite3) could not be loaded: ${(cause as Error).message}`, {
      cause,
      hint: 'reinstall kiboko (npm ci) so better-sqlite3 is built for this Node version',
    });
  }
  const db = new Driver(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  return db;
}
