import { asKibokoError, errorSummary } from '../common/errors.js';
import { nextRun, type Schedule, type WatchEvent, type WatchReport } from '../watch/index.js';
import type { EventBus } from './bus.js';

/** One pass as the daemon runs it; the CLI builds it (registry client, credentials, notifications). */
export type WatchPassRunner = (options: { signal: AbortSignal; onEvent: (e: WatchEvent) => void }) => Promise<WatchReport>;

export interface WatchServiceOptions {
  run: WatchPassRunner;
  bus?: EventBus | undefined;
  /** Periodic passes (the first one at start); undefined: only on demand (POST /v1/watch/run). */
  schedule?: Schedule | undefined;
  /** Reports kept for GET /v1/watch/reports (default 20). */
  keep?: number | undefined;
  log?: ((level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void) | undefined;
  now?: (() => number) | undefined;
  /** After the last pass has ended (closes what the passes used). */
  onClose?: (() => void) | undefined;
}

export interface WatchTrigger {
  /** The pass this request will be answered by. */
  pass: number;
  /** True when a pass was already running: this request joined the one pass queued behind it. */
  coalesced: boolean;
  done: Promise<WatchReport | undefined>;
}

/**
 * `kiboko serve --watch`: watch passes inside the daemon — on the schedule and on demand, one at
 * a time (requests during a pass fold into one pass after it) — their events on the bus
 * (`watch.*`) and the newest reports kept for the API and the dashboard.
 */
export class WatchService {
  private readonly kept: WatchReport[] = [];
  private readonly stop = new AbortController();
  private running: { pass: number; done: Promise<WatchReport | undefined> } | undefined;
  private queued: { pass: number; done: Promise<WatchReport | undefined> } | undefined;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: WatchServiceOptions) {}

  /** Starts the schedule: a pass now, then one after each pass as the schedule says. */
  start(): void {
    if (this.o.schedule) void this.trigger('schedule');
  }

  /** The newest reports first. */
  reports(): WatchReport[] {
    return [...this.kept].reverse();
  }

  get passRunning(): boolean {
    return this.running !== undefined;
  }

  trigger(reason: 'schedule' | 'api' = 'api'): WatchTrigger {
    if (this.closed) return { pass: 0, coalesced: false, done: Promise.resolve(undefined) };
    if (!this.running && !this.queued) {
      const pass = ++this.seq;
      const done = this.execute(pass, reason);
      this.running = { pass, done };
      return { pass, coalesced: false, done };
    }
    if (!this.queued) {
      const pass = ++this.seq;
      const before = this.running!.done;
      const done = before.then(() => {
        this.queued = undefined;
        if (this.closed) return undefined;
        const p = this.execute(pass, reason);
        this.running = { pass, done: p };
        return p;
      });
      this.queued = { pass, done };
    }
    return { pass: this.queued.pass, coalesced: true, done: this.queued.done };
  }

  private async execute(pass: number, reason: string): Promise<WatchReport | undefined> {
    clearTimeout(this.timer);
    const bus = this.o.bus;
    const onEvent = (e: WatchEvent) => {
      if (!bus) return;
      if (e.type === 'pass-started') bus.publish('watch.pass.started', { pass, trigger: reason, targets: e.targets }, e.at);
      else if (e.type === 'item') bus.publish('watch.item', { pass, item: e.item }, e.at);
      else if (e.type === 'pull-retry') bus.publish('watch.pull.retry', { pass, image: e.image, attempt: e.attempt, waitMs: e.waitMs, reason: e.reason }, e.at);
      else if (e.type === 'warning') bus.publish('watch.warning', { pass, message: e.message }, e.at);
      else if (e.type === 'pass-finished') bus.publish('watch.pass.finished', { pass, report: e.report }, e.at);
      // pull-progress stays off the bus: one line per layer per tick would crowd out everything else.
    };
    let report: WatchReport | undefined;
    try {
      report = await this.o.run({ signal: this.stop.signal, onEvent });
      this.kept.push(report);
      const keep = this.o.keep ?? 20;
      if (this.kept.length > keep) this.kept.splice(0, this.kept.length - keep);
      this.o.log?.('info', 'watch pass finished', { pass, checked: report.checked, newer: report.newer, updated: report.updated, rolledBack: report.rolledBack, failed: report.failed });
    } catch (err) {
      const e = asKibokoError(err);
      bus?.publish('watch.pass.failed', { pass, error: errorSummary(e) });
      this.o.log?.('warn', 'watch pass failed', { pass, error: e.message });
    } finally {
      if (this.running?.pass === pass) this.running = undefined;
      this.arm();
    }
    return report;
  }

  private arm(): void {
    if (this.closed || !this.o.schedule || this.running || this.queued) return;
    const wait = nextRun(this.o.schedule, (this.o.now ?? Date.now)());
    if (!Number.isFinite(wait)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.trigger('schedule'), Math.min(wait, 2 ** 31 - 1));
    this.timer.unref();
  }

  /**
   * SIGTERM: no new passes; the running one is cancelled — pulls stop, a container update in
   * progress is rolled back (the old container back under its name), a deploy finishes its batch
   * and rolls back — and awaited.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.stop.abort(new Error('the daemon is shutting down'));
    await this.running?.done;
    await this.queued?.done;
    this.o.onClose?.();
  }
}
