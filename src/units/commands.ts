import { invalidArgument, KibokoError, asKibokoError } from '../common/errors.js';
import { parseSignal } from '../common/signals.js';
import { dockerArgs as deployDockerArgs, expandEnvironment, parseExec, type ExecCommand, type UnitName } from '../deploy/index.js';
import type { Engine } from '../engine/index.js';
import { pullImage } from '../registry/index.js';

/**
 * The docker commands fleet units run around their `docker run` (ExecStartPre, ExecStartPost,
 * ExecStop, ExecStopPost): parsed once into actions, run later through the Engine port in order.
 * A leading `-` on a line means "ignore failure", as in systemd.
 */

export const HOUSEKEEPING_KEYS = ['ExecStartPre', 'ExecStartPost', 'ExecStop', 'ExecStopPost', 'ExecReload'] as const;
export type HousekeepingKey = (typeof HOUSEKEEPING_KEYS)[number];

export type DockerAction =
  | { op: 'kill'; containers: string[]; signal: string }
  | { op: 'rm'; containers: string[]; force: boolean; volumes: boolean }
  | { op: 'stop'; containers: string[]; timeoutSeconds: number | undefined }
  | { op: 'pull'; image: string }
  | { op: 'network-create'; name: string; driver: 'bridge' | 'overlay'; labels: Record<string, string> }
  | { op: 'network-rm'; names: string[] }
  | { op: 'volume-create'; name: string; labels: Record<string, string> }
  | { op: 'volume-rm'; names: string[] };

export interface UnitCommand {
  key: HousekeepingKey;
  /** The line as written (for messages). */
  line: string;
  ignoreFailure: boolean;
  action: DockerAction;
}

export const SUPPORTED_COMMANDS = 'docker kill, rm, stop, pull, network create/rm and volume create/rm';

/** Docker object names allow only [A-Za-z0-9_.-], starting with a letter or digit; fleet names may hold `:` and `@`. */
export function dockerSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
}

/** `docker SUB args`, `/usr/bin/docker …`, `/usr/bin/env docker …`; `docker container|image SUB` folded. */
export function dockerArgs(cmd: ExecCommand, argv: readonly string[]): string[] | undefined {
  return deployDockerArgs(cmd, argv, ['container', 'image']);
}

interface FlagSpec {
  bool?: readonly string[];
  value?: readonly string[];
  /** Flags docker knows that kiboko refuses, with why. */
  refused?: Readonly<Record<string, string>>;
}

/** pflag-style parsing: `--x=v`, `--x v`, `-abc`, `-sKILL`, `--` ends flags; names without dashes in the spec, short ones one letter. */
export function parseFlags(args: readonly string[], spec: FlagSpec, fail: (message: string) => never): { flags: Map<string, string[]>; operands: string[] } {
  const flags = new Map<string, string[]>();
  const operands: string[] = [];
  const set = (name: string, value: string) => flags.set(name, [...(flags.get(name) ?? []), value]);
  const kind = (name: string): 'bool' | 'value' => {
    if (spec.refused?.[name] !== undefined) fail(`${name.length === 1 ? '-' : '--'}${name} is not supported: ${spec.refused[name]}`);
    if (spec.bool?.includes(name)) return 'bool';
    if (spec.value?.includes(name)) return 'value';
    return fail(`unknown flag ${name.length === 1 ? '-' : '--'}${name}`);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      operands.push(a);
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      if (kind(name) === 'bool') set(name, eq < 0 ? 'true' : a.slice(eq + 1));
      else if (eq >= 0) set(name, a.slice(eq + 1));
      else if (i + 1 < args.length) set(name, args[++i]!);
      else fail(`--${name} needs a value`);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const name = a[j]!;
      if (kind(name) === 'bool') {
        set(name, 'true');
        continue;
      }
      const rest = a.slice(j + 1).replace(/^=/, '');
      if (rest) set(name, rest);
      else if (i + 1 < args.length) set(name, args[++i]!);
      else fail(`-${name} needs a value`);
      break;
    }
  }
  return { flags, operands };
}

const one = (f: Map<string, string[]>, ...names: string[]): string | undefined => names.flatMap((n) => f.get(n) ?? []).at(-1);
const truthy = (v: string | undefined) => v !== undefined && v !== 'false' && v !== '0';

function labelsOf(values: readonly string[]): Record<string, string> {
  return Object.fromEntries(values.map((kv) => (kv.includes('=') ? [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] : [kv, ''])));
}

/** One docker command line (already split, specifiers and variables expanded) → its action. */
export function parseDockerAction(args: readonly string[], fail: (message: string) => never): DockerAction {
  const [sub, ...rest] = args;
  const names = (ops: string[], what: string) => {
    if (ops.length === 0) fail(`docker ${sub} names no ${what}`);
    return ops.map(dockerSafe);
  };
  switch (sub) {
    case 'kill': {
      const { flags, operands } = parseFlags(rest, { value: ['s', 'signal'] }, fail);
      const raw = one(flags, 's', 'signal') ?? 'SIGKILL';
      let signal: string;
      try {
        signal = parseSignal(raw);
      } catch (err) {
        return fail((err as Error).message);
      }
      return { op: 'kill', containers: names(operands, 'container'), signal };
    }
    case 'rm': {
      const { flags, operands } = parseFlags(rest, { bool: ['f', 'force', 'v', 'volumes', 'l', 'link'] }, fail);
      return { op: 'rm', containers: names(operands, 'container'), force: truthy(one(flags, 'f', 'force')), volumes: truthy(one(flags, 'v', 'volumes')) };
    }
    case 'stop': {
      const { flags, operands } = parseFlags(rest, { value: ['t', 'time', 'timeout'], refused: { s: 'the stop signal comes from the container (docker run --stop-signal)', signal: 'the stop signal comes from the container (docker run --stop-signal)' } }, fail);
      const t = one(flags, 't', 'time', 'timeout');
      if (t !== undefined && !/^\d+$/.test(t)) fail(`docker stop -t expects whole seconds, got '${t}'`);
      return { op: 'stop', containers: names(operands, 'container'), timeoutSeconds: t === undefined ? undefined : Number(t) };
    }
    case 'pull': {
      const { operands } = parseFlags(rest, { bool: ['q', 'quiet', 'disable-content-trust'], refused: { a: 'pull one tag', 'all-tags': 'pull one tag', platform: 'kiboko pulls for the engine platform' } }, fail);
      if (operands.length !== 1) fail(`docker pull takes one image, got ${operands.length}`);
      return { op: 'pull', image: operands[0]! };
    }
    case 'network': {
      const [verb, ...more] = rest;
      if (verb === 'create') {
        const { flags, operands } = parseFlags(
          more,
          { value: ['d', 'driver', 'label'], bool: ['attachable'], refused: Object.fromEntries(['subnet', 'gateway', 'ip-range', 'o', 'opt', 'ipam-driver', 'ipam-opt', 'aux-address', 'scope', 'config-from', 'config-only', 'ingress', 'internal', 'ipv6'].map((k) => [k, 'kiboko creates plain bridge (or attachable overlay) networks'])) },
          fail,
        );
        const driver = one(flags, 'd', 'driver') ?? 'bridge';
        if (driver !== 'bridge' && driver !== 'overlay') fail(`docker network create --driver ${driver}: kiboko creates bridge and overlay networks`);
        if (operands.length !== 1) fail(`docker network create takes one name, got ${operands.length}`);
        return { op: 'network-create', name: dockerSafe(operands[0]!), driver: driver as 'bridge' | 'overlay', labels: labelsOf(flags.get('label') ?? []) };
      }
      if (verb === 'rm' || verb === 'remove') {
        const { operands } = parseFlags(more, { bool: ['f', 'force'] }, fail);
        return { op: 'network-rm', names: names(operands, 'network') };
      }
      return fail(`docker network ${verb ?? ''} is not supported (kiboko runs network create and network rm)`);
    }
    case 'volume': {
      const [verb, ...more] = rest;
      if (verb === 'create') {
        const { flags, operands } = parseFlags(more, { value: ['d', 'driver', 'label', 'name'], refused: { o: 'volume driver options are not supported', opt: 'volume driver options are not supported' } }, fail);
        const driver = one(flags, 'd', 'driver') ?? 'local';
        if (driver !== 'local') fail(`docker volume create --driver ${driver}: kiboko creates local volumes`);
        const name = one(flags, 'name') ?? operands[0];
        if (!name || operands.length > 1) fail('docker volume create takes one name');
        return { op: 'volume-create', name: dockerSafe(name!), labels: labelsOf(flags.get('label') ?? []) };
      }
      if (verb === 'rm' || verb === 'remove') {
        const { operands } = parseFlags(more, { bool: ['f', 'force'] }, fail);
        return { op: 'volume-rm', names: names(operands, 'volume') };
      }
      return fail(`docker volume ${verb ?? ''} is not supported (kiboko runs volume create and volume rm)`);
    }
    default:
      return fail(`docker ${sub ?? ''} is not supported here`);
  }
}

/**
 * Parses one `Exec…=` line of a unit (several commands when separated by ` ; `). Refuses,
 * naming the line, anything that is not one of the docker commands kiboko runs.
 */
export function parseUnitCommands(key: HousekeepingKey, value: string, ctx: { unitName: UnitName; env: Readonly<Record<string, string>> }): UnitCommand[] {
  const line = `${key}=${value}`;
  const bad = (message: string): never => {
    throw invalidArgument(`${ctx.unitName.full}: ${line}: ${message}`, `kiboko runs ${SUPPORTED_COMMANDS} around the container; remove the line, or start the daemon with --allow-any-exec-start to store such units (they will not run)`);
  };
  return parseExec(value, { unitName: ctx.unitName, where: `${ctx.unitName.full} ${key}` }).map((cmd) => {
    let argv = [...cmd.argv];
    if (!cmd.flags.noEnvironmentExpansion) {
      const expanded = expandEnvironment(argv, ctx.env);
      if (expanded.missing.length) bad(`uses ${expanded.missing.map((m) => `$${m}`).join(', ')}, which the unit's Environment= does not set`);
      argv = expanded.argv;
    }
    const args = dockerArgs(cmd, argv);
    if (!args) return bad(`runs ${cmd.path}, not docker`);
    return { key, line, ignoreFailure: cmd.flags.ignoreFailure, action: parseDockerAction(args, bad) };
  });
}

/** What a command may touch: a container of another unit is refused, so units never fight over a name. */
export interface CommandContext {
  unit: string;
  /** The unit a container belongs to (by its label), or undefined. */
  ownerOf(container: string): Promise<string | undefined>;
  /** On Swarm, container commands are no-ops (the service owns its tasks) and networks are overlays. */
  swarm?: boolean;
}

/** Runs one command through the engine; throws a KibokoError when it fails (docker's exit status ≠ 0). */
export async function runCommand(engine: Engine, cmd: UnitCommand, ctx: CommandContext): Promise<void> {
  const a = cmd.action;
  const each = async (items: readonly string[], fn: (item: string) => Promise<void>) => {
    const errors: string[] = [];
    for (const item of items) {
      try {
        await fn(item);
      } catch (err) {
        errors.push(asKibokoError(err).message);
      }
    }
    if (errors.length) throw new KibokoError('ACTION_FAILED', errors.join('; '));
  };
  const guarded = async (container: string, fn: () => Promise<void>) => {
    const owner = await ctx.ownerOf(container);
    if (owner !== undefined && owner !== ctx.unit) throw new KibokoError('CONFLICT', `container ${container} runs unit ${owner}; ${ctx.unit} may not touch it`);
    await fn();
  };
  switch (a.op) {
    case 'kill':
      if (ctx.swarm) return;
      return each(a.containers, (c) => guarded(c, () => engine.kill(c, a.signal)));
    case 'rm':
      if (ctx.swarm) return;
      return each(a.containers, (c) => guarded(c, () => engine.remove(c, { force: a.force, volumes: a.volumes })));
    case 'stop':
      if (ctx.swarm) return;
      return each(a.containers, (c) => guarded(c, () => engine.stop(c, a.timeoutSeconds ?? 10)));
    case 'pull':
      if (ctx.swarm) return; // every node pulls for its own tasks
      return void (await pullImage(engine, a.image));
    case 'network-create':
      if (ctx.swarm || a.driver === 'overlay') await engine.ensureOverlayNetwork(a.name, a.labels);
      else await engine.ensureNetwork(a.name, a.labels);
      return;
    case 'network-rm':
      return each(a.names, (n) => engine.removeNetwork(n));
    case 'volume-create':
      return engine.ensureVolume(a.name, a.labels);
    case 'volume-rm':
      return each(a.names, (n) => engine.removeVolume(n));
  }
}

/**
 * Runs commands in order as systemd does: a failing command stops the sequence unless its line
 * starts with `-`. Returns the ignored failures (for the unit's message); throws on the first
 * real failure, naming the line.
 */
export async function runSequence(engine: Engine, commands: readonly UnitCommand[], ctx: CommandContext): Promise<string[]> {
  const ignored: string[] = [];
  for (const cmd of commands) {
    try {
      await runCommand(engine, cmd, ctx);
    } catch (err) {
      const e = asKibokoError(err);
      if (e.code === 'ENGINE_UNREACHABLE') throw e;
      if (cmd.ignoreFailure) {
        ignored.push(`${cmd.line}: ${e.message}`);
        continue;
      }
      throw new KibokoError('ACTION_FAILED', `${cmd.line} failed: ${e.message}`, { cause: e });
    }
  }
  return ignored;
}
