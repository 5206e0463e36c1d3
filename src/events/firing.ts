import type { Clock } from '../common/clock.js';
import { asKibokoError } from '../common/errors.js';
import type { EngineEvent } from '../engine/index.js';
import { runAction, withTimeout, type ActionDeps } from './actions.js';
import { eventContext } from './interpolate.js';
import type { Rule } from './rules.js';
import { nanoToMs } from './time.js';

export type FiringOutcome = 'ok' | 'failed' | 'cancelled' | 'dry-run' | 'debounced';

/** One rule firing for one event: the NDJSON line `kiboko react` logs. */
export interface FiringRecord {
  rule: string;
  event: { key: string; type: string; action: string; id: string; name?: string | undefined; time: string };
  outcome: FiringOutcome;
  actions: { kind: string; outcome: 'ok' | 'failed' | 'timeout' | 'cancelled' | 'skipped' | 'dry-run'; detail?: string | undefined; error?: string | undefined; ms: number }[];
  startedAt: string;
  ms: number;
}

/** What one firing needs: the clock, whether to only say what it would do, and how to cancel its actions. */
export interface FiringEnv {
  clock: Clock;
  dryRun: boolean | undefined;
  cancel: AbortSignal;
  deps: ActionDeps;
}

/** Runs a rule's actions for one event, in order; after a failure the rest are skipped. */
export async function fireRule(rule: Rule, e: EngineEvent, key: string, env: FiringEnv): Promise<FiringRecord> {
  const { clock } = env;
  const started = clock.now();
  const ctx = eventContext(e, rule.name);
  const record: FiringRecord = { rule: rule.name, event: describeEvent(e, key), outcome: 'ok', actions: [], startedAt: new Date(started).toISOString(), ms: 0 };
  for (const action of rule.actions) {
    const t0 = clock.now();
    if (env.dryRun) {
      record.actions.push({ kind: action.kind, outcome: 'dry-run', detail: describeAction(action, ctx), ms: 0 });
      record.outcome = 'dry-run';
      continue;
    }
    if (record.outcome !== 'ok') {
      record.actions.push({ kind: action.kind, outcome: 'skipped', ms: 0 });
      continue;
    }
    const timeoutMs = action.timeoutMs ?? rule.timeoutMs;
    try {
      const out = await withTimeout(timeoutMs, env.cancel, `${rule.name}: ${action.kind}`, (signal) => runAction(action, ctx, env.deps, signal, timeoutMs));
      record.actions.push({ kind: action.kind, outcome: 'ok', detail: out.detail, ms: clock.now() - t0 });
    } catch (err) {
      const k = asKibokoError(err);
      const outcome = k.code === 'TIMEOUT' ? 'timeout' : k.code === 'CANCELLED' ? 'cancelled' : 'failed';
      record.actions.push({ kind: action.kind, outcome, error: k.message, ms: clock.now() - t0 });
      record.outcome = outcome === 'cancelled' ? 'cancelled' : 'failed';
    }
  }
  record.ms = clock.now() - started;
  return record;
}

export function describeEvent(e: EngineEvent, key: string): FiringRecord['event'] {
  return { key, type: e.type, action: e.action, id: e.id, ...(e.attributes.name ? { name: e.attributes.name } : {}), time: new Date(nanoToMs(e.timeNano)).toISOString() };
}

function describeAction(action: Rule['actions'][number], ctx: ReturnType<typeof eventContext>): string {
  switch (action.kind) {
    case 'notify':
      return `would POST to ${action.url.render(ctx).replace(/^(https?:\/\/[^/]+).*$/, '$1/…')}: ${action.text.render(ctx)}`;
    case 'exec':
      return `would exec ${JSON.stringify(action.cmd.map((c) => c.render(ctx)))} in ${action.container.render(ctx)}`;
    case 'restart':
      return `would restart ${action.container.render(ctx)}`;
    case 'lifecycle':
      return `would run lifecycle ${action.method} in ${action.container.render(ctx)}`;
    case 'render':
      return `would render ${action.confdir}${action.container ? ` into ${action.container.render(ctx)}` : ''}`;
    case 'rollback':
      return `would roll back ${action.project.render(ctx)}${action.to ? ` to revision ${action.to}` : ''}`;
  }
}
