import type { Command } from 'commander';
import type { Register } from './register.js';
import { watchTables } from './watch-options.js';

/**
 * Declares `kiboko watch` (Watchtower's flags and environment, plus deploy projects) and
 * `kiboko registry tags|inspect` (options and help only; each action lazy-loads ./watch.js).
 */
export function defineWatchCommands(program: Command, register: Register): void {
  const t = watchTables();
  const watch = program
    .command('watch')
    .description('follow new images in the registry: new digests of the same tag, or newer tags under a deploy service\'s tag policy; notify (--monitor-only) or update — deploy services through health-gated deploys with rollback, standalone containers recreated (start-first when no port is published, the old one back when the new is unhealthy). Reads Watchtower\'s labels and WATCHTOWER_* environment.')
    .argument('[containers...]', 'only these containers (as Watchtower takes them)');
  register(watch, t.watch, async (o, containers) => (await import('./watch.js')).runWatch(o, containers));

  const registry = program.command('registry').description('ask a registry directly (with the credentials and CAs kiboko watch uses)');
  const tags = registry.command('tags').description("list a repository's tags").argument('<image>');
  register(tags, t.registry, async (o, [image]) => (await import('./watch.js')).runRegistry('tags', o, image!));
  const inspect = registry.command('inspect').description("a tag's digest, media type and creation time").argument('<image>');
  register(inspect, t.registry, async (o, [image]) => (await import('./watch.js')).runRegistry('inspect', o, image!));
}
