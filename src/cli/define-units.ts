import type { Command } from 'commander';
import { addOptions } from './command-options.js';
import type { UnitsCommandName } from './command-names.js';
import type { Register } from './register.js';
import { clientOptions, unitsTables } from './units-options.js';

/** Each command: its arguments and what help says of it, in the order help lists them. */
const UNITS_COMMANDS: readonly (readonly [UnitsCommandName, string, string])[] = [
  ['submit', '<files...>', 'upload unit files (state inactive); the unit is named after the file; foo@1.service may come from template foo@.service'],
  ['load', '<units...>', 'schedule units (state loaded: container created, not started), submitting local files first as needed'],
  ['start', '<units...>', 'start units (state launched: container running), submitting local files first as needed; waits for the outcome'],
  ['stop', '<units...>', 'stop launched units (state loaded: the container stays, stopped, unless its docker run has --rm)'],
  ['restart', '<units...>', 'stop then start launched units (a loaded unit is started), waiting for each state'],
  ['unload', '<units...>', 'unschedule units (state inactive: the container is removed, the unit stays)'],
  ['destroy', '<units...>', 'remove units and their containers; waits until the daemon reports them gone'],
  ['list-units', '', 'the state of units placed on a machine: UNIT MACHINE ACTIVE SUB'],
  ['list-unit-files', '', 'every unit with its desired and current state: UNIT HASH DSTATE STATE TARGET'],
  ['list-machines', '', 'the machines units run on: MACHINE IP METADATA'],
  ['cat', '<unit>', 'print the unit file as the daemon holds it'],
  ['status', '<units...>', "a unit's states, its container and its last log lines"],
  ['journal', '<unit>', "the unit container's output (stdout and stderr)"],
];

/**
 * Declares the `units` commands (options and help only; commander is the only import, so that
 * `kiboko --help` stays fast). Each action lazy-loads its implementation from `./units-run.js`.
 */
export function defineUnitsCommands(program: Command, register: Register): void {
  const units = program
    .command('units')
    .description('fleetctl-like client of `kiboko serve`: submit, start, stop and destroy units, list them, read their files, status and container logs')
    .enablePositionalOptions();
  const client = clientOptions();
  const tables = unitsTables();
  addOptions(units, client);
  for (const [name, args, description] of UNITS_COMMANDS) {
    const c = units.command(`${name} ${args}`.trim()).description(description);
    register(c, { ...tables[name], ...client }, async (o, positional) => (await import('./units-run.js')).runUnitsCommand(name, o, positional));
  }
}
