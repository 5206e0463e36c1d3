import { Command } from 'commander';
import { VERSION } from '../common/version.js';
import { doctorOptions } from './chaos-options.js';
import { addOptions, ENGINE_OPTIONS } from './command-options.js';
import { defineChaosCommands } from './define-chaos.js';
import { defineDeployCommands } from './define-deploy.js';
import { defineEventsCommands } from './define-events.js';
import { definePackagesCommands } from './define-packages.js';
import { defineProxyCommands } from './define-proxy.js';
import { defineTemplateCommands } from './define-template.js';
import { defineUnitsCommands } from './define-units.js';
import { defineWatchCommands } from './define-watch.js';
import { registerWith, type Dispatch, type Register } from './register.js';
import { serveOptions } from './serve-options.js';

// What main, cli-docs and the tests take from here; each lives in the module of its own job.
export { normalizeBoolFlags } from './chaos-bool-flags.js';
export { mergedOptions } from './register.js';
export type { Dispatch } from './register.js';
export type { ChaosCommandName, NetemEffectName } from './command-names.js';

/**
 * The top-level commands, in groups as their modules define them (help lists them in this order).
 * `names` are the commands a group defines (a unit test checks them against the tree).
 */
export const COMMAND_GROUPS: readonly { names: readonly string[]; define: (program: Command, register: Register) => void }[] = [
  { names: ['chaos'], define: defineChaosCommands },
  { names: ['deploy'], define: defineDeployCommands },
  { names: ['units'], define: defineUnitsCommands },
  { names: ['build', 'examine', 'lifecycle', 'test'], define: definePackagesCommands },
  { names: ['template'], define: defineTemplateCommands },
  { names: ['events', 'react'], define: defineEventsCommands },
  { names: ['proxy'], define: defineProxyCommands },
  { names: ['watch', 'registry'], define: defineWatchCommands },
  { names: ['serve'], define: defineServeCommand },
  { names: ['doctor'], define: defineDoctorCommand },
];

/**
 * The whole command tree; with `only: NAME` (a top-level command) just the group that defines it
 * (and the global engine options): `kiboko chaos kill …` then skips defining the several hundred
 * options of the other commands, which every start would otherwise pay. An unknown name gets the
 * whole tree (for commander's "did you mean"); help lists everything, so main asks for the whole
 * tree whenever help is wanted. `dispatch` stands in for what every command runs (docs, tests).
 */
export function buildProgram(options: { only?: string | undefined; dispatch?: Dispatch } = {}): Command {
  const program = new Command('kiboko')
    .description('Run Docker containers well: break them on purpose (chaos), ship them (deploys, the units daemon), check them (images as packages, tests) and keep them configured (templates, events).')
    .version(VERSION, '-v, --version', 'print the version')
    .enablePositionalOptions()
    .showSuggestionAfterError(true);
  addOptions(program, ENGINE_OPTIONS);
  const register = registerWith(options.dispatch);
  const only = options.only === undefined ? undefined : COMMAND_GROUPS.find((g) => g.names.includes(options.only!));
  for (const group of only ? [only] : COMMAND_GROUPS) group.define(program, register);
  return program;
}

/** `kiboko serve`: the daemon. */
function defineServeCommand(program: Command, register: Register): void {
  const serve = program
    .command('serve')
    .description("run the daemon: fleet's v1 units API (units as containers), the deploy hook and kiboko's native API (deploys, chaos, events, metrics), behind a bearer token, over a unix socket and/or TCP");
  register(serve, serveOptions(), async (o) => (await import('./serve.js')).runServe(o));
}

/** `kiboko doctor`: what the faults need, checked. */
function defineDoctorCommand(program: Command, register: Register): void {
  const doctor = program.command('doctor').description('check the engine, privileges, kernel features (tc qdiscs, iptables matches), cgroups and helper images that faults need');
  register(doctor, doctorOptions(), async (o) => (await import('./chaos.js')).runDoctorCommand(o));
}
