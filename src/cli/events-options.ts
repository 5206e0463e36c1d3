import { ENGINE_OPTIONS, flag, list, value, type OptionsOf } from './command-options.js';

/** `kiboko events` (docker events' filters and output) and `kiboko react` (actions on matching events from a rules file). */
export const eventsTables = () => ({
  events: {
    filter: list('-f, --filter <key=value>', 'type, event, container, image, label, network, volume, daemon, scope, … (repeatable; same key ORs, labels AND); type=deploy adds kiboko deploys'),
    since: value('--since <time>', 'replay from: a duration back (10m), unix seconds or an ISO date'),
    until: value('--until <time>', 'stop at: a duration back, unix seconds or an ISO date (the stream then ends)'),
    format: value('--format <template>', "Go-template-style line per event, e.g. '{{.Action}} {{.Actor.Attributes.name}}' or '{{json .}}'"),
    json: flag('-j, --json', 'one JSON object per event (NDJSON)'),
    ...ENGINE_OPTIONS,
  },
  react: {
    dryRun: flag('--dry-run', 'match events and log what would run; run nothing and keep the cursor where it is'),
    json: flag('-j, --json', 'NDJSON firings and notices on stdout'),
    since: value('--since <time>', 'start from here instead of the saved cursor (10m, unix seconds, ISO)'),
    maxCatchup: value('--max-catchup <duration>', 'replay at most this far back after a restart (default 1h)'),
    concurrency: value('--concurrency <n>', 'firings running at once (default 4)'),
    grace: value('--grace <duration>', 'on SIGINT/SIGTERM, let running actions finish this long (default 10s)'),
    deps: flag('--deps', 'keep dependents configured: re-render and reload services whose dependencies got new containers (needs -p or -f)'),
    project: value('-p, --project <name>', 'deploy project for --deps (default: from the compose file)'),
    file: list('--file <path>', 'compose file for --deps (repeatable; default: the latest deployed revision)'),
    ...ENGINE_OPTIONS,
  },
});

/** What `events` or `react` reads, typed from its table. */
export type EventsOptions<C extends keyof ReturnType<typeof eventsTables>> = OptionsOf<(ReturnType<typeof eventsTables>)[C]>;
