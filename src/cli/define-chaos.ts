import { Option, type Command } from 'commander';
import { VERSION } from '../common/version.js';
import { addBoolNegations } from './chaos-bool-flags.js';
import { addChaosGlobals, chaosCommand, limitOption } from './chaos-command.js';
import { addEngineOptions, collect, engineAction } from './command-options.js';
import { addNetworkCommands } from './define-chaos-network.js';
import type { Handlers } from './handlers.js';

/** `kiboko chaos` and its commands, Pumba's spelled as Pumba does. */
export function defineChaosCommands(program: Command, handlers: Handlers): void {

  const chaos = program
    .command('chaos')
    .description('chaos experiments on containers, Pumba-compatible: `pumba X …` works as `kiboko chaos X …`')
    .version(VERSION, '-v, --version', 'print the version (as `pumba --version`)')
    .enablePositionalOptions();
  addChaosGlobals(chaos, { l: true, r: true });
  addEngineOptions(chaos);

  addContainerCommands(chaos, handlers);
  addNetworkCommands(chaos, handlers);
  chaosCommand(chaos, 'stress', "stress-ng inside the target's cgroup (its limits apply) for a duration", handlers, { l: false, r: true, i: true }, (c) =>
    c
      .option('-d, --duration <duration>', 'how long to stress (required)')
      .option('--stressors <args>', "stress-ng arguments (default '--cpu 4'; --timeout is added from --duration)")
      .option('--stress-image <image>', 'run stress-ng in this image, nested under the target’s cgroup (default: on the host, as root)')
      .option('--inject-cgroup', 'put stress-ng into the target’s own cgroup (Pumba’s flag; kiboko’s default on the host, so not with --stress-image)')
      .option('--pull-image', 'pull the stress image before use')
      .addOption(limitOption()),
  );

  const recover = chaos
    .command('recover')
    .description('undo changes left by kiboko runs that died (SIGKILL, crash): unpause, start again')
    .option('--dry-run', 'show what would be recovered; change nothing')
    .option('-j, --json', 'NDJSON output');
  engineAction(recover, handlers.recover);

  addBoolNegations(chaos);
}

/** kill, stop, pause, rm, restart, exec: faults done with the engine's own container calls. */
function addContainerCommands(chaos: Command, handlers: Handlers): void {
  chaosCommand(chaos, 'kill', 'kill containers with a signal', handlers, { l: false, r: true }, (c) =>
    c
      .option('-s, --signal <signal>', 'signal to send (default SIGKILL)')
      .addOption(limitOption()),
  );
  chaosCommand(chaos, 'stop', 'stop containers (grace period, then SIGKILL), optionally starting them again', handlers, { l: false, r: false }, (c) =>
    c
      .option('-t, --time <seconds>', 'seconds to wait for the stop before SIGKILL (default 5)')
      .addOption(limitOption())
      .option('-r, --restart', 'start the containers again after --duration')
      .option('-d, --duration <duration>', 'with --restart: how long they stay stopped (default 10s)'),
  );
  chaosCommand(chaos, 'pause', 'pause all processes of containers for a duration, then unpause', handlers, { l: false, r: true }, (c) =>
    c
      .option('-d, --duration <duration>', 'how long to pause (required), e.g. 10s')
      .addOption(limitOption()),
  );
  chaosCommand(chaos, 'rm', 'remove containers', handlers, { l: false, r: true }, (c) =>
    c
      .option('-f, --force', 'remove running containers too (default true; --force=false or --no-force to disable)')
      .option('--no-force', 'do not remove running containers')
      .option('-n, --links', 'remove container links (default false)')
      .addOption(new Option('--no-links').hideHelp())
      .option('-v, --volumes', 'remove anonymous volumes (default true; --volumes=false or --no-volumes to keep)')
      .option('--no-volumes', 'keep the containers’ anonymous volumes')
      .addOption(limitOption()),
  );
  chaosCommand(chaos, 'restart', 'restart containers', handlers, { l: false, r: true }, (c) =>
    c
      .option('-t, --timeout <duration>', 'time to wait for the stop before killing (default 1s)')
      .addOption(limitOption()),
  );
  chaosCommand(chaos, 'exec', 'run a command inside containers; a non-zero exit is a failure', handlers, { l: false, r: true }, (c) =>
    c
      .option('-s, --command <command>', "program to run (default 'kill 1'; split on spaces when no --args)")
      .option('-a, --args <arg>', 'an argument for the command (repeatable, kept as is)', collect)
      .option('-u, --user <user>', 'user to run as (default: the container’s user)')
      .addOption(limitOption()),
  );
}
