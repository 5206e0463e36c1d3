import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openDatabase, type Database } from '../common/sqlite.js';
import type { DesiredState } from './api.js';

/** A unit as stored: its options as JSON, what it should be, and why it is not (a failure, or what it waits for). */
export type Row = { name: string; options: string; desired_state: DesiredState; error: string | null; waiting: string | null };

/** The engine registry's units in SQLite under the state directory (`units.db`), and the registry's own id. */
export class UnitStore {
  private readonly db: Database;
  /** This registry's id, kept across restarts: its containers carry it (REGISTRY_LABEL). */
  readonly id: string;

  constructor(stateDir: string) {
    this.db = openDatabase(join(stateDir, 'units.db'));
    this.db.exec('CREATE TABLE IF NOT EXISTS units (name TEXT PRIMARY KEY, options TEXT NOT NULL, desired_state TEXT NOT NULL, error TEXT)');
    const cols = this.db.prepare('PRAGMA table_info(units)').all() as { name: string }[];
    if (!cols.some((c) => c.name === 'waiting')) this.db.exec('ALTER TABLE units ADD COLUMN waiting TEXT');
    this.db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    this.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('registry-id', randomBytes(8).toString('hex'));
    this.id = (this.db.prepare("SELECT value FROM meta WHERE key = 'registry-id'").get() as { value: string }).value;
  }

  rows(): Row[] {
    return this.db.prepare('SELECT * FROM units ORDER BY name').all() as Row[];
  }

  /**
   * The rows a change to `focus` can affect: the unit itself, units that have containers (they may
   * conflict), and loaded/launched units with [X-Fleet] requirements (they may now be placeable;
   * inactive ones wait for nothing) — read without materialising every stored unit.
   */
  affectedRows(focus: string, withContainers: readonly string[]): Row[] {
    return this.db
      .prepare(`SELECT * FROM units WHERE name = ? OR (desired_state <> 'inactive' AND instr(options, '"X-Fleet"') > 0) OR name IN (SELECT value FROM json_each(?)) ORDER BY name`)
      .all(focus, JSON.stringify(withContainers)) as Row[];
  }

  row(name: string): Row | undefined {
    return this.db.prepare('SELECT * FROM units WHERE name = ?').get(name) as Row | undefined;
  }

  /** Stores the unit (a new one, or new options and state for a known one), its failure cleared. */
  upsert(name: string, optionsJson: string, desiredState: DesiredState): void {
    this.db
      .prepare('INSERT INTO units (name, options, desired_state, error, waiting) VALUES (?, ?, ?, NULL, NULL) ON CONFLICT(name) DO UPDATE SET options = excluded.options, desired_state = excluded.desired_state, error = NULL, waiting = NULL')
      .run(name, optionsJson, desiredState);
  }

  /** A new desired state, its failure cleared. */
  setDesiredState(name: string, state: DesiredState): void {
    this.db.prepare('UPDATE units SET desired_state = ?, error = NULL, waiting = NULL WHERE name = ?').run(state, name);
  }

  setError(name: string, error: string | null, waiting: string | null = null): void {
    this.db.prepare('UPDATE units SET error = ?, waiting = ? WHERE name = ?').run(error, waiting, name);
  }

  /** Whether there was such a unit. */
  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM units WHERE name = ?').run(name).changes > 0;
  }

  close(): void {
    this.db.close();
  }
}
