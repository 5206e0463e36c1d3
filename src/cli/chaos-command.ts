import type { Command } from 'commander';
import { ENGINE_OPTIONS } from './command-options.js';
import { chaosGlobals, type ChaosShorts } from './chaos-options.js';
import type { ChaosTable } from './chaos-options-type.js';
import type { ChaosCommandName } from './command-names.js';
import type { Register } from './register.js';

/**
 * One chaos command: its own options (`table`), then the globals and engine flags; it runs
 * `runChaosCommand` of ./chaos.js, loaded when it runs.
 */
export function chaosCommand(parent: Command, name: ChaosCommandName, summary: string, register: Register, shorts: ChaosShorts, table: ChaosTable) {
  const word = name.includes(':') ? name.split(':')[1]! : name;
  const cmd = parent.command(word).summary(summary).description(summary).argument('[containers...]', "names, IDs, or one 're2:<regex>'");
  return register(cmd, { ...table, ...chaosGlobals(shorts), ...ENGINE_OPTIONS }, async (o, containers) => (await import('./chaos.js')).runChaosCommand(name, o, containers));
}
