import type { ChaosEvent } from '../chaos/index.js';
import { describeAction } from '../chaos/index.js';
import { formatDuration } from '../common/duration.js';
import { createJsonLogger, levelRank, type LogLevel } from '../common/log.js';

export interface Renderer {
  event(e: ChaosEvent): void;
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
  close(): void;
}

const short = (id: string) => id.slice(0, 12);

/** Severity of each event, shared by both renderers. */
function levelOf(e: ChaosEvent): LogLevel {
  switch (e.type) {
    case 'action-started':
    case 'waiting':
    case 'cycle-started':
      return 'debug';
    case 'no-targets':
    case 'warning':
      return 'warning';
    case 'action-finished':
      return e.result.outcome === 'failed' ? 'error' : e.result.outcome === 'target-gone' ? 'warning' : 'info';
    case 'recovery':
      return e.results.some((r) => r.outcome === 'failed') ? 'error' : 'info';
    default:
      return 'info';
  }
}

/** One human line per event; `null` when the event says nothing new to a person. */
export function humanLine(e: ChaosEvent): string | null {
  switch (e.type) {
    case 'run-started':
      return `${e.dryRun ? '[dry-run] ' : ''}chaos: ${describeAction(e.action)}${e.intervalMs ? `, every ${formatDuration(e.intervalMs)}` : ''} (seed ${e.seed}; replay picks with --seed ${e.seed})`;
    case 'recovery':
      return e.results
        .map((r) => `${e.dryRun ? '[dry-run] would recover' : 'recovered'} ${r.kind} of ${r.target.name} left by an earlier run: ${r.outcome}${r.error ? ` (${r.error})` : ''}`)
        .join('\n');
    case 'cycle-started':
      return `cycle ${e.cycle}`;
    case 'targets-selected': {
      const skipped = e.skipped.length ? `; protected/ineligible: ${e.skipped.map((s) => `${s.target.name} (${s.reason})`).join(', ')}` : '';
      const unmatched = e.unmatched.length ? `; not found: ${e.unmatched.join(', ')}` : '';
      return `cycle ${e.cycle}: ${e.targets.length} target(s): ${e.targets.map((t) => t.name).join(', ')}${skipped}${unmatched}`;
    }
    case 'no-targets':
      // Pumba's words first: scripts and its tests look for "no containers found".
      return `no containers found (cycle ${e.cycle}${e.unmatched.length ? `; not found: ${e.unmatched.join(', ')}` : ''}) — check the names with \`docker ps\``;
    case 'action-started':
      return `${e.action} ${e.target.name} (${short(e.target.id)})…`;
    case 'fault-held': {
      const verb = e.action === 'pause' ? 'paused' : e.action === 'stop' ? 'stopped' : e.action === 'stress' ? 'stressing' : `${e.action} fault applied to`;
      return `${verb} ${e.target.name}; restoring at ${new Date(e.untilMs).toISOString().slice(11, 23)}Z`;
    }
    case 'action-finished': {
      const r = e.result;
      const name = `${r.target.name} (${short(r.target.id)})`;
      if (r.outcome === 'dry-run') return `[dry-run] would ${r.action} ${name}`;
      if (r.outcome === 'ok') {
        const restore = r.detail?.restore ? ` — ${String(r.detail.restore)}${r.detail.interrupted ? ' early (interrupted)' : ''}` : '';
        const exec = r.action === 'exec' && typeof r.detail?.stdout === 'string' && r.detail.stdout.trim() ? `: ${r.detail.stdout.trim().split('\n').slice(-1)[0]}` : '';
        return `✔ ${r.action} ${name}${restore}${exec}`;
      }
      if (r.outcome === 'target-gone') return `⚠ ${r.action} ${name}: the container is gone`;
      if (r.outcome === 'cancelled') return `⚠ ${r.action} ${name}: not started (cancelled)`;
      return `✖ ${r.action} ${name}: ${r.error?.message ?? 'failed'}`;
    }
    case 'cycle-finished':
      return null;
    case 'waiting':
      return `next cycle at ${new Date(e.untilMs).toISOString().slice(11, 19)}Z`;
    case 'warning':
      return `warning: ${e.message}${e.hint ? ` — ${e.hint}` : ''}`;
    case 'run-finished':
      return `done: ${e.cycles} cycle(s), ${e.ok} ok, ${e.failed} failed${e.interrupted ? ' (stopped by signal; everything restored)' : ''}`;
  }
}

/** `--json`: every event as one NDJSON log line on stdout. */
export function jsonRenderer(level: LogLevel): Renderer {
  const log = createJsonLogger(level);
  const at = (l: LogLevel) => (l === 'warning' ? 'warn' : l === 'panic' ? 'fatal' : l) as 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  return {
    event: (e) => log[at(levelOf(e))]({ event: e.type, ...e }, humanLine(e) ?? e.type),
    debug: (msg, data) => log.debug(data ?? {}, msg),
    info: (msg, data) => log.info(data ?? {}, msg),
    warn: (msg, data) => log.warn(data ?? {}, msg),
    error: (msg, data) => log.error(data ?? {}, msg),
    close: () => log.flush(),
  };
}

/**
 * Human output: one line per event on stdout (errors on stderr), plus, on a terminal only, a
 * live countdown while faults are held or the next cycle is awaited.
 */
export function humanRenderer(level: LogLevel, tty = Boolean(process.stderr.isTTY) && !process.env.CI): Renderer {
  const min = levelRank(level);
  let ticker: NodeJS.Timeout | undefined;
  let statusShown = false;
  const clearStatus = () => {
    if (statusShown) process.stderr.write('\r\x1b[2K');
    statusShown = false;
  };
  const stopTicker = () => {
    if (ticker) clearInterval(ticker);
    ticker = undefined;
    clearStatus();
  };
  const startTicker = (untilMs: number, label: string) => {
    if (!tty) return;
    stopTicker();
    const draw = () => {
      const left = Math.max(0, untilMs - Date.now());
      process.stderr.write(`\r\x1b[2K${label} — ${(left / 1000).toFixed(1)}s left (Ctrl-C restores now)`);
      statusShown = true;
    };
    draw();
    ticker = setInterval(draw, 200);
    ticker.unref();
  };
  const print = (l: LogLevel, line: string) => {
    if (levelRank(l) < min) return;
    clearStatus();
    (levelRank(l) >= levelRank('error') ? process.stderr : process.stdout).write(`${line}\n`);
  };
  let held = 0;
  return {
    event: (e) => {
      if (e.type === 'fault-held') {
        held++;
        startTicker(e.untilMs, `holding ${held} fault(s)`);
      }
      if (e.type === 'action-finished' && held > 0 && e.result.detail?.restore !== undefined) {
        held = Math.max(0, held - 1);
        if (held === 0) stopTicker();
      }
      if (e.type === 'waiting') startTicker(e.untilMs, 'waiting for the next cycle');
      if (e.type === 'cycle-started' || e.type === 'run-finished') stopTicker();
      const line = humanLine(e);
      if (line !== null) print(levelOf(e), line);
    },
    debug: (msg) => print('debug', msg),
    info: (msg) => print('info', msg),
    warn: (msg) => print('warning', `warning: ${msg}`),
    error: (msg) => print('error', msg),
    close: stopTicker,
  };
}
