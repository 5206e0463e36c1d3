import type { Command } from 'commander';
import { VERSION } from '../common/version.js';
import { addBoolNegations } from './chaos-bool-flags.js';
import { chaosCommand } from './chaos-command.js';
import { chaosGlobals, containerFaultTables, recoverOptions, type ChaosShorts } from './chaos-options.js';
import { addOptions, ENGINE_OPTIONS } from './command-options.js';
import { addNetworkCommands } from './define-chaos-network.js';
import type { CommandGroup } from './program-core.js';
import type { Register } from './register.js';

/** `kiboko chaos` and its commands, Pumba's spelled as Pumba does. */
export const CHAOS_GROUP: CommandGroup = { names: ['chaos'], define: defineChaosCommands };

/** The words of `kiboko chaos`'s commands (the network ones: ./define-chaos-network.ts). */
export const CHAOS_COMMAND_WORDS: ReadonlySet<string> = new Set([
  'kill', 'stop', 'pause', 'rm', 'restart', 'exec', 'netem', 'iptables', 'partition', 'proxy', 'delay', 'rate', 'stress', 'recover',
]);

/**
 * Which chaos commands to define for a command line (`words`, from `chaos` on): those it names,
 * which is where commander dispatches (a word that is an option's value or a target name only
 * adds a command). Every one for help and docs (no words) and for a line that names none: a
 * typo then gets commander's "did you mean". Defining the ~25 commands and their parents'
 * options was ~4 ms of every `chaos kill`.
 */
export function chaosCommandsWanted(words: readonly string[] | undefined): (word: string) => boolean {
  const named = new Set((words ?? []).slice(1).filter((w) => CHAOS_COMMAND_WORDS.has(w)));
  return named.size === 0 ? () => true : (word) => named.has(word);
}

export function defineChaosCommands(program: Command, register: Register, words?: readonly string[]): void {
  const wanted = chaosCommandsWanted(words);
  const chaos = program
    .command('chaos')
    .description('chaos experiments on containers, Pumba-compatible: `pumba X …` works as `kiboko chaos X …`')
    .version(VERSION, '-v, --version', 'print the version (as `pumba --version`)')
    .enablePositionalOptions();
  addOptions(chaos, { ...chaosGlobals({ l: true, r: true }), ...ENGINE_OPTIONS });

  addContainerCommands(chaos, register, wanted);
  addNetworkCommands(chaos, register, wanted);
  if (wanted('stress')) chaosCommand(chaos, 'stress', "stress-ng inside the target's cgroup (its limits apply) for a duration", register, { l: false, r: true, i: true }, containerFaultTables().stress);

  if (wanted('recover')) {
    const recover = chaos.command('recover').description('undo changes left by kiboko runs that died (SIGKILL, crash): unpause, start again');
    register(recover, recoverOptions(), async (o) => (await import('./chaos-recover.js')).runRecoverCommand(o));
  }

  addBoolNegations(chaos);
}

/** kill, stop, pause, rm, restart, exec: faults done with the engine's own container calls. */
function addContainerCommands(chaos: Command, register: Register, wanted: (word: string) => boolean): void {
  const t = containerFaultTables();
  const add = (name: 'kill' | 'stop' | 'pause' | 'rm' | 'restart' | 'exec', summary: string, shorts: ChaosShorts) => {
    if (wanted(name)) chaosCommand(chaos, name, summary, register, shorts, t[name]);
  };
  add('kill', 'kill containers with a signal', { l: false, r: true });
  add('stop', 'stop containers (grace period, then SIGKILL), optionally starting them again', { l: false, r: false });
  add('pause', 'pause all processes of containers for a duration, then unpause', { l: false, r: true });
  add('rm', 'remove containers', { l: false, r: true });
  add('restart', 'restart containers', { l: false, r: true });
  add('exec', 'run a command inside containers; a non-zero exit is a failure', { l: false, r: true });
}
