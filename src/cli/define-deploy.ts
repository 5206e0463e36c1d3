import { Option, type Command } from 'commander';
import { actionOf, addEngineOptions, collect } from './command-options.js';
import type { DeploySub, Handlers } from './handlers.js';

/** `--env-file`, as every deploy command that reads a configuration takes it. */
const envFileOption = () => new Option('--env-file <path>', "read variables from this file instead of the project's .env (repeatable)").argParser(collect);

/** What apply and its alias up take besides the common flags (up also `-d`, which compose users type). */
function applyOptions(c: Command, { detach = false } = {}): Command {
  c.option('--watch <interval>', 're-plan every interval and apply changes (e.g. 1m); runs until Ctrl-C/SIGTERM')
    .option('--require-tests [type]', "after a successful apply, run the project's test containers (images labelled test.type=<type>, default integration); roll back if they fail (overrides x-kiboko.post_deploy_tests)")
    .option('--no-require-tests', 'skip the post-deploy tests the configuration requires (x-kiboko.post_deploy_tests)')
    .option('--log-level <level>', 'with --json: debug, info, warning, error');
  if (detach) c.option('-d, --detach', 'accepted for docker compose compatibility: apply never attaches');
  return c
    .option('--build', 'build the images of services with build: before applying (default: only those missing)')
    .option('--no-build', 'build nothing; images must exist or be pulled');
}

/** `kiboko deploy` and its commands (docker compose's names where they mean the same). */
export function defineDeployCommands(program: Command, handlers: Handlers): void {
  const deploy = program
    .command('deploy')
    .description('declarative deploys: plan and apply a system configuration (compose file or unit files) with health-gated rolling updates, rollback and history');
  // `logs -f` follows, as in docker compose (whose -f comes before the subcommand): there the file is --file only.
  const common = (c: Command, shortFile = true) => {
    c.option(`${shortFile ? '-f, ' : ''}--file <path>`, 'compose file (repeatable) or a folder with a compose file or *.service unit files', collect)
      .option('--from <git+URL#branch[:path]>', 'read the configuration from a git branch (the revision records the commit)')
      .option('--engine <docker|swarm>', 'deploy as containers on this engine, or as Swarm services (default: Swarm when the engine is a manager)')
      .option('-p, --project <name>', 'project name (wins over COMPOSE_PROJECT_NAME and compose `name:`; default the folder name)')
      .addOption(envFileOption())
      .option('--profile <name>', 'enable services of this profile (repeatable; also COMPOSE_PROFILES)', collect)
      .option('-j, --json', 'JSON output (apply: NDJSON events)');
    addEngineOptions(c);
    return c;
  };
  const run = (name: DeploySub, c: Command) => actionOf(c, (command, positional) => handlers.deploy(name)(command, positional));
  run('plan', common(deploy.command('plan').description('show what apply would do: create / update / scale / delete / unchanged, each with its cause; exit 0 no change, 10 changes')));
  run(
    'apply',
    applyOptions(common(deploy.command('apply').description('bring the services to the configuration: dependencies first, rolling updates per update_config, gated on health, rolled back on failure'))),
  );
  const config = deploy
    .command('config')
    .description('print the resolved, normalised compose model (like docker compose config): YAML, or JSON with --json')
    .option('-f, --file <path>', 'compose file (repeatable; default: COMPOSE_FILE, else compose.yaml here or above)', collect)
    .option('-p, --project <name>', 'project name (default: COMPOSE_PROJECT_NAME, else compose `name:`, else the folder name)')
    .addOption(envFileOption())
    .option('--profile <name>', 'activate a profile (repeatable; adds to COMPOSE_PROFILES)', collect)
    .option('-q, --quiet', 'only check the files: print nothing, exit 0 when valid')
    .option('--services', 'print the service names, one a line')
    .option('-j, --json', 'JSON output');
  actionOf(config, async (command) => (await import('./deploy.js')).runDeployConfig(command));
  run(
    'up',
    applyOptions(common(deploy.command('up').description('docker compose up: an alias of apply (always detached; -d accepted)')), { detach: true }),
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
