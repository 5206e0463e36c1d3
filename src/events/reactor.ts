import { systemClock, type Clock } from '../common/clock.js';
import { asKibokoError, errorMessage } from '../common/errors.js';
import type { Engine, EngineEvent } from '../engine/index.js';
import { runAction, withTimeout, type ActionDeps } from './actions.js';
import type { CursorFile } from './cursor.js';
import { eventKey } from './filters.js';
import { eventContext } from './interpolate.js';
import { DIE_EVENT_LAG_NS, missedDies, SYNTHESIZED } from './catchup.js';
import { needsEngine, ruleMatches, unionEngineFilters, wantsDeaths } from './match.js';
import type { Rule, RuleSet } from './rules.js';
import { compareNano, msToNano, nanoToMs } from './time.js';
import type { KibokoEvent, EventBus as KibokoEventSource } from './types.js';
import { watchEvents } from './watch.js';

export type FiringOutcome = 'ok' | 'failed' | 'cancelled' | 'dry-run' | 'debounced';

/** One rule firing for one event: the NDJSON line `kiboko react` logs. */
export interface FiringRecord {
  rule: string;
  event: { key: string; type: string; action: string; id: string; name?: string | undefined; time: string };
  outcome: FiringOutcome;
  actions: { kind: string; outcome: 'ok' | 'failed' | 'timeout' | 'cancelled' | 'skipped' | 'dry-run'; detail?: string | undefined; error?: string | undefined; ms: number }[];
  startedAt: string;
  ms: number;
}

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
  const rules = 'rules' in ruleSet ? ruleSet.rules : ruleSet;
  const clock = options.clock ?? systemClock;
  const notice = (n: ReactorNotice) => options.onNotice?.(n);
  const listen = new AbortController();
  const cancelActions = new AbortController();
  const deps: ActionDeps = { engine, ...options.actions };
  const limiter = createLimiter(options.concurrency ?? 4);
  const remembered = new Set<string>();
  const watermark = new Watermark();
  let dirty = false;
  let stopping: Promise<void> | undefined;

  // Where to start: an explicit since, else the cursor (bounded by max-catchup), else now.
  const now = clock.now();
  const saved = options.cursor?.read();
  const maxCatchupMs = options.maxCatchupMs ?? 3_600_000;
  const floor = msToNano(now - maxCatchupMs);
  let since: string;
  let seen: string[] = [];
  // Firings that finished for events beyond the cursor (several run at once): never run again.
  let alreadyFired = new Set<string>();
  if (options.since) {
    since = options.since;
    notice({ type: 'catch-up', since, from: 'since', clamped: false });
  } else if (saved) {
    const clamped = compareNano(saved.timeNano, floor) < 0;
    since = clamped ? floor : saved.timeNano;
    seen = clamped ? [] : saved.keys;
    alreadyFired = new Set(saved.fired ?? []);
    notice({ type: 'catch-up', since, from: 'cursor', clamped });
    if (clamped) notice({ type: 'warning', message: `the cursor is older than --max-catchup (${new Date(nanoToMs(saved.timeNano)).toISOString()}); events before ${new Date(nanoToMs(floor)).toISOString()} are not replayed` });
  } else {
    since = msToNano(now);
    notice({ type: 'catch-up', since, from: 'now', clamped: false });
  }
  for (const k of seen) remember(k);
  watermark.done = { timeNano: since, keys: [...seen] };
  // Debounce and once-per windows as they stood at the cursor: a replay decides as a live run did.
  const committed = new Map<string, number>(saved && !options.since ? Object.entries(saved.windows ?? {}) : []);
  const lastFired = new Map(committed);
  watermark.onPassed = (decisions) => {
    for (const [scope, at] of decisions) committed.set(scope, at);
  };

  function remember(key: string) {
    remembered.add(key);
    if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.values().next().value!);
  }

  /** Firings a previous run finished beyond its cursor, for events not passed yet: still done, still saved. */
  const carriedFired = (): string[] =>
    [...alreadyFired].filter((f) => {
      const key = f.slice(0, f.indexOf('#'));
      const order = compareNano(key.slice(0, key.indexOf('|')), watermark.done.timeNano);
      return order > 0 || (order === 0 && !watermark.done.keys.includes(key));
    });
  const windowOf = new Map(rules.map((r) => [r.name, ruleWindow(r)]));
  /** The windows still open at the cursor (a window's scope starts with its rule's name). */
  const openWindows = (): Record<string, number> => {
    const doneMs = nanoToMs(watermark.done.timeNano);
    const open = [...committed].filter(([scope, at]) => {
      const w = windowOf.get(scope.slice(0, scope.indexOf('\0'))) ?? 0;
      return w > 0 && Math.abs(doneMs - at) < w;
    });
    return Object.fromEntries(open.slice(-MAX_WINDOWS));
  };
  const saveCursor = (force = false) => {
    if (!options.cursor || options.dryRun || (!dirty && !force)) return;
    dirty = false;
    try {
      options.cursor.write({ ...watermark.done, fired: [...new Set([...watermark.firedAhead(), ...carriedFired()])], windows: openWindows() });
    } catch (err) {
      notice({ type: 'warning', message: errorMessage(err) });
    }
  };
  // A new rules file has its cursor before the first event arrives: a crash before the first
  // firing still replays from here, not from the next start.
  saveCursor(true);
  const flushTimer = setInterval(saveCursor, 1000);
  flushTimer.unref();

  const scopeKey = (rule: Rule, e: EngineEvent, key: string) => `${rule.name}\0${rule.oncePer === 'container' ? e.id : rule.oncePer === 'rule' ? '' : key}`;

  /**
   * Decides which rules fire for an event and queues them; returns how many were queued.
   * `onSettled` runs when a firing has finished — before its record is announced, so a cursor
   * saved there already says it happened.
   */
  const dispatch = (e: EngineEvent, key: string, decisions: [string, number][], onSettled: (rule: string) => void): number => {
    let queued = 0;
    for (const rule of rules) {
      if (!ruleMatches(rule, e)) continue;
      // Windows are measured on the events' own times, as a distance (never negative).
      const at = nanoToMs(e.timeNano);
      const scope = scopeKey(rule, e, key);
      const last = lastFired.get(scope);
      const window = ruleWindow(rule);
      if (alreadyFired.has(`${key}#${rule.name}`)) {
        // Fired before a crash: not again, but its window counts as it did then.
        lastFired.set(scope, at);
        decisions.push([scope, at]);
        continue;
      }
      const base = { rule: rule.name, event: describeEvent(e, key), startedAt: new Date(clock.now()).toISOString() };
      if (last !== undefined && window > 0 && Math.abs(at - last) < window) {
        notice({ type: 'firing', firing: { ...base, outcome: 'debounced', actions: [], ms: 0 } });
        continue;
      }
      lastFired.set(scope, at);
      decisions.push([scope, at]);
      queued++;
      void limiter(() => fire(rule, e, key)).then((record) => {
        // Cancelled by a shutdown: not done, so the cursor stays before it and it runs next time.
        if (record && record.outcome !== 'cancelled') onSettled(rule.name);
        if (record) notice({ type: 'firing', firing: record });
      });
    }
    return queued;
  };

  const fire = async (rule: Rule, e: EngineEvent, key: string): Promise<FiringRecord> => {
    const started = clock.now();
    const ctx = eventContext(e, rule.name);
    const record: FiringRecord = { rule: rule.name, event: describeEvent(e, key), outcome: 'ok', actions: [], startedAt: new Date(started).toISOString(), ms: 0 };
    for (const action of rule.actions) {
      const t0 = clock.now();
      if (options.dryRun) {
        record.actions.push({ kind: action.kind, outcome: 'dry-run', detail: describeAction(action, ctx), ms: 0 });
        record.outcome = 'dry-run';
        continue;
      }
      if (record.outcome !== 'ok') {
        record.actions.push({ kind: action.kind, outcome: 'skipped', ms: 0 });
        continue;
      }
      const timeoutMs = action.timeoutMs ?? rule.timeoutMs;
      try {
        const out = await withTimeout(timeoutMs, cancelActions.signal, `${rule.name}: ${action.kind}`, (signal) => runAction(action, ctx, deps, signal, timeoutMs));
        record.actions.push({ kind: action.kind, outcome: 'ok', detail: out.detail, ms: clock.now() - t0 });
      } catch (err) {
        const k = asKibokoError(err);
        const outcome = k.code === 'TIMEOUT' ? 'timeout' : k.code === 'CANCELLED' ? 'cancelled' : 'failed';
        record.actions.push({ kind: action.kind, outcome, error: k.message, ms: clock.now() - t0 });
        record.outcome = outcome === 'cancelled' ? 'cancelled' : 'failed';
      }
    }
    record.ms = clock.now() - started;
    return record;
  };

  /**
   * A death is its container and finish time. The catch-up already merges the engine's replay
   * with the deaths rebuilt from container state (mergeCatchUp); a rebuilt death whose real
   * `die` event was logged only after the replay ended arrives once more, live, just after its
   * finish time: that one is the same death.
   */
  const rebuiltDeaths = new Map<string, bigint>();
  const sameDeath = (e: EngineEvent): boolean => {
    if (e.type !== 'container' || e.action !== 'die') return false;
    const t = BigInt(e.timeNano);
    if (e.attributes[SYNTHESIZED] === 'true') {
      rebuiltDeaths.set(e.id, t);
      if (rebuiltDeaths.size > MAX_REMEMBERED) rebuiltDeaths.delete(rebuiltDeaths.keys().next().value!);
      return false;
    }
    const finished = rebuiltDeaths.get(e.id);
    if (finished === undefined) return false;
    rebuiltDeaths.delete(e.id);
    return t >= finished && t - finished < DIE_EVENT_LAG_NS;
  };

  /** One event from either source: the engine's (and rebuilt deaths) in time order, the bus's as they come. */
  const handle = (e: EngineEvent, fromEngine: boolean) => {
    const key = eventKey(e);
    if (remembered.has(key)) return;
    remember(key);
    const duplicate = sameDeath(e);
    if (!fromEngine) {
      const decisions: [string, number][] = [];
      if (!duplicate) dispatch(e, key, decisions, () => undefined);
      for (const [scope, at] of decisions) committed.set(scope, at);
      return;
    }
    if (duplicate) {
      // Nothing to fire, but the cursor moves past it like past any other event.
      watermark.add(e.timeNano, key);
      if (watermark.advance()) dirty = true;
      return;
    }
    const entry = watermark.add(e.timeNano, key);
    entry.pending = dispatch(e, key, entry.decisions, (rule) => {
      entry.pending--;
      entry.fired.push(rule);
      watermark.advance();
      dirty = true;
      saveCursor();
    });
    if (watermark.advance()) dirty = true;
  };

  const unsubscribe = options.bus?.subscribe((e) => {
    if (!stopping) handle(e, false);
  });

  const engineLoop = async () => {
    if (!needsEngine(rules)) {
      await new Promise<void>((resolve) => listen.signal.addEventListener('abort', () => resolve(), { once: true }));
      return;
    }
    const stream = watchEvents(engine, {
      filters: unionEngineFilters(rules),
      since,
      seen,
      // Deaths the engine cannot replay (it lost its buffer in a restart) are rebuilt from state.
      ...(wantsDeaths(rules) ? { catchUp: (from: string) => missedDies(engine, from).catch(() => []) } : {}),
      signal: listen.signal,
      clock,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      onState: (s) => notice(s.state === 'connected' ? { type: 'connected', since: s.since ?? since } : { type: 'disconnected', error: s.error, retryInMs: s.retryInMs, attempt: s.attempt }),
    });
    for await (const e of stream) {
      if (listen.signal.aborted) break;
      handle(e, true);
    }
  };

  const running = engineLoop();
  const done = (async () => {
    try {
      await running;
    } finally {
      // Whatever ended the stream, the reactor winds down the same way.
      await (stopping ??= windDown(options.graceMs ?? 10_000));
    }
  })();
  done.catch(() => undefined);

  async function windDown(graceMs: number): Promise<void> {
    listen.abort();
    unsubscribe?.();
    const idle = limiter.idle();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace'>((resolve) => (timer = setTimeout(() => resolve('grace'), graceMs)));
    const first = await Promise.race([idle.then(() => 'idle' as const), graceOver]);
    clearTimeout(timer);
    if (first === 'grace') {
      notice({ type: 'warning', message: `actions still running after ${Math.round(graceMs / 1000)}s: cancelling them (their events replay on the next start)` });
      limiter.drop();
      cancelActions.abort();
      await limiter.idle();
    }
    clearInterval(flushTimer);
    saveCursor();
  }

  const stop = async (graceMs?: number) => {
    stopping ??= windDown(graceMs ?? options.graceMs ?? 10_000);
    await stopping;
    await done.catch(() => undefined);
  };

  return {
    done,
    stop,
    push: (e) => {
      if (!stopping) handle(e, false);
    },
    [Symbol.asyncDispose]: () => stop(),
  };
}

/** A rule's window: its debounce, else forever for once_per container/rule, else none. */
function ruleWindow(rule: Rule): number {
  return rule.debounceMs ?? (rule.oncePer === 'event' ? 0 : Number.POSITIVE_INFINITY);
}

function describeEvent(e: EngineEvent, key: string): FiringRecord['event'] {
  return { key, type: e.type, action: e.action, id: e.id, ...(e.attributes.name ? { name: e.attributes.name } : {}), time: new Date(nanoToMs(e.timeNano)).toISOString() };
}

function describeAction(action: Rule['actions'][number], ctx: ReturnType<typeof eventContext>): string {
  switch (action.kind) {
    case 'notify':
      return `would POST to ${action.url.render(ctx).replace(/^(https?:\/\/[^/]+).*$/, '$1/…')}: ${action.text.render(ctx)}`;
    case 'exec':
      return `would exec ${JSON.stringify(action.cmd.map((c) => c.render(ctx)))} in ${action.container.render(ctx)}`;
    case 'restart':
      return `would restart ${action.container.render(ctx)}`;
    case 'lifecycle':
      return `would run lifecycle ${action.method} in ${action.container.render(ctx)}`;
    case 'render':
      return `would render ${action.confdir}${action.container ? ` into ${action.container.render(ctx)}` : ''}`;
    case 'rollback':
      return `would roll back ${action.project.render(ctx)}${action.to ? ` to revision ${action.to}` : ''}`;
  }
}

/**
 * Events in arrival order with the number of firings still running for each; `done` is the
 * newest event before which everything has finished — what the cursor may say.
 */
class Watermark {
  private readonly queue: { timeNano: string; key: string; pending: number; fired: string[]; decisions: [string, number][] }[] = [];
  done: { timeNano: string; keys: string[] } = { timeNano: '0', keys: [] };
  /** Called with the window decisions (scope, event time) of each event `done` moves past. */
  onPassed: (decisions: readonly [string, number][]) => void = () => undefined;

  add(timeNano: string, key: string) {
    const entry = { timeNano, key, pending: 0, fired: [] as string[], decisions: [] as [string, number][] };
    this.queue.push(entry);
    return entry;
  }

  /** `<event key>#<rule>` of the firings that finished for events still beyond `done`. */
  firedAhead(): string[] {
    return this.queue.flatMap((e) => e.fired.map((rule) => `${e.key}#${rule}`));
  }

  /** Moves `done` past finished events at the head; true when it moved. */
  advance(): boolean {
    let moved = false;
    while (this.queue.length && this.queue[0]!.pending <= 0) {
      const head = this.queue.shift()!;
      this.onPassed(head.decisions);
      const order = compareNano(head.timeNano, this.done.timeNano);
      if (order > 0) this.done = { timeNano: head.timeNano, keys: [head.key] };
      else if (order === 0) this.done = { timeNano: head.timeNano, keys: [...this.done.keys, head.key] };
      moved = true;
    }
    return moved;
  }
}

/** A queue with at most `limit` tasks running; `idle()` resolves when nothing runs or waits. */
function createLimiter(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  let idleWaiters: (() => void)[] = [];
  const checkIdle = () => {
    if (active === 0 && waiting.length === 0) {
      const ws = idleWaiters;
      idleWaiters = [];
      for (const w of ws) w();
    }
  };
  const run = <T>(task: () => Promise<T>): Promise<T | undefined> =>
    new Promise<T | undefined>((resolve, reject) => {
      const start = () => {
        active++;
        task()
          .then(resolve, reject)
          .finally(() => {
            active--;
            waiting.shift()?.();
            checkIdle();
          });
      };
      if (active < limit) start();
      else waiting.push(start);
    });
  return Object.assign(run, {
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        checkIdle();
      }),
    /** Forgets queued tasks that have not started (they are replayed from the cursor next time). */
    drop: () => {
      waiting.length = 0;
      checkIdle();
    },
  });
}
