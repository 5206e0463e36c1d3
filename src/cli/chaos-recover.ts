// `kiboko chaos recover`, in a module of its own: besides chaos's own journal entries it finishes
// the container updates `kiboko watch` was killed in the middle of, and the watcher brings deploy,
// the templates and yaml with it (~0.5 MB of code). dist/cli-chaos.cjs leaves this module out
// (scripts/build.mjs), so the other chaos commands do not read that code at each start; bin.ts's
// bundleFor runs a command line naming `recover` from the whole CLI (dist/cli.cjs).
import { recoverOrphans } from '../chaos/index.js';
import { KibokoError } from '../common/errors.js';
import { connectEngine } from '../engine/index.js';
import { Journal, defaultStateDir, isAlive } from '../journal/index.js';
import type { RecoverOptions } from './chaos-options.js';
import { rendererFor } from './chaos.js';
import { connectionFlags } from './options.js';

export async function runRecoverCommand(o: RecoverOptions): Promise<number> {
  const renderer = rendererFor(o);
  const engine = await connectEngine(connectionFlags(o));
  await engine.ready();
  const journal = new Journal(o.stateDir ?? defaultStateDir());
  const dryRun = Boolean(o.dryRun);
  const results: { target: { id: string; name: string }; kind: string; outcome: string; error?: string | undefined }[] = await recoverOrphans(engine, journal, { dryRun });
  // Container updates `kiboko watch` (or `serve --watch`) was killed in the middle of.
  results.push(...(await (await import('../watch/index.js')).recoverContainerUpdates(engine, journal, { dryRun })));
  const { entries, unreadable } = await journal.list();
  const live = entries.filter((e) => isAlive(e.owner));
  if (results.length === 0) renderer.info('nothing to recover: no changes left by dead kiboko runs');
  for (const r of results) {
    const line = `${dryRun ? 'would recover' : 'recovered'} ${r.kind} of ${r.target.name} (${r.target.id.slice(0, 12)}): ${r.outcome}${r.error ? ` — ${r.error}` : ''}`;
    if (r.outcome === 'failed') renderer.error(line, { result: r });
    else renderer.info(line, { result: r });
  }
  for (const e of live) {
    renderer.info(`in progress: ${e.kind} of ${e.target.name}, owned by live process ${e.owner.pid} on ${e.owner.host}`, { entry: e });
  }
  for (const path of unreadable) renderer.warn(`unreadable journal entry ${path}: inspect it and delete it once handled`);
  renderer.close();
  engine.close();
  if (results.some((r) => r.outcome === 'failed')) return 1;
  if (unreadable.length) throw new KibokoError('JOURNAL_ERROR', `${unreadable.length} journal entr${unreadable.length === 1 ? 'y is' : 'ies are'} unreadable`, { hint: `look in ${journal.dir}` });
  return 0;
}
