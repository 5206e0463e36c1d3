import { KibokoError, invalidArgument } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import type { Engine } from '../engine/index.js';
import type { ChaosReport } from '../chaos/index.js';
import type { ChaosOptions } from './chaos-options-type.js';
import { closeNames, parseTargetArgs, type TargetQuery } from '../targets/index.js';

/**
 * Chaos targets beyond Pumba's: `--project P [--service S]` (a deploy's current replicas, found by
 * the labels kiboko deploy puts on them, whatever their names this revision), and what a run that
 * hit nothing does — a warning naming close container names, and with `--fail-on-no-targets`
 * exit 5 (Pumba's exit 0 stays the default, for scripts written for it).
 */
export function targetsFromFlags(containers: string[], o: Pick<ChaosOptions, 'label' | 'project' | 'service'>): TargetQuery {
  const labels = [...(o.label ?? [])];
  const { project, service } = o;
  if (service !== undefined && project === undefined) throw invalidArgument('--service needs --project', 'e.g. --project shop --service web');
  if (project === undefined) return parseTargetArgs(containers, labels);
  // A replica has a slot; the project's front container (published ports) has none and is left alone.
  labels.push(`${LABELS.deployProject}=${project}`, LABELS.deploySlot);
  if (service !== undefined) labels.push(`${LABELS.deployService}=${service}`);
  // The project names the targets: with no names or patterns, every replica it has.
  return parseTargetArgs(containers.length ? containers : ['re2:.'], labels);
}

/** When no cycle had a target: the warning (with close names), and the error for --fail-on-no-targets. */
export async function checkSomethingHit(report: ChaosReport, engine: Engine, containers: string[], o: ChaosOptions, warn: (message: string) => void): Promise<void> {
  if (report.interrupted || report.cycles.length === 0 || report.cycles.some((c) => c.targets.length > 0)) return;
  const wanted = o.project !== undefined ? [`project ${o.project}${o.service !== undefined ? ` service ${o.service}` : ''}`] : containers.length ? containers : ['(every container)'];
  const typed = containers.filter((c) => !c.startsWith('re2:'));
  const all = typed.length ? (await engine.list({ all: true })).map((c) => c.name) : [];
  const close = closeNames(typed, all);
  const message = `no container matched ${wanted.join(', ')}${o.label?.length ? ` with --label ${o.label.join(',')}` : ''}`;
  const hint = close.length ? `close names: ${close.join(', ')}` : 'see `docker ps` for the names; `--dry-run` shows what a run would select';
  if (o.failOnNoTargets) throw new KibokoError('TARGET_NOT_FOUND', message, { hint });
  warn(`${message} — ${hint}`);
}
