import type { Command } from 'commander';
import { deployTables } from './deploy-options.js';
import type { Register } from './register.js';

/** `kiboko deploy` and its commands (docker compose's names where they mean the same); each action lazy-loads its module. */
export function defineDeployCommands(program: Command, register: Register): void {
  const deploy = program
    .command('deploy')
    .description('declarative deploys: plan and apply a system configuration (compose file or unit files) with health-gated rolling updates, rollback and history');
  const t = deployTables();
  const sub = (name: string, description: string) => deploy.command(name).description(description);
  const withServices = (c: Command) => c.argument('[service...]');
  const run = async () => import('./deploy.js');

  register(sub('plan', 'show what apply would do: create / update / scale / delete / unchanged, each with its cause; exit 0 no change, 10 changes'), t.plan, async (o) => (await run()).runDeployPlan(o));
  register(sub('apply', 'bring the services to the configuration: dependencies first, rolling updates per update_config, gated on health, rolled back on failure'), t.apply, async (o) => (await run()).runDeployApply(o));
  register(sub('config', 'print the resolved, normalised compose model (like docker compose config): YAML, or JSON with --json'), t.config, async (o) => (await run()).runDeployConfig(o));
  register(sub('up', 'docker compose up: an alias of apply (always detached; -d accepted)'), t.up, async (o) => (await run()).runDeployApply(o));
  register(sub('down', "docker compose down: stop and remove the project's containers and networks (recorded in the history); with -p alone no file is needed"), t.down, async (o) => (await run()).runDeployDown(o));
  register(withServices(sub('ps', "docker compose ps: the project's containers (all states), their status, health and ports")), t.ps, async (o, services) => (await run()).runDeployPs(o, services));
  register(withServices(sub('logs', "docker compose logs: the project's container logs, prefixed by service-n (the file is --file here: -f follows)")), t.logs, async (o, services) => (await run()).runDeployLogs(o, services));
  register(withServices(sub('restart', "docker compose restart: restart the project's containers (each with its stop grace period)")), t.restart, async (o, services) => (await run()).runDeployRestart(o, services));
  register(withServices(sub('pull', "docker compose pull: pull the services' images, honouring pull_policy")), t.pull, async (o, services) => (await run()).runDeployPull(o, services));
  register(sub('history', 'list deploy revisions (newest first)'), t.history, async (o) => (await run()).runDeployHistory(o));
  register(sub('rollback', "re-deploy an earlier revision (default: the one before the last successful deploy) and set the compose file's tags back to it"), t.rollback, async (o) => (await run()).runDeployRollback(o));
  const setTag = sub('set-tag', "rewrite one service's image tag in the compose file in place (comments and formatting kept) — the step CI runs").argument('<service>').argument('<tag>');
  register(setTag, t['set-tag'], async (o, args) => (await run()).runDeploySetTag(o, args));
}
