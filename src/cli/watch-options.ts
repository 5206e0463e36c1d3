import { flag, list, value, type OptionsOf, ENGINE_OPTIONS } from './command-options.js';

/**
 * What a watch pass does and when, shared by `kiboko watch` and `kiboko serve --watch` (one
 * definition, so both read the same flags the same way).
 */
export const watchPassOptions = () => ({
  containers: flag('--containers', 'also watch standalone containers when deploy projects are watched (-f; serve: --project); without projects they are watched'),
  interval: value('-i, --interval <duration|seconds>', 'a pass every interval (WATCHTOWER_POLL_INTERVAL, seconds; default 24h)'),
  schedule: value('-s, --schedule <cron>', "a pass on a cron schedule, 6 fields with seconds first as Watchtower ('0 0 4 * * *'), or 5 fields (WATCHTOWER_SCHEDULE)"),
  monitorOnly: flag('-m, --monitor-only', 'report newer images; change nothing (WATCHTOWER_MONITOR_ONLY; label …watchtower.monitor-only per container)'),
  minAge: value('--min-age <duration>', 'only images built at least this long ago, e.g. 1h (label kiboko.watch.min-age per container)'),
  labelEnable: flag('--label-enable', 'only containers labelled com.centurylinklabs.watchtower.enable=true (WATCHTOWER_LABEL_ENABLE)'),
  includeStopped: flag('-S, --include-stopped', 'also containers that are stopped (WATCHTOWER_INCLUDE_STOPPED)'),
  reviveStopped: flag('--revive-stopped', 'start stopped containers after updating them (WATCHTOWER_REVIVE_STOPPED)'),
  cleanup: flag('-c, --cleanup', 'remove the old image after a successful update (WATCHTOWER_CLEANUP)'),
  enableLifecycleHooks: flag('--enable-lifecycle-hooks', "run the containers' lifecycle.pre-update / post-update label commands (WATCHTOWER_LIFECYCLE_HOOKS)"),
  scope: value('--scope <name>', 'only containers with com.centurylinklabs.watchtower.scope=<name> (WATCHTOWER_SCOPE)'),
  disableContainers: list('-x, --disable-containers <names>', 'never these containers (comma-separated; WATCHTOWER_DISABLE_CONTAINERS)'),
  stopTimeout: value('--stop-timeout <duration>', 'how long a container may take to stop (default 10s; WATCHTOWER_TIMEOUT)'),
  healthTimeout: value('--health-timeout <duration>', 'how long a new container may take to be healthy (default 60s)'),
  notificationUrl: list('--notification-url <url>', 'slack://…, generic+https://… or https:// webhook for each pass report (repeatable; WATCHTOWER_NOTIFICATION_URL)'),
  slackhook: value('--slackhook <url>', 'Slack incoming-webhook URL (WATCHTOWER_NOTIFICATION_SLACK_HOOK_URL)'),
  slackchannel: value('--slackchannel <channel>', 'Slack channel for --slackhook'),
  webhook: value('--webhook <url>', 'POST each pass report as JSON here'),
  registryUser: value('--registry-user <user>', 'registry user for every registry (REPO_USER; default: ~/.docker/config.json and its credential helpers)'),
  registryPassword: value('--registry-password <password>', 'its password (REPO_PASS; prefer the environment or docker login)'),
  registryCa: list('--registry-ca <file>', 'trust this CA for registries (repeatable; besides /etc/docker/certs.d/<host>/ca.crt)'),
  insecureRegistry: list('--insecure-registry <host:port>', 'may speak plain HTTP (repeatable; loopback registries always may)'),
  registryTimeout: value('--registry-timeout <duration>', 'per registry request, connect to last byte (default 15s)'),
  pullTimeout: value('--pull-timeout <duration>', 'abort a pull with no progress for this long (default 60s)'),
});
export type WatchPassCommandOptions = OptionsOf<ReturnType<typeof watchPassOptions>>;

/**
 * `kiboko watch` (Watchtower's flags and environment, plus deploy projects) and `kiboko registry
 * tags|inspect` (with the credentials and CAs kiboko watch uses).
 */
export const watchTables = () => ({
  watch: {
    file: list('-f, --file <path>', 'a deploy project to watch: compose file (repeatable, one project) or folder'),
    project: value('-p, --project <name>', 'project name for -f (default: compose `name:`, else the folder name)'),
    projectPath: list('--project-path <path>', 'a further deploy project (compose file or folder; repeatable)'),
    once: flag('--once', 'one pass, then exit; the exit code says how it went'),
    runOnce: flag('-R, --run-once', "alias of --once (Watchtower's spelling; WATCHTOWER_RUN_ONCE)"),
    httpApiUpdate: flag('--http-api-update', "serve Watchtower's POST /v1/update (bearer token) to run a pass on demand; turns off periodic passes unless --http-api-periodic-polls (WATCHTOWER_HTTP_API_UPDATE)"),
    httpApiToken: value('--http-api-token <token>', 'the bearer token for the HTTP API (WATCHTOWER_HTTP_API_TOKEN)'),
    httpApiPeriodicPolls: flag('--http-api-periodic-polls', 'keep periodic passes with --http-api-update (WATCHTOWER_HTTP_API_PERIODIC_POLLS)'),
    httpApiListen: value('--http-api-listen <host:port>', 'where the HTTP API listens (default :8080, as Watchtower)'),
    json: flag('-j, --json', 'NDJSON events and the pass report on stdout'),
    ...watchPassOptions(),
    ...ENGINE_OPTIONS,
  },
  registry: {
    registryUser: value('--registry-user <user>', 'registry user (REPO_USER; default: ~/.docker/config.json)'),
    registryPassword: value('--registry-password <password>', 'its password (REPO_PASS)'),
    registryCa: list('--registry-ca <file>', 'trust this CA (repeatable)'),
    registryTimeout: value('--registry-timeout <duration>', 'per request (default 15s)'),
    json: flag('-j, --json', 'JSON output'),
  },
});

/** What `watch` or `registry tags|inspect` reads, typed from its table. */
export type WatchCommandOptions<C extends keyof ReturnType<typeof watchTables>> = OptionsOf<(ReturnType<typeof watchTables>)[C]>;
