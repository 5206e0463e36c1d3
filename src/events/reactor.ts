import { restUnlessAborted } from '../common/abort.js';
import { systemClock, type Clock } from '../common/clock.js';
import { errorMessage } from '../common/errors.js';
import type { Engine, EngineEvent } from '../engine/index.js';
import type { Cursor, CursorFile } from './cursor.js';
import type { ActionDeps } from './actions.js';
import { eventKey } from './filters.js';
import { DIE_EVENT_LAG_NS, missedDies, SYNTHESIZED } from './catchup.js';
import { describeEvent, fireRule, type FiringEnv, type FiringRecord } from './firing.js';
import { needsEngine, ruleMatches, unionEngineFilters, wantsDeaths } from './match.js';
import { createLimiter, Watermark } from './reactor-queue.js';
import type { Rule, RuleSet } from './rules.js';
import { compareNano, msToNano, nanoToMs } from './time.js';
import type { KibokoEvent, EventBus as KibokoEventSource } from './types.js';
import { watchEvents } from './watch.js';

export type { FiringOutcome, FiringRecord } from './firing.js';

export type ReactorNotice =
  | { type: 'connected'; since: string }
  | { type: 'disconnected'; error: string; retryInMs: number; attempt: number }
  | { type: 'catch-up'; since: string; from: 'cursor' | 'since' | 'now'; clamped: boolean }
  | { type: 'firing'; firing: FiringRecord }
  | { type: 'warning'; message: string };

export interface ReactorOptions {
  /** kiboko's own events (the daemon's bus, or the deploy-history poller). */
  bus?: KibokoEventSource | undefined;
  /** Persistent position: catch up from it at start, advance it as firings finish. */
  cursor?: CursorFile | undefined;
  /** Start here (unix nanoseconds) instead of the cursor. */
  since?: string | undefined;
  /** Never replay more than this far back (default 1 h); older cursors are clamped, with a warning. */
  maxCatchupMs?: number | undefined;
  dryRun?: boolean | undefined;
  /** Firings running at once (default 4). */
  concurrency?: number | undefined;
  /** How long `stop()` lets running actions finish before cancelling them (default 10 s). */
  graceMs?: number | undefined;
  clock?: Clock | undefined;
  /** Action dependencies beyond the engine (fetch, rollback, render, lifecycle). */
  actions?: Omit<ActionDeps, 'engine'> | undefined;
  onNotice?: ((n: ReactorNotice) => void) | undefined;
  /** Reconnect backoff of the engine stream. */
  backoff?: { initialMs: number; maxMs: number } | undefined;
}

export interface Reactor {
  /** Settles when the reactor has stopped (rejects when the event stream failed for good). */
  readonly done: Promise<void>;
  /** Stops listening, lets running actions finish within the grace period, saves the cursor. */
  stop(graceMs?: number): Promise<void>;
  /** Feeds one of kiboko's own events (library callers without a bus). */
  push(e: KibokoEvent): void;
  [Symbol.asyncDispose](): Promise<void>;
}

const MAX_REMEMBERED = 10_000;
/** Open windows kept in the cursor (the newest). */
const MAX_WINDOWS = 10_000;

/**
 * Runs rules against the engine's events and kiboko's own: each event fires each matching rule
 * once (events are keyed by time, type, id and action, across reconnects and restarts), actions
 * run with bounded concurrency and a time limit each, and the cursor advances only past events
 * whose firings have finished — so a crash or an engine restart replays what was not done yet.
 */
export function startReactor(engine: Engine, ruleSet: RuleSet | readonly Rule[], options: ReactorOptions = {}): Reactor {
  return new ReactorRun(engine, 'rules' in ruleSet ? ruleSet.rules : ruleSet, options).start();
}

/** Where a run starts reading events, and what it already knows happened there. */
interface StartingPoint {
  since: string;
  seen: string[];
  alreadyFired: Set<string>;
}

/** One running reactor: its position, its windows, its queue of firings. */
class ReactorRun {
  private readonly clock: Clock;
  private readonly listen = new AbortController();
  private readonly cancelActions = new AbortController();
  private readonly firing: FiringEnv;
  private readonly limiter: ReturnType<typeof createLimiter>;
  private readonly remembered = new Set<string>();
  private readonly watermark = new Watermark();
  private dirty = false;
  private stopping: Promise<void> | undefined;
  private readonly since: string;
  private readonly seen: string[];
  /** Firings that finished for events beyond the cursor (several run at once): never run again. */
  private readonly alreadyFired: Set<string>;
  /** Window decisions (scope → event time) of the events the cursor has passed. */
  private readonly committed: Map<string, number>;
  private readonly lastFired: Map<string, number>;
  private readonly windowOf: Map<string, number>;
  /**
   * A death is its container and finish time. The catch-up already merges the engine's replay
   * with the deaths rebuilt from container state (mergeCatchUp); a rebuilt death whose real
   * `die` event was logged only after the replay ended arrives once more, live, just after its
   * finish time: that one is the same death.
   */
  private readonly rebuiltDeaths = new Map<string, bigint>();
  private flushTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly rules: readonly Rule[],
    private readonly options: ReactorOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.firing = { clock: this.clock, dryRun: options.dryRun, cancel: this.cancelActions.signal, deps: { engine, ...options.actions } };
    this.limiter = createLimiter(options.concurrency ?? 4);
    const now = this.clock.now();
    const saved = options.cursor?.read();
    ({ since: this.since, seen: this.seen, alreadyFired: this.alreadyFired } = this.startingPoint(now, saved));
    for (const k of this.seen) this.remember(k);
    this.watermark.done = { timeNano: this.since, keys: [...this.seen] };
    // Debounce and once-per windows as they stood at the cursor: a replay decides as a live run did.
    this.committed = new Map<string, number>(saved && !options.since ? Object.entries(saved.windows ?? {}) : []);
    this.lastFired = new Map(this.committed);
    this.watermark.onPassed = (decisions) => {
      for (const [scope, at] of decisions) this.committed.set(scope, at);
    };
    this.windowOf = new Map(this.rules.map((r) => [r.name, ruleWindow(r)]));
  }

  start(): Reactor {
    // A new rules file has its cursor before the first event arrives: a crash before the first
    // firing still replays from here, not from the next start.
    this.saveCursor(true);
    this.flushTimer = setInterval(() => this.saveCursor(), 1000);
    this.flushTimer.unref();
    this.unsubscribe = this.options.bus?.subscribe((e) => {
      if (!this.stopping) this.handle(e, false);
    });
    const running = this.engineLoop();
    const done = (async () => {
      try {
        await running;
      } finally {
        // Whatever ended the stream, the reactor winds down the same way.
        await (this.stopping ??= this.windDown(this.options.graceMs ?? 10_000));
      }
    })();
    done.catch(() => undefined);
    const stop = async (graceMs?: number) => {
      this.stopping ??= this.windDown(graceMs ?? this.options.graceMs ?? 10_000);
      await this.stopping;
      await done.catch(() => undefined);
    };
    return {
      done,
      stop,
      push: (e) => {
        if (!this.stopping) this.handle(e, false);
      },
      [Symbol.asyncDispose]: () => stop(),
    };
  }

  private notice(n: ReactorNotice): void {
    this.options.onNotice?.(n);
  }

  /** Where to start: an explicit since, else the cursor (bounded by max-catchup), else now. */
  private startingPoint(now: number, saved: Cursor | undefined): StartingPoint {
    const { options } = this;
    const maxCatchupMs = options.maxCatchupMs ?? 3_600_000;
    const floor = msToNano(now - maxCatchupMs);
    if (options.since) {
      this.notice({ type: 'catch-up', since: options.since, from: 'since', clamped: false });
      return { since: options.since, seen: [], alreadyFired: new Set() };
    }
    if (saved) {
      const clamped = compareNano(saved.timeNano, floor) < 0;
      const since = clamped ? floor : saved.timeNano;
      this.notice({ type: 'catch-up', since, from: 'cursor', clamped });
      if (clamped) this.notice({ type: 'warning', message: `the cursor is older than --max-catchup (${new Date(nanoToMs(saved.timeNano)).toISOString()}); events before ${new Date(nanoToMs(floor)).toISOString()} are not replayed` });
      return { since, seen: clamped ? [] : saved.keys, alreadyFired: new Set(saved.fired ?? []) };
    }
    const since = msToNano(now);
    this.notice({ type: 'catch-up', since, from: 'now', clamped: false });
    return { since, seen: [], alreadyFired: new Set() };
  }

  private remember(key: string): void {
    this.remembered.add(key);
    if (this.remembered.size > MAX_REMEMBERED) this.remembered.delete(this.remembered.values().next().value!);
  }

  /** Firings a previous run finished beyond its cursor, for events not passed yet: still done, still saved. */
  private carriedFired(): string[] {
    const { done } = this.watermark;
    return [...this.alreadyFired].filter((f) => {
      const key = f.slice(0, f.indexOf('#'));
      const order = compareNano(key.slice(0, key.indexOf('|')), done.timeNano);
      return order > 0 || (order === 0 && !done.keys.includes(key));
    });
  }

  /** The windows still open at the cursor (a window's scope starts with its rule's name). */
  private openWindows(): Record<string, number> {
    const doneMs = nanoToMs(this.watermark.done.timeNano);
    const open = [...this.committed].filter(([scope, at]) => {
      const w = this.windowOf.get(scope.slice(0, scope.indexOf('\0'))) ?? 0;
      return w > 0 && Math.abs(doneMs - at) < w;
    });
    return Object.fromEntries(open.slice(-MAX_WINDOWS));
  }

  private saveCursor(force = false): void {
    const { cursor } = this.options;
    if (!cursor || this.options.dryRun || (!this.dirty && !force)) return;
    this.dirty = false;
    try {
      cursor.write({ ...this.watermark.done, fired: [...new Set([...this.watermark.firedAhead(), ...this.carriedFired()])], windows: this.openWindows() });
    } catch (err) {
      this.notice({ type: 'warning', message: errorMessage(err) });
    }
  }

  /**
   * Decides which rules fire for an event and queues them; returns how many were queued.
   * `onSettled` runs when a firing has finished — before its record is announced, so a cursor
   * saved there already says it happened.
   */
  private dispatch(e: EngineEvent, key: string, decisions: [string, number][], onSettled: (rule: string) => void): number {
    let queued = 0;
    for (const rule of this.rules) {
      if (!ruleMatches(rule, e)) continue;
      // Windows are measured on the events' own times, as a distance (never negative).
      const at = nanoToMs(e.timeNano);
      const scope = scopeKey(rule, e, key);
      const last = this.lastFired.get(scope);
      const window = ruleWindow(rule);
      if (this.alreadyFired.has(`${key}#${rule.name}`)) {
        // Fired before a crash: not again, but its window counts as it did then.
        this.lastFired.set(scope, at);
        decisions.push([scope, at]);
        continue;
      }
      const base = { rule: rule.name, event: describeEvent(e, key), startedAt: new Date(this.clock.now()).toISOString() };
      if (last !== undefined && window > 0 && Math.abs(at - last) < window) {
        this.notice({ type: 'firing', firing: { ...base, outcome: 'debounced', actions: [], ms: 0 } });
        continue;
      }
      this.lastFired.set(scope, at);
      decisions.push([scope, at]);
      queued++;
      void this.limiter(() => fireRule(rule, e, key, this.firing)).then((record) => {
        // Cancelled by a shutdown: not done, so the cursor stays before it and it runs next time.
        if (record && record.outcome !== 'cancelled') onSettled(rule.name);
        if (record) this.notice({ type: 'firing', firing: record });
      });
    }
    return queued;
  }

  private sameDeath(e: EngineEvent): boolean {
    if (e.type !== 'container' || e.action !== 'die') return false;
    const t = BigInt(e.timeNano);
    if (e.attributes[SYNTHESIZED] === 'true') {
      this.rebuiltDeaths.set(e.id, t);
      if (this.rebuiltDeaths.size > MAX_REMEMBERED) this.rebuiltDeaths.delete(this.rebuiltDeaths.keys().next().value!);
      return false;
    }
    const finished = this.rebuiltDeaths.get(e.id);
    if (finished === undefined) return false;
    this.rebuiltDeaths.delete(e.id);
    return t >= finished && t - finished < DIE_EVENT_LAG_NS;
  }

  /** One event from either source: the engine's (and rebuilt deaths) in time order, the bus's as they come. */
  private handle(e: EngineEvent, fromEngine: boolean): void {
    const key = eventKey(e);
    if (this.remembered.has(key)) return;
    this.remember(key);
    const duplicate = this.sameDeath(e);
    if (!fromEngine) {
      const decisions: [string, number][] = [];
      if (!duplicate) this.dispatch(e, key, decisions, () => undefined);
      for (const [scope, at] of decisions) this.committed.set(scope, at);
      return;
    }
    const { watermark } = this;
    if (duplicate) {
      // Nothing to fire, but the cursor moves past it like past any other event.
      watermark.add(e.timeNano, key);
      if (watermark.advance()) this.dirty = true;
      return;
    }
    const entry = watermark.add(e.timeNano, key);
    entry.pending = this.dispatch(e, key, entry.decisions, (rule) => {
      entry.pending--;
      entry.fired.push(rule);
      watermark.advance();
      this.dirty = true;
      this.saveCursor();
    });
    if (watermark.advance()) this.dirty = true;
  }

  private async engineLoop(): Promise<void> {
    const { rules, engine, options, listen, since } = this;
    if (!needsEngine(rules)) {
      await restUnlessAborted(Number.POSITIVE_INFINITY, listen.signal);
      return;
    }
    const stream = watchEvents(engine, {
      filters: unionEngineFilters(rules),
      since,
      seen: this.seen,
      // Deaths the engine cannot replay (it lost its buffer in a restart) are rebuilt from state.
      ...(wantsDeaths(rules) ? { catchUp: (from: string) => missedDies(engine, from).catch(() => []) } : {}),
      signal: listen.signal,
      clock: this.clock,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      onState: (s) => this.notice(s.state === 'connected' ? { type: 'connected', since: s.since ?? since } : { type: 'disconnected', error: s.error, retryInMs: s.retryInMs, attempt: s.attempt }),
    });
    for await (const e of stream) {
      if (listen.signal.aborted) break;
      this.handle(e, true);
    }
  }

  private async windDown(graceMs: number): Promise<void> {
    this.listen.abort();
    this.unsubscribe?.();
    const { limiter } = this;
    const idle = limiter.idle();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace'>((resolve) => (timer = setTimeout(() => resolve('grace'), graceMs)));
    const first = await Promise.race([idle.then(() => 'idle' as const), graceOver]);
    clearTimeout(timer);
    if (first === 'grace') {
      this.notice({ type: 'warning', message: `actions still running after ${Math.round(graceMs / 1000)}s: cancelling them (their events replay on the next start)` });
      limiter.drop();
      this.cancelActions.abort();
      await limiter.idle();
    }
    clearInterval(this.flushTimer);
    this.saveCursor();
  }
}

const scopeKey = (rule: Rule, e: EngineEvent, key: string) => `${rule.name}\0${rule.oncePer === 'container' ? e.id : rule.oncePer === 'rule' ? '' : key}`;

/** A rule's window: its debounce, else forever for once_per container/rule, else none. */
function ruleWindow(rule: Rule): number {
  return rule.debounceMs ?? (rule.oncePer === 'event' ? 0 : Number.POSITIVE_INFINITY);
}
