import { createServer, type Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { restUnlessAborted } from '../common/abort.js';
import { parseDuration } from '../common/duration.js';
import { EXIT_CODES, invalidArgument, asKibokoError } from '../common/errors.js';
import { connectEngine, type Engine } from '../engine/index.js';
import { defaultStateDir, Journal } from '../journal/index.js';
import { RegistryClient, parseReference, formatReference, type RegistryClientOptions } from '../registry/index.js';
import type { Schedule, WatchDeps, WatchEvent, WatchItem, WatchOptions, WatchReport } from '../watch/index.js';
import { connectionFlags } from './options.js';
import type { WatchCommandOptions, WatchPassCommandOptions } from './watch-options.js';
import { pullProgressFor, withPullProgress, type PullProgressEvent } from './pull-progress.js';
import { jsonLine } from '../common/ndjson.js';
import { installSignalHandlers } from './signals.js';

const SYMBOL: Record<WatchItem['status'], string> = { 'up-to-date': '=', newer: '↑', updated: '✔', 'rolled-back': '↩', failed: '✖', skipped: '·' };

export function renderItem(i: WatchItem): string {
  const what = i.newImage ? `${i.image} → ${i.newImage}` : i.image;
  return `${SYMBOL[i.status]} ${i.kind === 'service' ? 'service' : 'container'} ${i.name}: ${i.status}${i.monitorOnly && i.status === 'newer' ? ' (monitor only)' : ''} — ${what}${i.revision ? ` (revision ${i.revision})` : ''}${i.reason ? ` — ${i.reason}` : ''}`;
}

export function renderReport(r: WatchReport): string {
  return `pass: ${r.checked} checked, ${r.newer} newer, ${r.updated} updated, ${r.rolledBack} rolled back, ${r.failed} failed, ${r.skipped} skipped in ${(r.ms / 1000).toFixed(1)}s; registry: ${r.registry.requests} requests, ${r.registry.tokens} tokens, ${r.registry.retries} retries`;
}

const ms = (v: string | undefined, flag: string): number | undefined => (v === undefined ? undefined : parseDuration(v, flag));

function registryOptions(o: WatchCommandOptions<'registry'> & Pick<WatchPassCommandOptions, 'insecureRegistry'>, env: NodeJS.ProcessEnv): RegistryClientOptions {
  const user = o.registryUser ?? env.REPO_USER;
  const password = o.registryPassword ?? env.REPO_PASS;
  if ((user === undefined) !== (password === undefined)) throw invalidArgument('--registry-user and --registry-password go together', 'give both (or REPO_USER and REPO_PASS), or neither to use ~/.docker/config.json');
  return {
    credentials: { ...(user !== undefined ? { explicit: { username: user, password: password! } } : {}), env },
    caFiles: o.registryCa ?? [],
    insecureRegistries: o.insecureRegistry ?? [],
    ...(o.registryTimeout !== undefined ? { timeoutMs: ms(o.registryTimeout, '--registry-timeout')! } : {}),
    userAgent: 'kiboko-watch',
  };
}

/** What a watch pass reads: its flags, with WATCHTOWER_* variables for those not given. */
export type WatchSettings = WatchPassCommandOptions & Partial<Pick<WatchCommandOptions<'watch'>, 'once' | 'httpApiUpdate' | 'httpApiToken' | 'httpApiPeriodicPolls'>>;

/** Flags win over WATCHTOWER_* variables, which win over defaults (`kiboko watch` and `serve --watch`). */
export function mergeWatchSettings(flags: WatchSettings & Pick<WatchCommandOptions<'watch'>, 'runOnce'>, w: typeof import('../watch/index.js'), environment: NodeJS.ProcessEnv = process.env): WatchSettings {
  const env = w.settingsFromEnv(environment);
  const fromEnv: WatchSettings = {
    interval: env.interval,
    schedule: env.schedule,
    cleanup: env.cleanup,
    labelEnable: env.labelEnable,
    monitorOnly: env.monitorOnly,
    includeStopped: env.includeStopped,
    reviveStopped: env.reviveStopped,
    once: env.runOnce,
    enableLifecycleHooks: env.lifecycleHooks,
    scope: env.scope,
    disableContainers: env.disableContainers,
    stopTimeout: env.stopTimeout,
    notificationUrl: env.notificationUrl,
    slackhook: env.slackHook,
    httpApiUpdate: env.httpApiUpdate,
    httpApiToken: env.httpApiToken,
    httpApiPeriodicPolls: env.httpApiPeriodicPolls,
  };
  // The flags hold only the options given (the others are absent, not undefined), so each given one wins.
  const o = { ...fromEnv, ...flags };
  return flags.runOnce ? { ...o, once: true } : o;
}

/** What a pass watches and does, from the merged settings. */
export function watchOptionsFrom(o: WatchSettings, projects: NonNullable<WatchOptions['projects']>, names: readonly string[]): WatchOptions {
  return {
    projects,
    containers: projects.length === 0 || Boolean(o.containers) || names.length > 0,
    names,
    labelEnable: Boolean(o.labelEnable),
    includeStopped: Boolean(o.includeStopped),
    reviveStopped: Boolean(o.reviveStopped),
    monitorOnly: Boolean(o.monitorOnly),
    minAgeMs: ms(o.minAge, '--min-age'),
    cleanup: Boolean(o.cleanup),
    lifecycleHooks: Boolean(o.enableLifecycleHooks),
    scope: o.scope,
    disableContainers: (o.disableContainers ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean),
    stopTimeoutMs: ms(o.stopTimeout, '--stop-timeout'),
    healthTimeoutMs: ms(o.healthTimeout, '--health-timeout'),
  };
}

/** --interval (seconds or a duration) or --schedule (cron); default every 24 h. */
export function scheduleFrom(o: WatchSettings, w: typeof import('../watch/index.js')): Schedule {
  if (o.interval !== undefined && o.schedule !== undefined) throw invalidArgument('--interval and --schedule exclude each other', 'pick one (Watchtower refuses both too)');
  return o.schedule !== undefined ? w.parseSchedule(o.schedule) : { kind: 'interval' as const, ms: o.interval !== undefined ? intervalMs(o.interval) : 24 * 3_600_000 };
}

/**
 * One pass as both `kiboko watch` and `serve --watch` run it: a fresh registry client (tokens
 * reused within the pass), the user's credentials, pulls with the pull timeout, container
 * updates journaled, and the report sent to the notification targets.
 */
export function passRunner(
  o: WatchSettings,
  w: typeof import('../watch/index.js'),
  deps: { engine: Engine; store?: import('../deploy/index.js').DeployStore | undefined; journal: Journal; warn: (m: string) => void; projectLock?: WatchDeps['projectLock'] },
  watchOptions: WatchOptions,
): (run: { signal: AbortSignal; onEvent: (e: WatchEvent) => void; images?: string[] | undefined }) => Promise<WatchReport> {
  const regOptions = registryOptions(o, process.env);
  const notifier = w.createWatchNotifier({ urls: o.notificationUrl ?? [], slackHook: o.slackhook, slackChannel: o.slackchannel, webhookUrl: o.webhook }, deps.warn);
  const pullTimeoutMs = o.pullTimeout !== undefined ? ms(o.pullTimeout, '--pull-timeout')! : undefined;
  return async ({ signal, onEvent, images }) => {
    const registry = new RegistryClient(regOptions);
    let report: WatchReport;
    try {
      report = await w.runWatchPass(
        { engine: deps.engine, registry, store: deps.store, journal: deps.journal, projectLock: deps.projectLock, credentials: regOptions.credentials, signal, onEvent, ...(pullTimeoutMs !== undefined ? { pull: { stallTimeoutMs: pullTimeoutMs } } : {}) },
        { ...watchOptions, ...(images?.length ? { images } : {}) },
      );
    } finally {
      registry.close();
    }
    await notifier.notify(report);
    return report;
  };
}

/** `kiboko watch`: flags win over WATCHTOWER_* variables, which win over defaults. */
/** The line a person would read for an event (the `msg` of its --json line). */
function watchEventText(e: WatchEvent): string {
  switch (e.type) {
    case 'pass-started':
      return `pass started: ${e.targets} target(s)`;
    case 'item':
      return renderItem(e.item);
    case 'pull-retry':
      return `pull ${e.image}: ${e.reason}; retry ${e.attempt} in ${(e.waitMs / 1000).toFixed(1)}s`;
    case 'pull-progress':
      return `pull ${e.image}: ${e.line}`;
    case 'warning':
      return e.message;
    case 'pass-finished':
      return renderReport(e.report).split('\n')[0] ?? 'pass finished';
  }
}

export async function runWatch(flags: WatchCommandOptions<'watch'>, names: string[]): Promise<number> {
  const w = await import('../watch/index.js');
  const o = mergeWatchSettings(flags, w);
  const json = Boolean(flags.json);
  const files = flags.file ?? [];
  const projects = [...(files.length ? [{ files, name: flags.project }] : []), ...(flags.projectPath ?? []).map((p) => ({ files: [p] }))];
  const watchOptions = watchOptionsFrom(o, projects, names);
  const schedule = scheduleFrom(o, w);
  const apiOn = Boolean(o.httpApiUpdate);
  if (apiOn && !o.httpApiToken) throw invalidArgument('--http-api-update needs a token', 'set WATCHTOWER_HTTP_API_TOKEN or --http-api-token');
  const periodic = !o.once && (!apiOn || Boolean(o.httpApiPeriodicPolls));

  const write = (line: string) => process.stdout.write(`${line}\n`);
  // --json: the one NDJSON shape (docs/json-output.md); the event's own fields as they are, so `type` repeats `event`.
  const jsonEvent = (e: WatchEvent | PullProgressEvent, msg: string) =>
    process.stdout.write(jsonLine(e.type === 'warning' || e.type === 'pull-retry' ? 'warn' : 'info', e.type, msg, { ...e }));
  const warn = (m: string) => (json ? jsonEvent({ type: 'warning', at: new Date().toISOString(), message: m }, m) : process.stderr.write(`warning: ${m}\n`));
  const onEvent = (e: WatchEvent) => {
    // Pull progress is drawn (or printed with --json) by withPullProgress, once a second.
    if (e.type === 'pull-progress') return;
    if (json) return void jsonEvent(e, watchEventText(e));
    if (e.type === 'item') write(renderItem(e.item));
    else if (e.type === 'warning') process.stderr.write(`warning: ${e.message}\n`);
    else if (e.type === 'pull-retry') process.stderr.write(`pull ${e.image}: ${e.reason}; retry ${e.attempt} in ${(e.waitMs / 1000).toFixed(1)}s\n`);
    else if (e.type === 'pass-finished') write(renderReport(e.report));
  };

  const raw = await connectEngine(connectionFlags(flags));
  await raw.info();
  const { DeployStore } = await import('../deploy/index.js');
  const store = projects.length ? new DeployStore(flags.stateDir ?? defaultStateDir()) : undefined;
  const signals = installSignalHandlers(warn);
  // Pulls drawn on the terminal, or NDJSON pull-progress events (one a second per pull) with --json.
  const engine = withPullProgress(raw, pullProgressFor(json ? (e) => jsonEvent(e, `pull ${e.image}: ${e.state}`) : undefined, signals.signal));
  const journal = new Journal(flags.stateDir ?? defaultStateDir());
  const runPass = passRunner(o, w, { engine, store, journal, warn }, watchOptions);
  let api: Server | undefined;
  let running: Promise<WatchReport> | undefined;
  const pass = async (images?: string[]): Promise<WatchReport> => {
    // One pass at a time: an API call during a pass waits for it, as Watchtower's lock does.
    while (running) await running.catch(() => undefined);
    const p = runPass({ signal: signals.signal, onEvent, images });
    running = p;
    try {
      return await p;
    } finally {
      running = undefined;
    }
  };
  try {
    // Container updates an earlier watch was killed in the middle of are undone first.
    for (const r of await w.recoverContainerUpdates(engine, journal)) warn(`recovered ${r.target.name}, left mid-update by an earlier run: ${r.outcome}${r.error ? ` — ${r.error}` : ''}`);
    if (apiOn) api = await startApi(flags.httpApiListen ?? ':8080', String(o.httpApiToken), pass, warn);
    if (o.once) {
      const report = await pass();
      return exitCodeOf(report);
    }
    while (!signals.signal.aborted) {
      if (periodic) {
        try {
          await pass();
        } catch (err) {
          const e = asKibokoError(err);
          warn(`pass failed: ${e.message}${e.hint ? ` — ${e.hint}` : ''}`);
        }
      }
      const wait = periodic ? w.nextRun(schedule, Date.now()) : Number.POSITIVE_INFINITY;
      // A SIGTERM during the pass has fired already: the rest sees it and ends at once.
      await restUnlessAborted(wait, signals.signal);
    }
    return 0;
  } finally {
    signals.dispose();
    api?.close();
    store?.close();
    engine.close();
  }
}

/** Watchtower's --interval is seconds; kiboko also takes durations (5m). */
function intervalMs(v: string): number {
  const n = /^\d+$/.test(v.trim()) ? Number(v.trim()) * 1000 : parseDuration(v, '--interval');
  if (n < 1000) throw invalidArgument(`--interval ${v} is too short`, 'use at least 1s, e.g. --interval 5m');
  return n;
}

/** --once: 0 when nothing failed; a rolled-back update is 1; otherwise the first failure's code. */
export function exitCodeOf(r: WatchReport): number {
  const failed = r.items.find((i) => i.status === 'failed');
  if (failed) return failed.error ? (EXIT_CODES[failed.error.code as keyof typeof EXIT_CODES] ?? 1) : 1;
  return r.rolledBack > 0 ? 1 : 0;
}

/** Watchtower's HTTP API: POST (or GET) /v1/update with `Authorization: Bearer <token>`, `?image=a,b` limits the pass. */
async function startApi(listen: string, token: string, pass: (images?: string[]) => Promise<WatchReport>, warn: (m: string) => void): Promise<Server> {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw invalidArgument(`invalid --http-api-listen '${listen}': expected host:port`, 'e.g. :8080 or 127.0.0.1:8080');
  const expected = Buffer.from(`Bearer ${token}`);
  const server = createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://x');
    } catch {
      // A malformed request target (`GET http://[`) is the client's error, never a crash of the process.
      return void res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' }).end('malformed request target\n');
    }
    const given = Buffer.from(req.headers.authorization ?? '');
    const ok = given.length === expected.length && timingSafeEqual(given, expected);
    if (url.pathname !== '/v1/update') return void res.writeHead(404).end();
    if (!ok) return void res.writeHead(401, { 'content-type': 'text/plain' }).end('unauthorized\n');
    if (req.method !== 'POST' && req.method !== 'GET') return void res.writeHead(405).end();
    req.resume();
    const images = (url.searchParams.get('image') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    pass(images)
      .then((report) => res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(report)}\n`))
      .catch((err: unknown) => {
        const e = asKibokoError(err);
        warn(`HTTP API pass failed: ${e.message}`);
        res.writeHead(500, { 'content-type': 'application/json' }).end(`${JSON.stringify({ error: e.toJSON() })}\n`);
      });
  });
  server.requestTimeout = 15 * 60_000;
  server.headersTimeout = 10_000;
  server.maxHeadersCount = 50;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(m[2]), m[1] || undefined, () => resolve());
  });
  return server;
}

export async function runRegistry(what: 'tags' | 'inspect', o: WatchCommandOptions<'registry'>, image: string): Promise<number> {
  const ref = parseReference(image);
  const client = new RegistryClient(registryOptions(o, process.env));
  try {
    if (what === 'tags') {
      const tags = await client.listTags(ref);
      process.stdout.write(o.json ? `${JSON.stringify({ image: formatReference(ref), tags })}\n` : tags.map((t) => `${t}\n`).join(''));
      return 0;
    }
    const m = await client.resolve(ref);
    const created = await client.created(ref, m.digest);
    const out = { image: formatReference(ref), digest: m.digest, mediaType: m.mediaType, created: created?.toISOString() };
    process.stdout.write(o.json ? `${JSON.stringify(out)}\n` : `${out.image}\n  digest     ${out.digest}\n  media type ${out.mediaType}\n  created    ${out.created ?? 'unknown'}\n`);
    return 0;
  } finally {
    client.close();
  }
}
