import { open, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { undoEntry } from '../chaos/index.js';
import type { Clock } from '../common/clock.js';
import { asKibokoError, KibokoError } from '../common/errors.js';
import type { Engine } from '../engine/index.js';
import { isAlive, processStartTime, type ClosedEntry, type Journal, type JournalEntry } from '../journal/index.js';
import type { ChaosService } from './chaos.js';

/** One container a run changed: open (the fault is held until `deadline`) or closed with its restore outcome. */
export interface RunHit {
  id: string;
  name: string;
  kind: string;
  open: boolean;
  deadline?: string | undefined;
  outcome?: string | undefined;
}

export type RunStatus = 'running' | 'orphaned' | 'finished' | 'stopped' | 'failed' | 'target-gone' | 'recovered';

/** A chaos run as the dashboard shows it, whoever started it (this daemon, or the CLI in the same state directory). */
export interface ChaosRun {
  runId: string;
  source: 'daemon' | 'cli';
  /** The daemon's experiment id (source daemon). */
  experiment?: string | undefined;
  action: string;
  status: RunStatus;
  startedAt: string;
  endedAt?: string | undefined;
  /** When the last held fault is due to be undone (running runs). */
  deadline?: string | undefined;
  /** The process holding the faults (CLI runs). */
  owner?: { pid: number; host: string } | undefined;
  hits: RunHit[];
  error?: string | undefined;
}

export interface ChaosRunsOptions {
  engine: Engine;
  chaos: ChaosService;
  journal: Journal;
  clock?: Pick<Clock, 'now' | 'sleep'> | undefined;
  /** How much of history.ndjson's end is read (default 512 KiB): the file only grows. */
  historyBytes?: number | undefined;
  /** How long a stop waits for a CLI run to restore after SIGTERM (default 15 s). */
  stopTimeoutMs?: number | undefined;
  /** Sends the signal (tests replace it). */
  kill?: ((pid: number, signal: NodeJS.Signals) => void) | undefined;
}

const MAX_RUNS = 100;
const gone = (outcome: string | undefined) => outcome === 'target-gone' || outcome === 'target-replaced';

/** The tail of history.ndjson as closed entries that name their run (older lines without a run id are left out). */
async function readHistory(file: string, maxBytes: number): Promise<ClosedEntry[]> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    return [];
  }
  const from = Math.max(0, size - maxBytes);
  const fh = await open(file, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(size - from);
    await fh.read(buf, 0, buf.length, from);
    text = buf.toString('utf8');
  } finally {
    await fh.close();
  }
  const lines = text.split('\n');
  if (from > 0) lines.shift(); // a partial first line
  const out: ClosedEntry[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as ClosedEntry;
      if (typeof e.runId === 'string' && typeof e.kind === 'string' && typeof e.target?.name === 'string') out.push(e);
    } catch {
      // a torn line (a crash mid-append) is skipped; the others still count
    }
  }
  return out;
}

/** A run's status from its hits, once none is open: a target that vanished is never reported as a clean finish. */
export function closedStatus(hits: readonly RunHit[]): RunStatus {
  if (hits.some((h) => gone(h.outcome))) return 'target-gone';
  if (hits.some((h) => h.outcome === 'not-applied' || h.outcome === 'failed')) return 'failed';
  if (hits.some((h) => h.outcome === 'recovered')) return 'recovered';
  return 'finished';
}

/**
 * Chaos runs started anywhere: the daemon's experiments, and CLI runs (`kiboko chaos …`) that
 * write to the same state directory's restore journal — open entries are held faults, history
 * lines are finished ones. A running CLI run is stopped the way Ctrl-C stops it (SIGTERM to the
 * process holding it, which restores and closes its entries); one whose process died is recovered
 * here, as `kiboko chaos recover` would.
 */
export class ChaosRuns {
  /** CLI runs this daemon stopped (their history lines look like a natural end). */
  private readonly stopped = new Set<string>();

  constructor(private readonly o: ChaosRunsOptions) {}

  private now(): number {
    return this.o.clock?.now() ?? Date.now();
  }

  async list(): Promise<ChaosRun[]> {
    const { entries } = await this.o.journal.list();
    const history = await readHistory(join(this.o.journal.stateDir, 'history.ndjson'), this.o.historyBytes ?? 512 * 1024);
    const runs = new Map<string, ChaosRun>();

    for (const x of this.o.chaos.list()) {
      const hits = new Map<string, RunHit>();
      for (const c of x.report?.cycles ?? []) {
        for (const t of c.targets) if (!hits.has(t.id)) hits.set(t.id, { id: t.id, name: t.name, kind: x.action, open: false });
        for (const r of c.actions) {
          const restore = typeof r.detail?.restore === 'string' ? r.detail.restore : undefined;
          hits.set(r.target.id, { id: r.target.id, name: r.target.name, kind: r.action, open: false, outcome: restore ?? r.outcome });
        }
      }
      const status: RunStatus = x.status === 'finished' && ((x.totals?.targetGone ?? 0) > 0 || [...hits.values()].some((h) => gone(h.outcome))) ? 'target-gone' : x.status;
      const run: ChaosRun = { runId: x.runId ?? x.id, source: 'daemon', experiment: x.id, action: x.action, status, startedAt: x.startedAt, endedAt: x.endedAt, hits: [...hits.values()], ...(x.error ? { error: x.error.message } : {}) };
      runs.set(run.runId, run);
    }

    const touch = (runId: string, kind: string, at: string, source: 'daemon' | 'cli'): ChaosRun => {
      let run = runs.get(runId);
      if (!run) {
        run = { runId, source, action: kind === 'stop-restart' ? 'stop' : kind, status: 'finished', startedAt: at, hits: [] };
        runs.set(runId, run);
      }
      if (at && at < run.startedAt) run.startedAt = at;
      return run;
    };
    const upsert = (run: ChaosRun, hit: RunHit) => {
      const i = run.hits.findIndex((h) => h.id === hit.id);
      if (i >= 0) run.hits[i] = { ...run.hits[i]!, ...hit };
      else run.hits.push(hit);
    };

    for (const c of history) {
      const run = touch(c.runId!, c.kind, c.createdAt ?? c.closedAt, 'cli');
      // The daemon's experiment's report says how its targets went; its journal lines fill in what the report has not yet.
      if (run.source === 'daemon' && run.hits.some((h) => h.id === c.target.id)) continue;
      upsert(run, { id: c.target.id, name: c.target.name, kind: c.kind, open: false, outcome: c.by === 'recovery' && !gone(c.outcome) ? 'recovered' : c.outcome });
      if (run.source === 'cli' && (!run.endedAt || c.closedAt > run.endedAt)) run.endedAt = c.closedAt;
    }
    const here = hostname();
    for (const e of entries) {
      const mine = e.owner.pid === process.pid && e.owner.host === here;
      const run = touch(e.runId, e.kind, e.createdAt, mine ? 'daemon' : 'cli');
      upsert(run, { id: e.target.id, name: e.target.name, kind: e.kind, open: true, deadline: e.deadline, outcome: undefined });
      if (!run.deadline || e.deadline > run.deadline) run.deadline = e.deadline;
      if (run.source === 'cli') {
        run.owner = { pid: e.owner.pid, host: e.owner.host };
        run.status = isAlive(e.owner) ? 'running' : 'orphaned';
        run.endedAt = undefined;
      }
    }
    for (const run of runs.values()) {
      if (run.source !== 'cli' || run.status !== 'finished') continue;
      run.status = closedStatus(run.hits);
      if (run.status === 'finished' && this.stopped.has(run.runId)) run.status = 'stopped';
    }
    return [...runs.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, MAX_RUNS);
  }

  /**
   * Ends a run early and restores what it holds: the daemon's own experiment is stopped directly;
   * a CLI run gets SIGTERM (the CLI restores on it) and this waits until its journal entries are
   * closed; a run whose process died is restored here.
   */
  async stop(runId: string): Promise<{ runId: string; by: 'daemon' | 'signal' | 'recovery'; run: ChaosRun | undefined }> {
    const experiment = this.o.chaos.experimentOfRun(runId) ?? (runId.startsWith('cx_') ? runId : undefined);
    if (experiment) {
      await this.o.chaos.stop(experiment);
      return { runId, by: 'daemon', run: (await this.list()).find((r) => r.experiment === experiment) };
    }
    const open = (await this.o.journal.list()).entries.filter((e) => e.runId === runId);
    if (open.length === 0) throw new KibokoError('TARGET_NOT_FOUND', `no running chaos run ${JSON.stringify(runId.slice(0, 80))}`, { hint: 'it may have ended already; list runs with GET /v1/chaos/runs' });
    const owner = open[0]!.owner;
    let by: 'signal' | 'recovery';
    if (owner.host !== hostname()) {
      throw new KibokoError('CONFLICT', `chaos run ${runId} is held by process ${owner.pid} on host ${owner.host}`, { hint: `stop it on ${owner.host} (Ctrl-C), or run \`kiboko chaos recover\` there` });
    }
    if (isAlive(owner)) {
      // Signal only the very process that wrote the entries (pid and kernel start time both match).
      const started = processStartTime(owner.pid);
      if (owner.pid === process.pid || !started || started !== owner.startTime) {
        throw new KibokoError('CONFLICT', `cannot tell that process ${owner.pid} is the one holding chaos run ${runId}`, { hint: 'stop it where it runs (Ctrl-C)' });
      }
      (this.o.kill ?? process.kill)(owner.pid, 'SIGTERM');
      this.stopped.add(runId);
      if (this.stopped.size > 1000) this.stopped.delete(this.stopped.values().next().value!);
      await this.waitClosed(runId);
      by = 'signal';
    } else {
      for (const e of open) await this.recover(e);
      by = 'recovery';
    }
    return { runId, by, run: (await this.list()).find((r) => r.runId === runId) };
  }

  private async recover(entry: JournalEntry): Promise<void> {
    let outcome: string;
    try {
      outcome = await undoEntry(this.o.engine, entry);
    } catch (err) {
      const e = asKibokoError(err);
      throw new KibokoError(e.code, `restoring ${entry.target.name} failed: ${e.message}`, { hint: 'run `kiboko chaos recover` with the same --state-dir', cause: err });
    }
    await this.o.journal.close(entry, outcome, 'recovery');
  }

  private async waitClosed(runId: string): Promise<void> {
    const until = this.now() + (this.o.stopTimeoutMs ?? 15_000);
    for (;;) {
      const left = (await this.o.journal.list()).entries.filter((e) => e.runId === runId);
      if (left.length === 0) return;
      if (this.now() >= until) {
        throw new KibokoError('TIMEOUT', `chaos run ${runId} still holds ${left.map((e) => e.target.name).join(', ')} after SIGTERM`, { hint: 'its process may be stuck; kill it, then run `kiboko chaos recover`' });
      }
      if (this.o.clock) await this.o.clock.sleep(100);
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
}
