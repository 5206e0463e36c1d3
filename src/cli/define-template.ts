import type { Command } from 'commander';

/**
 * Declares the `template` commands (options and help only; commander is the only import, so that
 * `kiboko --help` stays fast). Each action lazy-loads its implementation, e.g.
 * `process.exitCode = await (await import('./template.js')).run(command)`.
 */
export function defineTemplateCommands(program: Command): void {
  void program;
}
