import type { Command } from 'commander';
import { actionOf, collect, engineAction } from './command-options.js';

/**
 * What a watch pass does and when, shared by `kiboko watch` and `kiboko serve --watch` (one
 * definition, so both read the same flags the same way).
 */
export function addWatchPassOptions(cmd: Command): Command {
  return cmd
    .option('--containers', 'also watch standalone containers when deploy projects are watched (-f; serve: --project); without projects they are watched')
    .option('-i, --interval <duration|seconds>', 'a pass every interval (WATCHTOWER_POLL_INTERVAL, seconds; default 24h)')
    .option('-s, --schedule <cron>', "a pass on a cron schedule, 6 fields with seconds first as Watchtower ('0 0 4 * * *'), or 5 fields (WATCHTOWER_SCHEDULE)")
    .option('-m, --monitor-only', 'report newer images; change nothing (WATCHTOWER_MONITOR_ONLY; label …watchtower.monitor-only per container)')
    .option('--min-age <duration>', 'only images built at least this long ago, e.g. 1h (label kiboko.watch.min-age per container)')
    .option('--label-enable', 'only containers labelled com.centurylinklabs.watchtower.enable=true (WATCHTOWER_LABEL_ENABLE)')
    .option('-S, --include-stopped', 'also containers that are stopped (WATCHTOWER_INCLUDE_STOPPED)')
    .option('--revive-stopped', 'start stopped containers after updating them (WATCHTOWER_REVIVE_STOPPED)')
    .option('-c, --cleanup', 'remove the old image after a successful update (WATCHTOWER_CLEANUP)')
    .option('--enable-lifecycle-hooks', "run the containers' lifecycle.pre-update / post-update label commands (WATCHTOWER_LIFECYCLE_HOOKS)")
    .option('--scope <name>', 'only containers with com.centurylinklabs.watchtower.scope=<name> (WATCHTOWER_SCOPE)')
    .option('-x, --disable-containers <names>', 'never these containers (comma-separated; WATCHTOWER_DISABLE_CONTAINERS)', collect)
    .option('--stop-timeout <duration>', 'how long a container may take to stop (default 10s; WATCHTOWER_TIMEOUT)')
    .option('--health-timeout <duration>', 'how long a new container may take to be healthy (default 60s)')
    .option('--notification-url <url>', 'slack://…, generic+https://… or https:// webhook for each pass report (repeatable; WATCHTOWER_NOTIFICATION_URL)', collect)
    .option('--slackhook <url>', 'Slack incoming-webhook URL (WATCHTOWER_NOTIFICATION_SLACK_HOOK_URL)')
    .option('--slackchannel <channel>', 'Slack channel for --slackhook')
    .option('--webhook <url>', 'POST each pass report as JSON here')
    .option('--registry-user <user>', 'registry user for every registry (REPO_USER; default: ~/.docker/config.json and its credential helpers)')
    .option('--registry-password <password>', 'its password (REPO_PASS; prefer the environment or docker login)')
    .option('--registry-ca <file>', 'trust this CA for registries (repeatable; besides /etc/docker/certs.d/<host>/ca.crt)', collect)
    .option('--insecure-registry <host:port>', 'may speak plain HTTP (repeatable; loopback registries always may)', collect)
    .option('--registry-timeout <duration>', 'per registry request, connect to last byte (default 15s)')
    .option('--pull-timeout <duration>', 'abort a pull with no progress for this long (default 60s)');
}

/**
 * Declares `kiboko watch` (Watchtower's flags and environment, plus deploy projects) and
 * `kiboko registry tags|inspect` (options and help only; each action lazy-loads ./watch.js).
 */
export function defineWatchCommands(program: Command): void {
  const watch = program
    .command('watch')
    .description('follow new images in the registry: new digests of the same tag, or newer tags under a deploy service\'s tag policy; notify (--monitor-only) or update — deploy services through health-gated deploys with rollback, standalone containers recreated (start-first when no port is published, the old one back when the new is unhealthy). Reads Watchtower\'s labels and WATCHTOWER_* environment.')
    .argument('[containers...]', 'only these containers (as Watchtower takes them)')
    .option('-f, --file <path>', 'a deploy project to watch: compose file (repeatable, one project) or folder', collect)
    .option('-p, --project <name>', 'project name for -f (default: compose `name:`, else the folder name)')
    .option('--project-path <path>', 'a further deploy project (compose file or folder; repeatable)', collect)
    .option('--once', 'one pass, then exit; the exit code says how it went')
    .option('-R, --run-once', "alias of --once (Watchtower's spelling; WATCHTOWER_RUN_ONCE)")
    .option('--http-api-update', 'serve Watchtower\'s POST /v1/update (bearer token) to run a pass on demand; turns off periodic passes unless --http-api-periodic-polls (WATCHTOWER_HTTP_API_UPDATE)')
    .option('--http-api-token <token>', 'the bearer token for the HTTP API (WATCHTOWER_HTTP_API_TOKEN)')
    .option('--http-api-periodic-polls', 'keep periodic passes with --http-api-update (WATCHTOWER_HTTP_API_PERIODIC_POLLS)')
    .option('--http-api-listen <host:port>', 'where the HTTP API listens (default :8080, as Watchtower)')
    .option('-j, --json', 'NDJSON events and the pass report on stdout');
  addWatchPassOptions(watch);
  engineAction(watch, async (command) => (await import('./watch.js')).runWatch(command));

  const registry = program.command('registry').description('ask a registry directly (with the credentials and CAs kiboko watch uses)');
  const common = (c: Command) =>
    c
      .option('--registry-user <user>', 'registry user (REPO_USER; default: ~/.docker/config.json)')
      .option('--registry-password <password>', 'its password (REPO_PASS)')
      .option('--registry-ca <file>', 'trust this CA (repeatable)', collect)
      .option('--registry-timeout <duration>', 'per request (default 15s)')
      .option('-j, --json', 'JSON output');
  actionOf(common(registry.command('tags').description("list a repository's tags").argument('<image>')), async (command) => (await import('./watch.js')).runRegistry('tags', command));
  actionOf(common(registry.command('inspect').description("a tag's digest, media type and creation time").argument('<image>')), async (command) => (await import('./watch.js')).runRegistry('inspect', command));
}
