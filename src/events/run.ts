import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errorMessage, KibokoError } from '../common/errors.js';
import type { DeployStore } from '../deploy/index.js';
import type { Engine } from '../engine/index.js';
import { CursorFile } from './cursor.js';
import { pollDeployHistory } from './deploy-source.js';
import { needsKiboko } from './match.js';
import { startReactor, type Reactor, type ReactorNotice, type ReactorOptions } from './reactor.js';
import { loadRulesFile, type Action, type RuleSet } from './rules.js';
import { nanoToMs } from './time.js';
import { busSource, type BusEventLike, type EventBus } from './types.js';

export interface RulesReactorOptions extends Omit<ReactorOptions, 'cursor' | 'bus' | 'actions'> {
  /** State folder: `events/<rules>-<hash>.cursor.json` and `.firings.ndjson` live under it. */
  stateDir: string;
  /**
   * kiboko's own events: the daemon's bus (`src/server/bus.ts`, deploy jobs and chaos
   * experiments), or, when absent, the deploy history polled from the state folder.
   */
  bus?: { subscribe(listener: (e: BusEventLike) => void): () => void } | undefined;
  /** Append every firing, whatever its outcome (ok, failed, cancelled, debounced, dry-run), to the firing log (default true). */
  logFirings?: boolean | undefined;
}

export interface RulesReactor extends Reactor {
  rules: RuleSet;
  cursorPath: string;
  firingLogPath: string;
}

/**
 * A reactor for a rules file, with everything `kiboko react` and `kiboko serve --rules` need:
 * a cursor per rules file (catch-up after a crash or an engine restart), an NDJSON firing log
 * beside it, rollbacks through the deploy history, renders through the template library.
 */
export function startRulesReactor(engine: Engine, rulesFile: string, options: RulesReactorOptions): RulesReactor {
  const rules = loadRulesFile(rulesFile);
  const name = CursorFile.nameFor(rulesFile);
  const cursor = new CursorFile(options.stateDir, name);
  const firingLogPath = join(options.stateDir, 'events', `${name}.firings.ndjson`);
  const log = options.logFirings === false ? undefined : firingLog(firingLogPath, (m) => options.onNotice?.({ type: 'warning', message: m }));
  let store: DeployStore | undefined;
  const openStore = async () => (store ??= new (await import('../deploy/index.js')).DeployStore(options.stateDir));
  const stop = new AbortController();
  let bus: EventBus | undefined;
  if (options.bus) bus = busSource(options.bus);
  else if (needsKiboko(rules.rules, 'deploy')) {
    // Deploys that finished since the reactor last stopped (bounded like the engine's catch-up).
    const saved = cursor.read();
    const floor = Date.now() - (options.maxCatchupMs ?? 3_600_000);
    const sinceMs = options.since ? nanoToMs(options.since) : saved ? Math.max(floor, nanoToMs(saved.timeNano)) : Date.now();
    let poller: EventBus | undefined;
    bus = {
      subscribe(listener) {
        let unsubscribe: (() => void) | undefined;
        void openStore().then((s) => {
          if (stop.signal.aborted) return;
          poller = pollDeployHistory(s, { sinceMs, signal: stop.signal, onError: (err) => options.onNotice?.({ type: 'warning', message: `deploy history: ${errorMessage(err)}` }) });
          unsubscribe = poller.subscribe(listener);
        });
        return () => unsubscribe?.();
      },
    };
  }
  const onNotice = (n: ReactorNotice) => {
    if (n.type === 'firing' && log) log({ ...n.firing });
    options.onNotice?.(n);
  };
  const reactor = startReactor(engine, rules, {
    ...options,
    cursor,
    bus,
    onNotice,
    actions: {
      rollback: async (project, to, signal) => {
        const { rollbackProject } = await import('../deploy/index.js');
        const run = await rollbackProject(engine, await openStore(), project, { to, signal });
        if (run.result.outcome !== 'ok') throw new KibokoError('ACTION_FAILED', `rollback of ${project} to revision ${run.target}: ${run.result.outcome}`);
        return `rolled back ${project} to revision ${run.target} (now revision ${run.revision})`;
      },
      render: (action, container, signal) => renderAction(engine, action, container, signal),
    },
  });
  const finish = () => {
    stop.abort();
    store?.close();
    store = undefined;
  };
  void reactor.done.then(finish, finish);
  return { ...reactor, rules, cursorPath: cursor.path, firingLogPath };
}

/** One NDJSON line per firing; rotated at 10 MB (one old file kept). */
function firingLog(path: string, warn: (message: string) => void) {
  return (record: Record<string, unknown>) => {
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      if ((statSync(path, { throwIfNoEntry: false })?.size ?? 0) > 10 * 1024 * 1024) renameSync(path, `${path}.1`);
      appendFileSync(path, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`, { mode: 0o600 });
    } catch (err) {
      warn(`cannot write the firing log ${path}: ${errorMessage(err)}`);
    }
  };
}

const short = (id: string) => (/^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id);

/** The `render` action: the template library, once, on the host or into one container. */
async function renderAction(engine: Engine, action: Extract<Action, { kind: 'render' }>, container: string | undefined, signal: AbortSignal): Promise<string> {
  const t = await import('../template/index.js');
  const backend = await t.openBackend({
    backend: action.backend,
    ...(action.options.file ? { files: action.options.file.split(',') } : {}),
    ...(action.options.node ? { nodes: action.options.node.split(',') } : {}),
  });
  try {
    const summary = await t.runTemplate({
      backend,
      render: t.renderWithGoTemplate,
      confdir: action.confdir,
      ...(action.options.prefix ? { prefix: action.options.prefix } : {}),
      mode: 'onetime',
      signal,
      ...(container ? { containers: { engine, query: { names: [container], patterns: [], labels: [] }, selection: { selfId: null } } } : {}),
    });
    if (summary.failed) {
      const why = summary.last.filter((r) => r.error).map((r) => `${r.resource}: ${r.error!.message}`);
      throw new KibokoError('ACTION_FAILED', `render ${action.confdir}: ${summary.failed} failed${why.length ? ` (${why.join('; ')})` : ''}`);
    }
    return `rendered ${action.confdir}${container ? ` into ${short(container)}` : ''}: ${summary.changed} changed`;
  } finally {
    await backend.close();
  }
}
