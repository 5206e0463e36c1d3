import { ENGINE_OPTIONS, flag, negatable, list, optional, value, type OptionsOf } from './command-options.js';

/** The option tables of `kiboko deploy` and its commands (docker compose's names where they mean the same). */

/** `--env-file`, as every deploy command that reads a configuration takes it. */
const envFileOption = () => list('--env-file <path>', "read variables from this file instead of the project's .env (repeatable)");

/**
 * What every deploy command but config takes, then the engine flags. `logs -f` follows, as in
 * docker compose (whose -f comes before the subcommand): there the file is --file only.
 */
const common = (shortFile = true) => ({
  file: list(`${shortFile ? '-f, ' : ''}--file <path>`, 'compose file (repeatable) or a folder with a compose file or *.service unit files'),
  from: value('--from <git+URL#branch[:path]>', 'read the configuration from a git branch (the revision records the commit)'),
  engine: value('--engine <docker|swarm>', 'deploy as containers on this engine, or as Swarm services (default: Swarm when the engine is a manager)'),
  project: value('-p, --project <name>', 'project name (wins over COMPOSE_PROJECT_NAME and compose `name:`; default the folder name)'),
  envFile: envFileOption(),
  profile: list('--profile <name>', 'enable services of this profile (repeatable; also COMPOSE_PROFILES)'),
  json: flag('-j, --json', 'JSON output (apply: NDJSON events)'),
  ...ENGINE_OPTIONS,
});
export type DeployCommonOptions = OptionsOf<ReturnType<typeof common>>;

/** What apply and its alias up take besides the common flags (up also `-d`, which compose users type). */
const applyOptions = () => ({
  watch: value('--watch <interval>', 're-plan every interval and apply changes (e.g. 1m); runs until Ctrl-C/SIGTERM'),
  requireTests: negatable(optional('--require-tests [type]', "after a successful apply, run the project's test containers (images labelled test.type=<type>, default integration); roll back if they fail (overrides x-kiboko.post_deploy_tests)"), { help: 'skip the post-deploy tests the configuration requires (x-kiboko.post_deploy_tests)' }),
  logLevel: value('--log-level <level>', 'with --json: debug, info, warning, error'),
});
const buildOptions = () => ({
  build: negatable(flag('--build', 'build the images of services with build: before applying (default: only those missing)'), { help: 'build nothing; images must exist or be pulled' }),
});

export const deployTables = () => ({
  plan: common(),
  apply: { ...common(), ...applyOptions(), ...buildOptions() },
  up: { ...common(), ...applyOptions(), detach: flag('-d, --detach', 'accepted for docker compose compatibility: apply never attaches'), ...buildOptions() },
  down: {
    ...common(),
    volumes: flag('-v, --volumes', 'also remove named volumes of the project and anonymous volumes of its containers'),
    rmi: value('--rmi <local|all>', 'also remove images: local = built for the project, all = every image its services used'),
    removeOrphans: flag('--remove-orphans', 'also remove containers of services not in the configuration'),
  },
  ps: common(),
  logs: {
    ...common(false),
    follow: flag('-f, --follow', 'keep following new output'),
    tail: value('-n, --tail <lines>', 'lines from the end of each log (or all)'),
    timestamps: flag('-t, --timestamps', 'show timestamps'),
    logPrefix: flag('--no-log-prefix', 'no service-n prefix'),
  },
  restart: common(),
  pull: { ...common(), ignorePullFailures: flag('--ignore-pull-failures', 'exit 0 even if a pull failed') },
  history: { ...common(), limit: value('--limit <n>', 'revisions per project (default 20)') },
  rollback: { ...common(), to: value('--to <rev>', 'revision number to return to') },
  'set-tag': common(),
  config: {
    file: list('-f, --file <path>', 'compose file (repeatable; default: COMPOSE_FILE, else compose.yaml here or above)'),
    project: value('-p, --project <name>', 'project name (default: COMPOSE_PROJECT_NAME, else compose `name:`, else the folder name)'),
    envFile: envFileOption(),
    profile: list('--profile <name>', 'activate a profile (repeatable; adds to COMPOSE_PROFILES)'),
    quiet: flag('-q, --quiet', 'only check the files: print nothing, exit 0 when valid'),
    services: flag('--services', 'print the service names, one a line'),
    json: flag('-j, --json', 'JSON output'),
  },
});

/** What one deploy command reads, typed from its table. */
export type DeployOptions<S extends keyof ReturnType<typeof deployTables>> = OptionsOf<(ReturnType<typeof deployTables>)[S]>;
