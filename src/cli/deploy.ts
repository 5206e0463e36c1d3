import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { restUnlessAborted } from '../common/abort.js';
import { invalidArgument } from '../common/errors.js';
import type { DeployEvent, DeployPlan, PlanStep } from '../deploy/index.js';
import { connectEngine } from '../engine/index.js';
import { connectionFlags, parseHistoryLimit } from './options.js';
import type { DeployOptions } from './deploy-options.js';
import { pullProgressFor, withPullProgress } from './pull-progress.js';
import { installSignalHandlers } from './signals.js';
import { humanEvent, LiveProgress, wantsLiveProgress } from './deploy-progress.js';
import { engineMode, files, loadFromFlags, open } from './deploy-flags.js';
import { commandFinished } from './finished.js';

export { runDeployDown, runDeployLogs, runDeployPs, runDeployPull, runDeployRestart } from './deploy-compose.js';

/** The NDJSON logger of --json (pino, loaded only then). */
async function jsonLogger(o: Pick<DeployOptions<'apply'>, 'logLevel'>) {
  const { createJsonLogger, parseLogLevel } = await import('../common/log.js');
  return createJsonLogger(parseLogLevel(o.logLevel, 'info'));
}

/** `deploy plan` exit codes: 0 nothing to do, 10 changes planned (errors keep their usual codes). */
export const PLAN_EXIT = { unchanged: 0, changes: 10 } as const;

const SYMBOL: Record<PlanStep['action'], string> = { create: '+', update: '~', scale: '↕', delete: '-', unchanged: '=' };

export function renderPlan(plan: DeployPlan): string {
  const lines = [`project ${plan.project}: ${plan.changes ? `${plan.steps.filter((s) => s.action !== 'unchanged').length} change(s)` : 'no change'}`];
  for (const s of plan.steps) {
    const replicas = s.replicas.from === s.replicas.to ? `${s.replicas.to}` : `${s.replicas.from}→${s.replicas.to}`;
    lines.push(`  ${SYMBOL[s.action]} ${s.action.padEnd(9)} ${s.service.padEnd(20)} replicas ${replicas.padEnd(5)} ${s.causes.join('; ')}`);
  }
  return lines.join('\n');
}

export async function runDeployPlan(o: DeployOptions<'plan'>): Promise<number> {
  const mode = engineMode(o);
  // The engine is asked first (the version handshake, then in auto mode whether it is a Swarm
  // manager: ~1 ms each); its answers are read once the files are loaded (the load does not yield),
  // so an unreachable engine is still reported only after the files, whose errors come first.
  const engine = await connectEngine(connectionFlags(o));
  const swarm = mode === 'auto' ? engine.isSwarmManager() : engine.ready().then(() => mode === 'swarm');
  swarm.catch(() => undefined);
  const d = await import('../deploy/index.js');
  // The container list too, for the project the files most likely name: the engine answers it
  // while they are read (planProject asks again when the loaded project is another).
  const hint = mode === 'swarm' || o.from ? undefined : d.configurationProjectHint(files(o), { projectName: o.project });
  const early = hint === undefined ? undefined : await d.observeEarly(engine, hint);
  const { loaded, source } = await loadFromFlags(o);
  const target = (await swarm) ? 'swarm' : 'docker';
  const { config, notes } = await d.resolveConfiguration(engine, loaded);
  const plan = await d.planProject(engine, config, target, early);
  if (o.json) process.stdout.write(`${JSON.stringify({ plan, notes, source })}\n`);
  else {
    for (const n of notes) process.stdout.write(`tag policy: ${n}\n`);
    process.stdout.write(`${renderPlan(plan)}\n`);
  }
  commandFinished(); // every request was answered, nothing else was started
  return plan.changes ? PLAN_EXIT.changes : PLAN_EXIT.unchanged;
}

export async function runDeployApply(o: DeployOptions<'apply' | 'up'>): Promise<number> {
  const d = await import('../deploy/index.js');
  const json = Boolean(o.json);
  // The NDJSON logger is loaded only for --json output.
  const log = json ? await jsonLogger(o) : undefined;
  const opened = await open(o);
  const store = opened.store;
  // On a terminal, a live block per service below the log; in CI (or piped) only the log lines.
  const live = !json && wantsLiveProgress(process.stdout) ? new LiveProgress(process.stdout).start() : undefined;
  const say = (line: string) => (json ? undefined : live ? live.line(line) : process.stdout.write(`${line}\n`));
  const emit = (e: DeployEvent) => {
    if (log) log[e.type === 'replica-failed' || e.type === 'warning' ? 'warn' : 'info']({ event: e.type, ...e }, humanEvent(e) ?? e.type);
    else if (live) live.event(e);
    else {
      const line = humanEvent(e);
      if (line) say(line);
    }
  };
  const signals = installSignalHandlers((m) => (json ? log!.warn(m) : process.stderr.write(`${m}\n`)));
  // Pulls drawn on the terminal (or NDJSON with --json), and cancelled by Ctrl-C before anything changes.
  const engine = withPullProgress(opened.engine, pullProgressFor(log ? (e) => log.info({ event: e.type, ...e }, `pull ${e.image}: ${e.state}`) : undefined, signals.signal));
  try {
    const once = async () => {
      live?.start(); // again on each --watch pass (stopped at the end of the last one)
      const { loaded, source } = await loadFromFlags(o);
      const { config, notes } = await d.resolveConfiguration(engine, loaded);
      for (const n of notes) say(`tag policy: ${n}`);
      const build: 'always' | 'never' | 'auto' = o.build === true ? 'always' : o.build === false ? 'never' : 'auto';
      const deployOptions = {
        trigger: o.watch ? 'watch' : 'apply',
        source,
        signal: signals.signal,
        onEvent: emit,
        engineMode: engineMode(o),
        build,
        builder: await packageBuilder(engine),
        onBuildEvent: (e: import('../deploy/index.js').BuildEvent) => {
          if (e.type === 'build-started') say(`${e.service}: building ${e.image} (${e.why})`);
          else if (e.type === 'built') say(`${e.service}: built ${e.image} ${e.id.slice(0, 19)}`);
        },
      };
      // x-kiboko.post_deploy_tests, or --require-tests [type] / --no-require-tests, which override it.
      const tests = d.requiredTests(config, o.requireTests);
      if (tests) return requireTests(engine, store, config, deployOptions, tests, log, say, (restored) => realignAfterRollback(d, config, restored, o.from ? `the configuration comes from ${source}` : undefined, say, log));
      const run = await d.deployProject(engine, store, config, deployOptions);
      live?.stop();
      // A failed update that was rolled back: the file is brought back to the image that runs.
      const restored = run.result.services.filter((r) => r.outcome === 'rolled-back' && r.image).map((r) => ({ service: r.service, image: r.image! }));
      realignAfterRollback(d, config, restored, o.from ? `the configuration comes from ${source}` : undefined, say, log);
      if (log) log.info({ event: 'deploy-finished', revision: run.revision, outcome: run.result.outcome, plan: run.plan, services: run.result.services }, `revision ${run.revision}: ${run.result.outcome}`);
      else say(run.plan.changes ? `revision ${run.revision}: ${run.result.outcome}` : `revision ${run.revision}: no change`);
      return run.result.outcome === 'ok' ? 0 : run.result.outcome === 'cancelled' ? 130 : 1;
    };
    if (!o.watch) return await once();
    const { parseDuration } = await import('../common/duration.js');
    const every = parseDuration(o.watch, '--watch');
    if (every < 1000) throw invalidArgument(`--watch ${o.watch} is too short`, 'use at least 1s, e.g. --watch 1m');
    let code = 0;
    while (!signals.signal.aborted) {
      const started = Date.now();
      try {
        code = await once();
      } catch (err) {
        code = 1;
        // with --json too: a pass that fails is a line, not silence
        if (log) log.error({ event: 'pass-failed', error: { code: (err as { code?: unknown }).code, message: (err as Error).message } }, `pass failed: ${(err as Error).message}`);
        else say(`pass failed: ${(err as Error).message}`);
      }
      // Ctrl-C during the pass has fired already: the rest sees it and ends at once.
      await restUnlessAborted(every - (Date.now() - started), signals.signal);
    }
    return code === 130 ? 0 : code;
  } finally {
    live?.stop();
    signals.dispose();
    store.close();
  }
}

/**
 * After a rollback (automatic or `deploy rollback`), the compose files are brought back in line
 * with what runs (set-tag's edit), or the set-tag to run is printed where editing is not safe.
 * `readOnly`: the files are not the user's own (a git checkout): nothing is written.
 */
function realignAfterRollback(
  d: typeof import('../deploy/index.js'),
  config: import('../deploy/index.js').SystemConfig,
  restored: readonly { service: string; image: string; configured?: string | undefined }[],
  readOnly: string | undefined,
  say: (line: string) => void,
  log: Awaited<ReturnType<typeof jsonLogger>> | undefined,
): import('../deploy/index.js').Realignment[] {
  if (restored.length === 0) return [];
  const follows = restored.filter((r) => config.services.find((s) => s.name === r.service)?.tagPolicy.kind === 'follow-branch');
  for (const r of follows) {
    const policy = config.services.find((s) => s.name === r.service)!.tagPolicy;
    const msg = `${r.service} follows ${policy.kind === 'follow-branch' ? policy.branch : 'a branch'}: the next apply picks the newest build again — remove that image (docker rmi) or pin the tag to keep ${r.image}`;
    if (log) log.warn({ event: 'compose-realign', service: r.service, outcome: 'manual', image: r.image, reason: msg }, msg);
    else say(`note: ${msg}`);
  }
  const rest = restored.filter((r) => !follows.includes(r));
  let results: import('../deploy/index.js').Realignment[];
  try {
    results = d.realignComposeFiles(config.sources, rest, {
      display: displayFile,
      ...(readOnly ? { write: false, readOnlyReason: `${readOnly}: change the file there` } : {}),
    });
  } catch (err) {
    const msg = `could not bring the compose file back in line: ${(err as Error).message}`;
    if (log) log.warn({ event: 'compose-realign', outcome: 'error', reason: msg }, msg);
    else say(`warning: ${msg}`);
    return [];
  }
  for (const r of results) {
    if (r.outcome === 'in-line') continue;
    const text =
      r.outcome === 'rewritten'
        ? `${displayFile(r.file)}: ${r.service} set back to ${r.after} (was ${r.before}), the image that runs`
        : `${r.service} runs ${r.image} but its configuration names another image; not edited: ${r.reason}${r.command ? `\n  to bring it in line, run: ${shellQuote(r.command)}` : ''}`;
    if (log) log[r.outcome === 'rewritten' ? 'info' : 'warn']({ event: 'compose-realign', ...r }, text);
    else say(text);
  }
  return results;
}

const displayFile = (f: string) => {
  const rel = relative(process.cwd(), f);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : f;
};

/** An argv shown as a command to copy: words with shell characters in single quotes. */
function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The post-deploy gate (`x-kiboko.post_deploy_tests`, `--require-tests [type]`; packages' deployWithTests): tests fail → roll back, exit 1. */
async function requireTests(
  engine: import('../engine/index.js').Engine,
  store: import('../deploy/index.js').DeployStore,
  config: import('../deploy/index.js').SystemConfig,
  deployOptions: Parameters<typeof import('../deploy/index.js').deployProject>[3],
  tests: import('../deploy/index.js').PostDeployTests,
  log: Awaited<ReturnType<typeof jsonLogger>> | undefined,
  say: (line: string) => void,
  realign: (restored: { service: string; image: string }[]) => unknown,
): Promise<number> {
  const p = await import('../packages/index.js');
  const { type } = tests;
  const gated = await p.deployWithTests(engine, store, config, deployOptions, {
    type,
    ...(tests.timeoutMs !== undefined ? { timeoutMs: tests.timeoutMs } : {}),
    reportDir: join(process.cwd(), 'test-results'),
    onEvent: (e) => {
      if (e.type === 'test-finished') say(`  ${e.result.status === 'pass' ? '✔' : '✖'} test ${e.image}: ${e.result.status}${e.result.message ? ` — ${e.result.message}` : ''}`);
    },
  });
  // What runs now, where it differs from the file: a failed update rolled back in the apply, or the whole project rolled back after failed tests.
  const back = gated.rollback ? store.get(config.project, gated.rollback.target) : undefined;
  const restored = back
    ? back.config.services.filter((s) => config.services.some((c) => c.name === s.name && c.image !== s.image)).map((s) => ({ service: s.name, image: s.image }))
    : gated.run.result.services.filter((r) => r.outcome === 'rolled-back' && r.image).map((r) => ({ service: r.service, image: r.image! }));
  realign(restored);
  const report = gated.tests ? { code: gated.tests.code, reason: gated.tests.reason, cases: gated.tests.suite.cases.map((c) => ({ name: c.name, status: c.status, message: c.message })) } : undefined;
  if (log) log[gated.outcome === 'ok' ? 'info' : 'error']({ event: 'deploy-finished', revision: gated.run.revision, outcome: gated.outcome, plan: gated.run.plan, services: gated.run.result.services, tests: report, rollback: gated.rollback ? { revision: gated.rollback.revision, target: gated.rollback.target, outcome: gated.rollback.result.outcome } : undefined }, gated.detail ?? `revision ${gated.run.revision}: ${gated.outcome}`);
  else say(`revision ${gated.run.revision}: ${gated.outcome}${gated.detail ? ` — ${gated.detail}` : gated.tests ? ` (${type} tests passed)` : ''}`);
  return gated.outcome === 'ok' ? 0 : gated.outcome === 'cancelled' ? 130 : 1;
}

export async function runDeployHistory(o: DeployOptions<'history'>): Promise<number> {
  const limit = parseHistoryLimit(o.limit); // before anything is opened: a bad value is a usage error
  const { engine, store } = await open(o);
  void engine;
  try {
    const projects = o.project ? [o.project] : store.projects();
    const all = projects.flatMap((p) => store.list(p, limit));
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ revisions: all.map((r) => ({ ...r, config: undefined, images: Object.fromEntries(r.config.services.map((s) => [s.name, s.image])) })) })}\n`);
      return 0;
    }
    if (all.length === 0) process.stdout.write('no deploys recorded yet\n');
    for (const r of all) {
      const images = r.config.services.map((s) => `${s.name}=${s.image.split('/').pop()}`).join(' ');
      const changes = r.plan.steps.filter((s) => s.action !== 'unchanged').map((s) => `${s.action} ${s.service}`).join(', ') || 'no change';
      process.stdout.write(`${r.project} rev ${String(r.rev).padEnd(4)} ${r.createdAt.slice(0, 19)}Z ${r.outcome.padEnd(9)} ${r.trigger}${r.rollbackOf ? ` of ${r.rollbackOf}` : ''} — ${changes} — ${images}\n`);
    }
    return 0;
  } finally {
    store.close();
  }
}

export async function runDeployRollback(o: DeployOptions<'rollback'>): Promise<number> {
  const d = await import('../deploy/index.js');
  const opened = await open(o);
  const store = opened.store;
  const signals = installSignalHandlers((m) => process.stderr.write(`${m}\n`));
  const engine = withPullProgress(opened.engine, pullProgressFor(undefined, signals.signal));
  const live = !o.json && wantsLiveProgress(process.stdout) ? new LiveProgress(process.stdout).start() : undefined;
  const say = (line: string) => (o.json ? undefined : live ? live.line(line) : process.stdout.write(`${line}\n`));
  try {
    let project = o.project;
    if (!project) {
      const ps = store.projects();
      if (ps.length !== 1) throw invalidArgument(ps.length ? `several projects have history (${ps.join(', ')})` : 'no deploy history yet', 'name one with --project');
      project = ps[0]!;
    }
    const to = o.to === undefined ? undefined : Number(o.to);
    if (to !== undefined && (!Number.isInteger(to) || to < 1)) throw invalidArgument(`invalid --to '${o.to}': expected a revision number`, 'see `kiboko deploy history`');
    // The files the last deploy read: they name what is being rolled back.
    const latest = store.list(project, 1)[0];
    const run = await d.rollbackProject(engine, store, project, {
      to,
      engineMode: engineMode(o),
      signal: signals.signal,
      onEvent: (e) => {
        if (live) return live.event(e);
        const line = humanEvent(e);
        if (line) say(line);
      },
    });
    live?.stop();
    const msg = `rolled back ${project} to revision ${run.target} as revision ${run.revision}: ${run.result.outcome}`;
    say(msg);
    let compose: import('../deploy/index.js').Realignment[] = [];
    const target = store.get(project, run.target);
    if (latest && target) {
      const running = new Set(run.result.services.filter((r) => r.outcome === 'ok' || r.outcome === 'unchanged').map((r) => r.service));
      const restored = target.config.services.filter((s) => running.has(s.name)).map((s) => ({ service: s.name, image: s.image }));
      const sources = files(o).length ? files(o).map((f) => resolve(f)) : latest.config.sources;
      const readOnly = !files(o).length && latest.source.startsWith('git+') ? `revision ${latest.rev} came from ${latest.source}` : undefined;
      compose = realignAfterRollback(d, { ...target.config, sources }, restored, readOnly, say, undefined);
    }
    if (o.json) process.stdout.write(`${JSON.stringify({ target: run.target, revision: run.revision, result: run.result, compose })}\n`);
    return run.result.outcome === 'ok' ? 0 : 1;
  } finally {
    live?.stop();
    signals.dispose();
    store.close();
  }
}

export async function runDeploySetTag(o: DeployOptions<'set-tag'>, args: string[]): Promise<number> {
  const [service, tag] = args;
  const d = await import('../deploy/index.js');
  const file = files(o)[0] ?? ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'].find((f) => existsSync(f));
  if (!file) throw invalidArgument('no compose file found', 'pass -f compose.yaml');
  const r = d.setTagInComposeFile(file, service!, tag!);
  process.stdout.write(o.json ? `${JSON.stringify({ file, service, ...r })}\n` : `${file}: ${service} ${r.before} → ${r.after}\n`);
  return 0;
}

/** `deploy config`: the compose files as kiboko reads them, resolved and normalised; warnings go to stderr. */
export async function runDeployConfig(o: DeployOptions<'config'>): Promise<number> {
  const d = await import('../deploy/index.js');
  const config = d.loadCompose(files(o), {
    projectName: o.project,
    envFiles: o.envFile,
    profiles: o.profile,
    onWarning: (w) => process.stderr.write(`warning: ${d.formatComposeProblem(w)}\n`),
  });
  if (o.quiet) return 0;
  if (o.services) process.stdout.write(config.services.map((s) => `${s.name}\n`).join(''));
  else if (o.json) process.stdout.write(`${JSON.stringify(d.renderConfig(config), null, 2)}\n`);
  // YAML 1.1 quoting, so "no", "on" … stay strings for readers that follow 1.1 (docker compose among them).
  else process.stdout.write(stringifyYaml(d.renderConfig(config), { lineWidth: 0, version: '1.1' }));
  return 0;
}

/**
 * Service images are built as `kiboko build` builds packages: with kiboko's build metadata and
 * ancestry recorded (src/packages), which deploy cannot import itself (it sits below packages).
 */
async function packageBuilder(engine: import('../engine/index.js').Engine): Promise<import('../deploy/index.js').ImageBuilder> {
  const p = await import('../packages/index.js');
  return async (req) => {
    let inline: string | undefined;
    if (req.dockerfileContent !== undefined) {
      // The package builder reads a Dockerfile file; an inline one is written next to (not into) the context.
      inline = mkdtempSync(join(tmpdir(), 'kiboko-inline-'));
      writeFileSync(join(inline, 'Dockerfile'), req.dockerfileContent);
    }
    try {
      const r = await p.buildPackage(engine, {
        contextDir: req.contextDir,
        dockerfile: inline ? join(inline, 'Dockerfile') : req.dockerfile,
        tags: req.tags,
        buildArgs: req.buildArgs,
        target: req.target,
        noCache: req.noCache,
        pull: req.pull,
        labels: req.labels,
        project: req.project,
        cause: `deploy ${req.project}: service ${req.service}`,
        signal: req.signal,
        onEvent: (e) => (e.type === 'output' ? req.onProgress?.(e.line) : undefined),
      });
      return r.id;
    } finally {
      if (inline) rmSync(inline, { recursive: true, force: true });
    }
  };
}
