import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { KibokoError, invalidArgument } from '../common/errors.js';
import { emptyRunState, FLAGS_BY_LONG, FLAGS_BY_SHORT, IGNORED_FLAGS, REFUSED, SHORT_REFUSED, SUPPORTED_FLAGS, type FlagDef, type RunState } from './dockerrun-flags.js';
import { parseKvFile, type Fail } from './dockerrun-values.js';
import { DEFAULT_ROLLBACK, DEFAULT_UPDATE, type Healthcheck, type ServiceSpec } from './model.js';
import { own } from '../common/own.js';

export { IGNORED_FLAGS, SUPPORTED_FLAGS } from './dockerrun-flags.js';

/**
 * Translates the arguments of a `docker run` (those after `run`) into the ServiceSpec the
 * equivalent compose service would give. The docker CLI's own parsing rules are followed
 * (pflag: `--flag=v`, `--flag v`, `-p80:80`, `-dit`, flags stop at the image); any flag that has
 * no place in kiboko's service model is refused by name rather than dropped.
 */

export interface DockerRunContext {
  /** The service this container becomes. */
  service: string;
  /** The unit file, for messages and origin. */
  file: string;
  /** Line of the ExecStart in the file. */
  line?: number | undefined;
  /** Variables for `-e KEY` and `KEY` lines in `--env-file` (docker reads its own environment). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Relative `--env-file` / `--label-file` paths resolve against this folder. */
  baseDir?: string | undefined;
  readFile?: ((path: string) => string) | undefined;
}

export interface DockerRun {
  service: ServiceSpec;
  /** `--name`, if given: the container the unit's housekeeping lines (docker rm NAME) refer to. */
  containerName: string | undefined;
  /** Whether --restart was given (otherwise `service.restart` is docker's default, 'no'). */
  restartSet: boolean;
  /** Accepted-and-ignored flags that were present, e.g. ['--rm', '-d']. */
  ignored: string[];
}

export function parseDockerRun(args: readonly string[], ctx: DockerRunContext): DockerRun {
  const where = ctx.line === undefined ? ctx.file : `${ctx.file}:${ctx.line}`;
  const fail: Fail = (message, hint) => {
    throw invalidArgument(`${where}: ${message}`, hint);
  };
  const st = emptyRunState();
  const at = parseFlags(args, st, fail);
  const image = args[at];
  if (image === undefined || image === '') fail('docker run has no image', 'put the image after the flags: docker run [flags] IMAGE [command…]');
  const command = args.slice(at + 1);
  if (st.noHealthcheck && st.health.set) fail('--no-healthcheck conflicts with --health-* options', 'keep either --no-healthcheck or the --health-* flags');

  const readKv = kvFileReader(ctx, fail);
  const environment = environmentOf(st, readKv, ctx.env ?? {}, fail);
  const labels = labelsOf(st, readKv, fail);
  const healthcheck = healthcheckOf(st);
  const service: ServiceSpec = {
    name: ctx.service,
    image: image!,
    ...(command.length ? { command } : {}),
    ...(st.entrypoint ? { entrypoint: st.entrypoint } : {}),
    environment,
    ports: st.ports,
    volumes: st.volumes,
    // As compose: a service that names no network is on the project's default network.
    networks: st.networks.length ? st.networks : ['default'],
    labels,
    ...(healthcheck ? { healthcheck } : {}),
    dependsOn: [],
    restart: st.restart ?? 'no',
    ...(st.user !== undefined ? { user: st.user } : {}),
    ...(st.workingDir !== undefined ? { workingDir: st.workingDir } : {}),
    ...(st.stopSignal !== undefined ? { stopSignal: st.stopSignal } : {}),
    ...(st.stopGracePeriodMs !== undefined ? { stopGracePeriodMs: st.stopGracePeriodMs } : {}),
    replicas: 1,
    update: { ...DEFAULT_UPDATE },
    rollback: { ...DEFAULT_ROLLBACK },
    tagPolicy: { kind: 'pinned' },
    origin: { file: ctx.file, ...(ctx.line !== undefined ? { line: ctx.line } : {}) },
  };
  return { service, containerName: st.name, restartSet: st.restart !== undefined, ignored: st.ignored };
}

/**
 * Walks the flags (the docker CLI's pflag rules) against the flag table into `st`; returns the
 * index of the image. Flags stop at the first word that is not one, or after `--`.
 */
function parseFlags(args: readonly string[], st: RunState, fail: Fail): number {
  let i = 0;
  const takeValue = (flag: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    if (i >= args.length) fail(`docker run ${flag} needs a value`, `write ${flag} VALUE (or ${flag}=VALUE)`);
    return args[i++]!;
  };
  const apply = (def: FlagDef, flag: string, inline: string | undefined): void => {
    if (def.arity === 'bool') applyBool(def, flag, inline, st, fail);
    else def.set(st, takeValue(flag, inline), flag, fail);
  };
  while (i < args.length) {
    const arg = args[i]!;
    if (arg === '--') return i + 1;
    if (!arg.startsWith('-') || arg === '-') return i;
    i++;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const long = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const def = FLAGS_BY_LONG.get(long) ?? refuse(`--${long}`, long, fail);
      apply(def, `--${long}`, eq < 0 ? undefined : arg.slice(eq + 1));
      continue;
    }
    // Short flags, possibly grouped (-dit) with the last taking a value (-dp 80:80, -p80:80, -p=80:80).
    for (let j = 1; j < arg.length; j++) {
      const ch = arg[j]!;
      const def = FLAGS_BY_SHORT.get(ch) ?? refuse(`-${ch}`, SHORT_REFUSED[ch] ?? ch, fail);
      const rest = arg.slice(j + 1);
      if (def.arity === 'value') {
        apply(def, `-${ch}`, rest === '' ? undefined : rest.startsWith('=') ? rest.slice(1) : rest);
        break;
      }
      if (rest.startsWith('=')) {
        apply(def, `-${ch}`, rest.slice(1));
        break;
      }
      apply(def, `-${ch}`, undefined);
    }
  }
  return i;
}

function applyBool(def: FlagDef & { arity: 'bool' }, flag: string, inline: string | undefined, st: RunState, fail: Fail): void {
  const on =
    inline === undefined || inline === 'true' || inline === '1'
      ? true
      : inline === 'false' || inline === '0'
        ? false
        : fail(`${flag} expects true or false, got '${inline}'`, `write ${flag} or ${flag}=false`);
  if (def.ignore) st.ignored.push(flag);
  else def.set?.(st, on);
}

function refuse(flag: string, key: string, fail: Fail): never {
  return fail(
    `unsupported docker run flag ${flag}`,
    own(REFUSED, key) ??
      `kiboko deploys the compose equivalent of the docker run line and understands ${SUPPORTED_FLAGS.join(', ')} (and ignores ${Object.keys(IGNORED_FLAGS).join(', ')}); remove ${flag} or move the service to a compose file`,
  );
}

type KvReader = (file: string, flag: string, lookup: boolean) => string[];

/** Reads an --env-file or --label-file (relative to the unit's folder) into KEY=value words. */
function kvFileReader(ctx: DockerRunContext, fail: Fail): KvReader {
  const readFile = ctx.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const env = ctx.env ?? {};
  return (file, flag, lookup) => {
    const path = isAbsolute(file) ? file : resolve(ctx.baseDir ?? '.', file);
    let text: string;
    try {
      text = readFile(path);
    } catch (err) {
      if (err instanceof KibokoError) throw err; // the caller's own refusal (a unit cannot name daemon files), as it is
      return fail(`cannot read ${flag} ${file}: ${(err as Error).message}`, `check that ${path} exists and is readable`);
    }
    return parseKvFile(text, (line, msg) => fail(`${flag} ${file}:${line}: ${msg}`, 'write one KEY=value per line (# starts a comment)'), lookup ? env : undefined);
  };
}

/** --env-file lines first, then -e: a later KEY wins; a bare KEY takes the variable from `env`. */
function environmentOf(st: RunState, readKv: KvReader, env: Readonly<Record<string, string | undefined>>, fail: Fail): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const kv of [...st.envFiles.flatMap((f) => readKv(f, '--env-file', true)), ...st.envs]) {
    const eq = kv.indexOf('=');
    if (eq === 0) fail(`invalid environment variable '${kv}'`, 'write -e KEY=value or -e KEY');
    if (eq < 0) {
      const v = env[kv];
      if (v !== undefined) environment[kv] = v;
    } else environment[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return environment;
}

function labelsOf(st: RunState, readKv: KvReader, fail: Fail): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const kv of [...st.labelFiles.flatMap((f) => readKv(f, '--label-file', false)), ...st.labels]) {
    const eq = kv.indexOf('=');
    if (eq === 0) fail(`invalid label '${kv}'`, 'write -l key=value');
    if (eq < 0) labels[kv] = '';
    else labels[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return labels;
}

function healthcheckOf(st: RunState): Healthcheck | undefined {
  if (st.noHealthcheck) return { test: ['NONE'] };
  if (!st.health.set) return undefined;
  const h = st.health;
  return {
    // No --health-cmd: the image's test is kept and only the timings change ([] inherits, as in the Engine API).
    test: h.cmd ? ['CMD-SHELL', h.cmd] : [],
    ...(h.intervalMs !== undefined ? { intervalMs: h.intervalMs } : {}),
    ...(h.timeoutMs !== undefined ? { timeoutMs: h.timeoutMs } : {}),
    ...(h.retries !== undefined ? { retries: h.retries } : {}),
    ...(h.startPeriodMs !== undefined ? { startPeriodMs: h.startPeriodMs } : {}),
  };
}
