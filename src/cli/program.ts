import { Command, Option } from 'commander';
import { KibokoError } from '../common/errors.js';
import { VERSION } from '../common/version.js';
import { defineEventsCommands } from './define-events.js';
import { definePackagesCommands } from './define-packages.js';
import { defineProxyCommands } from './define-proxy.js';
import { defineTemplateCommands } from './define-template.js';
import { defineUnitsCommands } from './define-units.js';
import { addWatchPassOptions, defineWatchCommands } from './define-watch.js';

export type ActionHandler = (cmd: Command, args: string[]) => Promise<number>;

export type DeploySub = 'plan' | 'apply' | 'up' | 'down' | 'ps' | 'logs' | 'restart' | 'pull' | 'history' | 'rollback' | 'set-tag' | 'config';

export interface Handlers {
  chaos: (kind: ChaosCommandName) => ActionHandler;
  recover: ActionHandler;
  doctor: ActionHandler;
  deploy: (sub: DeploySub) => ActionHandler;
  serve?: ActionHandler;
}

export type NetemEffectName = 'delay' | 'loss' | 'loss-state' | 'loss-gemodel' | 'rate' | 'duplicate' | 'corrupt' | 'combine';
export type ChaosCommandName =
  | 'kill'
  | 'stop'
  | 'pause'
  | 'rm'
  | 'restart'
  | 'exec'
  | `netem:${NetemEffectName}`
  | 'iptables:loss'
  | 'partition'
  | 'proxy'
  | 'delay'
  | 'rate'
  | 'stress';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Engine connection flags, as the docker CLI and Pumba spell them. */
export function addEngineOptions(cmd: Command): Command {
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
function addChaosGlobals(cmd: Command, shorts: { l: boolean; r: boolean; i?: boolean; j?: boolean }): Command {
  return cmd
    .option(shorts.i === false ? '--interval <duration>' : '-i, --interval <duration>', 'repeat every interval (e.g. 30s, 5m); runs until Ctrl-C/SIGTERM')
    .option(shorts.r ? '-r, --random' : '--random', 'pick one random target per cycle')
    .option('--seed <n>', 'seed for --random/--limit picks (every run reports the seed it used)')
    .option('--dry-run', 'select targets and show what would happen; change nothing')
    .addOption(new Option('--dry', 'alias of --dry-run').hideHelp())
    .option('--skip-error', 'log a failed cycle and go on with the next interval instead of stopping')
    .option(shorts.j === false ? '--json' : '-j, --json', 'NDJSON events and logs on stdout')
    .option(shorts.l ? '-l, --log-level <level>' : '--log-level <level>', 'debug, info, warning, error (env LOG_LEVEL)')
    .option('--label <key=value>', 'only containers with this label (repeatable, AND; or k1=v1,k2=v2)', collect)
    .option('--project <name>', "a deploy project's current replicas (with no container names: all of them)")
    .option('--service <name>', 'with --project: only this service’s replicas')
    .option('--fail-on-no-targets', 'exit 5 when no container matched (default: a warning and exit 0, as Pumba)')
    .option('--slackhook <url>', 'post a summary of each cycle to this Slack web hook')
    .option('--slackchannel <channel>', 'Slack channel for --slackhook', undefined)
    .option('--notify <url>', 'POST each cycle summary and the result as JSON to this URL')
    .option('--report <file>', 'write a JSON report of the run (seed, targets, each action with times and outcome)')
    .option('--concurrency <n>', 'targets acted on at once (default 32)');
}

function chaosCommand(
  parent: Command,
  name: ChaosCommandName,
  summary: string,
  handlers: Handlers,
  shorts: { l: boolean; r: boolean; i?: boolean; j?: boolean },
  build: (c: Command) => void,
) {
  const word = name.includes(':') ? name.split(':')[1]! : name;
  const cmd = parent.command(word).summary(summary).description(summary).argument('[containers...]', "names, IDs, or one 're2:<regex>'");
  build(cmd);
  addChaosGlobals(cmd, shorts);
  addEngineOptions(cmd);
  cmd.action(async (containers: string[], _opts: unknown, command: Command) => {
    process.exitCode = await handlers.chaos(name)(command, containers);
  });
  return cmd;
}

/**
 * The whole command tree; with `only: 'deploy'` just the deploy commands (and the global engine
 * options): `kiboko deploy …` then skips defining a few hundred options it cannot use, which its
 * no-op plan (a bench target) would otherwise pay on every run. Help lists everything, so main
 * asks for the whole tree whenever help is wanted.
 */
export function buildProgram(handlers: Handlers, options: { only?: 'deploy' | undefined } = {}): Command {
  const program = new Command('kiboko')
    .description('Run Docker containers well: break them on purpose (chaos), ship them (deploys, the units daemon), check them (images as packages, tests) and keep them configured (templates, events).')
    .version(VERSION, '-v, --version', 'print the version')
    .enablePositionalOptions()
    .showSuggestionAfterError(true);
  addEngineOptions(program);
  if (options.only === 'deploy') {
    addDeployCommands(program, handlers);
    return program;
  }

  const chaos = program
    .command('chaos')
    .description('chaos experiments on containers, Pumba-compatible: `pumba X …` works as `kiboko chaos X …`')
    .version(VERSION, '-v, --version', 'print the version (as `pumba --version`)')
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

  addNetworkCommands(chaos, handlers);

  const recover = chaos
    .command('recover')
    .description('undo changes left by kiboko runs that died (SIGKILL, crash): unpause, start again')
    .option('--dry-run', 'show what would be recovered; change nothing')
    .option('-j, --json', 'NDJSON output');
  addEngineOptions(recover);
  recover.action(async (_opts: unknown, command: Command) => {
    process.exitCode = await handlers.recover(command, []);
  });

  addBoolNegations(chaos);
  addDeployCommands(program, handlers);
  defineUnitsCommands(program);
  definePackagesCommands(program);
  defineTemplateCommands(program);
  defineEventsCommands(program);
  defineProxyCommands(program);
  defineWatchCommands(program);

  if (handlers.serve) {
    const serve = program
      .command('serve')
      .description("run the daemon: fleet's v1 units API (units as containers), the deploy hook and kiboko's native API (deploys, chaos, events, metrics), behind a bearer token, over a unix socket and/or TCP")
      .option('--listen <host:port>', 'listen on TCP (e.g. 127.0.0.1:8555)')
      .option('--socket <path>', 'listen on this unix socket (default: <state-dir>/kiboko.sock, opened with --listen too)')
      .option('--tls-cert <file>', 'serve HTTPS on --listen with this certificate (with --tls-key; half a TLS configuration is refused)')
      .option('--tls-key <file>', 'and this key')
      .option('--tls-client-ca <file>', 'accept TLS client certificates signed by this CA as a credential equal to the token (fleetctl --cert-file/--key-file)')
      .option('--socket-group <group>', 'the unix sockets\' group (name or gid): its members may use the API, mode 0660 (default: owner only, 0600); the socket needs no token, so this group is root-equivalent')
      .option('--fleet-socket [path]', "also serve the API on fleet's unix socket (default /var/run/fleet.sock), for fleetctl's default endpoint")
      .option('--max-event-streams <n>', 'concurrent GET /v1/events streams in all (default 2000)')
      .option('--max-event-streams-per-client <n>', 'concurrent GET /v1/events streams per client address (default 1000)')
      .option('--token-file <file>', 'the bearer token (created with mode 0600 on first start, never printed; refused when others can read it; default <state-dir>/serve.token)')
      .option('--allow-host-mounts [paths]', "let units bind-mount host paths: any (no value), or only these comma-separated paths and what is below them (default: none — a bind of / or the engine socket is the host)")
      .option('--allow-any-exec-start', 'accept units whose ExecStart is not a docker run line (they are stored but cannot run as containers)')
      .option('--engine <docker|swarm>', 'run units as containers on this engine, or as Swarm services (default: Swarm when the engine is a manager)')
      .option('--metadata <key=value,...>', "this machine's fleet metadata, matched by units' MachineMetadata= (e.g. region=us-east-1,disk=ssd)")
      .option('--project <name=path>', 'deploy this project through the native API and the deploy hook: a compose file or folder, as deploy -f takes it (repeatable)', collect)
      .option('--deploy-config <file>', 'YAML: projects (file, engine, per-service tag_policy) and webhook.secret / webhook.secret_file')
      .option('--webhook-secret-file <file>', "the deploy hook's shared secret: requests signed with X-Hub-Signature-256 (HMAC-SHA256 of the body) need no bearer token")
      .option('--rules <file>', 'react to events with this rules file (as kiboko react does), with the daemon\'s deploy and chaos events too')
      .option('--watch', 'follow new images in the registry inside the daemon, as kiboko watch does (with the watch options below and WATCHTOWER_* environment): the --project projects and standalone containers; reports at GET /v1/watch/reports, a pass now with POST /v1/watch/run, events watch.* on /v1/events');
    addWatchPassOptions(serve);
    addEngineOptions(serve);
    const handler = handlers.serve;
    serve.action(async (_opts: unknown, command: Command) => {
      process.exitCode = await handler(command, []);
    });
  }

  const doctor = program
    .command('doctor')
    .description('check the engine, privileges, kernel features (tc qdiscs, iptables matches), cgroups and helper images that faults need')
    .option('-j, --json', 'print the checks as JSON')
    .option('--strict', 'exit 1 when anything is missing');
  addEngineOptions(doctor);
  doctor.action(async (_opts: unknown, command: Command) => {
    process.exitCode = await handlers.doctor(command, []);
  });

  return program;
}

function addDeployCommands(program: Command, handlers: Handlers) {
  const deploy = program
    .command('deploy')
    .description('declarative deploys: plan and apply a system configuration (compose file or unit files) with health-gated rolling updates, rollback and history');
  // `logs -f` follows, as in docker compose (whose -f comes before the subcommand): there the file is --file only.
  const common = (c: Command, shortFile = true) => {
    c.option(`${shortFile ? '-f, ' : ''}--file <path>`, 'compose file (repeatable) or a folder with a compose file or *.service unit files', collect)
      .option('--from <git+URL#branch[:path]>', 'read the configuration from a git branch (the revision records the commit)')
      .option('--engine <docker|swarm>', 'deploy as containers on this engine, or as Swarm services (default: Swarm when the engine is a manager)')
      .option('-p, --project <name>', 'project name (wins over COMPOSE_PROJECT_NAME and compose `name:`; default the folder name)')
      .option('--env-file <path>', 'read variables from this file instead of the project\'s .env (repeatable)', collect)
      .option('--profile <name>', 'enable services of this profile (repeatable; also COMPOSE_PROFILES)', collect)
      .option('-j, --json', 'JSON output (apply: NDJSON events)');
    addEngineOptions(c);
    return c;
  };
  const run = (name: DeploySub, c: Command) =>
    c.action(async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const positional = args.slice(0, -2).flat().filter((a): a is string => typeof a === 'string');
      process.exitCode = await handlers.deploy(name)(command, positional);
    });
  run('plan', common(deploy.command('plan').description('show what apply would do: create / update / scale / delete / unchanged, each with its cause; exit 0 no change, 10 changes')));
  run(
    'apply',
    common(deploy.command('apply').description('bring the services to the configuration: dependencies first, rolling updates per update_config, gated on health, rolled back on failure'))
      .option('--watch <interval>', 're-plan every interval and apply changes (e.g. 1m); runs until Ctrl-C/SIGTERM')
      .option('--require-tests [type]', "after a successful apply, run the project's test containers (images labelled test.type=<type>, default integration); roll back if they fail (overrides x-kiboko.post_deploy_tests)")
      .option('--no-require-tests', 'skip the post-deploy tests the configuration requires (x-kiboko.post_deploy_tests)')
      .option('--log-level <level>', 'with --json: debug, info, warning, error')
      .option('--build', 'build the images of services with build: before applying (default: only those missing)')
      .option('--no-build', 'build nothing; images must exist or be pulled'),
  );
  deploy
    .command('config')
    .description('print the resolved, normalised compose model (like docker compose config): YAML, or JSON with --json')
    .option('-f, --file <path>', 'compose file (repeatable; default: COMPOSE_FILE, else compose.yaml here or above)', collect)
    .option('-p, --project <name>', 'project name (default: COMPOSE_PROJECT_NAME, else compose `name:`, else the folder name)')
    .option('--env-file <path>', 'read variables from this file instead of the project\'s .env (repeatable)', collect)
    .option('--profile <name>', 'activate a profile (repeatable; adds to COMPOSE_PROFILES)', collect)
    .option('-q, --quiet', 'only check the files: print nothing, exit 0 when valid')
    .option('--services', 'print the service names, one a line')
    .option('-j, --json', 'JSON output')
    .action(async (_o: unknown, command: Command) => {
      const d = await import('./deploy.js');
      process.exitCode = await d.runDeployConfig(command);
    });
  run(
    'up',
    common(deploy.command('up').description('docker compose up: an alias of apply (always detached; -d accepted)'))
      .option('--watch <interval>', 're-plan every interval and apply changes (e.g. 1m); runs until Ctrl-C/SIGTERM')
      .option('--require-tests [type]', "after a successful apply, run the project's test containers (images labelled test.type=<type>, default integration); roll back if they fail (overrides x-kiboko.post_deploy_tests)")
      .option('--no-require-tests', 'skip the post-deploy tests the configuration requires (x-kiboko.post_deploy_tests)')
      .option('--log-level <level>', 'with --json: debug, info, warning, error')
      .option('-d, --detach', 'accepted for docker compose compatibility: apply never attaches')
      .option('--build', 'build the images of services with build: before applying (default: only those missing)')
      .option('--no-build', 'build nothing; images must exist or be pulled'),
  );
  run(
    'down',
    common(deploy.command('down').description('docker compose down: stop and remove the project\'s containers and networks (recorded in the history); with -p alone no file is needed'))
      .option('-v, --volumes', 'also remove named volumes of the project and anonymous volumes of its containers')
      .option('--rmi <local|all>', 'also remove images: local = built for the project, all = every image its services used')
      .option('--remove-orphans', 'also remove containers of services not in the configuration'),
  );
  run('ps', common(deploy.command('ps').description("docker compose ps: the project's containers (all states), their status, health and ports").argument('[service...]')));
  run(
    'logs',
    common(deploy.command('logs').description("docker compose logs: the project's container logs, prefixed by service-n (the file is --file here: -f follows)").argument('[service...]'), false)
      .option('-f, --follow', 'keep following new output')
      .option('-n, --tail <lines>', 'lines from the end of each log (or all)')
      .option('-t, --timestamps', 'show timestamps')
      .option('--no-log-prefix', 'no service-n prefix'),
  );
  run('restart', common(deploy.command('restart').description("docker compose restart: restart the project's containers (each with its stop grace period)").argument('[service...]')));
  run('pull', common(deploy.command('pull').description("docker compose pull: pull the services' images, honouring pull_policy").argument('[service...]')).option('--ignore-pull-failures', 'exit 0 even if a pull failed'));
  run('history', common(deploy.command('history').description('list deploy revisions (newest first)')).option('--limit <n>', 'revisions per project (default 20)'));
  run('rollback', common(deploy.command('rollback').description('re-deploy an earlier revision (default: the one before the last successful deploy) and set the compose file\'s tags back to it')).option('--to <rev>', 'revision number to return to'));
  run('set-tag', common(deploy.command('set-tag').description("rewrite one service's image tag in the compose file in place (comments and formatting kept) — the step CI runs").argument('<service>').argument('<tag>')));
}

const NET_SHORTS = { l: false, r: false, i: false };

/** netem's parent flags (Pumba's), accepted before the effect and, in long form, after it. */
function addNetemParent(cmd: Command, short: boolean): Command {
  return cmd
    .option(short ? '-d, --duration <duration>' : '--duration <duration>', 'how long the fault lasts (required), e.g. 30s')
    .option(short ? '-i, --interface <name>' : '--interface <name>', 'network interface in the target (default eth0)')
    .option(short ? '-t, --target <ip|cidr|container>' : '--target <ip|cidr|container>', 'only traffic to this address, CIDR or container (repeatable)', collect)
    .option('--egress-port <ports>', 'only traffic from these local ports (comma-separated, repeatable)', collect)
    .option('--ingress-port <ports>', 'only traffic to these ports (comma-separated, repeatable)', collect)
    .option('--tc-image <image>', 'helper image with tc (default: nsenter as root, else kiboko/nettools:local)')
    .option('--pull-image', 'pull the helper image before use')
    .option('--limit <n>', 'act on at most N random targets (0: all)');
}

function addIptablesParent(cmd: Command, short: boolean): Command {
  return cmd
    .option(short ? '-d, --duration <duration>' : '--duration <duration>', 'how long the fault lasts (required), e.g. 30s')
    .option(short ? '-i, --interface <name>' : '--interface <name>', 'input interface to match (default eth0)')
    .option(short ? '-p, --protocol <protocol>' : '--protocol <protocol>', 'any, tcp, udp or icmp (default any)')
    .option(short ? '-s, --source <cidr|container>' : '--source <cidr|container>', 'only packets from these (repeatable or comma-separated)', collect)
    .addOption(new Option('--src <cidr|container>').hideHelp().argParser(collect))
    .option('--destination <cidr|container>', 'only packets to these (repeatable or comma-separated)', collect)
    .addOption(new Option('--dest <cidr|container>').hideHelp().argParser(collect))
    .option('--src-port <ports>', 'only these source ports (tcp/udp; comma-separated)', collect)
    .addOption(new Option('--sport <ports>').hideHelp().argParser(collect))
    .option('--dst-port <ports>', 'only these destination ports (tcp/udp; comma-separated)', collect)
    .addOption(new Option('--dport <ports>').hideHelp().argParser(collect))
    .option('--iptables-image <image>', 'helper image with iptables (default: nsenter as root, else kiboko/nettools:local)')
    .option('--pull-image', 'pull the helper image before use')
    .option('--limit <n>', 'act on at most N random targets (0: all)');
}

function addNetworkCommands(chaos: Command, handlers: Handlers) {
  const netem = chaos
    .command('netem')
    .description('network emulation with tc netem (egress): delay, loss, rate, duplicate, corrupt — restored after --duration')
    .enablePositionalOptions();
  addNetemParent(netem, true);
  const effect = (name: NetemEffectName, summary: string, build: (c: Command) => void) =>
    chaosCommand(netem, `netem:${name}`, summary, handlers, { ...NET_SHORTS, j: false }, (c) => {
      build(c);
      addNetemParent(c, false);
    });
  effect('delay', 'delay egress packets', (c) =>
    c
      .option('-t, --time <ms>', 'delay in ms (default 100)')
      .option('-j, --jitter <ms>', 'random variation in ms (default 10)')
      .option('-c, --correlation <percent>', 'correlation with the previous delay (default 20)')
      .option('-d, --distribution <name>', 'uniform, normal, pareto or paretonormal'),
  );
  effect('loss', 'drop egress packets at random (Bernoulli)', (c) =>
    c.option('-p, --percent <percent>', 'loss percentage (default 0)').option('-c, --correlation <percent>', 'correlation (default 0)'),
  );
  effect('loss-state', 'drop packets with a 4-state Markov model', (c) =>
    c
      .option('--p13 <percent>', 'default 0')
      .option('--p31 <percent>', 'default 100')
      .option('--p32 <percent>', 'default 0')
      .option('--p23 <percent>', 'default 100')
      .option('--p14 <percent>', 'default 0'),
  );
  effect('loss-gemodel', 'drop packets with the Gilbert-Elliott model', (c) =>
    c
      .option('-p, --pg <percent>', 'good→bad transition probability (default 0)')
      .option('-r, --pb <percent>', 'bad→good transition probability (default 100)')
      .option('--one-h <percent>', '1 - loss in the bad state (default 100)')
      .option('--one-k <percent>', 'loss in the good state (default 0)'),
  );
  effect('rate', 'limit egress bandwidth with netem (falls back to tbf/htb when the kernel has no netem)', (c) =>
    c
      .option('-r, --rate <rate>', 'e.g. 100kbit, 1mbit (default 100kbit)')
      .option('-p, --packetoverhead <bytes>', 'default 0')
      .option('-s, --cellsize <bytes>', 'default 0')
      .option('-c, --celloverhead <bytes>', 'default 0'),
  );
  effect('duplicate', 'duplicate egress packets', (c) =>
    c.option('-p, --percent <percent>', 'default 0').option('-c, --correlation <percent>', 'default 0'),
  );
  effect('corrupt', 'corrupt egress packets', (c) => c.option('-p, --percent <percent>', 'default 0').option('-c, --correlation <percent>', 'default 0'));
  effect('combine', 'several netem effects at once on one interface', (c) =>
    c
      .option('--delay-time <ms>', 'delay in ms')
      .option('--delay-jitter <ms>', 'delay jitter in ms (default 0)')
      .option('--delay-correlation <percent>', 'default 0')
      .option('--delay-distribution <name>', 'uniform, normal, pareto or paretonormal')
      .option('--loss-percent <percent>', 'random loss percentage')
      .option('--loss-correlation <percent>', 'default 0')
      .option('--rate-value <rate>', 'bandwidth, e.g. 1mbit')
      .option('--duplicate-percent <percent>', 'duplicate percentage')
      .option('--duplicate-correlation <percent>', 'default 0')
      .option('--corrupt-percent <percent>', 'corrupt percentage')
      .option('--corrupt-correlation <percent>', 'default 0'),
  );

  const iptables = chaos
    .command('iptables')
    .description('packet loss on ingress with iptables (tagged rules, exact teardown) — restored after --duration')
    .enablePositionalOptions();
  addIptablesParent(iptables, true);
  chaosCommand(iptables, 'iptables:loss', 'drop incoming packets (random probability or every nth)', handlers, NET_SHORTS, (c) => {
    c.option('--mode <mode>', 'random or nth (default random)')
      .option('--probability <p>', 'random mode: drop probability in (0, 1]')
      .option('--every <n>', 'nth mode: drop one packet in every n')
      .option('--packet <n>', 'nth mode: which one (0 ≤ packet < every; default 0)');
    addIptablesParent(c, false);
  });

  chaosCommand(chaos, 'partition', 'cut containers off from named peers or CIDRs, both directions, for a duration', handlers, NET_SHORTS, (c) =>
    c
      .option('-d, --duration <duration>', 'how long the partition lasts (required)')
      .option('--peer <container|cidr>', 'a peer to cut off (repeatable or comma-separated)', collect)
      .option('--direction <to|from|both>', 'to: the target cannot open connections to the peers; from: the peers cannot open connections to the target; both (default): all traffic')
      .option('--iptables-image <image>', 'helper image with iptables (default: nsenter as root, else kiboko/nettools:local)')
      .option('--pull-image', 'pull the helper image before use')
      .option('-l, --limit <n>', 'act on at most N random targets (0: all)'),
  );
  addProxyFaultCommands(chaos, handlers);
  chaosCommand(chaos, 'rate', 'limit egress bandwidth with tc tbf/htb (no netem needed)', handlers, NET_SHORTS, (c) =>
    c
      .option('-d, --duration <duration>', 'how long the limit lasts (required)')
      .option('-r, --rate <rate>', 'bandwidth, e.g. 1mbit, 500kbit (required)')
      .option('--interface <name>', 'network interface in the target (default eth0)')
      .option('-t, --target <ip|cidr|container>', 'only traffic to this address, CIDR or container (repeatable)', collect)
      .option('--egress-port <ports>', 'only traffic from these local ports', collect)
      .option('--ingress-port <ports>', 'only traffic to these ports', collect)
      .option('--tc-image <image>', 'helper image with tc')
      .option('--pull-image', 'pull the helper image before use')
      .option('-l, --limit <n>', 'act on at most N random targets (0: all)'),
  );
  chaosCommand(chaos, 'stress', "stress-ng inside the target's cgroup (its limits apply) for a duration", handlers, { l: false, r: true, i: true }, (c) =>
    c
      .option('-d, --duration <duration>', 'how long to stress (required)')
      .option('--stressors <args>', "stress-ng arguments (default '--cpu 4'; --timeout is added from --duration)")
      .option('--stress-image <image>', 'run stress-ng in this image, nested under the target’s cgroup (default: on the host, as root)')
      .option('--inject-cgroup', 'put stress-ng into the target’s own cgroup (Pumba’s flag; kiboko’s default on the host, so not with --stress-image)')
      .option('--pull-image', 'pull the stress image before use')
      .option('-l, --limit <n>', 'act on at most N random targets (0: all)'),
  );
}

/**
 * Every boolean flag of `kiboko chaos` and its commands (Pumba's urfave/cli BoolFlag/BoolTFlag:
 * its scripts write `--pull-image=false`, `--random=true`, `--force=false`).
 */
export const CHAOS_BOOL_FLAGS: ReadonlySet<string> = new Set([
  'random',
  'dry-run',
  'dry',
  'skip-error',
  'json',
  'tls',
  'tlsverify',
  'restart',
  'force',
  'links',
  'volumes',
  'pull-image',
  'inject-cgroup',
  'strict',
]);
const GO_TRUE = ['true', '1', 't'];
const GO_FALSE = ['false', '0', 'f'];

/** A hidden `--no-X` beside every boolean `--X` of the chaos commands, so `--X=false` can say false. */
function addBoolNegations(root: Command): void {
  for (const c of [root, ...root.commands.flatMap(function all(x: Command): Command[] {
    return [x, ...x.commands.flatMap(all)];
  })]) {
    const longs = new Set(c.options.map((o) => o.long));
    for (const o of [...c.options]) {
      if (o.required || o.optional || o.negate || !o.long) continue;
      const name = o.long.slice(2);
      if (!CHAOS_BOOL_FLAGS.has(name)) continue;
      if (!longs.has(`--no-${name}`)) c.addOption(new Option(`--no-${name}`).hideHelp());
    }
  }
}

/**
 * Rewrites urfave/cli's boolean syntax in `kiboko chaos …` (Pumba scripts): `--X=true|false`
 * (Go's strconv.ParseBool spellings: true/false, 1/0, t/f, any case) becomes the `--X` /
 * `--no-X` commander understands. Only words after `chaos` and before `--` are looked at, and
 * never the value of an option that takes one (`exec -a --force=false` stays as written). As in
 * urfave/cli, a bare `--X` never takes the next word: `--pull-image false` leaves `false` a
 * target name.
 */
export function normalizeBoolFlags(argv: readonly string[]): string[] {
  const at = argv.indexOf('chaos');
  if (at < 0) return [...argv];
  const dashes = argv.indexOf('--', at);
  const end = dashes < 0 ? argv.length : dashes;
  return argv.map((arg, i) => {
    if (i <= at || i >= end) return arg;
    if (VALUE_OPTIONS.has(argv[i - 1]!)) return arg; // the value of the previous option, as written
    const m = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (!m || !CHAOS_BOOL_FLAGS.has(m[1]!)) return arg;
    const v = m[2]!.toLowerCase();
    if (GO_TRUE.includes(v) || v === 'yes') return `--${m[1]}`;
    if (GO_FALSE.includes(v) || v === 'no') return `--no-${m[1]}`;
    throw new KibokoError('INVALID_ARGUMENT', `invalid --${m[1]} '${m[2]}': expected true or false`, { hint: `write --${m[1]}, --${m[1]}=true or --${m[1]}=false` });
  });
}

/** Options of the chaos commands that take a value in the next word (so that word is never rewritten). */
const VALUE_OPTIONS: ReadonlySet<string> = new Set(['-a', '--args', '-s', '--command', '--label', '--stressors', '-u', '--user']);

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

/** `chaos proxy` and `chaos delay`: transparent proxy faults in the target's namespace (no kernel module needed). */
function addProxyFaultCommands(chaos: Command, handlers: Handlers) {
  const helperFlags = (c: Command) =>
    c
      .option('--proxy-image <image>', 'run the proxy in a helper container from this image (default: nsenter as root beside a local engine, else kiboko/proxy built from this host’s node)')
      .option('--helper', 'run the proxy in a helper container even when nsenter is possible')
      .option('--iptables-image <image>', 'helper image with iptables for the redirect rules (default: nsenter as root, else kiboko/nettools:local)')
      .option('--pull-image', 'pull the helper images before use')
      .option('-l, --limit <n>', 'act on at most N random targets (0: all)');
  chaosCommand(chaos, 'proxy', "put a fault proxy in the target's network namespace and redirect its traffic through it (toxiproxy toxics, HTTP faults), for a duration", handlers, NET_SHORTS, (c) =>
    helperFlags(
      c
        .option('-d, --duration <duration>', 'how long the fault lasts (required)')
        .option('--port <ports>', 'incoming: connections to these container ports (repeatable or comma-separated)', collect)
        .option('--to <host[:port]>', 'outgoing: connections to this address, CIDR or container (and port; :PORT for any address) (repeatable)', collect)
        .option('--toxic <type[:key=value,...]>', 'a toxiproxy toxic: latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data; keys are its attributes plus stream, toxicity, name (repeatable)', collect)
        .option('--latency <duration>', 'shorthand for a latency toxic (ms or a duration)')
        .option('--jitter <duration>', 'with --latency: ± jitter')
        .option('--stream <upstream|downstream>', 'with --latency: which stream (default downstream: towards the client)')
        .option('--toxicity <p>', 'with --latency: probability per connection, 0-1 (default 1)')
        .option('--http-abort <status>', 'HTTP: answer matching requests with this status instead of passing them')
        .option('--http-delay <duration>', 'HTTP: hold matching requests this long')
        .option('--http-method <method>', 'HTTP: only this method')
        .option('--http-path <glob|re2:regex>', "HTTP: only paths matching (e.g. '/api/*'; the query is not part of the path)")
        .option('--http-header <name: glob>', 'HTTP: only requests with this header value (repeatable, all must match)', collect)
        .option('--http-percent <n>', 'HTTP: only this share of matching requests, 0-100')
        .option('--http-first <n>', 'HTTP: only the first N matching requests, then pass them')
        .option('--http-body <text>', 'HTTP abort: the response body')
        .option('--http-response-header <name: value>', 'HTTP abort: a response header (repeatable)', collect),
    ),
  );
  chaosCommand(chaos, 'delay', 'delay traffic: netem when the kernel has it, else the transparent proxy (it says which)', handlers, { ...NET_SHORTS, j: false }, (c) =>
    helperFlags(
      c
        .option('-d, --duration <duration>', 'how long the delay lasts (required)')
        .option('-t, --time <ms>', 'delay in ms (default 100)')
        .option('-j, --jitter <ms>', '± jitter in ms (default 0)')
        .option('--port <ports>', 'only responses from these container ports (repeatable; needed without netem)', collect)
        .option('--to <host[:port]>', 'only connections to this address, CIDR or container (and port) (repeatable)', collect)
        .option('--tc-image <image>', 'helper image with tc (netem mode)'),
    ),
  );
}
