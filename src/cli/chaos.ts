import { renameSync, writeFileSync } from 'node:fs';
import {
  createNotifier,
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
import { Journal, defaultStateDir } from '../journal/index.js';
import {
  connectionFlags,
  parseBoolFlag,
  parseConcurrency,
  parseDurationFlag,
  parseLimit,
  parseSeconds,
  parseSeed,
  commaList as list,
} from './options.js';
import type { ChaosOptions } from './chaos-options-type.js';
import type { DoctorOptions } from './chaos-options.js';
import type { ChaosCommandName, NetemEffectName } from './command-names.js';
import { parseRate, validateCidr, validateFilter, validateInterface, validateLoss, validatePort, netemArgs, type LossMode, type NetemEffects, type Protocol } from '../chaos/index.js';
import type { PartitionDirection, TrafficScope } from '../chaos/index.js';
import { delayActionFromFlags, kernelHasNetem, proxyActionFromFlags, proxyFormOfNetemDelay } from './chaos-proxy.js';
import { humanRenderer, jsonRenderer, type Renderer } from './render.js';
import { pullProgressFor, withPullProgress } from './pull-progress.js';
import { installSignalHandlers } from './signals.js';
import { checkSomethingHit, targetsFromFlags } from './chaos-targets.js';

/** Builds the resolved action from a command's flags; throws INVALID_ARGUMENT before anything runs. */
export function actionFromFlags(kind: ChaosCommandName, o: ChaosOptions): LifecycleAction {
  switch (kind) {
    case 'kill':
      return { kind, signal: parseSignal(o.signal ?? 'SIGKILL') };
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
    case 'netem:delay':
    case 'netem:loss':
    case 'netem:loss-state':
    case 'netem:loss-gemodel':
    case 'netem:rate':
    case 'netem:duplicate':
    case 'netem:corrupt':
    case 'netem:combine':
      return netemFromFlags(kind, o);
    case 'iptables:loss':
      return iptablesFromFlags(o);
    case 'proxy':
      return proxyActionFromFlags(o);
    case 'delay':
      throw invalidArgument('chaos delay chooses netem or the proxy at run time', 'run it through runChaosCommand');
    case 'partition':
      return {
        kind,
        durationMs: parseDurationFlag(o.duration, '--duration', true),
        peers: peers(o.peer, '--peer'),
        direction: partitionDirection(o.direction),
        helperImage: o.iptablesImage,
        pullImage: Boolean(o.pullImage),
      };
    case 'rate':
      if (o.rate === undefined) throw invalidArgument('--rate is required', 'e.g. --rate 1mbit');
      parseRate(o.rate);
      return {
        kind,
        durationMs: parseDurationFlag(o.duration, '--duration', true),
        iface: validateInterface(o.interface ?? 'eth0'),
        rate: o.rate,
        scope: scopeFromFlags(o),
        helperImage: o.tcImage,
        pullImage: Boolean(o.pullImage),
      };
    case 'stress': {
      if (o.injectCgroup && o.stressImage) {
        throw invalidArgument('--inject-cgroup and --stress-image exclude each other', 'drop --stress-image: kiboko injects stress-ng from the host into the target’s own cgroup (as root beside the engine)');
      }
      const stressors = (o.stressors ?? '--cpu 4').trim().split(/\s+/).filter(Boolean);
      return { kind, durationMs: parseDurationFlag(o.duration, '--duration', true), stressors, image: o.stressImage, pullImage: Boolean(o.pullImage) };
    }
    case 'exec': {
      const command = (o.command ?? 'kill 1').trim();
      const args = o.args ?? [];
      if (command === '') throw invalidArgument('--command is empty', "give a program, e.g. --command 'kill 1' or --command ls --args -l");
      // Without --args, split on whitespace (never through a shell) so Pumba's default 'kill 1' runs.
      const argv = args.length ? [command, ...args] : command.split(/\s+/);
      return { kind, command: argv, user: o.user };
    }
  }
}

function partitionDirection(v: string | undefined): PartitionDirection | undefined {
  if (v === undefined) return undefined;
  if (v === 'to' || v === 'from' || v === 'both') return v;
  throw invalidArgument(`invalid --direction '${String(v)}': expected to, from or both`, 'from: the peers cannot reach the target (it still reaches them); to: the reverse');
}
const ports = (v: string[] | undefined, flag: string): number[] => list(v).map((p) => validatePort(p, flag));
/** Container names stay as they are (resolved when the fault starts); anything address-shaped is checked now. */
const peers = (v: string[] | undefined, flag: string): string[] => list(v).map((p) => (/^[\d./]+$/.test(p) ? validateCidr(p, flag) : p));

function number(v: unknown, flag: string, fallback: number, check: (n: number) => boolean = () => true, expected = 'a number'): number {
  if (v === undefined) return fallback;
  const n = Number(String(v).trim());
  if (String(v).trim() === '' || !Number.isFinite(n) || !check(n)) throw invalidArgument(`invalid ${flag} '${String(v)}': expected ${expected}`, `e.g. ${flag} ${fallback}`);
  return n;
}
const percent = (v: unknown, flag: string, fallback: number) => number(v, flag, fallback, (n) => n >= 0 && n <= 100, 'a percentage 0-100');
const whole = (v: unknown, flag: string, fallback: number) => number(v, flag, fallback, (n) => Number.isInteger(n) && n >= 0, 'a whole number');

function scopeFromFlags(o: ChaosOptions): TrafficScope {
  return { targets: peers(o.target, '--target'), egressPorts: ports(o.egressPort, '--egress-port'), ingressPorts: ports(o.ingressPort, '--ingress-port') };
}

const DISTRIBUTIONS = ['uniform', 'normal', 'pareto', 'paretonormal'] as const;
const isDistribution = (v: string): v is (typeof DISTRIBUTIONS)[number] => DISTRIBUTIONS.some((d) => d === v);
function distribution(v: string | undefined, flag: string): NonNullable<NetemEffects['delay']>['distribution'] {
  if (v === undefined || v === '') return undefined;
  if (!isDistribution(v)) throw invalidArgument(`invalid ${flag} '${v}': expected one of ${DISTRIBUTIONS.join(', ')}`, `e.g. ${flag} normal`);
  return v;
}

function netemFromFlags(kind: `netem:${NetemEffectName}`, o: ChaosOptions): LifecycleAction {
  const effect = kind.slice('netem:'.length) as NetemEffectName;
  const effects: NetemEffects = {};
  switch (effect) {
    case 'delay':
      effects.delay = { timeMs: whole(o.time, '--time', 100), jitterMs: whole(o.jitter, '--jitter', 10), correlation: percent(o.correlation, '--correlation', 20), distribution: distribution(o.distribution, '--distribution') };
      break;
    case 'loss':
      effects.loss = { percent: percent(o.percent, '--percent', 0), correlation: percent(o.correlation, '--correlation', 0) };
      break;
    case 'loss-state':
      effects.lossState = { p13: percent(o.p13, '--p13', 0), p31: percent(o.p31, '--p31', 100), p32: percent(o.p32, '--p32', 0), p23: percent(o.p23, '--p23', 100), p14: percent(o.p14, '--p14', 0) };
      break;
    case 'loss-gemodel':
      effects.lossGemodel = { pg: percent(o.pg, '--pg', 0), pb: percent(o.pb, '--pb', 100), oneH: percent(o.oneH, '--one-h', 100), oneK: percent(o.oneK, '--one-k', 0) };
      break;
    case 'rate':
      effects.rate = { rate: o.rate ?? '100kbit', packetOverhead: number(o.packetoverhead, '--packetoverhead', 0), cellSize: whole(o.cellsize, '--cellsize', 0), cellOverhead: number(o.celloverhead, '--celloverhead', 0) };
      parseRate(effects.rate.rate);
      break;
    case 'duplicate':
      effects.duplicate = { percent: percent(o.percent, '--percent', 0), correlation: percent(o.correlation, '--correlation', 0) };
      break;
    case 'corrupt':
      effects.corrupt = { percent: percent(o.percent, '--percent', 0), correlation: percent(o.correlation, '--correlation', 0) };
      break;
    case 'combine':
      if (o.delayTime !== undefined)
        effects.delay = { timeMs: whole(o.delayTime, '--delay-time', 100), jitterMs: whole(o.delayJitter, '--delay-jitter', 0), correlation: percent(o.delayCorrelation, '--delay-correlation', 0), distribution: distribution(o.delayDistribution, '--delay-distribution') };
      if (o.lossPercent !== undefined) effects.loss = { percent: percent(o.lossPercent, '--loss-percent', 0), correlation: percent(o.lossCorrelation, '--loss-correlation', 0) };
      if (o.rateValue !== undefined) {
        parseRate(o.rateValue, '--rate-value');
        effects.rate = { rate: o.rateValue, packetOverhead: 0, cellSize: 0, cellOverhead: 0 };
      }
      if (o.duplicatePercent !== undefined) effects.duplicate = { percent: percent(o.duplicatePercent, '--duplicate-percent', 0), correlation: percent(o.duplicateCorrelation, '--duplicate-correlation', 0) };
      if (o.corruptPercent !== undefined) effects.corrupt = { percent: percent(o.corruptPercent, '--corrupt-percent', 0), correlation: percent(o.corruptCorrelation, '--corrupt-correlation', 0) };
      break;
  }
  netemArgs(effects); // validates the combination (jitter ≤ delay, at least one effect…)
  return {
    kind: 'netem',
    durationMs: parseDurationFlag(o.duration, '--duration', true),
    iface: validateInterface(o.interface ?? 'eth0'),
    effects,
    scope: scopeFromFlags(o),
    helperImage: o.tcImage,
    pullImage: Boolean(o.pullImage),
  };
}

const PROTOCOLS = ['any', 'tcp', 'udp', 'icmp'] as const;
const isProtocol = (v: string): v is Protocol => PROTOCOLS.some((p) => p === v);

function iptablesFromFlags(o: ChaosOptions): LifecycleAction {
  const protocol = (o.protocol ?? 'any').toLowerCase();
  if (!isProtocol(protocol)) throw invalidArgument(`invalid --protocol '${protocol}': expected any, tcp, udp or icmp`, 'e.g. --protocol tcp');
  const mode = o.mode ?? 'random';
  let loss: LossMode;
  if (mode === 'random') loss = { mode, probability: number(o.probability, '--probability', 0, (n) => n > 0 && n <= 1, 'a probability in (0, 1]') };
  else if (mode === 'nth') loss = { mode, every: whole(o.every, '--every', 0), packet: whole(o.packet, '--packet', 0) };
  else throw invalidArgument(`invalid --mode '${mode}': expected random or nth`, 'e.g. --mode random --probability 0.5');
  validateLoss(loss);
  const action = {
    kind: 'iptables' as const,
    durationMs: parseDurationFlag(o.duration, '--duration', true),
    iface: validateInterface(o.interface ?? 'eth0'),
    protocol,
    sources: [...peers(o.source, '--source'), ...peers(o.src, '--src')],
    destinations: [...peers(o.destination, '--destination'), ...peers(o.dest, '--dest')],
    srcPorts: [...ports(o.srcPort, '--src-port'), ...ports(o.sport, '--sport')],
    dstPorts: [...ports(o.dstPort, '--dst-port'), ...ports(o.dport, '--dport')],
    loss,
    helperImage: o.iptablesImage,
    pullImage: Boolean(o.pullImage),
  };
  validateFilter({ ...action, iface: action.iface });
  return action;
}

export function experimentFromFlags(kind: ChaosCommandName, containers: string[], o: ChaosOptions, resolved?: LifecycleAction): ExperimentOptions {
  const action = resolved ?? actionFromFlags(kind, o);
  const options: ExperimentOptions = {
    action,
    targets: targetsFromFlags(containers, o),
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

export function rendererFor(o: Pick<ChaosOptions, 'logLevel' | 'json'>): Renderer {
  const level = parseLogLevel(o.logLevel ?? process.env.LOG_LEVEL, 'info');
  return o.json || process.env.LOG_JSON === 'true' ? jsonRenderer(level) : humanRenderer(level);
}

function writeReport(path: string, report: ChaosReport) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(tmp, path);
}

/** `chaos delay`: probes netem once, then runs netem delay or the proxy's latency, saying which. */
async function delayExperiment(containers: string[], o: ChaosOptions, renderer: Renderer): Promise<ExperimentOptions> {
  parseDurationFlag(o.duration, '--duration', true);
  const engine = await connectEngine(connectionFlags(o));
  let netem: boolean;
  try {
    netem = await kernelHasNetem(engine);
  } finally {
    engine.close();
  }
  const { action, via } = delayActionFromFlags(o, netem);
  renderer.info(`chaos delay: using ${via}`, { via: action.kind });
  return experimentFromFlags('delay', containers, o, action);
}

export async function runChaosCommand(kind: ChaosCommandName, o: ChaosOptions, containers: string[]): Promise<number> {
  const renderer = rendererFor(o);
  // Everything is parsed and validated before the engine is touched (delay: after one netem probe).
  const options = kind === 'delay' ? await delayExperiment(containers, o, renderer) : experimentFromFlags(kind, containers, o);
  logResolved(renderer, kind, containers, o, options);
  const notifier = createNotifier(
    { slackHook: o.slackhook, slackChannel: o.slackchannel, webhookUrl: o.notify },
    (message) => renderer.warn(message),
  );
  const raw = await connectEngine(connectionFlags(o));
  await raw.ready(); // an unreachable engine fails here, before anything starts
  const journal = new Journal(o.stateDir ?? defaultStateDir());
  const signals = installSignalHandlers((message) => renderer.warn(message));
  // Helper images (netem/stress/proxy) pulled with progress on the terminal, or as events with --json.
  const engine = withPullProgress(raw, pullProgressFor(o.json ? (e) => renderer.info(`pull ${e.image}: ${e.state}`, { event: e.type, ...e }) : undefined, signals.signal));
  const reportPath = o.report;
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
    await checkSomethingHit(report, engine, containers, o, (message) => renderer.warn(message));
    if (report.totals.restoreFailed > 0) return 1;
    if (report.totals.failed > 0 && !options.skipError) return 1;
    if (report.cycles.some((c) => c.error) && !options.skipError) return 1;
    return 0;
  } catch (err) {
    const feature = err instanceof KibokoError ? (err.details as { feature?: string } | undefined)?.feature : undefined;
    if (kind === 'netem:delay' && err instanceof KibokoError && err.code === 'KERNEL_FEATURE_MISSING' && (feature === 'netem' || feature === 'prio')) {
      throw new KibokoError('KERNEL_FEATURE_MISSING', err.message, {
        hint: `without ${feature === 'prio' ? 'sch_prio (needed for a scoped netem)' : 'netem'}, kiboko delays through its transparent proxy: \`${proxyFormOfNetemDelay(o, containers)}\` (--port: the container port whose responses to delay; --to HOST:PORT: its outgoing connections)`,
        details: err.details,
        cause: err,
      });
    }
    throw err;
  } finally {
    signals.dispose();
    renderer.close();
    engine.close();
  }
}

/** The Pumba-style command name (`netem delay`, `iptables loss`) of a resolved kind. */
export const commandWords = (kind: ChaosCommandName) => kind.replace(':', ' ');

/**
 * `--log-level debug`: what was resolved from the command line before anything runs (Pumba logs
 * its command, arguments and limit at debug level): the command, its flags, the targets and the limit.
 */
export function logResolved(renderer: Renderer, kind: ChaosCommandName, containers: readonly string[], o: ChaosOptions, options: ExperimentOptions): void {
  const flags = Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && !['slackhook', 'notify', 'tlskey'].includes(k)));
  const targets = options.targets;
  const line = [
    `command: ${commandWords(kind)}`,
    `arguments: ${JSON.stringify(containers)}`,
    `flags: ${JSON.stringify(flags)}`,
    `targets: ${JSON.stringify(targets)}`,
    `limit: ${options.limit ?? 0}${options.random ? ' (random)' : ''}`,
    `action: ${JSON.stringify(options.action)}`,
  ].join('; ');
  renderer.debug(line, { command: commandWords(kind), arguments: [...containers], flags, targets, limit: options.limit ?? 0, random: Boolean(options.random), action: options.action });
}

export async function runDoctorCommand(o: DoctorOptions): Promise<number> {
  const { runChecks } = await import('../doctor/index.js');
  const engine = await connectEngine(connectionFlags(o));
  const checks = await runChecks(engine);
  engine.close();
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ checks })}\n`);
  } else {
    const mark = { ok: '✔', missing: '✖', warn: '⚠', error: '✖' } as const;
    for (const c of checks) {
      process.stdout.write(`${mark[c.status]} ${c.name}: ${c.detail}${c.needed_for && c.status !== 'ok' ? ` (needed for ${c.needed_for})` : ''}\n`);
      if (c.hint && c.status !== 'ok') process.stdout.write(`    → ${c.hint}\n`);
    }
    const missing = checks.filter((c) => c.status === 'missing' || c.status === 'error');
    process.stdout.write(missing.length ? `${missing.length} feature(s) missing; kiboko refuses the faults that need them, before touching anything\n` : 'everything kiboko needs is here\n');
  }
  return o.strict && checks.some((c) => c.status !== 'ok') ? 1 : 0;
}
