import type { Command } from 'commander';

/**
 * Declares the `packages` commands (options and help only; commander is the only import, so that
 * `kiboko --help` stays fast). Each action lazy-loads its implementation, e.g.
 * `process.exitCode = await (await import('./packages.js')).run(command)`.
 */
export function definePackagesCommands(program: Command): void {
  void program;
}
