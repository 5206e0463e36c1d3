import type { Command } from 'commander';

/**
 * Declares the `events` commands (options and help only; commander is the only import, so that
 * `kiboko --help` stays fast). Each action lazy-loads its implementation, e.g.
 * `process.exitCode = await (await import('./events.js')).run(command)`.
 */
export function defineEventsCommands(program: Command): void {
  void program;
}
