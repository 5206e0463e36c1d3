import * as z from 'zod/mini';
import {
  netemArgs,
  parseRate,
  validateCidr,
  validateExperiment,
  validateFilter,
  validateInterface,
  validateLoss,
  validatePort,
  type ExperimentOptions,
  type LifecycleAction,
  type LossMode,
  type NetemEffects,
  type Protocol,
  type TrafficScope,
} from '../chaos/index.js';
import { parseDuration } from '../common/duration.js';
import { invalidArgument } from '../common/errors.js';
import { parseSignal } from '../common/signals.js';
import { parseTargetArgs } from '../targets/index.js';
import { describeIssue } from './errors.js';

export const CHAOS_ACTIONS = [
  'kill',
  'stop',
  'pause',
  'restart',
  'netem delay',
  'netem loss',
  'netem duplicate',
  'netem corrupt',
  'netem rate',
  'rate',
  'partition',
  'iptables loss',
  'stress',
] as const;
export type ChaosActionName = (typeof CHAOS_ACTIONS)[number];

const duration = z.union([z.string().check(z.maxLength(40)), z.number().check(z.gte(0), z.lte(365 * 24 * 3_600_000))]);
const text = (max = 256) => z.string().check(z.maxLength(max));

const specSchema = z.strictObject({
  action: z.string().check(z.maxLength(40)),
  targets: z.optional(z.array(text()).check(z.maxLength(100))),
  labels: z.optional(z.array(text()).check(z.maxLength(20))),
  interval: z.optional(duration),
  duration: z.optional(duration),
  limit: z.optional(z.number().check(z.int(), z.gte(0), z.lte(10_000))),
  random: z.optional(z.boolean()),
  seed: z.optional(z.number().check(z.int(), z.gte(0), z.lte(0xffffffff))),
  /** Stop after this many cycles (with an interval); unset: until DELETE. */
  cycles: z.optional(z.number().check(z.int(), z.gte(1), z.lte(1_000_000))),
  dryRun: z.optional(z.boolean()),
  skipError: z.optional(z.boolean()),
  concurrency: z.optional(z.number().check(z.int(), z.gte(1), z.lte(256))),
  options: z.optional(z.record(z.string().check(z.maxLength(40)), z.union([z.string().check(z.maxLength(1000)), z.number(), z.boolean(), z.array(z.union([z.string().check(z.maxLength(256)), z.number()])).check(z.maxLength(100))]))),
});

export type ChaosSpec = z.infer<typeof specSchema>;

/** Options each action takes (names as the CLI's long flags, camelCased). */
const OPTIONS: Record<ChaosActionName, readonly string[]> = {
  kill: ['signal'],
  stop: ['time', 'restart'],
  pause: [],
  restart: ['timeout'],
  'netem delay': ['time', 'jitter', 'correlation', 'distribution'],
  'netem loss': ['percent', 'correlation'],
  'netem duplicate': ['percent', 'correlation'],
  'netem corrupt': ['percent', 'correlation'],
  'netem rate': ['rate', 'packetOverhead', 'cellSize', 'cellOverhead'],
  rate: ['rate'],
  partition: ['peer', 'iptablesImage'],
  'iptables loss': ['protocol', 'source', 'destination', 'srcPort', 'dstPort', 'mode', 'probability', 'every', 'packet', 'interface', 'iptablesImage'],
  stress: ['stressors', 'stressImage', 'pullImage'],
};
const NET_SCOPE = ['interface', 'target', 'egressPort', 'ingressPort', 'tcImage', 'pullImage'];

type Opts = Record<string, string | number | boolean | (string | number)[]>;

const strs = (v: Opts[string] | undefined): string[] =>
  v === undefined ? [] : (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(',')).map((x) => x.trim()).filter(Boolean);
const str = (v: Opts[string] | undefined, name: string): string | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidArgument(`invalid options.${name}: expected a string, got ${JSON.stringify(v)}`, `e.g. "${name}": "…"`);
  return v;
};
const bool = (v: Opts[string] | undefined, name: string, fallback: boolean): boolean => {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw invalidArgument(`invalid options.${name}: expected true or false, got ${JSON.stringify(v)}`, `e.g. "${name}": true`);
  return v;
};
function number(v: Opts[string] | undefined, name: string, fallback: number, check: (n: number) => boolean = () => true, expected = 'a number'): number {
  if (v === undefined) return fallback;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n) || !check(n)) throw invalidArgument(`invalid options.${name}: expected ${expected}, got ${JSON.stringify(v)}`, `e.g. "${name}": ${fallback}`);
  return n;
}
const percent = (v: Opts[string] | undefined, name: string, fallback: number) => number(v, name, fallback, (n) => n >= 0 && n <= 100, 'a percentage 0-100');
const whole = (v: Opts[string] | undefined, name: string, fallback: number) => number(v, name, fallback, (n) => Number.isInteger(n) && n >= 0, 'a whole number');
const peers = (v: Opts[string] | undefined, name: string) => strs(v).map((p) => (/^[\d./]+$/.test(p) ? validateCidr(p, name) : p));

function ms(v: string | number | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'number' ? Math.round(v) : parseDuration(v, name);
}
function required(v: string | number | undefined, name: string): number {
  const n = ms(v, name);
  if (n === undefined || n <= 0) throw invalidArgument(`${name} is required for this action: expected a duration longer than 0`, `e.g. "${name}": "10s"`);
  return n;
}
/** Whole seconds from a number of seconds or a duration string (`5s`, `1500ms` rounded up). */
function seconds(v: Opts[string] | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 86_400) return v;
  if (typeof v === 'string') return /^\d+$/.test(v.trim()) ? Number(v.trim()) : Math.ceil(parseDuration(v, `options.${name}`) / 1000);
  throw invalidArgument(`invalid options.${name}: expected seconds or a duration, got ${JSON.stringify(v)}`, `e.g. "${name}": "5s"`);
}

function scope(o: Opts): TrafficScope {
  return {
    targets: peers(o.target, 'options.target'),
    egressPorts: strs(o.egressPort).map((p) => validatePort(p, 'options.egressPort')),
    ingressPorts: strs(o.ingressPort).map((p) => validatePort(p, 'options.ingressPort')),
  };
}

const DISTRIBUTIONS = ['uniform', 'normal', 'pareto', 'paretonormal'] as const;

function actionOf(name: ChaosActionName, spec: ChaosSpec, o: Opts): LifecycleAction {
  const net = { iface: validateInterface(str(o.interface, 'interface') ?? 'eth0'), scope: scope(o), helperImage: str(o.tcImage, 'tcImage'), pullImage: bool(o.pullImage, 'pullImage', false) };
  switch (name) {
    case 'kill':
      return { kind: 'kill', signal: parseSignal(String(o.signal ?? 'SIGKILL')) };
    case 'stop': {
      const restart = bool(o.restart, 'restart', false);
      if (!restart && spec.duration !== undefined) throw invalidArgument('duration needs options.restart for stop', 'set "options": {"restart": true} to start the containers again after the duration');
      return { kind: 'stop', timeSeconds: seconds(o.time, 'time', 5), restart: restart ? { durationMs: required(spec.duration ?? '10s', 'duration') } : undefined };
    }
    case 'pause':
      return { kind: 'pause', durationMs: required(spec.duration, 'duration') };
    case 'restart':
      return { kind: 'restart', timeoutSeconds: seconds(o.timeout, 'timeout', 1) };
    case 'netem delay':
    case 'netem loss':
    case 'netem duplicate':
    case 'netem corrupt':
    case 'netem rate': {
      const effects: NetemEffects = {};
      if (name === 'netem delay') {
        const d = str(o.distribution, 'distribution');
        if (d !== undefined && !(DISTRIBUTIONS as readonly string[]).includes(d)) throw invalidArgument(`invalid options.distribution '${d.slice(0, 40)}': expected one of ${DISTRIBUTIONS.join(', ')}`, '"distribution": "normal"');
        effects.delay = { timeMs: whole(o.time, 'time', 100), jitterMs: whole(o.jitter, 'jitter', 10), correlation: percent(o.correlation, 'correlation', 20), distribution: d as (typeof DISTRIBUTIONS)[number] | undefined };
      }
      if (name === 'netem loss') effects.loss = { percent: percent(o.percent, 'percent', 0), correlation: percent(o.correlation, 'correlation', 0) };
      if (name === 'netem duplicate') effects.duplicate = { percent: percent(o.percent, 'percent', 0), correlation: percent(o.correlation, 'correlation', 0) };
      if (name === 'netem corrupt') effects.corrupt = { percent: percent(o.percent, 'percent', 0), correlation: percent(o.correlation, 'correlation', 0) };
      if (name === 'netem rate') {
        const rate = str(o.rate, 'rate') ?? '100kbit';
        parseRate(rate, 'options.rate');
        effects.rate = { rate, packetOverhead: number(o.packetOverhead, 'packetOverhead', 0), cellSize: whole(o.cellSize, 'cellSize', 0), cellOverhead: number(o.cellOverhead, 'cellOverhead', 0) };
      }
      netemArgs(effects);
      return { kind: 'netem', durationMs: required(spec.duration, 'duration'), effects, ...net };
    }
    case 'rate': {
      const rate = str(o.rate, 'rate');
      if (rate === undefined) throw invalidArgument('options.rate is required for rate', '"options": {"rate": "1mbit"}');
      parseRate(rate, 'options.rate');
      return { kind: 'rate', durationMs: required(spec.duration, 'duration'), rate, ...net };
    }
    case 'partition':
      return { kind: 'partition', durationMs: required(spec.duration, 'duration'), peers: peers(o.peer, 'options.peer'), helperImage: str(o.iptablesImage, 'iptablesImage'), pullImage: bool(o.pullImage, 'pullImage', false) };
    case 'iptables loss': {
      const protocol = (str(o.protocol, 'protocol') ?? 'any').toLowerCase();
      if (!['any', 'tcp', 'udp', 'icmp'].includes(protocol)) throw invalidArgument(`invalid options.protocol '${protocol.slice(0, 20)}': expected any, tcp, udp or icmp`, '"protocol": "tcp"');
      const mode = str(o.mode, 'mode') ?? 'random';
      let loss: LossMode;
      if (mode === 'random') loss = { mode, probability: number(o.probability, 'probability', 0, (n) => n > 0 && n <= 1, 'a probability in (0, 1]') };
      else if (mode === 'nth') loss = { mode, every: whole(o.every, 'every', 0), packet: whole(o.packet, 'packet', 0) };
      else throw invalidArgument(`invalid options.mode '${mode.slice(0, 20)}': expected random or nth`, '"mode": "random", "probability": 0.5');
      validateLoss(loss);
      const action = {
        kind: 'iptables' as const,
        durationMs: required(spec.duration, 'duration'),
        iface: net.iface,
        protocol: protocol as Protocol,
        sources: peers(o.source, 'options.source'),
        destinations: peers(o.destination, 'options.destination'),
        srcPorts: strs(o.srcPort).map((p) => validatePort(p, 'options.srcPort')),
        dstPorts: strs(o.dstPort).map((p) => validatePort(p, 'options.dstPort')),
        loss,
        helperImage: str(o.iptablesImage, 'iptablesImage'),
        pullImage: net.pullImage,
      };
      validateFilter(action);
      return action;
    }
    case 'stress': {
      const stressors = (str(o.stressors, 'stressors') ?? '--cpu 4').trim().split(/\s+/).filter(Boolean);
      return { kind: 'stress', durationMs: required(spec.duration, 'duration'), stressors, image: str(o.stressImage, 'stressImage'), pullImage: bool(o.pullImage, 'pullImage', false) };
    }
  }
}

/**
 * `POST /v1/chaos/experiments` body → the chaos library's experiment options, validated as the
 * CLI validates its flags (every error is INVALID_ARGUMENT, before anything is touched).
 *
 * `{ "action": "pause", "targets": ["web-1", "re2:^api"], "labels": ["tier=front"],
 *    "duration": "10s", "interval": "1m", "cycles": 3, "options": { … } }`
 */
export function parseChaosSpec(body: unknown): { spec: ChaosSpec; options: ExperimentOptions } {
  const r = specSchema.safeParse(body);
  if (!r.success) {
    throw invalidArgument(`invalid experiment: ${describeIssue(r.error.issues[0]!, body)}`, 'e.g. {"action": "pause", "targets": ["web-1"], "duration": "10s"}');
  }
  const spec = r.data;
  const name = spec.action.trim().replace(/[:_]/g, ' ').replace(/\s+/g, ' ').toLowerCase() as ChaosActionName;
  if (!(CHAOS_ACTIONS as readonly string[]).includes(name)) throw invalidArgument(`invalid action ${JSON.stringify(spec.action)}: expected one of ${CHAOS_ACTIONS.join(', ')}`, '"action": "pause"');
  const o = (spec.options ?? {}) as Opts;
  const allowed = new Set([...OPTIONS[name], ...(name.startsWith('netem') || name === 'rate' ? NET_SCOPE : [])]);
  const unknown = Object.keys(o).filter((k) => !allowed.has(k));
  if (unknown.length) throw invalidArgument(`unknown option ${JSON.stringify(unknown[0])} for ${name}`, allowed.size ? `${name} takes: ${[...allowed].join(', ')}` : `${name} takes no options`);
  const action = actionOf(name, spec, o);
  const options: ExperimentOptions = {
    action,
    targets: parseTargetArgs(spec.targets ?? [], spec.labels ?? []),
    limit: spec.limit,
    random: spec.random,
    seed: spec.seed,
    intervalMs: ms(spec.interval, 'interval') || undefined,
    maxCycles: spec.cycles,
    dryRun: spec.dryRun,
    skipError: spec.skipError,
    concurrency: spec.concurrency,
  };
  validateExperiment(options);
  return { spec: { ...spec, action: name }, options };
}
