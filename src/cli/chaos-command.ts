import { Option, type Command } from 'commander';
import { engineAction, labelFilterOption } from './command-options.js';
import type { ChaosCommandName, Handlers } from './handlers.js';

/** Which short flags a chaos command leaves to the globals (false where the command uses the letter itself). */
export type ChaosShorts = { l: boolean; r: boolean; i?: boolean; j?: boolean };

/**
 * The chaos "global" flags. Pumba takes them before the command; kiboko takes them there too
 * and also after it (long forms always; short forms where the command does not reuse them).
 */
export function addChaosGlobals(cmd: Command, shorts: ChaosShorts): Command {
  return cmd
    .option(shorts.i === false ? '--interval <duration>' : '-i, --interval <duration>', 'repeat every interval (e.g. 30s, 5m); runs until Ctrl-C/SIGTERM')
    .option(shorts.r ? '-r, --random' : '--random', 'pick one random target per cycle')
    .option('--seed <n>', 'seed for --random/--limit picks (every run reports the seed it used)')
    .option('--dry-run', 'select targets and show what would happen; change nothing')
    .addOption(new Option('--dry', 'alias of --dry-run').hideHelp())
    .option('--skip-error', 'log a failed cycle and go on with the next interval instead of stopping')
    .option(shorts.j === false ? '--json' : '-j, --json', 'NDJSON events and logs on stdout')
    .option(shorts.l ? '-l, --log-level <level>' : '--log-level <level>', 'debug, info, warning, error (env LOG_LEVEL)')
    .addOption(labelFilterOption())
    .option('--project <name>', "a deploy project's current replicas (with no container names: all of them)")
    .option('--service <name>', 'with --project: only this service’s replicas')
    .option('--fail-on-no-targets', 'exit 5 when no container matched (default: a warning and exit 0, as Pumba)')
    .option('--slackhook <url>', 'post a summary of each cycle to this Slack web hook')
    .option('--slackchannel <channel>', 'Slack channel for --slackhook', undefined)
    .option('--notify <url>', 'POST each cycle summary and the result as JSON to this URL')
    .option('--report <file>', 'write a JSON report of the run (seed, targets, each action with times and outcome)')
    .option('--concurrency <n>', 'targets acted on at once (default 32)');
}

/** One chaos command: its own flags (`build`), then the globals and engine flags, its action through `handlers.chaos`. */
export function chaosCommand(
  parent: Command,
  name: ChaosCommandName,
  summary: string,
  handlers: Handlers,
  shorts: ChaosShorts,
  build: (c: Command) => void,
) {
  const word = name.includes(':') ? name.split(':')[1]! : name;
  const cmd = parent.command(word).summary(summary).description(summary).argument('[containers...]', "names, IDs, or one 're2:<regex>'");
  build(cmd);
  addChaosGlobals(cmd, shorts);
  return engineAction(cmd, (command, containers) => handlers.chaos(name)(command, containers));
}

/** `--limit`, as every chaos command declares it (`-l` too where the command leaves the letter free). */
export const limitOption = (short = true) => new Option(`${short ? '-l, ' : ''}--limit <n>`, 'act on at most N random targets (0: all)');

/** `--pull-image` of the faults that run a helper image. */
export const pullHelperOption = () => new Option('--pull-image', 'pull the helper image before use');

/** `--iptables-image` of the faults that set iptables rules. */
export const iptablesImageOption = () => new Option('--iptables-image <image>', 'helper image with iptables (default: nsenter as root, else kiboko/nettools:local)');

/** The network commands' shorts: -i, -l and -r are theirs (interface, limit, rate/pb). */
export const NET_SHORTS = { l: false, r: false, i: false };
