import { KibokoError } from '../common/errors.js';
import { SKIP_LABELS } from '../common/labels.js';
import { createRandom, randomSeed, shuffle } from '../common/random.js';
import type { ContainerStatus, ContainerSummary, Engine } from '../engine/index.js';
import { selectsEverything, type TargetQuery } from './query.js';
import { readOwnContainerId } from './self.js';
import { compareNames } from '../common/collate.js';

export interface SelectionOptions {
  /** Which container states are eligible (default: running). */
  states?: readonly ContainerStatus[];
  /** Keep at most N, picked at random (0 or undefined: all). */
  limit?: number;
  /** Keep exactly one, picked at random. */
  random?: boolean;
  /** Seed for the random picks; one is drawn and reported when absent. */
  seed?: number;
  /** Refuse an empty query (destructive commands must name their targets). */
  requireExplicit?: boolean;
  /** Container id never to select (kiboko's own); detected when undefined. */
  selfId?: string | null;
}

export interface SkippedContainer {
  container: ContainerSummary;
  reason: 'skip-label' | 'self' | 'state';
}

export interface Selection {
  selected: ContainerSummary[];
  /** Matched the query but protected or ineligible, with why. */
  skipped: SkippedContainer[];
  /** Names/IDs given explicitly that matched no eligible container. */
  unmatched: string[];
  /** The seed used for `limit`/`random` picks (always set, so any run can be replayed). */
  seed: number;
}

/**
 * Pure selection over a candidate list: the query, then protection, then `limit` and `random`
 * picks from a seeded shuffle of the name-sorted matches (so a seed replays the same picks).
 */
export function planSelection(candidates: readonly ContainerSummary[], query: TargetQuery, options: SelectionOptions & { seed: number }): Selection {
  const states = new Set<ContainerStatus>(options.states ?? ['running']);
  const skipped: SkippedContainer[] = [];
  const matchedNames = new Set<string>();
  const matches: ContainerSummary[] = [];

  for (const n of query.names) {
    const exact = candidates.some((c) => c.name === n || c.id === n);
    const byPrefix = n.length >= 12 ? candidates.filter((c) => c.id.startsWith(n)) : [];
    if (!exact && byPrefix.length > 1) {
      throw new KibokoError('INVALID_ARGUMENT', `ambiguous ID prefix '${n}': it matches ${byPrefix.length} containers`, {
        hint: 'give more characters of the ID, or the container name',
      });
    }
  }

  for (const c of candidates) {
    const byName = query.names.filter((n) => n === c.name || n === c.id || (n.length >= 12 && c.id.startsWith(n)));
    const byPattern = query.patterns.some((p) => p.regex.matcher(c.name).find());
    if (!selectsEverything(query) && byName.length === 0 && !byPattern) continue;
    for (const n of byName) matchedNames.add(n);
    if (options.selfId && c.id === options.selfId) skipped.push({ container: c, reason: 'self' });
    else if (SKIP_LABELS.some((k) => c.labels[k]?.toLowerCase() === 'true')) skipped.push({ container: c, reason: 'skip-label' });
    else if (!states.has(c.status)) skipped.push({ container: c, reason: 'state' });
    else matches.push(c);
  }

  const unmatched = query.names.filter((n) => !matchedNames.has(n));
  const random = createRandom(options.seed);
  let selected = [...matches].sort((a, b) => compareNames(a.name, b.name) || compareNames(a.id, b.id));
  if (options.limit && options.limit > 0 && selected.length > options.limit) {
    selected = shuffle(selected, random).slice(0, options.limit).sort((a, b) => compareNames(a.name, b.name));
  }
  if (options.random && selected.length > 1) selected = [selected[random.int(selected.length)]!];
  return { selected, skipped, unmatched, seed: options.seed };
}

/** Lists candidates from the engine (labels filtered engine-side) and plans the selection. */
export async function selectTargets(engine: Engine, query: TargetQuery, options: SelectionOptions = {}): Promise<Selection> {
  if (options.requireExplicit && selectsEverything(query)) {
    throw new KibokoError('INVALID_ARGUMENT', 'no target given: this command needs container names, IDs or a re2: pattern', {
      hint: "name the containers, e.g. `kiboko chaos kill web-1` or `kiboko chaos kill 're2:^web'`",
    });
  }
  const states = options.states ?? ['running'];
  const all = states.some((s) => s !== 'running' && s !== 'paused' && s !== 'restarting');
  const [candidates, selfId] = await Promise.all([
    engine.list({ all, labels: query.labels }),
    options.selfId === undefined ? readOwnContainerId() : options.selfId,
  ]);
  return planSelection(candidates, query, { ...options, seed: options.seed ?? randomSeed(), selfId: selfId ?? null });
}
