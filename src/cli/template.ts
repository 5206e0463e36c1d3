import { existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '../common/duration.js';
import { invalidArgument, type KibokoError } from '../common/errors.js';
import { createJsonLogger, levelRank, parseLogLevel, type LogLevel } from '../common/log.js';
import { connectEngine } from '../engine/index.js';
import { parseTargetArgs } from '../targets/index.js';
import type { ApplyResult, TemplateEvent } from '../template/index.js';
import { connectionFlags, parseConcurrency } from './options.js';
import type { TemplateOptions } from './template-options.js';
import { installSignalHandlers } from './signals.js';


/** `--interval 60` (confd: whole seconds) or `--interval 30s`. */
export function parseInterval(value: string): number {
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : parseDuration(text, '--interval');
  if (ms <= 0) throw invalidArgument(`invalid --interval '${value}': expected more than 0`, 'e.g. --interval 60 (seconds) or --interval 30s');
  return ms;
}

const SYMBOL: Partial<Record<ApplyResult['outcome'], string>> = {
  reloaded: '✔',
  written: '✔',
  noop: '~',
  unchanged: '=',
  'check-failed': '✖',
  'reload-failed-restored': '✖',
  failed: '✖',
  cancelled: '⚠',
};

function where(r: ApplyResult): string {
  return `${r.resource} → ${r.dest}${r.target === 'host' ? '' : ` in ${r.target}`}`;
}

export function humanResult(r: ApplyResult): string {
  const s = SYMBOL[r.outcome] ?? '·';
  switch (r.outcome) {
    case 'unchanged':
      return `${s} ${where(r)}: unchanged`;
    case 'noop':
      return `${s} ${where(r)}: would change (${r.reasons.join(', ')})\n${r.diff ?? ''}`.trimEnd();
    case 'written':
    case 'reloaded': {
      const extra = [r.atomic === false ? 'written in place (not atomic)' : 'replaced atomically', r.outcome === 'reloaded' ? 'reloaded' : undefined].filter(Boolean).join(', ');
      return `${s} ${where(r)}: ${r.reasons.join(', ')} — ${extra}`;
    }
    default:
      return `${s} ${where(r)}: ${r.error?.message ?? r.outcome}${r.error?.hint ? ` — ${r.error.hint}` : ''}`;
  }
}

function levelOf(e: TemplateEvent): LogLevel {
  switch (e.type) {
    case 'result':
      return e.result.outcome === 'unchanged' ? 'debug' : e.result.outcome === 'cancelled' ? 'warning' : e.result.error ? 'error' : 'info';
    case 'render-failed':
      return 'error';
    case 'notice':
      return 'warning';
    case 'change':
    case 'cycle-started':
    case 'cycle-finished':
    case 'targets':
      return 'debug';
    default:
      return 'info';
  }
}

function humanEvent(e: TemplateEvent): string | null {
  switch (e.type) {
    case 'run-started':
      return `template: ${e.resources.length} resource(s) from the ${e.backend} backend, ${e.mode === 'onetime' ? 'once' : e.mode}${e.containers ? ', into containers' : ''}`;
    case 'watching':
      return `watching ${e.prefixes.join(', ')}`;
    case 'change':
      return `changed: ${e.keys ? e.keys.join(', ') : 'everything (resync)'}`;
    case 'cycle-started':
      return `render ${e.cycle} (${e.reason}): ${e.resources.join(', ')}`;
    case 'targets':
      return `containers: ${e.selected.join(', ') || 'none'}${e.skipped.length ? `; skipped ${e.skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}` : ''}`;
    case 'result':
      return e.result.outcome === 'failed' && e.result.resource !== '*' && e.result.target === '*' ? null : humanResult(e.result);
    case 'render-failed':
      return `✖ ${e.resource} → ${e.dest}: ${e.error.message}${e.error.hint ? ` — ${e.error.hint}` : ''}`;
    case 'notice':
      return `warning: ${e.message}`;
    case 'cycle-finished':
      return `render ${e.cycle}: ${e.changed} changed, ${e.failed} failed (${e.ms} ms)`;
    case 'run-finished':
      return e.interrupted ? `stopped after ${e.cycles} render(s)` : null;
  }
}

/** The JSON form of an event: results are flattened, with the outcome as the event name. */
export function jsonEvent(e: TemplateEvent): Record<string, unknown> {
  const err = (x: KibokoError | undefined) => (x ? x.toJSON() : undefined);
  if (e.type === 'result') {
    const { error, check, reload, restoreReload, ...rest } = e.result;
    return {
      event: e.result.outcome,
      ...rest,
      ...(error ? { error: err(error) } : {}),
      ...(check ? { check: { exitCode: check.exitCode, timedOut: check.timedOut, ms: check.ms, output: check.output } } : {}),
      ...(reload ? { reload: { exitCode: reload.exitCode, timedOut: reload.timedOut, ms: reload.ms, output: reload.output } } : {}),
      ...(restoreReload ? { restoreReload: { exitCode: restoreReload.exitCode, timedOut: restoreReload.timedOut, ms: restoreReload.ms } } : {}),
    };
  }
  if (e.type === 'render-failed') return { event: e.type, resource: e.resource, dest: e.dest, error: err(e.error) };
  const { type, ...rest } = e;
  return { event: type, ...rest };
}

/** As confd: -onetime wins over -watch (confd's scripts run `-onetime -watch`); flags override confd.toml. */
export function templateMode(o: Pick<TemplateOptions, 'onetime' | 'watch'>, fileConfig: { onetime?: boolean | undefined; watch?: boolean | undefined }): 'onetime' | 'watch' | 'interval' {
  if (o.onetime ?? fileConfig.onetime) return 'onetime';
  return (o.watch ?? fileConfig.watch) ? 'watch' : 'interval';
}

/** confd's default config file: read whatever -confdir says. */
export const CONFD_CONFIG_FILE = '/etc/confd/confd.toml';

/**
 * Which confd.toml to read, in order: --config-file (must exist); else confd's
 * /etc/confd/confd.toml; else, kiboko's documented fallback, <confdir>/confd.toml (each optional).
 */
export function configCandidates(configFile: string | undefined, confdir: string | undefined, defaultFile = CONFD_CONFIG_FILE): { path: string; required: boolean }[] {
  if (configFile !== undefined) return [{ path: configFile, required: true }];
  const fallback = join(confdir ?? '/etc/confd', 'confd.toml');
  return fallback === defaultFile ? [{ path: defaultFile, required: false }] : [{ path: defaultFile, required: false }, { path: fallback, required: false }];
}

async function loadConfig<C extends object>(configFile: string | undefined, confdir: string | undefined, load: (path: string, required: boolean) => Promise<C>, defaultFile = CONFD_CONFIG_FILE): Promise<C> {
  for (const c of configCandidates(configFile, confdir, defaultFile)) {
    if (!c.required && !existsSync(c.path)) continue;
    return load(c.path, c.required);
  }
  return {} as C;
}

/** confd's node defaults when none is given: etcd → $ETCDCTL_PEERS (comma-separated), else http://127.0.0.1:4001; etcdv3 → 127.0.0.1:2379. */
export function defaultNodes(backend: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const b = backend.trim().toLowerCase();
  if (b === 'etcd') {
    const peers = (env.ETCDCTL_PEERS ?? '').split(',').map((p) => p.trim()).filter(Boolean);
    return peers.length ? peers : ['http://127.0.0.1:4001'];
  }
  if (b === 'etcdv3') return ['127.0.0.1:2379'];
  return [];
}

export async function runTemplateCommand(o: TemplateOptions): Promise<number> {
  const t = await import('../template/index.js');
  const json = Boolean(o.json);

  const confdirFlag = o.confdir;
  const configFile = o.configFile;
  const fileConfig = await loadConfig(configFile, confdirFlag, t.loadConfdConfig);
  const level = parseLogLevel(o.logLevel ?? fileConfig.logLevel, 'info');
  const log = json ? createJsonLogger(level) : undefined;
  const print = (l: LogLevel, line: string) => {
    if (levelRank(l) < levelRank(level)) return;
    (levelRank(l) >= levelRank('error') ? process.stderr : process.stdout).write(`${line}\n`);
  };
  const emit = (e: TemplateEvent) => {
    const l = levelOf(e);
    if (log) {
      const at = l === 'warning' ? 'warn' : l === 'panic' ? 'fatal' : l;
      (log[at as 'info'] as (obj: object, msg: string) => void)(jsonEvent(e), humanEvent(e)?.split('\n')[0] ?? e.type);
    } else {
      const line = humanEvent(e);
      if (line !== null) print(l, line);
    }
  };

  const mode = templateMode(o, fileConfig);
  const intervalText = o.interval;
  const intervalMs = intervalText ? parseInterval(intervalText) : (fileConfig.interval ?? 600) * 1000;
  const wait = o.wait ? t.parseWait(o.wait) : undefined;
  if (wait && mode !== 'watch') throw invalidArgument('--wait works with --watch', 'add --watch, or drop --wait');
  const checkTimeoutMs = o.checkTimeout ? parseDuration(o.checkTimeout, '--check-timeout') : undefined;
  const reloadTimeoutMs = o.reloadTimeout ? parseDuration(o.reloadTimeout, '--reload-timeout') : undefined;

  const backendName = o.backend ?? fileConfig.backend ?? 'etcd';
  const nodes = o.node ?? fileConfig.nodes ?? [];
  const backend = await t.openBackend({
    backend: backendName,
    nodes: nodes.length ? nodes : defaultNodes(backendName),
    files: o.file ?? fileConfig.file ?? [],
    filter: o.filter ?? fileConfig.filter,
    clientCert: o.clientCert ?? fileConfig.clientCert ?? process.env.CONFD_CLIENT_CERT,
    clientKey: o.clientKey ?? fileConfig.clientKey ?? process.env.CONFD_CLIENT_KEY,
    clientCaKeys: o.clientCaKeys ?? fileConfig.clientCaKeys ?? process.env.CONFD_CLIENT_CAKEYS,
    username: o.username ?? fileConfig.username,
    password: o.password ?? process.env.KIBOKO_ETCD_PASSWORD ?? fileConfig.password,
  });

  const containerArgs = o.container;
  const labels = o.label ?? [];
  if (!containerArgs && labels.length) throw invalidArgument('--label selects containers for --container', "add --container 're2:.' to write into every container with the label");
  const containers = containerArgs
    ? {
        engine: await connectEngine(connectionFlags(o)),
        query: parseTargetArgs(containerArgs, labels),
        concurrency: o.concurrency === undefined ? 8 : parseConcurrency(o.concurrency),
      }
    : undefined;

  const signals = installSignalHandlers((m) => (log ? log.warn(m) : process.stderr.write(`${m}\n`)));
  // A third Ctrl-C exits at once; staged host files must not be left behind even then.
  const onExit = () => {
    for (const f of t.stagedFilesInFlight()) if (f.target === 'host') {
      try {
        unlinkSync(f.path);
      } catch {
        /* already gone */
      }
    }
  };
  process.on('exit', onExit);
  try {
    const summary = await t.runTemplate({
      backend,
      render: t.renderWithGoTemplate,
      confdir: confdirFlag ?? fileConfig.confdir ?? '/etc/confd',
      prefix: o.prefix ?? fileConfig.prefix,
      mode,
      intervalMs,
      wait,
      apply: { noop: Boolean(o.noop ?? fileConfig.noop), syncOnly: Boolean(o.syncOnly ?? fileConfig.syncOnly), checkTimeoutMs, reloadTimeoutMs },
      containers,
      signal: signals.signal,
      onEvent: emit,
    });
    if (mode === 'onetime') return summary.interrupted ? 130 : summary.failed > 0 ? 1 : 0;
    return summary.failed > 0 && summary.interrupted === false ? 1 : 0;
  } finally {
    signals.dispose();
    process.off('exit', onExit);
    await backend.close();
    containers?.engine.close();
    log?.flush();
  }
}
