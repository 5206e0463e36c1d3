import type { DeployEvent } from '../deploy/index.js';

/** One line per event that matters after the fact (the log a CI job keeps); progress-only events give none. */
export function humanEvent(e: DeployEvent): string | null {
  switch (e.type) {
    case 'service-started':
      return `${e.service}: ${e.action} (${e.causes.join('; ')})`;
    case 'replica-started':
      return `  ${e.service}[${e.slot}] started ${e.name} (${e.image})`;
    case 'replica-ready':
      return `  ${e.service}[${e.slot}] ${e.health} after ${(e.ms / 1000).toFixed(1)}s`;
    case 'replica-failed':
      return `  ✖ ${e.service}[${e.slot}] ${e.reason}`;
    case 'replica-removed':
      return `  ${e.service}[${e.slot}] removed ${e.id.slice(0, 12)}`;
    case 'batch-done':
      return `  ${e.service}: ${e.updated}/${e.total} replaced${e.failed ? `, ${e.failed} failed` : ''}`;
    case 'rollback-started':
      return `  ↩ ${e.service}: rolling back — ${e.reason}`;
    case 'service-finished':
      return `${e.outcome === 'ok' ? '✔' : '✖'} ${e.service}: ${e.outcome}${e.detail ? ` — ${e.detail}` : ''}`;
    case 'warning':
      return `warning: ${e.message}`;
    case 'replica-waiting':
    case 'replica-stopping':
      return null;
  }
}

/** A live view on a terminal: not in CI, not on a dumb terminal, only when stdout is a terminal. */
export function wantsLiveProgress(out: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(out.isTTY) && !env.CI && env.TERM !== 'dumb';
}

interface SlotView {
  slot: number;
  /** What the replica is doing, in words. */
  doing: string;
  since: number;
  attempts: number;
  lastCheck?: { exitCode: number; output: string } | undefined;
  settled: boolean;
  /** Ready since (ms), while `monitor` runs. */
  readySince?: number | undefined;
  monitorMs?: number | undefined;
}

interface ServiceView {
  name: string;
  action: string;
  since: number;
  slots: Map<number, SlotView>;
  progress: string;
}

interface Output {
  write(text: string): unknown;
  columns?: number | undefined;
}

/**
 * The live part of `deploy apply` / `deploy rollback` on a terminal: the event log scrolls above,
 * and below it one block per service in progress — each replica's state, healthcheck runs with
 * the last one's exit code and output, and the time waited — redrawn on every event and on a
 * ticker (every `tickMs`), so the clock moves while nothing changes.
 */
export class LiveProgress {
  private readonly services = new Map<string, ServiceView>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Output,
    private readonly now: () => number = Date.now,
    private readonly tickMs = 500,
  ) {}

  start(): this {
    this.timer ??= setInterval(() => this.draw(), this.tickMs);
    return this;
  }

  /** Clears the live block and stops the ticker; the log lines stay. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  /** A line for the log, printed above the live block. */
  line(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
    this.draw();
  }

  event(e: DeployEvent): void {
    const at = 'at' in e ? Date.parse(e.at) || this.now() : this.now();
    switch (e.type) {
      case 'service-started':
        this.services.set(e.service, { name: e.service, action: e.action, since: at, slots: new Map(), progress: '' });
        break;
      case 'service-finished':
        this.services.delete(e.service);
        break;
      case 'batch-done': {
        const s = this.services.get(e.service);
        if (s) s.progress = `${e.updated}/${e.total} replaced${e.failed ? `, ${e.failed} failed` : ''}`;
        break;
      }
      case 'rollback-started': {
        const s = this.services.get(e.service);
        if (s) s.action = 'rolling back';
        break;
      }
      case 'replica-started':
        this.slot(e.service, e.slot, { doing: 'starting', since: at, attempts: 0, lastCheck: undefined, settled: false, readySince: undefined });
        break;
      case 'replica-waiting': {
        const doing = e.health === 'none' ? e.status : `${e.status}, health ${e.health}`;
        const readySince = e.readySince ? Date.parse(e.readySince) : undefined;
        this.slot(e.service, e.slot, { doing, since: Date.parse(e.since) || at, attempts: e.attempts, lastCheck: e.lastCheck, settled: false, readySince, monitorMs: e.monitorMs });
        break;
      }
      case 'replica-ready':
        this.slot(e.service, e.slot, { doing: `${e.health} after ${(e.ms / 1000).toFixed(1)}s`, settled: true });
        break;
      case 'replica-failed':
        this.slot(e.service, e.slot, { doing: 'failed', settled: true });
        break;
      case 'replica-stopping':
        this.slot(e.service, e.slot, { doing: `stopping ${e.id.slice(0, 12)} (grace ${e.graceSeconds}s)`, since: at, settled: false, attempts: 0, lastCheck: undefined, readySince: undefined });
        break;
      case 'replica-removed':
        this.slot(e.service, e.slot, { doing: `removed ${e.id.slice(0, 12)}`, settled: true });
        break;
      case 'warning':
        break;
    }
    const text = humanEvent(e);
    if (text) this.line(text);
    else this.draw();
  }

  /** The live block's lines, as drawn now (exported for tests). */
  render(): string[] {
    const lines: string[] = [];
    const now = this.now();
    for (const s of this.services.values()) {
      lines.push(`  ⋯ ${s.name}: ${s.action}${s.progress ? ` · ${s.progress}` : ''} · ${secs(now - s.since)}`);
      for (const r of [...s.slots.values()].sort((a, b) => a.slot - b.slot)) {
        let text = `      [${r.slot}] ${r.doing}`;
        if (!r.settled) text += ` · waited ${secs(now - r.since)}`;
        // Ready, and must stay so for `monitor` (a failure within it still counts).
        if (!r.settled && r.readySince !== undefined && r.monitorMs) text += ` · monitoring ${secs(now - r.readySince)} of ${secs(r.monitorMs)}`;
        if (r.attempts) text += ` · ${r.attempts} check${r.attempts === 1 ? '' : 's'}`;
        if (r.lastCheck && !r.settled) text += ` · last exit ${r.lastCheck.exitCode}${r.lastCheck.output ? `: ${r.lastCheck.output}` : ''}`;
        lines.push(text);
      }
    }
    return lines;
  }

  private slot(service: string, slot: number, update: Partial<SlotView>): void {
    const s = this.services.get(service);
    if (!s) return;
    const prev = s.slots.get(slot) ?? { slot, doing: '', since: this.now(), attempts: 0, settled: false };
    s.slots.set(slot, { ...prev, ...update });
  }

  private draw(): void {
    this.clear();
    const width = Math.max(20, (this.out.columns || Number(process.env.COLUMNS) || 80) - 1);
    // Lines never wrap, so the block can be cleared by counting them.
    const lines = this.render().map((l) => ([...l].length > width ? `${[...l].slice(0, width - 1).join('')}…` : l));
    if (lines.length) this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }

  private clear(): void {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }
}

const secs = (ms: number) => `${Math.max(0, Math.floor(ms / 1000))}s`;
