import type { Command } from 'commander';
import { doctorOptions } from './chaos-options.js';
import { CHAOS_GROUP } from './define-chaos.js';
import { DEPLOY_GROUP } from './define-deploy.js';
import { defineEventsCommands } from './define-events.js';
import { definePackagesCommands } from './define-packages.js';
import { defineProxyCommands } from './define-proxy.js';
import { defineTemplateCommands } from './define-template.js';
import { defineUnitsCommands } from './define-units.js';
import { defineWatchCommands } from './define-watch.js';
import { buildTree, type BuildOptions, type CommandGroup } from './program-core.js';
import type { Register } from './register.js';
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
export const COMMAND_GROUPS: readonly CommandGroup[] = [
  CHAOS_GROUP,
  DEPLOY_GROUP,
  { names: ['units'], define: defineUnitsCommands },
  { names: ['build', 'examine', 'lifecycle', 'test'], define: definePackagesCommands },
  { names: ['template'], define: defineTemplateCommands },
  { names: ['events', 'react'], define: defineEventsCommands },
  { names: ['proxy'], define: defineProxyCommands },
  { names: ['watch', 'registry'], define: defineWatchCommands },
  { names: ['serve'], define: defineServeCommand },
  { names: ['doctor'], define: defineDoctorCommand },
];

/** The whole command tree, or with `only` just one group (see ./program-core.ts). */
export function buildProgram(options: BuildOptions = {}): Command {
  return buildTree(COMMAND_GROUPS, options);
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
