import { ENGINE_OPTIONS, flag, inherited, list, value, type OptionsOf } from './command-options.js';

/** `kiboko events`: docker events' filters and output. */
export const EVENTS_OPTIONS = {
  filter: list('-f, --filter <key=value>', 'type, event, container, image, label, network, volume, daemon, scope, … (repeatable; same key ORs, labels AND); type=deploy adds kiboko deploys'),
  since: value('--since <time>', 'replay from: a duration back (10m), unix seconds or an ISO date'),
  until: value('--until <time>', 'stop at: a duration back, unix seconds or an ISO date (the stream then ends)'),
  format: value('--format <template>', "Go-template-style line per event, e.g. '{{.Action}} {{.Actor.Attributes.name}}' or '{{json .}}'"),
  json: flag('-j, --json', 'one JSON object per event (NDJSON)'),
  ...ENGINE_OPTIONS,
};
export type EventsOptions = OptionsOf<typeof EVENTS_OPTIONS>;

/** `kiboko react`: actions on matching events from a rules file, and --deps. */
export const REACT_OPTIONS = {
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
};
export type ReactOptions = OptionsOf<typeof REACT_OPTIONS>;

/** `kiboko proxy serve`: toxiproxy's HTTP API. Its --host is the API's, not the engine's. */
export const PROXY_SERVE_OPTIONS = {
  host: value('--host <host>', 'address to listen on (default localhost; the API has no authentication, like toxiproxy: keep it on loopback)', { local: true }),
  port: value('--port <port>', 'API port (default 8474, toxiproxy’s)'),
  config: value('--config <file>', 'JSON file of proxies to create at start (toxiproxy -config / POST /populate format)'),
  // Where the transparent proxies' journal is: the program's --state-dir.
  stateDir: inherited(ENGINE_OPTIONS.stateDir),
};
export type ProxyServeOptions = OptionsOf<typeof PROXY_SERVE_OPTIONS>;
