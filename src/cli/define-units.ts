import type { Command } from 'commander';

/**
 * Declares the `units` commands (options and help only; commander is the only import, so that
 * `kiboko --help` stays fast). Each action lazy-loads its implementation, e.g.
 * `process.exitCode = await (await import('./units.js')).run(command)`.
 */
export function defineUnitsCommands(program: Command): void {
  void program;
}
