import { ENGINE_OPTIONS, flag, negatable, labelFilterOption, list, value, type OptionsOf } from './command-options.js';

/** The option tables of `kiboko chaos` and its container commands (network faults: chaos-network-options.ts). */

/** Which short flags a chaos command leaves to the globals (false where the command uses the letter itself). */
export type ChaosShorts = { l: boolean; r: boolean; i?: boolean; j?: boolean };

/**
 * The chaos "global" flags. Pumba takes them before the command; kiboko takes them there too
 * and also after it (long forms always; short forms where the command does not reuse them).
 */
export const chaosGlobals = (shorts: ChaosShorts) => ({
  interval: value(shorts.i === false ? '--interval <duration>' : '-i, --interval <duration>', 'repeat every interval (e.g. 30s, 5m); runs until Ctrl-C/SIGTERM'),
  random: flag(shorts.r ? '-r, --random' : '--random', 'pick one random target per cycle'),
  seed: value('--seed <n>', 'seed for --random/--limit picks (every run reports the seed it used)'),
  dryRun: flag('--dry-run', 'select targets and show what would happen; change nothing'),
  dry: flag('--dry', 'alias of --dry-run', { hidden: true }),
  skipError: flag('--skip-error', 'log a failed cycle and go on with the next interval instead of stopping'),
  json: flag(shorts.j === false ? '--json' : '-j, --json', 'NDJSON events and logs on stdout'),
  logLevel: value(shorts.l ? '-l, --log-level <level>' : '--log-level <level>', 'debug, info, warning, error (env LOG_LEVEL)'),
  label: labelFilterOption(),
  project: value('--project <name>', "a deploy project's current replicas (with no container names: all of them)"),
  service: value('--service <name>', 'with --project: only this service’s replicas'),
  failOnNoTargets: flag('--fail-on-no-targets', 'exit 5 when no container matched (default: a warning and exit 0, as Pumba)'),
  slackhook: value('--slackhook <url>', 'post a summary of each cycle to this Slack web hook'),
  slackchannel: value('--slackchannel <channel>', 'Slack channel for --slackhook'),
  notify: value('--notify <url>', 'POST each cycle summary and the result as JSON to this URL'),
  report: value('--report <file>', 'write a JSON report of the run (seed, targets, each action with times and outcome)'),
  concurrency: value('--concurrency <n>', 'targets acted on at once (default 32)'),
});

/** `--limit`, as every chaos command declares it (`-l` too where the command leaves the letter free). */
export const limitOption = (short = true) => value(`${short ? '-l, ' : ''}--limit <n>`, 'act on at most N random targets (0: all)');

/** `--pull-image` of the faults that run a helper image. */
export const pullHelperOption = () => flag('--pull-image', 'pull the helper image before use');

/** `--iptables-image` of the faults that set iptables rules. */
export const iptablesImageOption = () => value('--iptables-image <image>', 'helper image with iptables (default: nsenter as root, else kiboko/nettools:local)');

/** `-d, --duration` of the faults that last a while (required by each of them). */
export const durationOption = (description: string, short = true) => value(short ? '-d, --duration <duration>' : '--duration <duration>', description);

/** The network commands' shorts: -i, -l and -r are theirs (interface, limit, rate/pb). */
export const NET_SHORTS = { l: false, r: false, i: false };

/** kill, stop, pause, rm, restart, exec: faults done with the engine's own container calls. */
export const containerFaultTables = () => ({
  kill: {
    signal: value('-s, --signal <signal>', 'signal to send (default SIGKILL)'),
    limit: limitOption(),
  },
  stop: {
    time: value('-t, --time <seconds>', 'seconds to wait for the stop before SIGKILL (default 5)'),
    limit: limitOption(),
    restart: flag('-r, --restart', 'start the containers again after --duration'),
    duration: durationOption('with --restart: how long they stay stopped (default 10s)'),
  },
  pause: {
    duration: durationOption('how long to pause (required), e.g. 10s'),
    limit: limitOption(),
  },
  rm: {
    force: negatable(flag('-f, --force', 'remove running containers too (default true; --force=false or --no-force to disable)'), { help: 'do not remove running containers' }),
    links: negatable(flag('-n, --links', 'remove container links (default false)'), { hidden: true }),
    volumes: negatable(flag('-v, --volumes', 'remove anonymous volumes (default true; --volumes=false or --no-volumes to keep)'), { help: 'keep the containers’ anonymous volumes' }),
    limit: limitOption(),
  },
  restart: {
    timeout: value('-t, --timeout <duration>', 'time to wait for the stop before killing (default 1s)'),
    limit: limitOption(),
  },
  exec: {
    command: value('-s, --command <command>', "program to run (default 'kill 1'; split on spaces when no --args)"),
    args: list('-a, --args <arg>', 'an argument for the command (repeatable, kept as is)'),
    user: value('-u, --user <user>', 'user to run as (default: the container’s user)'),
    limit: limitOption(),
  },
  stress: {
    duration: durationOption('how long to stress (required)'),
    stressors: value('--stressors <args>', "stress-ng arguments (default '--cpu 4'; --timeout is added from --duration)"),
    stressImage: value('--stress-image <image>', 'run stress-ng in this image, nested under the target’s cgroup (default: on the host, as root)'),
    injectCgroup: flag('--inject-cgroup', 'put stress-ng into the target’s own cgroup (Pumba’s flag; kiboko’s default on the host, so not with --stress-image)'),
    pullImage: flag('--pull-image', 'pull the stress image before use'),
    limit: limitOption(),
  },
});

export const recoverOptions = () => ({
  dryRun: flag('--dry-run', 'show what would be recovered; change nothing'),
  json: flag('-j, --json', 'NDJSON output'),
  ...ENGINE_OPTIONS,
});

/** `kiboko doctor` (its checks are what the faults need). */
export const doctorOptions = () => ({
  json: flag('-j, --json', 'print the checks as JSON'),
  strict: flag('--strict', 'exit 1 when anything is missing'),
  ...ENGINE_OPTIONS,
});

export type RecoverOptions = OptionsOf<ReturnType<typeof recoverOptions>>;
export type DoctorOptions = OptionsOf<ReturnType<typeof doctorOptions>>;
