import type { Command } from 'commander';
import { eventsTables } from './events-options.js';
import type { Register } from './register.js';

/**
 * Declares the `events` and `react` commands (options and help only; commander is the only
 * import, so that `kiboko --help` stays fast). Each action lazy-loads ./events.js.
 */
export function defineEventsCommands(program: Command, register: Register): void {
  const t = eventsTables();
  const events = program.command('events').description('stream engine events (docker events filters and output), reconnecting when the engine restarts');
  register(events, t.events, async (o) => (await import('./events.js')).runEvents(o));

  const react = program
    .command('react')
    .description('run actions on matching events (rules file): notify, exec, restart, lifecycle, render, rollback; catches up after restarts')
    .argument('[rules]', 'rules file (YAML); optional with --deps');
  register(react, t.react, async (o, [rules]) => (await import('./events.js')).runReact(o, rules));
}
