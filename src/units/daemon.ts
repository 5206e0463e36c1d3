import { asKibokoError, KibokoError } from '../common/errors.js';
import type { Engine, EngineSystemInfo } from '../engine/index.js';
import { UNIT_LABEL } from './container.js';
import { EngineRegistry, type LogFn, type ReconcilingRegistry } from './engine-registry.js';
import { SwarmRegistry } from './swarm-registry.js';

export interface UnitsDaemonOptions {
  engine: Engine;
  stateDir: string;
  /** `docker`: units are containers; `swarm`: Swarm services. Default: Swarm when the engine is a manager. */
  backend?: 'docker' | 'swarm' | undefined;
  allowAnyExecStart?: boolean | undefined;
  /** Host paths units may bind-mount (default none; true: any). */
  hostMounts?: import('./container.js').HostMountPolicy | undefined;
  /** This machine's fleet metadata (the docker backend; on Swarm a machine's metadata is its node's labels). */
  metadata?: Readonly<Record<string, string>> | undefined;
  log?: LogFn | undefined;
  /** Periodic reconcile while the engine answers (default 10 s). */
  resyncMs?: number | undefined;
  /** Reconnect attempts while it does not (default 1 s). */
  retryMs?: number | undefined;
  /** How long a liveness check waits for the engine (default 3 s). */
  pingTimeoutMs?: number | undefined;
}

export interface EngineHealth {
  /** `connected (Docker 24.0.7, API 1.43)` or `unreachable`. */
  status: string;
  reachable: boolean;
  /** When the engine was last seen to change between reachable and unreachable (ISO). */
  since: string;
  error?: string | undefined;
}

export interface UnitsDaemon {
  registry: ReconcilingRegistry;
  backend: 'docker' | 'swarm';
  /** A live check of the engine (and the last known state of the reconnect loop). */
  health(): Promise<{ engine: EngineHealth; units: { backend: 'docker' | 'swarm' } }>;
  /** Whether the engine answered the last check (no I/O). */
  engineReachable(): boolean;
  /** Stops the loops (waiting for a reconcile in progress) and closes the store. */
  close(): Promise<void>;
}

type Ping = { ok: true; info: EngineSystemInfo; version: string } | { ok: false; error: string };

/**
 * The units side of `kiboko serve`: picks the backend, reconciles units at start ("recover":
 * launched units that are not running are launched again, nothing duplicated), every resync
 * interval, and again as soon as the engine is back after going away (the engine's event stream
 * breaking is how a dockerd restart is noticed at once). The daemon keeps serving throughout.
 */
export async function startUnitsDaemon(o: UnitsDaemonOptions): Promise<UnitsDaemon> {
  const log: LogFn = o.log ?? (() => undefined);
  const resyncMs = o.resyncMs ?? 10_000;
  const retryMs = o.retryMs ?? 1000;
  const ping = (timeoutMs = o.pingTimeoutMs ?? 3000) => pingEngine(o.engine, timeoutMs);

  const first = await ping();
  const backend = chooseBackend(o, first, log);
  const options = { allowAnyExecStart: o.allowAnyExecStart, hostMounts: o.hostMounts, metadata: o.metadata, log };
  const registry: ReconcilingRegistry = backend === 'swarm' ? new SwarmRegistry(o.engine, options) : new EngineRegistry(o.engine, o.stateDir, options);

  const ac = new AbortController();
  let state: EngineHealth = { status: 'unknown', reachable: false, since: new Date().toISOString() };
  let needRecover = true;
  const observe = (p: Ping) => {
    if (p.ok) {
      if (!state.reachable) log('info', 'engine connected', { endpoint: o.engine.endpoint, version: p.version });
      state = { status: `connected (${p.version})`, reachable: true, since: state.reachable ? state.since : new Date().toISOString() };
    } else {
      if (state.reachable || state.status === 'unknown') log('warn', 'engine unreachable', { endpoint: o.engine.endpoint, error: p.error });
      if (state.reachable || state.status === 'unknown') state = { status: 'unreachable', reachable: false, since: new Date().toISOString(), error: p.error };
      else state = { ...state, error: p.error };
      needRecover = true;
    }
  };
  observe(first);

  let wake = () => undefined as void;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        ac.signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      wake = done;
      ac.signal.addEventListener('abort', done, { once: true });
    });

  // The event stream breaks the moment the engine goes away: the loop then retries every retryMs.
  let watching = false;
  const watchEvents = () => {
    if (watching || ac.signal.aborted) return;
    watching = true;
    void (async () => {
      try {
        for await (const e of o.engine.events({ signal: ac.signal, filters: { type: ['container'], label: [UNIT_LABEL] } })) void e;
      } catch (err) {
        if (!ac.signal.aborted) observe({ ok: false, error: asKibokoError(err).message });
      } finally {
        watching = false;
        if (!ac.signal.aborted) wake();
      }
    })();
  };

  const loop = (async () => {
    let p: Ping = first;
    while (!ac.signal.aborted) {
      if (p.ok) {
        watchEvents();
        const mode = needRecover ? 'recover' : 'periodic';
        needRecover = false;
        try {
          await registry.reconcileAll(mode);
        } catch (err) {
          const e = asKibokoError(err);
          log('warn', 'reconcile failed', { mode, error: e.message });
          if (e.code === 'ENGINE_UNREACHABLE') observe({ ok: false, error: e.message });
        }
      }
      if (ac.signal.aborted) break;
      await sleep(state.reachable ? resyncMs : retryMs);
      if (ac.signal.aborted) break;
      p = await ping();
      observe(p);
    }
  })();

  return {
    registry,
    backend,
    engineReachable: () => state.reachable,
    async health() {
      const p = await ping(1500);
      const wasDown = !state.reachable;
      observe(p);
      if (p.ok && wasDown) wake(); // reconcile now rather than at the next retry
      return { engine: { ...state }, units: { backend } };
    },
    async close() {
      ac.abort();
      wake();
      await loop;
      await registry.settled(); // stops and destroys already answered finish before the store closes
      registry.close();
    },
  };
}

/** The engine's host facts and version, or why it did not answer within `timeoutMs`. */
async function pingEngine(engine: Engine, timeoutMs: number): Promise<Ping> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const [info, v] = await Promise.race([
      Promise.all([engine.systemInfo(), engine.info()]),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new KibokoError('ENGINE_UNREACHABLE', `no answer from ${engine.endpoint} within ${timeoutMs} ms`)), timeoutMs);
        timer.unref?.();
      }),
    ]);
    return { ok: true, info, version: `Docker ${v.serverVersion}, API ${v.negotiatedApiVersion}` };
  } catch (err) {
    return { ok: false, error: asKibokoError(err).message };
  } finally {
    clearTimeout(timer);
  }
}

/** The backend asked for, or Swarm on a manager and containers elsewhere; Swarm asked of a non-manager is refused, and --metadata on Swarm is said to have no effect. */
function chooseBackend(o: UnitsDaemonOptions, first: Ping, log: LogFn): 'docker' | 'swarm' {
  let backend = o.backend;
  if (!backend) {
    backend = first.ok && first.info.isManager ? 'swarm' : 'docker';
    if (!first.ok) log('warn', 'the engine is unreachable at start; running units as containers (give --engine swarm for a Swarm manager)', { error: first.error });
  }
  if (backend === 'swarm' && first.ok && !first.info.isManager) {
    throw new KibokoError('CONFLICT', `the engine at ${o.engine.endpoint} is not a Swarm manager`, { hint: 'run kiboko serve on a manager node, or use --engine docker' });
  }
  if (backend === 'swarm' && Object.keys(o.metadata ?? {}).length) {
    log('warn', "--metadata has no effect on Swarm: the machines are the Swarm nodes, and a machine's metadata is its node's labels", { hint: 'docker node update --label-add KEY=VALUE NODE' });
  }
  return backend;
}
