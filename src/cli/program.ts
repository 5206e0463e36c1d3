import { Command, Option } from 'commander';
import { VERSION } from '../common/version.js';

export type ActionHandler = (cmd: Command, args: string[]) => Promise<number>;

export interface Handlers {
  chaos: (kind: ChaosCommandName) => ActionHandler;
  recover: ActionHandler;
}

export type ChaosCommandName = 'kill' | 'stop' | 'pause' | 'rm' | 'restart' | 'exec';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Engine connection flags, as the docker CLI and Pumba spell them. */
function addEngineOptions(cmd: Command): Command {
  return cmd
    .option('-H, --host <host>', 'engine address: unix:///var/run/docker.sock or tcp://HOST:PORT (env DOCKER_HOST)')
    .option('--tls', 'use TLS (implied by --tlsverify)')
    .option('--tlsverify', 'use TLS and verify the engine (env DOCKER_TLS_VERIFY)')
    .option('--tlscacert <path|pem>', 'CA certificate (default $DOCKER_CERT_PATH/ca.pem)')
    .option('--tlscert <path|pem>', 'client certificate (default $DOCKER_CERT_PATH/cert.pem)')
    .option('--tlskey <path|pem>', 'client key (default $DOCKER_CERT_PATH/key.pem)')
    .option('--state-dir <dir>', 'where the restore journal lives (env KIBOKO_STATE_DIR; default ~/.local/state/kiboko)');
}

/**
 * The chaos "global" flags. Pumba takes them before the command; kiboko takes them there too
 * and also after it (long forms always; short forms where the command does not reuse them).
 */
function addChaosGlobals(cmd: Command, shorts: { l: boolean; r: boolean }): Command {
  return cmd
    .option('-i, --interval <duration>', 'repeat every interval (e.g. 30s, 5m); runs until Ctrl-C/SIGTERM')
    .option(shorts.r ? '-r, --random' : '--random', 'pick one random target per cycle')
    .option('--seed <n>', 'seed for --random/--limit picks (every run reports the seed it used)')
    .option('--dry-run', 'select targets and show what would happen; change nothing')
    .addOption(new Option('--dry', 'alias of --dry-run').hideHelp())
    .option('--skip-error', 'log a failed cycle and go on with the next interval instead of stopping')
    .option('-j, --json', 'NDJSON events and logs on stdout')
    .option(shorts.l ? '-l, --log-level <level>' : '--log-level <level>', 'debug, info, warning, error (env LOG_LEVEL)')
    .option('--label <key=value>', 'only containers with this label (repeatable, AND; or k1=v1,k2=v2)', collect)
    .option('--slackhook <url>', 'post a summary of each cycle to this Slack web hook')
    .option('--slackchannel <channel>', 'Slack channel for --slackhook', undefined)
    .option('--notify <url>', 'POST each cycle summary and the result as JSON to this URL')
    .option('--report <file>', 'write a JSON report of the run (seed, targets, each action with times and outcome)')
    .option('--concurrency <n>', 'targets acted on at once (default 32)');
}

function chaosCommand(parent: Command, name: ChaosCommandName, summary: string, handlers: Handlers, shorts: { l: boolean; r: boolean }, build: (c: Command) => void) {
  const cmd = parent.command(name).summary(summary).description(summary).argument('[containers...]', "names, IDs, or one 're2:<regex>'");
  build(cmd);
  addChaosGlobals(cmd, shorts);
  addEngineOptions(cmd);
  cmd.action(async (containers: string[], _opts: unknown, command: Command) => {
    process.exitCode = await handlers.chaos(name)(command, containers);
  });
  return cmd;
}

export function buildProgram(handlers: Handlers): Command {
  const program = new Command('kiboko')
    .description('Run Docker containers well: chaos experiments today; deploys, checks and configuration next.')
    .version(VERSION, '-v, --version', 'print the version')
    .enablePositionalOptions()
    .showSuggestionAfterError(true);
  addEngineOptions(program);

  const chaos = program
    .command('chaos')
    .description('chaos experiments on containers, Pumba-compatible: `pumba X …` works as `kiboko chaos X …`')
    .enablePositionalOptions();
  addChaosGlobals(chaos, { l: true, r: true });
  addEngineOptions(chaos);

  chaosCommand(chaos, 'kill', 'kill containers with a signal', handlers, { l: false, r: true }, (c) =>
    c
      .option('-s, --signal <signal>', 'signal to send (default SIGKILL)')
      .option('-l, --limit <n>', 'act on at most N random targets (0: all)'),
  );
  chaosCommand(chaos, 'stop', 'stop containers (grace period, then SIGKILL), optionally starting them again', handlers, { l: false, r: false }, (c) =>
    c
      .option('-t, --time <seconds>', 'seconds to wait for the stop before SIGKILL (default 5)')
      .option('-l, --limit <n>', 'act on at most N random targets (0: all)')
      .option('-r, --restart', 'start the containers again after --duration')
      .option('-d, --duration <duration>', 'with --restart: how long they stay stopped (default 10s)'),
  );
  chaosCommand(chaos, 'pause', 'pause all processes of containers for a duration, then unpause', handlers, { l: false, r: true }, (c) =>
    c
      .option('-d, --duration <duration>', 'how long to pause (required), e.g. 10s')
      .option('-l, --limit <n>', 'act on at most N random targets (0: all)'),
  );
  chaosCommand(chaos, 'rm', 'remove containers', handlers, { l: false, r: true }, (c) =>
    c
      .option('-f, --force', 'remove running containers too (default true; --force=false or --no-force to disable)')
      .option('--no-force', 'do not remove running containers')
      .option('-n, --links', 'remove container links (default false)')
      .addOption(new Option('--no-links').hideHelp())
      .option('-v, --volumes', 'remove anonymous volumes (default true; --volumes=false or --no-volumes to keep)')
      .option('--no-volumes', 'keep the containers’ anonymous volumes')
      .option('-l, --limit <n>', 'act on at most N random targets (0: all)'),
  );
  chaosCommand(chaos, 'restart', 'restart containers', handlers, { l: false, r: true }, (c) =>
    c
      .option('-t, --timeout <duration>', 'time to wait for the stop before killing (default 1s)')
      .option('-l, --limit <n>', 'act on at most N random targets (0: all)'),
  );
  chaosCommand(chaos, 'exec', 'run a command inside containers; a non-zero exit is a failure', handlers, { l: false, r: true }, (c) =>
    c
      .option('-s, --command <command>', "program to run (default 'kill 1'; split on spaces when no --args)")
      .option('-a, --args <arg>', 'an argument for the command (repeatable, kept as is)', collect)
      .option('-u, --user <user>', 'user to run as (default: the container’s user)')
      .option('-l, --limit <n>', 'act on at most N random targets (0: all)'),
  );

  const recover = chaos
    .command('recover')
    .description('undo changes left by kiboko runs that died (SIGKILL, crash): unpause, start again')
    .option('--dry-run', 'show what would be recovered; change nothing')
    .option('-j, --json', 'NDJSON output');
  addEngineOptions(recover);
  recover.action(async (_opts: unknown, command: Command) => {
    process.exitCode = await handlers.recover(command, []);
  });

  return program;
}

/** Pumba's true-by-default flags, which its users switch off as `--force=false`. */
const BOOL_FLAGS = new Set(['force', 'volumes', 'links']);
const OTHER_COMMANDS = new Set(['kill', 'stop', 'pause', 'restart', 'exec', 'recover']);

/**
 * Rewrites `--force=false` / `--force=true` (urfave/cli syntax, used in Pumba scripts) to the
 * `--no-force` / `--force` commander understands; a bare `--force` never takes a value, so
 * `rm --volumes web-1` keeps web-1 as a target.
 */
export function normalizeBoolFlags(argv: readonly string[]): string[] {
  // Only rm has these flags: rewrite the words after the `rm` command word, up to a `--`.
  const rmAt = argv.indexOf('rm');
  if (rmAt < 0 || argv.slice(0, rmAt).some((a) => OTHER_COMMANDS.has(a))) return [...argv];
  const dashes = argv.indexOf('--', rmAt);
  const end = dashes < 0 ? argv.length : dashes;
  return argv.map((arg, i) => {
    if (i <= rmAt || i >= end) return arg;
    const m = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (!m || !BOOL_FLAGS.has(m[1]!)) return arg;
    const v = m[2]!.toLowerCase();
    if (['true', '1', 'yes', 't'].includes(v)) return `--${m[1]}`;
    if (['false', '0', 'no', 'f'].includes(v)) return `--no-${m[1]}`;
    return arg; // left for commander to reject with its own message
  });
}

/**
 * Options of a command merged with its ancestors' (the chaos globals may sit on either side of
 * the command name); repeatable options are concatenated, scalar ones taken nearest first.
 */
export function mergedOptions(cmd: Command): Record<string, unknown> {
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.unshift(c);
  const out: Record<string, unknown> = {};
  for (const c of chain) {
    for (const [k, v] of Object.entries(c.opts())) {
      if (v === undefined) continue;
      out[k] = Array.isArray(v) && Array.isArray(out[k]) ? [...(out[k] as unknown[]), ...v] : v;
    }
  }
  return out;
}
