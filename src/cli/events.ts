import { onAbort } from '../common/abort.js';
import { parseDuration } from '../common/duration.js';
import { errorMessage, invalidArgument } from '../common/errors.js';
import { connectEngine, type EngineEvent } from '../engine/index.js';
import { defaultStateDir } from '../journal/index.js';
import { connectionFlags, parseConcurrency } from './options.js';
import { onStopSignals } from './signals.js';
import { onStdoutClosed, writeOut } from './stdout.js';
import type { EventsOptions } from './events-options.js';

const short = (id: string) => (/^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id);
const stderr = (line: string) => process.stderr.write(`${line}\n`);
const jsonLine = (o: Record<string, unknown>) => writeOut(`${JSON.stringify({ time: new Date().toISOString(), ...o })}\n`);

/** `kiboko events`: the engine's events (and kiboko's deploys with `--filter type=deploy`), as `docker events` shows them. */
export async function runEvents(o: EventsOptions<'events'>): Promise<number> {
  const ev = await import('../events/index.js');
  const filters = ev.parseFilterArgs(o.filter ?? []);
  const now = Date.now();
  const since = o.since === undefined ? undefined : ev.parseEventTime(o.since, now, '--since');
  const until = o.until === undefined ? undefined : ev.parseEventTime(o.until, now, '--until');
  const format = o.format === undefined ? undefined : ev.compileTemplate(o.format);
  // --json: exactly what `docker events --format '{{json .}}'` prints, kiboko's events alike.
  const print = (e: EngineEvent) => {
    if (o.json) writeOut(`${ev.dockerEventJson(e)}\n`);
    else if (format) writeOut(`${format.render(ev.eventContext(e))}\n`);
    else writeOut(`${ev.humanEventLine(e)}\n`);
  };
  const controller = new AbortController();
  const stopSignals = onStopSignals(() => controller.abort());
  // `kiboko events | head -1`: the reader left, so the stream ends quietly (exit 0).
  const stopClosed = onStdoutClosed(() => controller.abort());
  const dispose = () => (stopSignals(), stopClosed());
  const engine = await connectEngine(connectionFlags(o));
  const tasks: Promise<void>[] = [];
  try {
    if (filters.type?.includes('deploy')) {
      const { DeployStore } = await import('../deploy/index.js');
      const store = new DeployStore(o.stateDir ?? defaultStateDir());
      const source = ev.pollDeployHistory(store, { sinceMs: since ? ev.nanoToMs(since) : now, signal: controller.signal, onError: (err) => stderr(`kiboko: deploy history: ${errorMessage(err)}`) });
      const unsubscribe = source.subscribe((e) => {
        if (ev.matchesFilters(e, filters) && (!until || ev.compareNano(e.timeNano, until) <= 0)) print(e);
      });
      tasks.push(
        new Promise<void>((resolve) => {
          // The poller's timer does not hold the process open; this does, until the end.
          const alive = setTimeout(() => controller.abort(), until ? Math.max(0, ev.nanoToMs(until) - Date.now()) : 2 ** 31 - 1);
          const end = () => (clearTimeout(alive), unsubscribe(), store.close(), resolve());
          onAbort(controller.signal, end);
        }),
      );
    }
    if (ev.wantsEngineEvents(filters)) {
      tasks.push(
        (async () => {
          const stream = ev.watchEvents(engine, {
            filters: ev.engineFilters(filters),
            since,
            until,
            signal: controller.signal,
            onState: (s) => {
              if (s.state === 'disconnected') stderr(`kiboko: engine unreachable (${s.error}); reconnecting in ${(s.retryInMs / 1000).toFixed(1)}s`);
            },
          });
          for await (const e of stream) print(e);
          // The engine stream ended (until passed): so does everything else.
          controller.abort();
        })(),
      );
    }
    await Promise.all(tasks);
    return 0;
  } finally {
    dispose();
    engine.close();
  }
}

/** `kiboko react RULES.yaml` (and/or `--deps`): runs until SIGINT/SIGTERM. */
export async function runReact(o: EventsOptions<'react'>, rulesFile: string | undefined): Promise<number> {
  const ev = await import('../events/index.js');
  if (!rulesFile && !o.deps) throw invalidArgument('no rules file given', 'kiboko react rules.yaml (or --deps -p PROJECT to keep dependents configured)');
  const stateDir = o.stateDir ?? defaultStateDir();
  const json = Boolean(o.json);
  const dryRun = Boolean(o.dryRun);
  const maxCatchupMs = o.maxCatchup === undefined ? undefined : parseDuration(o.maxCatchup, '--max-catchup');
  const graceMs = o.grace === undefined ? 10_000 : parseDuration(o.grace, '--grace');
  const concurrency = o.concurrency === undefined ? 4 : parseConcurrency(o.concurrency);
  const since = o.since === undefined ? undefined : ev.parseEventTime(o.since, Date.now(), '--since');
  const say = (level: 'info' | 'warn' | 'error', event: string, human: string | null, data: Record<string, unknown> = {}) => {
    if (json) jsonLine({ level, event, ...data, ...(human ? { msg: human } : {}) });
    else if (human) (level === 'info' ? (l: string) => writeOut(`${l}\n`) : stderr)(human);
  };

  const engine = await connectEngine(connectionFlags(o));
  const stopping = new AbortController();
  const waits: Promise<void>[] = [];
  // Runs until a signal, even when nothing else holds the process open (rules on deploy events only).
  const alive = setInterval(() => undefined, 2 ** 30);
  const dispose = onStopSignals(() => {
    say('info', 'stopping', `stopping: letting running actions finish (up to ${Math.round(graceMs / 1000)}s)…`);
    stopping.abort();
  });
  try {
    if (rulesFile) {
      let count = 0;
      const reactor = ev.startRulesReactor(engine, rulesFile, {
        stateDir,
        since,
        maxCatchupMs,
        dryRun,
        concurrency,
        graceMs,
        onNotice: (n) => {
          switch (n.type) {
            case 'catch-up':
              say('info', 'catch-up', n.from === 'now' ? null : `catching up from ${ev.isoNano(n.since)} (${n.from === 'cursor' ? 'saved cursor' : '--since'}${n.clamped ? ', clamped to --max-catchup' : ''})`, { since: n.since, from: n.from, clamped: n.clamped });
              break;
            case 'connected':
              say('info', 'connected', `listening to ${engine.endpoint} (${count} rule${count === 1 ? '' : 's'}${dryRun ? ', dry run' : ''})`, { endpoint: engine.endpoint, since: n.since });
              break;
            case 'disconnected':
              say('warn', 'disconnected', `engine unreachable (${n.error}); reconnecting in ${(n.retryInMs / 1000).toFixed(1)}s`, { error: n.error, retryInMs: n.retryInMs, attempt: n.attempt });
              break;
            case 'warning':
              say('warn', 'warning', `warning: ${n.message}`, { message: n.message });
              break;
            case 'firing': {
              const f = n.firing;
              const what = `${f.event.type} ${f.event.action} ${f.event.name ?? short(f.event.id)}`;
              const mark = f.outcome === 'ok' ? '✔' : f.outcome === 'dry-run' ? '·' : f.outcome === 'debounced' ? '⋯' : '✖';
              const details = f.actions.map((a) => `${a.kind}: ${a.detail ?? a.error ?? a.outcome}`).join('; ');
              say(f.outcome === 'failed' ? 'error' : 'info', 'firing', `${mark} ${f.rule}: ${what}${f.outcome === 'debounced' ? ' (debounced)' : ''}${details ? ` — ${details}` : ''}`, { firing: f });
              break;
            }
          }
        },
      });
      count = reactor.rules.rules.length;
      // Also when Ctrl-C came while it was starting.
      onAbort(stopping.signal, () => void reactor.stop(graceMs));
      waits.push(reactor.done);
    }
    if (o.deps) {
      const project = await depsProject(o, stateDir);
      const load = await configLoader(o, stateDir, project);
      const deps = ev.startDependencyReactor(engine, project, {
        load,
        onEvent: (e) => {
          if (e.type === 'pass') {
            for (const r of e.results) {
              const what = r.changed ? `${r.changed} file(s) changed${r.reloaded.length ? `, reloaded ${r.reloaded.join(', ')}` : ''}` : 'up to date';
              say(r.failures.length ? 'error' : 'info', 'dependents', `${r.failures.length ? '✖' : '✔'} ${r.service}: ${what}${r.failures.length ? ` — ${r.failures.join('; ')}` : ''} (${e.reason})`, { reason: e.reason, result: r });
            }
          } else if (e.type === 'warning') say('warn', 'warning', `warning: ${e.message}`, { message: e.message });
          else if (e.type === 'state' && e.state.state === 'disconnected') say('warn', 'disconnected', `engine unreachable (${e.state.error}); reconnecting`, { error: e.state.error });
        },
      });
      say('info', 'deps', `keeping the dependents of project ${project} configured`, { project });
      onAbort(stopping.signal, () => void deps.stop());
      waits.push(deps.done);
    }
    // One part failing for good (e.g. the engine refused the filters) stops the other too.
    await Promise.all(waits.map((w) => w.catch((err: unknown) => (stopping.abort(), Promise.reject(err)))));
    say('info', 'stopped', 'stopped');
    return 0;
  } finally {
    clearInterval(alive);
    dispose();
    engine.close();
  }
}

async function depsProject(o: EventsOptions<'react'>, stateDir: string): Promise<string> {
  if (o.project) return o.project;
  const files = o.file ?? [];
  if (files.length) {
    const d = await import('../deploy/index.js');
    return (await d.loadConfiguration(files)).project;
  }
  const { DeployStore } = await import('../deploy/index.js');
  const store = new DeployStore(stateDir);
  try {
    const ps = store.projects();
    if (ps.length === 1) return ps[0]!;
    throw invalidArgument(ps.length ? `several projects have history (${ps.join(', ')})` : 'no project given and no deploy history', 'name it with -p PROJECT (or -f compose.yaml)');
  } finally {
    store.close();
  }
}

/** The configuration --deps keeps in step: the compose file(s) given, else the latest deployed revision. */
async function configLoader(o: EventsOptions<'react'>, stateDir: string, project: string) {
  const d = await import('../deploy/index.js');
  const files = o.file ?? [];
  if (files.length) return async () => (await d.resolveConfiguration(await connectEngine(connectionFlags(o)), await d.loadConfiguration(files, { projectName: project }))).config;
  return async () => {
    const store = new d.DeployStore(stateDir);
    try {
      const latest = store.list(project, 20).find((r) => r.outcome === 'ok') ?? store.list(project, 1)[0];
      if (!latest) throw invalidArgument(`no deploy history for project ${project}`, 'pass -f compose.yaml, or deploy it first');
      return latest.config;
    } finally {
      store.close();
    }
  };
}
