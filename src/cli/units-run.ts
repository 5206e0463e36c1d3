import { isAbortError, KibokoError } from '../common/errors.js';
import { fromOptions, serializeUnit } from '../deploy/index.js';
import { unitHash, type DesiredState, type Machine, type UnitsClient } from '../units/index.js';
import type { UnitsCommandName } from './command-names.js';
import type { UnitsOptions } from './units-options.js';
import { onStopSignals } from './signals.js';
import {
  blockAttempts,
  clientFromOptions,
  fieldsOf,
  findUnits,
  isGlobal,
  journal,
  lazyCreateUnits,
  lines,
  output,
  printTable,
  STATE_FIELDS,
  statusOf,
  tabulate,
  UNIT_FIELDS,
  unitNameOf,
  waitForStates,
  waitGone,
  type Out,
} from './units.js';

/** `kiboko units …`: each fleetctl command as fleetctl does it, through the daemon's API. */

/** Ctrl-C / SIGTERM: the first stops waiting or following; a second one quits at once. */
function interruptible(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  return { signal: controller.signal, dispose: onStopSignals(() => controller.abort()) };
}

export async function runUnitsCommand(name: UnitsCommandName, o: UnitsOptions, args: string[]): Promise<number> {
  const out = output(Boolean(o.json));
  const stop = interruptible();
  const client = clientFromOptions(o, process.env, stop.signal);
  try {
    return await run(name, client, args, o, out, stop.signal);
  } catch (err) {
    if (stop.signal.aborted && (isAbortError(err) || (err instanceof KibokoError && err.code === 'CANCELLED'))) {
      out.warn('interrupted: stopped waiting (the units keep their desired state)');
      return 130;
    }
    throw err;
  } finally {
    stop.dispose();
  }
}

/** What each units command gets: the client, its words and flags, the output, and the shared helpers. */
interface UnitsRun {
  name: UnitsCommandName;
  client: UnitsClient;
  args: string[];
  o: UnitsOptions;
  out: Out;
  signal: AbortSignal;
  replace: boolean;
  /** Waits for the units to reach `target` (--block-attempts; 0: only says what was triggered). */
  wait: (names: string[], target: DesiredState, verb: string) => Promise<void>;
  triggeredGlobal: (n: string, verb: string) => void;
  /** The daemon's machines, asked once. */
  machines: () => Promise<Machine[]>;
}

async function run(name: UnitsCommandName, client: UnitsClient, args: string[], o: UnitsOptions, out: Out, signal: AbortSignal): Promise<number> {
  const wait = (names: string[], target: DesiredState, verb: string) => {
    const attempts = blockAttempts(o);
    if (attempts === 0) {
      for (const n of names) {
        out.line(`Triggered unit ${n} ${verb}`);
        out.record({ event: 'unit-triggered', unit: n, action: verb });
      }
      return Promise.resolve();
    }
    return waitForStates(client, names, target, { attempts, out, signal });
  };
  const triggeredGlobal = (n: string, verb: string) => {
    out.line(`Triggered global unit ${n} ${verb}`);
    out.record({ event: 'unit-triggered', unit: n, action: verb, global: true });
  };
  let machineCache: Machine[] | undefined;
  const machines = async () => (machineCache ??= await client.listMachines());
  const r: UnitsRun = { name, client, args, o, out, signal, replace: Boolean(o.replace), wait, triggeredGlobal, machines };

  return UNITS_COMMANDS[name](r);
}

/** Each command's function (fleetctl pairs load/start and stop/unload: one function each). */
const UNITS_COMMANDS: Record<UnitsCommandName, (r: UnitsRun) => Promise<number>> = {
  submit: submitUnits,
  load: loadOrStart,
  start: loadOrStart,
  stop: stopOrUnload,
  unload: stopOrUnload,
  restart: restartUnits,
  destroy: destroyUnits,
  'list-units': listUnitStates,
  'list-unit-files': listUnitFiles,
  'list-machines': listMachines,
  cat: catUnit,
  status: printStatus,
  journal: (r) => journal(r.client, unitNameOf(r.args[0]!), r.o, r.out, r.signal),
};

/** submit: create the units that are missing (with --replace, replace those that differ). */
async function submitUnits(r: UnitsRun): Promise<number> {
  await lazyCreateUnits(r.client, r.args, { replace: r.replace, out: r.out });
  return 0;
}

/** load / start: create what is missing, set the desired state, wait for it (fleetctl's semantics). */
async function loadOrStart(r: UnitsRun): Promise<number> {
  const { name, client, args, out, replace, wait, triggeredGlobal } = r;
  const target: DesiredState = name === 'load' ? 'loaded' : 'launched';
  const { names } = await lazyCreateUnits(client, args, { replace, out });
  const waiting: string[] = [];
  for (const n of names) {
    const u = await client.getUnit(n);
    if (!u) throw new KibokoError('TARGET_NOT_FOUND', `unable to find unit ${n}`, { hint: 'see `kiboko units list-unit-files`' });
    // load never stops a launched unit (fleet's states: load is for none/inactive units).
    if (target === 'loaded' && u.desiredState === 'launched') {
      out.line(`Unit ${n} already launched`);
      out.record({ event: 'unit-skipped', unit: n, desiredState: u.desiredState });
      continue;
    }
    if (u.desiredState === target) continue; // fleetctl: already there, nothing triggered
    await client.setDesiredState(n, target);
    if (isGlobal(u.options)) triggeredGlobal(n, name);
    else waiting.push(n);
  }
  await wait(waiting, target, name);
  return 0;
}

/** stop / unload: the units the registry has, to loaded or inactive. */
async function stopOrUnload(r: UnitsRun): Promise<number> {
  const { name, client, args, out, wait, triggeredGlobal } = r;
  // fleetctl's findUnits: names not in the registry are skipped.
  const found = await findUnits(client, args);
  if (found.length === 0) {
    out.note('Units not found in registry', { event: 'units-not-found', units: args.map(unitNameOf) });
    return 0;
  }
  const target: DesiredState = name === 'stop' ? 'loaded' : 'inactive';
  const waiting: string[] = [];
  for (const u of found) {
    const global = isGlobal(u.options);
    const current = u.currentState ?? 'inactive';
    if (!global && name === 'stop' && current === 'inactive') {
      throw new KibokoError('ACTION_FAILED', `Unable to stop unit ${u.name} in state inactive`, { hint: `start it first (\`kiboko units start ${u.name}\`)` });
    }
    if (!global && current === target) continue;
    await client.setDesiredState(u.name, target);
    if (global) triggeredGlobal(u.name, name);
    else waiting.push(u.name);
  }
  await wait(waiting, target, name);
  const verb = name === 'stop' ? 'stopped' : 'unloaded';
  out.note(`Successfully ${verb} units [${waiting.join(' ')}].`, { event: `units-${verb}`, units: waiting });
  return 0;
}

/** restart: stop then start each unit that runs. */
async function restartUnits(r: UnitsRun): Promise<number> {
  const { client, args, out, wait, triggeredGlobal } = r;
  // As fleetctl: the units found before any is created; inactive ones are not restarted.
  const found = await findUnits(client, args);
  await lazyCreateUnits(client, args, { replace: false, out });
  for (const u of found) {
    const current = u.currentState ?? 'inactive';
    if (isGlobal(u.options)) {
      // fleetctl restarts a global unit over ssh on every machine; here: stop, then start, through the API.
      await client.setDesiredState(u.name, 'loaded');
      await client.setDesiredState(u.name, 'launched');
      triggeredGlobal(u.name, 'restart');
      continue;
    }
    if (current === 'inactive') {
      out.warn(`Unable to restart unit ${u.name} in state inactive`);
      continue;
    }
    if (current === 'launched') {
      await client.setDesiredState(u.name, 'loaded');
      await wait([u.name], 'loaded', 'restart');
    }
    await client.setDesiredState(u.name, 'launched');
    await wait([u.name], 'launched', 'restart');
  }
  return 0;
}

/** destroy: delete the units, waiting until the daemon reports them gone. */
async function destroyUnits(r: UnitsRun): Promise<number> {
  const { client, args, o, out, signal } = r;
  const found = await findUnits(client, args);
  if (found.length === 0) {
    out.note('Units not found in registry', { event: 'units-not-found', units: args.map(unitNameOf) });
    return 0;
  }
  const attempts = blockAttempts(o);
  for (const u of found) {
    if (!(await client.deleteUnit(u.name))) continue; // gone meanwhile: fleetctl ignores it
    // The daemon answers at once and stops the container after; wait until it reports the unit gone.
    if (attempts > 0) await waitGone(client, u.name, { attempts, signal });
    out.line(`Destroyed ${u.name}`);
    out.record({ event: 'unit-destroyed', unit: u.name });
  }
  return 0;
}

/** list-units: the units' states. */
async function listUnitStates(r: UnitsRun): Promise<number> {
  const { client, o, out, machines } = r;
  const cols = fieldsOf(o.fields, 'unit,machine,active,sub', STATE_FIELDS);
  const states = await client.listStates();
  if (out.json) states.forEach((s) => out.record({ ...s }));
  else printTable(states, cols, STATE_FIELDS, o, cols.includes('machine') ? await machines() : []);
  return 0;
}

/** list-unit-files: the units the registry holds. */
async function listUnitFiles(r: UnitsRun): Promise<number> {
  const { client, o, out, machines } = r;
  const cols = fieldsOf(o.fields, 'unit,hash,dstate,state,target', UNIT_FIELDS);
  const units = await client.listUnits();
  if (out.json) units.forEach((u) => out.record({ ...u, hash: unitHash(u.options) }));
  else printTable(units, cols, UNIT_FIELDS, o, cols.some((c) => c === 'target' || c === 'tmachine') ? await machines() : []);
  return 0;
}

/** list-machines: the machines and their metadata. */
async function listMachines(r: UnitsRun): Promise<number> {
  const { o, out, machines } = r;
  const ms = await machines();
  if (out.json) ms.forEach((m) => out.record({ ...m }));
  else {
    const rows = ms.map((m) => [o.full ? m.id : `${m.id.slice(0, 8)}...`, m.primaryIP || '-', Object.entries(m.metadata).map(([k, v]) => `${k}=${v}`).join(',') || '-']);
    process.stdout.write(tabulate(o.legend === false ? rows : [['MACHINE', 'IP', 'METADATA'], ...rows]));
  }
  return 0;
}

/** cat: a unit's file. */
async function catUnit(r: UnitsRun): Promise<number> {
  const { client, args, out } = r;
  const n = unitNameOf(args[0]!);
  const u = await client.getUnit(n);
  if (!u) throw new KibokoError('TARGET_NOT_FOUND', `unit ${n} not found`, { hint: 'see `kiboko units list-unit-files`' });
  if (out.json) out.record({ unit: n, options: u.options, text: serializeUnit(fromOptions(u.options)) });
  else process.stdout.write(serializeUnit(fromOptions(u.options)));
  return 0;
}

/** status: each unit's state and its last log lines. */
async function printStatus(r: UnitsRun): Promise<number> {
  const { client, args, o, out, machines } = r;
  const n = lines(o.lines, 10);
  const missing: string[] = [];
  let first = true;
  for (const unit of args.map(unitNameOf)) {
    if (!first && !out.json) out.line('');
    first = false;
    if (!(await statusOf(client, unit, n, out, machines))) missing.push(unit);
  }
  if (missing.length) throw new KibokoError('TARGET_NOT_FOUND', `unit${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found`, { hint: 'see `kiboko units list-unit-files`' });
  return 0;
}
