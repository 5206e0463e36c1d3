import type { EngineEvent } from '../engine/index.js';
import { matchesFilters, wantsEngineEvents, type EventFilters } from './filters.js';
import { RULE_FILTER_KEYS, type Condition, type Rule, type RuleMatch } from './rules.js';

/** The docker-compatible part of a rule's `on:` (names and `when:` are matched on top). */
export function ruleFilters(on: RuleMatch): EventFilters {
  const out: EventFilters = {};
  for (const key of RULE_FILTER_KEYS) if (on[key]) out[key] = on[key];
  return out;
}

/** Whether the rule reacts to this event: its `on:` filters, its names, then every `when:` condition. */
export function ruleMatches(rule: Rule, e: EngineEvent): boolean {
  if (!matchesFilters(e, ruleFilters(rule.on))) return false;
  if (rule.on.name?.length) {
    const name = (e.attributes.name ?? '').replace(/^\//, '');
    if (!rule.on.name.some((n) => ('exact' in n ? n.exact === name : n.regex.matcher(name).find()))) return false;
  }
  return rule.when.every((c) => conditionHolds(c, e.attributes[c.attribute]));
}

export function conditionHolds(c: Condition, actual: string | undefined): boolean {
  switch (c.op) {
    case 'exists':
      return actual !== undefined;
    case 'absent':
      return actual === undefined;
    case '==':
      return actual === c.value;
    case '!=':
      return actual !== undefined && actual !== c.value;
    case 're2':
      return actual !== undefined && c.regex!.matcher(actual).find();
    case '!re2':
      return actual !== undefined && !c.regex!.matcher(actual).find();
    default: {
      if (actual === undefined || actual.trim() === '' || !Number.isFinite(Number(actual))) return false;
      const a = Number(actual);
      const b = Number(c.value);
      return c.op === '>' ? a > b : c.op === '>=' ? a >= b : c.op === '<' ? a < b : a <= b;
    }
  }
}

/**
 * Engine-side filters that let through everything any rule could match: per key, the union of
 * the rules' values — only for keys every engine rule sets (docker ORs values of one key and
 * ANDs keys, so a union per key is a superset). Labels are left to the local match.
 */
export function unionEngineFilters(rules: readonly Rule[]): Record<string, readonly string[]> {
  const engineRules = rules.filter((r) => wantsEngineEvents(ruleFilters(r.on)));
  const out: Record<string, readonly string[]> = {};
  if (engineRules.length === 0) return out;
  for (const key of ['type', 'event'] as const) {
    if (!engineRules.every((r) => r.on[key]?.length)) continue;
    const values = new Set(engineRules.flatMap((r) => [...(r.on[key] ?? [])]));
    if (key === 'type') for (const t of ['deploy', 'chaos']) values.delete(t);
    // `health_status` also matches `health_status: healthy`, which the engine does as well.
    out[key] = [...values].sort();
  }
  return out;
}

/** Whether any rule wants engine events / kiboko events at all. */
export function needsEngine(rules: readonly Rule[]): boolean {
  return rules.some((r) => wantsEngineEvents(ruleFilters(r.on)));
}

export function needsKiboko(rules: readonly Rule[], type: 'deploy' | 'chaos'): boolean {
  return rules.some((r) => !r.on.type?.length || r.on.type.includes(type));
}

/** Whether a rule can match a container `die` (so deaths missed in a gap are worth rebuilding). */
export function wantsDeaths(rules: readonly Rule[]): boolean {
  return rules.some((r) => (!r.on.type?.length || r.on.type.includes('container')) && (!r.on.event?.length || r.on.event.includes('die')));
}
