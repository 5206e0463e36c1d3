import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { connectEngine } from '../engine/index.js';
import { defaultStateDir, Journal } from '../journal/index.js';
import { invalidArgument } from '../common/errors.js';
import { VERSION } from '../common/version.js';
import { jsonLine } from '../common/ndjson.js';
import { connectionFlags } from './options.js';
import type { ServeOptions } from './serve-options.js';

/**
 * `kiboko serve`: one long-running process serving fleet's v1 units API (and, next, the native
 * API) over a unix socket and/or TCP, every endpoint but /healthz behind the bearer token.
 */
export async function runServe(o: ServeOptions): Promise<number> {
  capYoungGeneration();
  const { bindServer, loadOrCreateToken, assertPrivate, createDaemonServices, parseProjectFlag, loadDeployConfig, readSecretFile } = await import('../server/index.js');
  const { startUnitsDaemon, parseMetadata } = await import('../units/index.js');
  const stateDir = o.stateDir ?? defaultStateDir();
  // Refused before anything starts: half a TLS configuration, secrets others can read.
  const tls = serveTls(o);
  const socketGroup = o.socketGroup !== undefined ? resolveGroup(o.socketGroup) : undefined;
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  assertPrivate(stateDir, 'dir'); // it holds the units' Environment= values and the token
  const tokenFile = o.tokenFile ?? join(stateDir, 'serve.token');
  const { token, created } = loadOrCreateToken(tokenFile);
  // Every flag and file is checked before the engine is reached and loops start: a refusal exits at once.
  const backend = o.engine;
  if (backend !== undefined && backend !== 'docker' && backend !== 'swarm') throw invalidArgument(`invalid --engine '${backend}': expected docker or swarm`, 'e.g. --engine swarm');
  const hostMounts = hostMountsOf(o);
  const sse = eventStreamLimits(o);
  // Deploy projects, the deploy hook's secret, and the services behind the native API.
  const deployConfig = o.deployConfig ? loadDeployConfig(o.deployConfig) : { projects: [], webhook: { secret: undefined } };
  const projects = [...deployConfig.projects, ...(o.project ?? []).map((p) => parseProjectFlag(p))];
  const dup = projects.find((p, i) => projects.findIndex((q) => q.name === p.name) !== i);
  if (dup) throw invalidArgument(`project ${dup.name} is configured twice`, 'give each --project (and deploy-config project) its own name');
  const webhookSecret = o.webhookSecretFile ? readSecretFile(o.webhookSecretFile) : deployConfig.webhook.secret;
  // --watch: the same settings as kiboko watch (flags, then WATCHTOWER_* variables), checked before anything starts.
  const watchSetup = o.watch ? await prepareWatch(o, projects) : undefined;
  const log = (level: 'info' | 'warn' | 'error', msg: string, data: Record<string, unknown> = {}) =>
    process.stderr.write(jsonLine(level, typeof data.event === 'string' && /^[a-z][a-z0-9-]*$/.test(data.event) ? data.event : 'log', msg, data));
  // The unix socket is always opened (`kiboko units` finds the daemon there without --endpoint),
  // and every listener is bound before the engine is reached: a taken port or a bad --listen is
  // one line and exit 2 at once, with nothing started behind it.
  const socket = o.socket || join(stateDir, 'kiboko.sock');
  const fleetSocket = o.fleetSocket === undefined ? undefined : o.fleetSocket === true ? '/var/run/fleet.sock' : o.fleetSocket;
  const bound = await bindServer({ listen: o.listen, socket, fleetSocket, socketGroup, tls, log });
  const engine = await connectEngine(connectionFlags(o)).catch(async (err: unknown) => {
    await bound.close();
    throw err;
  });
  const unguard = guardProcess(log);
  // Units: reconciled at start, every 10 s and as soon as the engine is back after a restart.
  const units = await startUnitsDaemon({
    engine,
    stateDir,
    backend,
    allowAnyExecStart: Boolean(o.allowAnyExecStart),
    // Units' bind mounts of host paths: none unless the operator allows them (all, or a list).
    hostMounts,
    metadata: parseMetadata(o.metadata),
    log,
  }).catch(async (err: unknown) => {
    await bound.close();
    throw err;
  });
  const registry = units.registry;
  const services = createDaemonServices({ engine, stateDir, projects });
  const watcher = watchSetup ? await watchSetup.start(engine, stateDir, services, log) : undefined;
  // --rules: the reactor (kiboko react) inside the daemon, hearing its deploy jobs and chaos experiments too.
  const reactor = o.rules ? (await import('../events/index.js')).startRulesReactor(engine, o.rules, { stateDir, bus: services.bus, onNotice: (n) => log(n.type === 'warning' || n.type === 'disconnected' || (n.type === 'firing' && n.firing.outcome === 'failed') ? 'warn' : 'info', `rules: ${n.type}`, { ...n }) }) : undefined;
  const stopAll = async () => {
    // A watch pass in progress is cancelled: its container update rolls back, its deploy finishes its batch.
    await watcher?.close();
    await reactor?.stop();
    // Experiments are stopped (their faults restored) and the running deploy finishes its batch.
    await services.close();
  };
  // toxiproxy's API under /toxiproxy/ (issue 15): its proxies live as long as the daemon.
  const { ProxyCollection, toxiproxyHandler } = await import('../proxy/index.js');
  const { transparentProxyApi } = await import('../chaos/index.js');
  const proxies = new ProxyCollection();
  const proxyJournal = new Journal(stateDir);
  const server = bound.start({
    // `kiboko chaos proxy` faults of this state directory are listed beside the API's own proxies, their toxics changeable.
    toxiproxy: toxiproxyHandler(proxies, { version: `${VERSION} (kiboko)`, ...transparentProxyApi(proxyJournal) }),
    token,
    registry,
    engine,
    sse,
    log,
    health: () => units.health(),
    deploys: services.deploys,
    chaos: services.chaos,
    bus: services.bus,
    watch: watcher,
    webhookSecret,
    engineUp: () => units.engineReachable(),
  });
  // The token itself is never printed (stdout ends up in journald): where it is, is. On a terminal,
  // for a person; otherwise one JSON line for whatever started the daemon.
  const note = created ? `token created in ${tokenFile} (mode 0600)` : undefined;
  if (process.stdout.isTTY) process.stdout.write(listeningText(server.addresses, tokenFile, created));
  else process.stdout.write(jsonLine('info', 'listening', `listening on ${server.addresses.join(', ')}`, { addresses: server.addresses, tokenFile, projects: projects.map((p) => p.name), ...(watcher ? { watch: watchSetup!.describe } : {}), webhook: webhookSecret ? 'hmac' : 'token only', ...(note ? { note } : {}) }));
  await untilStopSignal();
  await stopAll();
  await server.close();
  await proxies.close();
  await units.close();
  log('info', 'stopped');
  unguard();
  return 0;
}

type DaemonLog = (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

/** --allow-host-mounts: units' bind mounts of host paths, none unless the operator allows them (all, or a list). */
function hostMountsOf(o: Pick<ServeOptions, 'allowHostMounts'>): boolean | string[] {
  return o.allowHostMounts === undefined
    ? false
    : o.allowHostMounts === true
      ? true
      : o.allowHostMounts
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean)
          .map((p) => {
            if (!p.startsWith('/')) throw invalidArgument(`--allow-host-mounts: '${p.slice(0, 100)}' is not an absolute host path`, 'e.g. --allow-host-mounts /srv/data,/var/log/app');
            return p;
          });
}

/** --max-event-streams and --max-event-streams-per-client, as the server takes them. */
function eventStreamLimits(o: Pick<ServeOptions, 'maxEventStreams' | 'maxEventStreamsPerClient'>): { maxStreams?: number; maxStreamsPerClient?: number } {
  return {
    ...(o.maxEventStreams !== undefined ? { maxStreams: positive(o.maxEventStreams, '--max-event-streams') } : {}),
    ...(o.maxEventStreamsPerClient !== undefined ? { maxStreamsPerClient: positive(o.maxEventStreamsPerClient, '--max-event-streams-per-client') } : {}),
  };
}

/**
 * The daemon's last line of defence: a rejection or exception nothing handled (a bug) is logged
 * with its stack and the daemon keeps serving, instead of every client losing it at once.
 * Returns what removes the guard.
 */
function guardProcess(log: DaemonLog): () => void {
  const guard = (kind: string) => (err: unknown) => log('error', `${kind} (a bug: please report it)`, { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  const onRejection = guard('unhandled rejection');
  const onException = guard('uncaught exception');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}

/** Resolves at the first SIGTERM or SIGINT. */
function untilStopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

/**
 * Keeps V8's young generation at its initial size for the daemon's lifetime. Left to grow (up to
 * 2 × 16 MB), a burst of short-lived connections — hundreds of slow or hostile clients — grows it
 * and the process keeps that memory until V8's memory reducer runs, often 30–45 s after the load
 * has gone; capped, the same burst costs a few MB, and bench/serve.mjs shows no latency cost (p99 within
 * run-to-run noise) while peak RSS under its load drops from ~119 to ~103 MB (docs/internals.md). `--semi-space-growth-factor` is read each time the
 * young generation would grow, so setting it now takes effect; an operator who sets
 * `--max-semi-space-size` (node flag or NODE_OPTIONS) keeps their choice.
 */
function capYoungGeneration(): void {
  if ([...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => /--max-semi-space-size|--semi-space-growth-factor/.test(a))) return;
  setFlagsFromString('--semi-space-growth-factor=1');
}

/** What a person starting the daemon on a terminal reads: where it listens and where the token is. */
function listeningText(addresses: string[], tokenFile: string, created: boolean): string {
  const tcp = addresses.find((a) => a.startsWith('http'));
  return [
    `kiboko serve ${VERSION}: listening on ${addresses.join(', ')}`,
    `  token:     ${tokenFile}${created ? ' (created now, mode 0600)' : ''} — send it as Authorization: Bearer $(cat ${tokenFile})`,
    ...(tcp ? [`  dashboard: ${tcp}/dashboard`] : []),
    '  stop with Ctrl-C (SIGINT) or SIGTERM',
    '',
  ].join('\n');
}

/**
 * The daemon's own TLS (`--tls-cert`, `--tls-key`, `--tls-client-ca`), all or nothing: half a
 * configuration, or the engine's client-certificate flags given where the daemon's were meant,
 * would silently serve plain HTTP.
 */
function serveTls(o: ServeOptions): { cert: string; key: string; clientCa?: string | undefined } | undefined {
  const { tlsCert: cert, tlsKey: key, tlsClientCa: ca } = o;
  if (cert && !key) throw invalidArgument('--tls-cert was given without --tls-key; kiboko serve will not fall back to plain HTTP', 'give both --tls-cert FILE and --tls-key FILE');
  if (key && !cert) throw invalidArgument('--tls-key was given without --tls-cert; kiboko serve will not fall back to plain HTTP', 'give both --tls-cert FILE and --tls-key FILE');
  if (ca && !cert) throw invalidArgument('--tls-client-ca needs HTTPS', 'give --tls-cert FILE and --tls-key FILE too');
  if (!cert && o.listen && (o.tlscert || o.tlskey) && !/^tcp:|^https?:/.test(o.host ?? process.env.DOCKER_HOST ?? '')) {
    throw invalidArgument('--tlscert/--tlskey are the engine connection’s client certificate (with -H tcp://…), and the engine here is local; kiboko serve would serve plain HTTP', 'to serve HTTPS give --tls-cert FILE and --tls-key FILE');
  }
  return cert && key ? { cert, key, ...(ca ? { clientCa: ca } : {}) } : undefined;
}

/** `--socket-group NAME|GID` → the gid (from /etc/group for a name). */
function resolveGroup(group: string): number {
  if (/^\d{1,10}$/.test(group)) return Number(group);
  let text = '';
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch {
    // no group database: only numeric ids
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid && /^\d+$/.test(gid)) return Number(gid);
  }
  throw invalidArgument(`--socket-group: no group named ${JSON.stringify(group.slice(0, 64))}`, 'give a group name from /etc/group or a numeric gid (e.g. groupadd kiboko)');
}

function positive(v: unknown, flag: string): number {
  const n = Number(v);
  if (!/^\d{1,7}$/.test(String(v)) || n < 1) throw invalidArgument(`invalid ${flag} '${String(v).slice(0, 20)}': expected a whole number from 1`, `e.g. ${flag} 100`);
  return n;
}

/**
 * `serve --watch`: the watch settings (flags over WATCHTOWER_* variables, as kiboko watch reads
 * them), validated up front; `start` recovers container updates a killed daemon left mid-way and
 * starts the passes (the first one at once, then on the schedule).
 */
async function prepareWatch(o: ServeOptions, projects: readonly import('../server/index.js').ProjectDef[]) {
  const w = await import('../watch/index.js');
  const { mergeWatchSettings, watchOptionsFrom, scheduleFrom, passRunner } = await import('./watch.js');
  const settings = mergeWatchSettings(o, w);
  const watchOptions = watchOptionsFrom(settings, projects.map((p) => ({ files: p.paths, name: p.name, tagPolicies: p.tagPolicies })), []);
  const schedule = scheduleFrom(settings, w);
  return {
    describe: { schedule: schedule.kind === 'cron' ? schedule.expression : `every ${Math.round(schedule.ms / 1000)}s`, monitorOnly: Boolean(watchOptions.monitorOnly), projects: projects.map((p) => p.name), containers: watchOptions.containers },
    async start(engine: import('../engine/index.js').Engine, stateDir: string, services: import('../server/index.js').DaemonServices, log: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void) {
          const { DeployStore } = await import('../deploy/index.js');
      const { WatchService } = await import('../server/index.js');
      const journal = new Journal(stateDir);
      for (const r of await w.recoverContainerUpdates(engine, journal)) log(r.outcome === 'failed' ? 'error' : 'warn', 'watch: recovered a container update an earlier run was killed in', { container: r.target.name, outcome: r.outcome, ...(r.error ? { error: r.error } : {}) });
      const store = projects.length ? new DeployStore(stateDir) : undefined;
      const run = passRunner(settings, w, { engine, store, journal, warn: (m) => log('warn', `watch: ${m}`), projectLock: (project, fn) => services.deploys.exclusive(project, fn) }, watchOptions);
      const service = new WatchService({ run, bus: services.bus, schedule, log, onClose: () => store?.close() });
      service.start();
      return service;
    },
  };
}
