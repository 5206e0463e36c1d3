import type { Command } from 'commander';
import { VERSION } from '../common/version.js';
import { addBoolNegations } from './chaos-bool-flags.js';
import { chaosCommand } from './chaos-command.js';
import { chaosGlobals, containerFaultTables, recoverOptions } from './chaos-options.js';
import { addOptions, ENGINE_OPTIONS } from './command-options.js';
import { addNetworkCommands } from './define-chaos-network.js';
import type { CommandGroup } from './program-core.js';
import type { Register } from './register.js';

/** `kiboko chaos` and its commands, Pumba's spelled as Pumba does. */
export const CHAOS_GROUP: CommandGroup = { names: ['chaos'], define: defineChaosCommands };

export function defineChaosCommands(program: Command, register: Register): void {
  const chaos = program
    .command('chaos')
    .description('chaos experiments on containers, Pumba-compatible: `pumba X …` works as `kiboko chaos X …`')
    .version(VERSION, '-v, --version', 'print the version (as `pumba --version`)')
    .enablePositionalOptions();
  addOptions(chaos, { ...chaosGlobals({ l: true, r: true }), ...ENGINE_OPTIONS });

  addContainerCommands(chaos, register);
  addNetworkCommands(chaos, register);
  chaosCommand(chaos, 'stress', "stress-ng inside the target's cgroup (its limits apply) for a duration", register, { l: false, r: true, i: true }, containerFaultTables().stress);

  const recover = chaos.command('recover').description('undo changes left by kiboko runs that died (SIGKILL, crash): unpause, start again');
  register(recover, recoverOptions(), async (o) => (await import('./chaos-recover.js')).runRecoverCommand(o));

  addBoolNegations(chaos);
}

/** kill, stop, pause, rm, restart, exec: faults done with the engine's own container calls. */
function addContainerCommands(chaos: Command, register: Register): void {
  const t = containerFaultTables();
  chaosCommand(chaos, 'kill', 'kill containers with a signal', register, { l: false, r: true }, t.kill);
  chaosCommand(chaos, 'stop', 'stop containers (grace period, then SIGKILL), optionally starting them again', register, { l: false, r: false }, t.stop);
  chaosCommand(chaos, 'pause', 'pause all processes of containers for a duration, then unpause', register, { l: false, r: true }, t.pause);
  chaosCommand(chaos, 'rm', 'remove containers', register, { l: false, r: true }, t.rm);
  chaosCommand(chaos, 'restart', 'restart containers', register, { l: false, r: true }, t.restart);
  chaosCommand(chaos, 'exec', 'run a command inside containers; a non-zero exit is a failure', register, { l: false, r: true }, t.exec);
}
