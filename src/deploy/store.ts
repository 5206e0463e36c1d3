import { join } from 'node:path';
import { openDatabase, type Database } from '../common/sqlite.js';
import type { SystemConfig } from './model.js';
import type { DeployPlan } from './plan.js';

export type RevisionOutcome = 'running' | 'ok' | 'failed' | 'cancelled' | 'crashed';

export interface Revision {
  project: string;
  /** Per-project revision number: 1, 2, 3… */
  rev: number;
  createdAt: string;
  finishedAt?: string | undefined;
  /** apply, rollback, watch, webhook… */
  trigger: string;
  /** Files, or `git+URL#branch@commit`. */
  source: string;
  /** The resolved configuration (images as deployed). */
  config: SystemConfig;
  plan: DeployPlan;
  outcome: RevisionOutcome;
  result?: unknown;
  rollbackOf?: number | undefined;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS revisions (
  project TEXT NOT NULL,
  rev INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  finished_at TEXT,
  trigger TEXT NOT NULL,
  source TEXT NOT NULL,
  config TEXT NOT NULL,
  plan TEXT NOT NULL,
  outcome TEXT NOT NULL,
  result TEXT,
  rollback_of INTEGER,
  owner_pid INTEGER,
  PRIMARY KEY (project, rev)
);`;

type Row = {
  project: string;
  rev: number;
  created_at: string;
  finished_at: string | null;
  trigger: string;
  source: string;
  config: string;
  plan: string;
  outcome: RevisionOutcome;
  result: string | null;
  rollback_of: number | null;
};

const fromRow = (r: Row): Revision => ({
  project: r.project,
  rev: r.rev,
  createdAt: r.created_at,
  finishedAt: r.finished_at ?? undefined,
  trigger: r.trigger,
  source: r.source,
  config: JSON.parse(r.config) as SystemConfig,
  plan: JSON.parse(r.plan) as DeployPlan,
  outcome: r.outcome,
  result: r.result ? JSON.parse(r.result) : undefined,
  rollbackOf: r.rollback_of ?? undefined,
});

/**
 * Deploy history in SQLite under the state directory: WAL journal with synchronous=FULL, every
 * change in a transaction, so a crash never leaves a torn revision. A revision is written
 * (outcome `running`) before anything is applied and finished afterwards; one still `running`
 * whose process is gone is marked `crashed` on the next open.
 */
export class DeployStore {
  private readonly db: Database;

  constructor(stateDir: string) {
    this.db = openDatabase(join(stateDir, 'deploy.db'));
    this.db.exec(SCHEMA);
    this.markCrashed();
  }

  private markCrashed() {
    const running = this.db.prepare(`SELECT project, rev, owner_pid FROM revisions WHERE outcome = 'running'`).all() as { project: string; rev: number; owner_pid: number | null }[];
    for (const r of running) {
      let alive = false;
      try {
        if (r.owner_pid) {
          process.kill(r.owner_pid, 0);
          alive = true;
        }
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, but another user's
      }
      if (!alive) this.db.prepare(`UPDATE revisions SET outcome = 'crashed', finished_at = ? WHERE project = ? AND rev = ?`).run(new Date().toISOString(), r.project, r.rev);
    }
  }

  /** Records a revision as `running` before it is applied; returns its number. */
  begin(entry: { project: string; trigger: string; source: string; config: SystemConfig; plan: DeployPlan; rollbackOf?: number | undefined }): number {
    const tx = this.db.transaction(() => {
      const row = this.db.prepare('SELECT COALESCE(MAX(rev), 0) + 1 AS next FROM revisions WHERE project = ?').get(entry.project) as { next: number };
      this.db
        .prepare(
          `INSERT INTO revisions (project, rev, created_at, trigger, source, config, plan, outcome, rollback_of, owner_pid)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)`,
        )
        .run(entry.project, row.next, new Date().toISOString(), entry.trigger, entry.source, JSON.stringify(entry.config), JSON.stringify(entry.plan), entry.rollbackOf ?? null, process.pid);
      return row.next;
    });
    // IMMEDIATE: take the write lock up front, so two deploys starting at once wait (busy_timeout)
    // instead of failing with SQLITE_BUSY when their read turns into a write.
    return tx.immediate();
  }

  finish(project: string, rev: number, outcome: Exclude<RevisionOutcome, 'running'>, result: unknown): void {
    this.db.prepare('UPDATE revisions SET outcome = ?, result = ?, finished_at = ? WHERE project = ? AND rev = ?').run(outcome, JSON.stringify(result), new Date().toISOString(), project, rev);
  }

  get(project: string, rev: number): Revision | undefined {
    const r = this.db.prepare('SELECT * FROM revisions WHERE project = ? AND rev = ?').get(project, rev) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  list(project: string, limit = 50): Revision[] {
    return (this.db.prepare('SELECT * FROM revisions WHERE project = ? ORDER BY rev DESC LIMIT ?').all(project, limit) as Row[]).map(fromRow);
  }

  /** The newest successful revision before `beforeRev` (the default rollback target). */
  previousOk(project: string, beforeRev: number): Revision | undefined {
    const r = this.db.prepare(`SELECT * FROM revisions WHERE project = ? AND rev < ? AND outcome = 'ok' ORDER BY rev DESC LIMIT 1`).get(project, beforeRev) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  latestOk(project: string): Revision | undefined {
    const r = this.db.prepare(`SELECT * FROM revisions WHERE project = ? AND outcome = 'ok' ORDER BY rev DESC LIMIT 1`).get(project) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  projects(): string[] {
    return (this.db.prepare('SELECT DISTINCT project FROM revisions ORDER BY project').all() as { project: string }[]).map((r) => r.project);
  }

  close(): void {
    this.db.close();
  }
}
