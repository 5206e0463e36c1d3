import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as z from 'zod/mini';
import type { ClientOptions, UnitsOptions } from './units-options.js';
import { invalidArgument, KibokoError } from '../common/errors.js';
import { expandSpecifiers, parseUnitFile, toOptions } from '../deploy/index.js';
import { defaultStateDir } from '../journal/index.js';
import { unitHash, unitNameError, UnitsClient, type DesiredState, type FleetUnit, type Machine, type UnitOption, type UnitStateRecord } from '../units/index.js';
import { writeJsonLine } from '../common/ndjson.js';
import { parseDurationFlag, parseWith } from './options.js';

/**
 * `kiboko units …`: fleetctl's commands against `kiboko serve` (or any fleet v1 API). Parses,
 * calls the UnitsClient, prints — tab-aligned tables like fleetctl's, or NDJSON with --json.
 */

const POLL_MS = 500;
const DEFAULT_BLOCK_ATTEMPTS = 120;
const UNIT_TYPES = ['service', 'socket', 'timer', 'path', 'mount', 'automount', 'busname', 'device', 'scope', 'slice', 'snapshot', 'swap', 'target'];

export interface Out {
  json: boolean;
  /** A human line (skipped with --json). */
  line(text: string): void;
  /** A machine record (skipped without --json). */
  record(r: Record<string, unknown>): void;
  warn(text: string): void;
  /** fleetctl's closing lines on stderr (`Successfully stopped units [a.service].`); a record with --json. */
  note(text: string, r: Record<string, unknown>): void;
}

export function output(json: boolean): Out {
  return {
    json,
    line: (t) => {
      if (!json) process.stdout.write(`${t}\n`);
    },
    record: (r) => {
      if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
    },
    warn: (t) => {
      if (json) writeJsonLine('warn', 'warning', t);
      else process.stderr.write(`${t}\n`);
    },
    note: (t, r) => {
      if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stderr.write(`${t}\n`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Connection: endpoint, token, CA.

function readSecret(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw invalidArgument(`cannot read ${what} ${file}: ${(err as Error).message}`, what === 'token file' ? 'pass a readable --token-file, or the token itself in KIBOKO_TOKEN' : 'pass a readable PEM file');
  }
}

/** The client the flags describe: --endpoint / KIBOKO_ENDPOINT / the state dir's socket; the token from --token-file / KIBOKO_TOKEN / serve.token. */
export function clientFromOptions(o: ClientOptions, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): UnitsClient {
  const stateDir = o.stateDir ?? defaultStateDir(env);
  const endpoint = o.endpoint || env.KIBOKO_ENDPOINT || `unix://${join(stateDir, 'kiboko.sock')}`;
  let token: string | undefined;
  if (o.tokenFile) token = readSecret(o.tokenFile, 'token file');
  else if (env.KIBOKO_TOKEN) token = env.KIBOKO_TOKEN.trim();
  else if (existsSync(join(stateDir, 'serve.token'))) token = readSecret(join(stateDir, 'serve.token'), 'token file');
  const ca = o.caFile ? readSecret(o.caFile, 'CA file') : undefined;
  const timeoutMs = parseDurationFlag(o.requestTimeout, '--request-timeout') ?? 30_000;
  return new UnitsClient({ endpoint, token, ca, timeoutMs, signal });
}

// ---------------------------------------------------------------------------------------------
// Unit names and local unit files (fleetctl's lazyCreateUnits).

/** fleetctl's unitNameMangle: the file's base name, `.service` appended when it has no unit type. */
export function unitNameOf(arg: string): string {
  return withDefaultType(basename(arg));
}

const withDefaultType = (arg: string) => (UNIT_TYPES.some((t) => arg.endsWith(`.${t}`)) ? arg : `${arg}.service`);

/** `app@1.service` → its template `app@.service`; undefined for a plain unit or a template. */
export function templateOf(name: string): string | undefined {
  const m = /^([^@]+)@([^@]+)\.([a-z]+)$/.exec(name);
  return m ? `${m[1]}@.${m[3]}` : undefined;
}

/** A unit file from disk as fleet options (systemd's syntax, as src/deploy reads it). */
export function readUnitFile(path: string): UnitOption[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw invalidArgument(`cannot read unit file ${path}: ${(err as Error).message}`, 'give the path of a unit file, e.g. ./web.service');
  }
  const options = toOptions(parseUnitFile(text, path));
  if (options.length === 0) throw invalidArgument(`unit file ${path} has no settings`, 'a unit needs at least [Service] ExecStart=/usr/bin/docker run …');
  return options;
}

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

/** The options of a local unit file, or of a local template for an instance name; undefined when neither exists. */
function localOptions(file: string): { options: UnitOption[]; source: string } | undefined {
  if (isFile(file)) return { options: readUnitFile(file), source: file };
  const tmpl = templateOf(basename(file));
  const tfile = tmpl && join(dirname(file), tmpl);
  return tfile && isFile(tfile) ? { options: readUnitFile(tfile), source: tfile } : undefined;
}

/**
 * Makes sure each named unit exists in the daemon, in fleetctl's order: already there; a local
 * unit file; an instance's template in the daemon; its template on disk. New units are
 * created `inactive`. Returns the unit names and which of them were created.
 */
export async function lazyCreateUnits(client: UnitsClient, args: readonly string[], opts: { replace: boolean; out: Out }): Promise<{ names: string[]; created: string[] }> {
  const names: string[] = [];
  const created: string[] = [];
  for (const raw of args) {
    const file = withDefaultType(raw);
    const name = unitNameOf(raw);
    const bad = unitNameError(name);
    if (bad) throw invalidArgument(`invalid unit name '${name}': ${bad}`, 'unit names are letters, digits and : _ . @ - with a type suffix such as .service');
    if (names.includes(name)) continue;
    names.push(name);
    const existing = await client.getUnit(name);
    if (existing) {
      const local = localOptions(file);
      if (local && unitHash(local.options) !== unitHash(existing.options)) {
        if (opts.replace) {
          await client.createUnit({ name, options: local.options, desiredState: existing.desiredState });
          opts.out.line(`Unit ${name} replaced`);
          opts.out.record({ event: 'unit-replaced', unit: name, source: local.source, desiredState: existing.desiredState });
        } else {
          opts.out.warn(`WARNING: Unit ${name} in registry differs from local unit file ${local.source} (use --replace to replace it)`);
        }
      }
      continue;
    }
    let source: string;
    let options: UnitOption[];
    const local = isFile(file) ? { options: readUnitFile(file), source: file } : undefined;
    if (local) ({ options, source } = local);
    else {
      const tmpl = templateOf(name);
      if (!tmpl) {
        throw new KibokoError('TARGET_NOT_FOUND', `unable to find unit ${name} in the daemon or on the filesystem (no file ${file})`, { hint: 'give the path of its unit file, e.g. `kiboko units submit ./web.service`' });
      }
      const inDaemon = await client.getUnit(tmpl);
      const onDisk = join(dirname(file), tmpl);
      if (inDaemon) ({ options, source } = { options: inDaemon.options, source: `template ${tmpl}` });
      else if (isFile(onDisk)) ({ options, source } = { options: readUnitFile(onDisk), source: onDisk });
      else throw new KibokoError('TARGET_NOT_FOUND', `unable to find template unit ${tmpl} in the daemon or on the filesystem`, { hint: `submit the template first (\`kiboko units submit ${tmpl}\`) or put ${tmpl} next to ${file}` });
    }
    await client.createUnit({ name, options, desiredState: 'inactive' });
    created.push(name);
    opts.out.line(`Unit ${name} inactive`);
    opts.out.record({ event: 'unit-submitted', unit: name, source, desiredState: 'inactive' });
  }
  return { names, created };
}

// ---------------------------------------------------------------------------------------------
// Waiting for states (fleetctl's --block-attempts / --no-block).

export const isGlobal = (options: readonly UnitOption[]) => options.some((o) => o.section === 'X-Fleet' && o.name === 'Global' && /^(true|yes|1|on)$/i.test(o.value.trim()));

/** fleetctl's machine legend: `abcdef12.../10.0.0.1`, or the full id with --full. */
export function machineLegend(id: string | undefined, machines: readonly Machine[], full: boolean): string {
  if (!id) return '-';
  const m = machines.find((x) => x.id === id);
  const legend = full ? id : `${id.slice(0, 8)}...`;
  return m?.primaryIP ? `${legend}/${m.primaryIP}` : legend;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new KibokoError('CANCELLED', 'cancelled'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new KibokoError('CANCELLED', 'cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Polls each unit until its current state is `target` (a global unit: its desired state), printing
 * `Unit NAME STATE on MACHINE` as each gets there. Gives up early on a unit the daemon failed to
 * bring up (its error), or whose container keeps exiting; otherwise after `attempts` checks.
 */
export async function waitForStates(
  client: UnitsClient,
  names: readonly string[],
  target: DesiredState,
  o: { attempts: number; out: Out; signal?: AbortSignal | undefined; pollMs?: number },
): Promise<void> {
  let machines: Machine[] | undefined;
  const pending = new Set(names);
  const failures: string[] = [];
  const exits = new Map<string, number>();
  for (let attempt = 0; pending.size > 0 && attempt < o.attempts; attempt++) {
    if (attempt > 0) await sleep(o.pollMs ?? POLL_MS, o.signal);
    for (const name of [...pending]) {
      const u = await client.getUnit(name);
      if (!u) {
        pending.delete(name);
        failures.push(`unit ${name} no longer exists`);
        continue;
      }
      const state = isGlobal(u.options) ? u.desiredState : u.currentState;
      if (state === target) {
        pending.delete(name);
        machines ??= await client.listMachines().catch(() => []);
        o.out.line(`Unit ${name} ${u.currentState ?? target}${u.machineID ? ` on ${machineLegend(u.machineID, machines, false)}` : ''}`);
        o.out.record({ event: `unit-${u.currentState ?? target}`, unit: name, machineID: u.machineID ?? null });
        continue;
      }
      if (target === 'inactive') continue;
      // kiboko's daemon says why a unit is stuck; a plain fleet API has no such route.
      const info = await client.container(name).catch(() => undefined);
      if (info?.error) {
        pending.delete(name);
        failures.push(`unit ${name} did not reach ${target}: ${info.error}`);
      } else if (target === 'launched' && info?.container?.status === 'exited') {
        const n = (exits.get(name) ?? 0) + 1;
        exits.set(name, n);
        if (n >= 4) {
          pending.delete(name);
          failures.push(`unit ${name} did not reach launched: its container ${info.container.name} exited with code ${info.container.exitCode}`);
        }
      } else exits.delete(name);
    }
  }
  const timedOut = [...pending].map((n) => `timed out waiting for unit ${n} to report state ${target}`);
  if (failures.length === 0 && timedOut.length === 0) return;
  const first = [...failures, ...timedOut][0]!.match(/unit (\S+)/)?.[1] ?? 'NAME';
  throw new KibokoError(failures.length ? 'ACTION_FAILED' : 'TIMEOUT', [...failures, ...timedOut].join('; '), {
    hint: `see \`kiboko units status ${first}\` and \`kiboko units journal ${first}\`${failures.length ? '' : '; wait longer with --block-attempts N'}`,
  });
}

/** fleetctl's findUnits: the named units the registry has, in the order given; unknown names are skipped. */
export async function findUnits(client: UnitsClient, args: readonly string[]): Promise<FleetUnit[]> {
  const all = new Map((await client.listUnits()).map((u) => [u.name, u]));
  const names = [...new Set(args.map(unitNameOf))];
  return names.flatMap((n) => (all.has(n) ? [all.get(n)!] : []));
}

/** Polls /state until the daemon no longer reports the unit (its container stopped and removed). */
export async function waitGone(client: UnitsClient, name: string, o: { attempts: number; signal?: AbortSignal | undefined; pollMs?: number }): Promise<void> {
  for (let attempt = 0; attempt < o.attempts; attempt++) {
    if (attempt > 0) await sleep(o.pollMs ?? POLL_MS, o.signal);
    if ((await client.listStates({ unitName: name })).length === 0) return;
  }
  throw new KibokoError('TIMEOUT', `timed out waiting for unit ${name} to be destroyed`, { hint: `see \`kiboko units list-units\`; wait longer with --block-attempts N` });
}

export function blockAttempts(o: Pick<UnitsOptions, 'block' | 'blockAttempts'>): number {
  if (o.block === false) return 0;
  if (o.blockAttempts === undefined) return DEFAULT_BLOCK_ATTEMPTS;
  return parseWith(atLeastOne, o.blockAttempts, '--block-attempts', 'e.g. --block-attempts 20 (checks 500 ms apart)');
}

const wholeNumber = z.pipe(z.string().check(z.trim(), z.regex(/^\d+$/, { error: 'expected a whole number' })), z.transform(Number));
const atLeastOne = z.pipe(wholeNumber, z.number().check(z.refine((n) => n >= 1, { error: 'expected a number ≥ 1' })));
export const lines = (v: unknown, fallback: number) => (v === undefined ? fallback : parseWith(wholeNumber, String(v), '--lines', 'e.g. --lines 50'));

// ---------------------------------------------------------------------------------------------
// Tables (fleetctl prints through Go's text/tabwriter: min width 0, tab width 8, padding 1, tabs).

/** Tab-aligned columns exactly as fleetctl's tabwriter lays them out (so `cut -f1` and awk work). */
export function tabulate(rows: readonly (readonly string[])[]): string {
  const width = (s: string) => [...s].length;
  const cols = Math.max(0, ...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < cols - 1; c++) {
    const w = Math.max(0, ...rows.filter((r) => c < r.length - 1).map((r) => width(r[c]!) + 1));
    widths.push(Math.ceil(w / 8) * 8);
  }
  return rows
    .map((r) => r.map((cell, c) => (c < r.length - 1 ? cell + '\t'.repeat(Math.ceil((widths[c]! - width(cell)) / 8)) : cell)).join(''))
    .map((l) => `${l}\n`)
    .join('');
}

type Field<T> = (x: T, full: boolean, machines: readonly Machine[]) => string;

export const STATE_FIELDS: Record<string, Field<UnitStateRecord>> = {
  unit: (s) => s.name,
  load: (s) => s.systemdLoadState || '-',
  active: (s) => s.systemdActiveState || '-',
  sub: (s) => s.systemdSubState || '-',
  machine: (s, full, m) => machineLegend(s.machineID, m, full),
  hash: (s, full) => (s.hash ? (full ? s.hash : s.hash.slice(0, 7)) : '-'),
};

const rawDescription = (options: readonly UnitOption[]) => options.filter((o) => o.section === 'Unit' && o.name === 'Description').at(-1)?.value ?? '';

/** The unit's Description=, specifiers expanded as systemd shows it in `status` (`App %i` → `App 1`). */
function description(name: string, options: readonly UnitOption[]): string {
  const d = rawDescription(options);
  try {
    return expandSpecifiers(d, name);
  } catch {
    return d;
  }
}

export const UNIT_FIELDS: Record<string, Field<FleetUnit>> = {
  unit: (u) => u.name,
  global: (u) => String(isGlobal(u.options)),
  dstate: (u) => u.desiredState || '-',
  state: (u) => (isGlobal(u.options) || !u.currentState ? '-' : u.currentState),
  target: (u, full, m) => (isGlobal(u.options) ? 'global' : machineLegend(u.machineID, m, full)),
  tmachine: (u, full, m) => (isGlobal(u.options) ? 'global' : machineLegend(u.machineID, m, full)),
  hash: (u, full) => (full ? unitHash(u.options) : unitHash(u.options).slice(0, 7)),
  // fleetctl prints Description= as written (`App %i`), not expanded.
  desc: (u) => rawDescription(u.options) || '-',
};

export function fieldsOf<T>(spec: unknown, fallback: string, all: Record<string, Field<T>>): string[] {
  const text = spec === undefined ? fallback : String(spec);
  if (!text.trim()) throw invalidArgument('--fields is empty: must define output format', `e.g. --fields ${fallback}`);
  const cols = text.split(',').map((s) => s.trim());
  for (const c of cols) if (!(c in all)) throw invalidArgument(`invalid key in output format: '${c}'`, `valid fields are ${Object.keys(all).sort().join(',')}`);
  return cols;
}

export function printTable<T>(items: readonly T[], cols: string[], all: Record<string, Field<T>>, o: Pick<UnitsOptions, 'full' | 'legend' | 'fields'>, machines: readonly Machine[]) {
  const full = Boolean(o.full);
  const rows = items.map((x) => cols.map((c) => all[c]!(x, full, machines)));
  process.stdout.write(tabulate(o.legend === false ? rows : [cols.map((c) => c.toUpperCase()), ...rows]));
}

// ---------------------------------------------------------------------------------------------
// status and journal

/** A Docker log line with `timestamps`: `2024-01-02T10:00:00.123456789Z text`. */
function splitTimestamp(line: string): { key: string; seconds: number; text: string } | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z ?(.*)$/s.exec(line);
  if (!m) return undefined;
  return { key: `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}`, seconds: Date.parse(`${m[1]}Z`) / 1000, text: m[3]! };
}

export async function statusOf(client: UnitsClient, name: string, logLines: number, out: Out, machines: () => Promise<Machine[]>): Promise<boolean> {
  const u = await client.getUnit(name);
  if (!u) return false;
  const [state] = await client.listStates({ unitName: name });
  const info = await client.container(name).catch((err: unknown) => {
    if (err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND') return undefined; // a plain fleet API
    throw err;
  });
  const c = info?.container;
  const logs = c && logLines > 0 ? (await client.journal(name, { lines: logLines }).catch(() => undefined))?.lines ?? [] : [];
  const machine = u.machineID ? machineLegend(u.machineID, await machines(), true) : undefined;
  if (out.json) {
    out.record({ unit: name, description: description(name, u.options) || undefined, desiredState: u.desiredState, currentState: u.currentState ?? null, machine: machine ?? null, state: state ?? null, container: c ?? null, error: info?.error ?? null, journal: logs });
    return true;
  }
  const desc = description(name, u.options);
  const active = state ? `${state.systemdActiveState} (${state.systemdSubState})` : 'inactive (dead)';
  const since = c?.status === 'running' ? ` since ${c.startedAt}` : c?.status === 'exited' ? ` since ${c.finishedAt}; exit code ${c.exitCode}` : '';
  const lines = [
    `● ${name}${desc ? ` - ${desc}` : ''}`,
    `     Loaded: ${state?.systemdLoadState ?? 'not-loaded'} (desired ${u.desiredState}, current ${u.currentState ?? 'inactive'})`,
    `     Active: ${active}${since}`,
  ];
  if (c) lines.push(`  Container: ${c.name} (${c.id.slice(0, 12)}) ${c.image}: ${c.status}, restarts ${c.restartCount}${c.health !== 'none' ? `, ${c.health}` : ''}`);
  if (machine) lines.push(`    Machine: ${machine}`);
  if (info?.error) lines.push(`      Error: ${info.error}`);
  if (logs.length) lines.push('', ...logs);
  out.line(lines.join('\n'));
  return true;
}

export async function journal(client: UnitsClient, name: string, o: Pick<UnitsOptions, 'lines' | 'timestamps' | 'follow'>, out: Out, signal: AbortSignal): Promise<number> {
  const n = lines(o.lines, 10);
  const show = (raw: string) => {
    const t = splitTimestamp(raw);
    const text = t ? t.text : raw;
    out.line(o.timestamps && t ? `${t.key.slice(0, 19)}.${t.key.slice(20, 26)}Z ${text}` : text);
    out.record({ unit: name, ...(t ? { time: `${t.key}Z` } : {}), line: text });
  };
  const first = await client.journal(name, { lines: n, timestamps: true });
  first.lines.forEach(show);
  if (!o.follow) return 0;
  // Follow: poll with `since` (whole seconds), dropping lines already printed at the last timestamp.
  let container = first.container.id;
  let last = first.lines.map(splitTimestamp).filter((t) => t !== undefined).at(-1);
  let atLast = new Set(first.lines.filter((l) => splitTimestamp(l)?.key === last?.key));
  for (;;) {
    try {
      await sleep(1000, signal);
    } catch {
      return 0;
    }
    let page;
    try {
      page = await client.journal(name, { timestamps: true, ...(last ? { since: Math.floor(last.seconds) } : { lines: 1000 }) });
    } catch (err) {
      if (signal.aborted || (err instanceof KibokoError && err.code === 'CANCELLED')) return 0;
      if (err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND') {
        out.warn(`-- unit ${name} has no container any more: ${err.message} --`);
        return 0;
      }
      throw err;
    }
    if (page.container.id !== container) {
      out.warn(`-- unit ${name} now runs container ${page.container.name} (${page.container.id.slice(0, 12)}) --`);
      container = page.container.id;
      last = undefined;
      atLast = new Set();
    }
    for (const l of page.lines) {
      const t = splitTimestamp(l);
      if (t && last && (t.key < last.key || (t.key === last.key && atLast.has(l)))) continue;
      show(l);
      if (t) {
        if (!last || t.key > last.key) atLast = new Set();
        last = t;
        atLast.add(l);
      }
    }
  }
}
