import { renameSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  createNotifier,
  recoverOrphans,
  runExperiment,
  validateExperiment,
  type ChaosReport,
  type ExperimentOptions,
  type LifecycleAction,
} from '../chaos/index.js';
import { invalidArgument, KibokoError } from '../common/errors.js';
import { parseLogLevel } from '../common/log.js';
import { parseSignal } from '../common/signals.js';
import { connectEngine } from '../engine/index.js';
import { Journal, defaultStateDir, isAlive } from '../journal/index.js';
import { parseTargetArgs } from '../targets/index.js';
import {
  connectionFlags,
  parseBoolFlag,
  parseConcurrency,
  parseDurationFlag,
  parseLimit,
  parseSeconds,
  parseSeed,
} from './options.js';
import { mergedOptions, type ChaosCommandName } from './program.js';
import { humanRenderer, jsonRenderer, type Renderer } from './render.js';
import { installSignalHandlers } from './signals.js';

/** Builds the resolved action from a command's flags; throws INVALID_ARGUMENT before anything runs. */
export function actionFromFlags(kind: ChaosCommandName, o: Record<string, unknown>): LifecycleAction {
  switch (kind) {
    case 'kill':
      return { kind, signal: parseSignal(String(o.signal ?? 'SIGKILL')) };
    case 'stop': {
      const timeSeconds = parseSeconds(o.time, '--time', 5);
      if (!o.restart && o.duration !== undefined) {
        throw invalidArgument('--duration needs --restart for stop', 'add --restart to start the containers again after --duration, or drop --duration');
      }
      return { kind, timeSeconds, restart: o.restart ? { durationMs: parseDurationFlag(o.duration ?? '10s', '--duration', true) } : undefined };
    }
    case 'pause':
      return { kind, durationMs: parseDurationFlag(o.duration, '--duration', true) };
    case 'rm':
      return {
        kind,
        force: parseBoolFlag(o.force, '--force', true),
        links: parseBoolFlag(o.links, '--links', false),
        volumes: parseBoolFlag(o.volumes, '--volumes', true),
      };
    case 'restart':
      return { kind, timeoutSeconds: parseSeconds(o.timeout ?? '1s', '--timeout', 1) };
    case 'exec': {
      const command = String(o.command ?? 'kill 1').trim();
      const args = (o.args as string[] | undefined) ?? [];
      if (command === '') throw invalidArgument('--command is empty', "give a program, e.g. --command 'kill 1' or --command ls --args -l");
      // Without --args, split on whitespace (never through a shell) so Pumba's default 'kill 1' runs.
      const argv = args.length ? [command, ...args] : command.split(/\s+/);
      return { kind, command: argv, user: typeof o.user === 'string' ? o.user : undefined };
    }
  }
}

export function experimentFromFlags(kind: ChaosCommandName, containers: string[], o: Record<string, unknown>): ExperimentOptions {
  const action = actionFromFlags(kind, o);
  const options: ExperimentOptions = {
    action,
    targets: parseTargetArgs(containers, (o.label as string[] | undefined) ?? []),
    limit: parseLimit(o.limit),
    random: Boolean(o.random),
    seed: o.seed === undefined ? undefined : parseSeed(o.seed),
    intervalMs: parseDurationFlag(o.interval, '--interval') || undefined,
    dryRun: Boolean(o.dryRun || o.dry),
    skipError: Boolean(o.skipError),
    concurrency: o.concurrency === undefined ? undefined : parseConcurrency(o.concurrency),
  };
  validateExperiment(options);
  return options;
}

export function rendererFor(o: Record<string, unknown>): Renderer {
  const level = parseLogLevel((o.logLevel as string | undefined) ?? process.env.LOG_LEVEL, 'info');
  return o.json || process.env.LOG_JSON === 'true' ? jsonRenderer(level) : humanRenderer(level);
}

function writeReport(path: string, report: ChaosReport) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(tmp, path);
}

export async function runChaosCommand(kind: ChaosCommandName, cmd: Command, containers: string[]): Promise<number> {
  const o = mergedOptions(cmd);
  const renderer = rendererFor(o);
  // Everything is parsed and validated before the engine is touched.
  const options = experimentFromFlags(kind, containers, o);
  const notifier = createNotifier(
    { slackHook: o.slackhook as string | undefined, slackChannel: o.slackchannel as string | undefined, webhookUrl: o.notify as string | undefined },
    (message) => renderer.warn(message),
  );
  const engine = await connectEngine(connectionFlags(o));
  await engine.info();
  const journal = new Journal((o.stateDir as string | undefined) ?? defaultStateDir());
  const signals = installSignalHandlers((message) => renderer.warn(message));
  const reportPath = o.report as string | undefined;
  try {
    const report = await runExperiment(options, {
      engine,
      journal,
      signal: signals.signal,
      onEvent: (e) => {
        renderer.event(e);
        notifier.listener(e);
      },
      onReport: reportPath ? (r) => writeReport(reportPath, r) : undefined,
    });
    await notifier.flush();
    if (report.totals.restoreFailed > 0) return 1;
    if (report.totals.failed > 0 && !options.skipError) return 1;
    if (report.cycles.some((c) => c.error) && !options.skipError) return 1;
    return 0;
  } finally {
    signals.dispose();
    renderer.close();
    engine.close();
  }
}

export async function runRecoverCommand(cmd: Command): Promise<number> {
  const o = mergedOptions(cmd);
  const renderer = rendererFor(o);
  const engine = await connectEngine(connectionFlags(o));
  await engine.info();
  const journal = new Journal((o.stateDir as string | undefined) ?? defaultStateDir());
  const dryRun = Boolean(o.dryRun);
  const results = await recoverOrphans(engine, journal, { dryRun });
  const { entries, unreadable } = await journal.list();
  const live = entries.filter((e) => isAlive(e.owner));
  if (results.length === 0) renderer.info('nothing to recover: no changes left by dead kiboko runs');
  for (const r of results) {
    const line = `${dryRun ? 'would recover' : 'recovered'} ${r.kind} of ${r.target.name} (${r.target.id.slice(0, 12)}): ${r.outcome}${r.error ? ` — ${r.error}` : ''}`;
    if (r.outcome === 'failed') renderer.error(line, { result: r });
    else renderer.info(line, { result: r });
  }
  for (const e of live) {
    renderer.info(`in progress: ${e.kind} of ${e.target.name}, owned by live process ${e.owner.pid} on ${e.owner.host}`, { entry: e });
  }
  for (const path of unreadable) renderer.warn(`unreadable journal entry ${path}: inspect it and delete it once handled`);
  renderer.close();
  engine.close();
  if (results.some((r) => r.outcome === 'failed')) return 1;
  if (unreadable.length) throw new KibokoError('JOURNAL_ERROR', `${unreadable.length} journal entr${unreadable.length === 1 ? 'y is' : 'ies are'} unreadable`, { hint: `look in ${journal.dir}` });
  return 0;
}
