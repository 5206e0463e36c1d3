import type { Command } from 'commander';
import { collect, engineAction } from './command-options.js';

/**
 * Declares the `events` and `react` commands (options and help only; commander is the only
 * import, so that `kiboko --help` stays fast). Each action lazy-loads ./events.js.
 */
export function defineEventsCommands(program: Command): void {
  const events = program
    .command('events')
    .description('stream engine events (docker events filters and output), reconnecting when the engine restarts')
    .option('-f, --filter <key=value>', 'type, event, container, image, label, network, volume, daemon, scope, … (repeatable; same key ORs, labels AND); type=deploy adds kiboko deploys', collect)
    .option('--since <time>', 'replay from: a duration back (10m), unix seconds or an ISO date')
    .option('--until <time>', 'stop at: a duration back, unix seconds or an ISO date (the stream then ends)')
    .option('--format <template>', "Go-template-style line per event, e.g. '{{.Action}} {{.Actor.Attributes.name}}' or '{{json .}}'")
    .option('-j, --json', 'one JSON object per event (NDJSON)');
  engineAction(events, async (command) => (await import('./events.js')).runEvents(command));

  const react = program
    .command('react')
    .description('run actions on matching events (rules file): notify, exec, restart, lifecycle, render, rollback; catches up after restarts')
    .argument('[rules]', 'rules file (YAML); optional with --deps')
    .option('--dry-run', 'match events and log what would run; run nothing and keep the cursor where it is')
    .option('-j, --json', 'NDJSON firings and notices on stdout')
    .option('--since <time>', 'start from here instead of the saved cursor (10m, unix seconds, ISO)')
    .option('--max-catchup <duration>', 'replay at most this far back after a restart (default 1h)')
    .option('--concurrency <n>', 'firings running at once (default 4)')
    .option('--grace <duration>', 'on SIGINT/SIGTERM, let running actions finish this long (default 10s)')
    .option('--deps', 'keep dependents configured: re-render and reload services whose dependencies got new containers (needs -p or -f)')
    .option('-p, --project <name>', 'deploy project for --deps (default: from the compose file)')
    .option('--file <path>', 'compose file for --deps (repeatable; default: the latest deployed revision)', collect);
  engineAction(react, async (command) => (await import('./events.js')).runReact(command));
}
