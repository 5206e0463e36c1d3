/**
 * What every command's help shows after its options: 1–3 examples and its exit codes, keyed by
 * command path ('' is `kiboko` itself). A unit test fails when a registered command has no entry,
 * so a new command cannot ship without them; another parses every example against the program,
 * so an example cannot name a flag that does not exist. The same table feeds docs/cli/*.md.
 */

export type Example = readonly [command: string, what: string];
export type ExitRow = readonly [code: number, meaning: string];

export interface CommandHelp {
  examples: readonly Example[];
  exitCodes: readonly ExitRow[];
}

const INVALID: ExitRow = [2, 'invalid input: refused before anything was changed'];
const UNREACHABLE: ExitRow = [3, 'engine unreachable'];
const ENGINE: ExitRow = [4, 'engine error'];
const BUG: ExitRow = [70, 'internal error (a bug in kiboko: please report it)'];

const CHAOS_EXIT: readonly ExitRow[] = [
  [0, 'every action (and its restore) succeeded'],
  [1, 'an action or a restore failed'],
  INVALID,
  UNREACHABLE,
  ENGINE,
  [5, 'with --fail-on-no-targets: no container matched (without it: a warning naming close names, exit 0)'],
  [7, 'the restore journal could not be written'],
  BUG,
];
const NETWORK_EXIT: readonly ExitRow[] = [...CHAOS_EXIT.filter(([c]) => c !== 70), [8, 'a kernel feature the fault needs is missing (see `kiboko doctor`)'], BUG];

const UNITS_EXIT: readonly ExitRow[] = [
  [0, 'done'],
  [1, 'any error, as fleetctl: a unit failed to start, invalid input, the daemon refused the credential or was unreachable, no such unit, a timeout (the message says which)'],
];

/** A units command's help: its examples, with fleetctl's exit codes that every units command has. */
const unitsHelp = (...examples: Example[]): CommandHelp => ({ examples, exitCodes: UNITS_EXIT });

const DEPLOY_EXIT: readonly ExitRow[] = [
  [0, 'applied'],
  [1, 'a service failed: it was rolled back (or the post-deploy tests failed and the project was rolled back)'],
  [2, 'invalid configuration or flags: nothing was changed'],
  UNREACHABLE,
  ENGINE,
  [130, 'cancelled (Ctrl-C/SIGTERM): the batch in flight finished and each service runs one version'],
];

const READ_EXIT: readonly ExitRow[] = [[0, 'done'], INVALID, UNREACHABLE, ENGINE];

const REGISTRY_EXIT: readonly ExitRow[] = [
  [0, 'done'],
  INVALID,
  [5, 'no such repository or tag'],
  [9, 'the registry did not answer in time'],
  [11, 'the registry refused the credentials (the message names which were tried)'],
  [12, 'rate limited (the message says until when)'],
  [13, 'the registry is unreachable or failing'],
  [14, 'TLS: the registry’s certificate is not trusted (the message names the CAs tried)'],
];

const PROJECT_EXIT: readonly ExitRow[] = [[0, 'done'], [2, 'invalid configuration or flags: nothing was changed'], UNREACHABLE, ENGINE, [5, 'no such service'], BUG];

const netem = (effect: string, flags: string, what: string): CommandHelp => ({
  examples: [[`kiboko chaos netem -d 30s ${effect} ${flags} web-1`, what]],
  exitCodes: NETWORK_EXIT,
});

/** Help for the program, `chaos` and its container faults. */
const coreAndContainerFaults = (): Record<string, CommandHelp> => ({
  '': {
    examples: [
      ['kiboko doctor', 'what this host and engine support, and what to do about the rest'],
      ['kiboko chaos pause -d 10s web-1', 'pause a container for ten seconds, then unpause it'],
      ['kiboko deploy apply -f compose.yaml', 'bring the services to the compose file, with health-gated rolling updates'],
    ],
    exitCodes: [[0, 'ok'], [1, 'an action failed'], INVALID, UNREACHABLE, ENGINE, [5, 'not found'], [6, 'conflict'], [7, 'journal error'], [8, 'kernel feature missing'], [9, 'timed out'], BUG, [130, 'cancelled']],
  },

  chaos: {
    examples: [
      ['kiboko chaos kill --signal SIGTERM web-1', 'send SIGTERM to web-1 (Pumba: `pumba kill …`)'],
      ['kiboko chaos --dry-run kill "re2:^web-"', 'show which containers a regex selects; change nothing'],
      ['kiboko chaos recover', 'undo what a crashed run left behind (pauses, stopped containers, network faults)'],
    ],
    exitCodes: CHAOS_EXIT,
  },
  'chaos kill': {
    examples: [
      ['kiboko chaos kill --signal SIGTERM web-1', 'send SIGTERM to web-1'],
      ['kiboko chaos kill --limit 1 "re2:^worker-"', 'SIGKILL one random container whose name starts with worker-'],
      ['kiboko chaos kill --project shop --service web --limit 1 --fail-on-no-targets', "kill one of the shop project's current web replicas; exit 5 if it has none"],
    ],
    exitCodes: CHAOS_EXIT,
  },
  'chaos stop': {
    examples: [
      ['kiboko chaos stop -t 5 --restart -d 20s api-1', 'stop api-1 (5 s grace), start it again 20 s later'],
      ['kiboko chaos --interval 1m stop --restart "re2:^api"', 'every minute, stop and restart the api containers'],
    ],
    exitCodes: CHAOS_EXIT,
  },
  'chaos pause': {
    examples: [
      ['kiboko chaos pause -d 10s web-1', 'freeze web-1 for ten seconds, then unpause it (also on Ctrl-C)'],
      ['kiboko chaos --label tier=front --random pause -d 30s "re2:."', 'pause one random front-end container'],
    ],
    exitCodes: CHAOS_EXIT,
  },
  'chaos rm': {
    examples: [
      ['kiboko chaos rm old-worker', 'remove old-worker (running or not) with its anonymous volumes'],
      ['kiboko chaos rm --volumes=false old-worker', 'keep its volumes (Pumba’s spelling)'],
    ],
    exitCodes: CHAOS_EXIT,
  },
  'chaos restart': {
    examples: [['kiboko chaos restart -t 2s web-1', 'restart web-1, killing it if it has not stopped after 2 s']],
    exitCodes: CHAOS_EXIT,
  },
  'chaos exec': {
    examples: [
      ['kiboko chaos exec web-1', "run `kill 1` inside web-1 (Pumba's default)"],
      ['kiboko chaos exec -s sh -a -c -a "kill -HUP 1" nginx', 'run a shell line inside nginx; a non-zero exit fails'],
    ],
    exitCodes: CHAOS_EXIT,
  },
});

/** Help for the network faults, stress and recover. */
const networkFaults = (): Record<string, CommandHelp> => ({
  'chaos netem': {
    examples: [
      ['kiboko chaos netem -d 30s delay -t 200 -j 20 web-1', 'add 200 ms ± 20 ms to web-1’s egress for 30 s'],
      ['kiboko chaos netem -d 1m loss -p 5 --target 10.0.0.0/24 web-1', 'drop 5% of what web-1 sends to 10.0.0.0/24'],
    ],
    exitCodes: NETWORK_EXIT,
  },
  'chaos netem delay': netem('delay', '-t 200 -j 20 -d normal', 'delay egress by 200 ms ± 20 ms (normal distribution) for 30 s'),
  'chaos netem loss': netem('loss', '-p 10', 'drop 10% of egress packets for 30 s'),
  'chaos netem loss-state': netem('loss-state', '--p13 5 --p31 80', 'bursty loss with a 4-state Markov model'),
  'chaos netem loss-gemodel': netem('loss-gemodel', '--pg 5 --pb 80', 'bursty loss with the Gilbert-Elliott model'),
  'chaos netem rate': netem('rate', '--rate 1mbit', 'limit egress to 1 Mbit/s (tbf/htb when the kernel has no netem)'),
  'chaos netem duplicate': netem('duplicate', '-p 5', 'duplicate 5% of egress packets'),
  'chaos netem corrupt': netem('corrupt', '-p 1', 'corrupt 1% of egress packets'),
  'chaos netem combine': netem('combine', '--delay-time 100 --loss-percent 5', '100 ms delay and 5% loss at once'),
  'chaos iptables': {
    examples: [['kiboko chaos iptables -d 30s -p tcp --dport 80 loss --probability 0.3 web-1', 'drop 30% of incoming TCP packets to port 80']],
    exitCodes: NETWORK_EXIT,
  },
  'chaos iptables loss': {
    examples: [
      ['kiboko chaos iptables -d 30s loss --probability 0.3 web-1', 'drop 30% of incoming packets for 30 s'],
      ['kiboko chaos iptables -d 30s loss --mode nth --every 4 web-1', 'drop every 4th incoming packet'],
    ],
    exitCodes: NETWORK_EXIT,
  },
  'chaos partition': {
    examples: [['kiboko chaos partition -d 1m --peer db-1 --peer 10.0.0.0/24 "re2:^api"', 'cut the api containers off from db-1 and a subnet, both ways, for a minute']],
    exitCodes: NETWORK_EXIT,
  },
  'chaos rate': {
    examples: [['kiboko chaos rate -d 2m --rate 1mbit --target db-1 api-1', 'limit what api-1 sends to db-1 to 1 Mbit/s (no netem needed)']],
    exitCodes: NETWORK_EXIT,
  },
  'chaos stress': {
    examples: [['kiboko chaos stress -d 1m --stressors "--cpu 2 --vm 1" worker-1', 'stress-ng in worker-1’s cgroup for a minute (its limits apply)']],
    exitCodes: CHAOS_EXIT,
  },
  'chaos recover': {
    examples: [
      ['kiboko chaos recover --dry-run', 'list what crashed runs left changed'],
      ['kiboko chaos recover', 'restore it: unpause, start again, remove network faults'],
    ],
    exitCodes: [[0, 'everything left behind was restored (or nothing was)'], [1, 'a restore failed'], INVALID, UNREACHABLE, ENGINE, [7, 'the restore journal could not be read or written']],
  },

});

/** Help for deploy and units. */
const deployAndUnits = (): Record<string, CommandHelp> => ({
  deploy: {
    examples: [
      ['kiboko deploy plan -f compose.yaml', 'what apply would change, and why'],
      ['kiboko deploy apply -f compose.yaml', 'apply it: health-gated rolling updates, rollback on failure'],
      ['kiboko deploy rollback -p shop', 'go back to the revision before the last successful deploy'],
    ],
    exitCodes: DEPLOY_EXIT,
  },
  'deploy plan': {
    examples: [
      ['kiboko deploy plan -f compose.yaml', 'create / update / scale / delete / unchanged per service, each with its cause'],
      ['kiboko deploy plan -f compose.yaml --json', 'the same plan as one JSON document'],
    ],
    exitCodes: [[0, 'nothing to change'], [10, 'changes planned'], [2, 'invalid configuration or flags'], UNREACHABLE, ENGINE],
  },
  'deploy apply': {
    examples: [
      ['kiboko deploy apply -f compose.yaml', 'dependencies first, rolling updates gated on health, rollback on failure'],
      ['kiboko deploy apply -f compose.yaml --require-tests', "then run the project's integration-test containers; roll back if they fail"],
      ['kiboko deploy apply --from git+https://git.example/ops/system.git#main --watch 1m', 'follow a git branch: re-plan every minute, apply changes'],
    ],
    exitCodes: DEPLOY_EXIT,
  },
  'deploy history': {
    examples: [
      ['kiboko deploy history', 'every revision of every project, newest first'],
      ['kiboko deploy history -p shop --limit 5 --json', 'the last five revisions of shop as JSON'],
    ],
    exitCodes: READ_EXIT,
  },
  'deploy rollback': {
    examples: [
      ['kiboko deploy rollback -p shop', 'redeploy the revision before the last successful one'],
      ['kiboko deploy rollback -p shop --to 3', 'redeploy revision 3'],
    ],
    exitCodes: [[0, 'rolled back'], [1, 'the rollback failed'], [2, 'invalid input (e.g. no such revision)'], UNREACHABLE, ENGINE],
  },
  'deploy set-tag': {
    examples: [['kiboko deploy set-tag -f compose.yaml web 1.4.0', "rewrite web's image tag to 1.4.0 in place; every other byte of the file is kept"]],
    exitCodes: [[0, 'the file was rewritten (or already said so)'], [2, 'no such file or service, or an invalid tag']],
  },

  units: unitsHelp(
    ['kiboko units start web.service', 'submit web.service if needed, launch it and wait for the outcome'],
    ['kiboko units list-units', 'UNIT MACHINE ACTIVE SUB, as fleetctl prints them'],
    ['kiboko units --endpoint http://127.0.0.1:8555 list-unit-files', 'talk to a daemon listening on TCP'],
  ),
  'units submit': unitsHelp(['kiboko units submit web.service app@.service', 'upload a unit and a template (state inactive)']),
  'units load': unitsHelp(['kiboko units load web.service', 'schedule it: container created, not started']),
  'units start': unitsHelp(
    ['kiboko units start web.service', 'launch it and wait until it runs (or fails, with the reason)'],
    ['kiboko units start app@1.service app@2.service', 'two instances of the template app@.service'],
  ),
  'units stop': unitsHelp(['kiboko units stop web.service', 'stop it; the container stays (state loaded)']),
  'units unload': unitsHelp(['kiboko units unload web.service', 'remove its container; the unit stays (state inactive)']),
  'units destroy': unitsHelp(['kiboko units destroy web.service app@1.service', 'remove the units and their containers']),
  'units list-units': unitsHelp(['kiboko units list-units --fields unit,active,sub --no-legend', 'chosen columns, no header']),
  'units list-unit-files': unitsHelp(['kiboko units list-unit-files --fields unit,dstate,state,desc', 'desired and current state of every unit']),
  'units list-machines': unitsHelp(['kiboko units list-machines -l', 'this machine, its IP and metadata, full id']),
  'units cat': unitsHelp(['kiboko units cat web.service', 'the unit file as the daemon holds it']),
  'units status': unitsHelp(['kiboko units status web.service', 'its states, its container and its last 10 log lines']),
  'units journal': unitsHelp(
    ['kiboko units journal -n 50 web.service', "the container's last 50 lines"],
    ['kiboko units journal -f web.service', 'follow the output until Ctrl-C'],
  ),

});

/** Help for images as packages, templates, events, the daemon and doctor. */
const imagesEventsDaemon = (): Record<string, CommandHelp> => ({
  build: {
    examples: [
      ['kiboko build -t acme/base:1 --method validate=/srv/bin/validate.sh base/', 'build with kiboko metadata and a lifecycle method'],
      ['kiboko build -t acme/app:2 --build-arg BASE=acme/base:1 app/', 'a child image: its ancestry records acme/base:1'],
    ],
    exitCodes: [[0, 'built'], [1, 'the build failed'], INVALID, UNREACHABLE, ENGINE],
  },
  examine: {
    examples: [
      ['kiboko examine acme/app:2', 'metadata and ancestry of an image'],
      ['kiboko examine web-1 --json', "a container: its image's metadata, methods and start times"],
      ["kiboko examine --audit 'git.ref=main,age>7d'", 'running containers built from main more than a week ago'],
    ],
    exitCodes: [[0, 'done'], INVALID, UNREACHABLE, ENGINE, [5, 'no such container or image']],
  },
  lifecycle: {
    examples: [
      ['kiboko lifecycle validate web-1 web-2', 'run the validate method each image declares, in each container'],
      ['kiboko lifecycle validate --all --json', 'every running container that declares it; NDJSON per container'],
    ],
    exitCodes: [[0, 'the method succeeded'], [1, 'the method ran and failed'], [2, 'the method is not declared'], [3, 'could not run (container gone, command missing, timeout, engine error, usage error)']],
  },
  test: {
    examples: [
      ['kiboko test acme/app:2', 'build acme/app:2-test, run the tests the image declares, write JUnit and JSON'],
      ['kiboko test --integration --type integration --project shop', "run the integration-test containers on shop's networks"],
    ],
    exitCodes: [[0, 'all tests passed'], [1, 'a test failed'], [2, 'no tests'], [3, 'could not run (build error, engine error, usage error)']],
  },

  template: {
    examples: [
      ['kiboko template --onetime --backend env --confdir ./confd', 'render once from the environment (/app/port ↔ APP_PORT)'],
      ['kiboko template --onetime --backend file --file values.yaml --confdir ./confd --noop', 'show unified diffs; write nothing'],
      ['kiboko template --watch --backend etcd --node http://127.0.0.1:2379 --confdir ./confd', 'follow etcd until Ctrl-C'],
    ],
    exitCodes: [[0, 'every resource rendered (or unchanged)'], [1, 'a render, check or reload failed (the previous file was restored)'], INVALID, UNREACHABLE, [130, 'interrupted']],
  },

  events: {
    examples: [
      ['kiboko events --filter type=container --filter event=die', 'container deaths, as docker events prints them'],
      ['kiboko events --since 10m --until 1s --json', 'the last ten minutes as NDJSON, then exit'],
      ["kiboko events --format '{{.Action}} {{.Actor.Attributes.name}}'", 'one templated line per event'],
    ],
    exitCodes: [[0, 'the stream ended (--until) or was stopped (Ctrl-C)'], INVALID, UNREACHABLE],
  },
  react: {
    examples: [
      ['kiboko react rules.yaml', 'run the rules until SIGINT/SIGTERM; catch up on what was missed after a restart'],
      ['kiboko react rules.yaml --dry-run --json', 'show which rules would fire; run nothing'],
      ['kiboko react --deps -p shop', "re-render and reload shop's dependents when their dependencies get new containers"],
    ],
    exitCodes: [[0, 'stopped by SIGINT/SIGTERM'], [2, 'invalid rules file or flags (every problem with its line)'], UNREACHABLE],
  },

  serve: {
    examples: [
      ['kiboko serve', 'listen on <state-dir>/kiboko.sock; create the token <state-dir>/serve.token'],
      ['kiboko serve --listen 127.0.0.1:8555', 'also on TCP (the socket stays open): the dashboard is at http://127.0.0.1:8555/dashboard'],
      ['kiboko serve --listen 127.0.0.1:8555 --project shop=./compose.yaml --webhook-secret-file hook.secret', 'deploy shop through the API and a signed webhook'],
    ],
    exitCodes: [[0, 'stopped by SIGINT/SIGTERM'], [2, 'invalid flags, or an address it cannot listen on (a taken port, another daemon on the socket)'], UNREACHABLE],
  },

  doctor: {
    examples: [
      ['kiboko doctor', 'the engine, privileges, kernel features and helper images, with what to do about each'],
      ['kiboko doctor --strict', 'the same, failing when anything is missing (for CI)'],
    ],
    exitCodes: [[0, 'checked (missing features are reported, not failed, without --strict)'], [1, 'with --strict: something is missing'], UNREACHABLE],
  },
});

/** Help for commands added later (proxy, delay, deploy's compose verbs, watch, registry). */
const addedLater = (): Record<string, CommandHelp> => ({
  'chaos proxy': {
    examples: [
      ['kiboko chaos proxy -d 30s --port 80 --latency 200ms web', '200 ms on every connection to web’s port 80, without netem'],
      ['kiboko chaos proxy -d 1m --port 80 --http-abort 503 --http-path "/api/*" --http-first 3 web', 'the first three requests to /api/* get 503, then traffic passes'],
      ['kiboko chaos proxy -d 30s --to db:5432 --toxic latency:latency=300 app', 'outgoing: 300 ms on app’s connections to db:5432 only'],
    ],
    exitCodes: NETWORK_EXIT,
  },
  'chaos delay': {
    examples: [['kiboko chaos delay -d 30s --time 200 --port 80 web', 'netem when the kernel has it, else the transparent proxy (it says which)']],
    exitCodes: NETWORK_EXIT,
  },
  'deploy config': {
    examples: [
      ['kiboko deploy config -f compose.yaml', 'the resolved, normalised model as YAML, like docker compose config'],
      ['kiboko deploy config --services', 'the service names, one a line'],
      ['kiboko deploy config -q', 'only check the files'],
    ],
    exitCodes: [[0, 'valid'], [2, 'invalid: every problem with its file, line and key']],
  },
  'deploy up': {
    examples: [['kiboko deploy up -d -f compose.yaml', 'the same as deploy apply (-d is accepted for docker compose scripts)']],
    exitCodes: DEPLOY_EXIT,
  },
  'deploy down': {
    examples: [
      ['kiboko deploy down -f compose.yaml', 'remove the project’s containers and networks (recorded in the history)'],
      ['kiboko deploy down -p shop --volumes --rmi local', 'also its named volumes and the images it built'],
    ],
    exitCodes: PROJECT_EXIT,
  },
  'deploy ps': { examples: [['kiboko deploy ps -p shop', 'the project’s containers: service, state, health, ports']], exitCodes: PROJECT_EXIT },
  'deploy logs': {
    examples: [
      ['kiboko deploy logs -p shop --tail 50 web', 'the last 50 lines of each web replica'],
      ['kiboko deploy logs -p shop -f', 'follow every service'],
    ],
    exitCodes: PROJECT_EXIT,
  },
  'deploy restart': { examples: [['kiboko deploy restart -p shop web', 'restart the web replicas in place']], exitCodes: PROJECT_EXIT },
  'deploy pull': { examples: [['kiboko deploy pull -f compose.yaml', 'pull every service’s image now (with retries), change nothing else']], exitCodes: [...PROJECT_EXIT.filter(([c]) => c !== 70), ...REGISTRY_EXIT.filter(([c]) => c >= 9)] },
  'units restart': unitsHelp(['kiboko units restart web.service', 'stop and start it, waiting for each state, as fleetctl restart']),
  proxy: {
    examples: [['kiboko proxy serve', 'toxiproxy’s HTTP API on localhost:8474: existing toxiproxy clients work unchanged']],
    exitCodes: [[0, 'done'], INVALID],
  },
  'proxy serve': {
    examples: [
      ['kiboko proxy serve --port 8474', 'toxiproxy’s API; its clients create proxies and toxics as with toxiproxy-server'],
      ['kiboko proxy serve --config proxies.json', 'create these proxies at start (toxiproxy’s -config file)'],
    ],
    exitCodes: [[0, 'stopped by SIGINT/SIGTERM'], [2, 'invalid flags, or the port is taken']],
  },
  watch: {
    examples: [
      ['kiboko watch --once -f compose.yaml', 'one pass: newer images under each service’s tag policy, applied health-gated with rollback'],
      ['kiboko watch --monitor-only --interval 5m', 'report newer images of the running containers every 5 minutes, change nothing'],
      ['kiboko watch --label-enable --schedule "0 0 4 * * *"', 'Watchtower’s way: labelled containers, daily at 04:00'],
    ],
    exitCodes: [[0, 'nothing failed'], [1, 'an update was rolled back'], INVALID, UNREACHABLE, ...REGISTRY_EXIT.filter(([c]) => c >= 5)],
  },
  registry: {
    examples: [['kiboko registry tags 127.0.0.1:5000/app', 'the repository’s tags, as the registry lists them']],
    exitCodes: REGISTRY_EXIT,
  },
  'registry tags': { examples: [['kiboko registry tags 127.0.0.1:5000/app', 'every tag, following the registry’s pages']], exitCodes: REGISTRY_EXIT },
  'registry inspect': { examples: [['kiboko registry inspect 127.0.0.1:5000/app:1', 'digest, media type, platforms and created time']], exitCodes: REGISTRY_EXIT },
});

/** Built on first use: only help (and a usage error's hint) reads it, not a command that runs. */
const buildCommandHelp = (): Readonly<Record<string, CommandHelp>> => ({ ...coreAndContainerFaults(), ...networkFaults(), ...deployAndUnits(), ...imagesEventsDaemon(), ...addedLater() });
let commandHelp: Readonly<Record<string, CommandHelp>> | undefined;
/** Each command's examples and exit codes, by command path (`chaos netem delay`). */
export const commandHelpTable = (): Readonly<Record<string, CommandHelp>> => (commandHelp ??= buildCommandHelp());

/**
 * What `--state-dir` holds, per command family (its first word). Families absent here do not read
 * the state directory: their help leaves the flag out (it stays accepted, as a global option).
 */
export const STATE_DIR_HELP: Readonly<Record<string, string>> = {
  '': 'kiboko’s state: the chaos restore journal, the deploy history, the daemon’s token and socket (env KIBOKO_STATE_DIR; default ~/.local/state/kiboko)',
  chaos: 'holds the restore journal of running and crashed experiments (env KIBOKO_STATE_DIR; default ~/.local/state/kiboko)',
  deploy: 'holds the deploy history (deploy.db) and the checkouts of --from (env KIBOKO_STATE_DIR; default ~/.local/state/kiboko)',
  events: 'holds the deploy history that type=deploy events come from (env KIBOKO_STATE_DIR; default ~/.local/state/kiboko)',
  react: 'holds the cursor and firings log of each rules file (events/) and the deploy history --deps reads (env KIBOKO_STATE_DIR; default ~/.local/state/kiboko)',
  serve: 'holds the token (serve.token), the socket (kiboko.sock), the units (units.db), the deploy history (deploy.db) and the restore journal (env KIBOKO_STATE_DIR; default ~/.local/state/kiboko)',
  units: 'the daemon’s state directory, where its default socket (kiboko.sock) and token (serve.token) are (env KIBOKO_STATE_DIR; default ~/.local/state/kiboko)',
};

/** The engine connection flags (docker's): shown once, under Global Options, on `kiboko --help`. */
export const GLOBAL_OPTION_NAMES: readonly string[] = ['--host', '--tls', '--tlsverify', '--tlscacert', '--tlscert', '--tlskey'];
