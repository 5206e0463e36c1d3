import { invalidArgument } from '../common/errors.js';
import type { EngineEvent } from '../engine/index.js';

/** `docker events --filter` keys; values of one key are ORed, keys are ANDed, `label` values are ANDed. */
export const FILTER_KEYS = ['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type EventFilters = Partial<Record<FilterKey, readonly string[]>>;

/** The types `docker events` knows, plus kiboko's own (`deploy`, `chaos`). */
export const EVENT_TYPES = ['container', 'image', 'volume', 'network', 'daemon', 'plugin', 'service', 'node', 'secret', 'config', 'builder', 'deploy', 'chaos'] as const;

/** Parses repeatable `--filter key=value` flags exactly as `docker events` takes them. */
export function parseFilterArgs(values: readonly string[]): EventFilters {
  const out: Partial<Record<FilterKey, string[]>> = {};
  for (const raw of values) {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw invalidArgument(`invalid --filter '${raw}': expected key=value`, 'e.g. --filter type=container --filter event=die --filter label=app=db');
    const key = raw.slice(0, eq).trim().toLowerCase();
    const value = raw.slice(eq + 1).trim();
    if (!(FILTER_KEYS as readonly string[]).includes(key)) {
      throw invalidArgument(`invalid --filter '${raw}': unknown key '${key}'`, `expected one of ${FILTER_KEYS.join(', ')}`);
    }
    if (value === '') throw invalidArgument(`invalid --filter '${raw}': empty value`, `e.g. --filter ${key}=…`);
    if (key === 'type' && !(EVENT_TYPES as readonly string[]).includes(value)) {
      throw invalidArgument(`invalid --filter '${raw}': unknown event type '${value}'`, `expected one of ${EVENT_TYPES.join(', ')}`);
    }
    (out[key as FilterKey] ??= []).push(value);
  }
  return out;
}

/** The filters the engine understands (kiboko's own types are matched locally only). */
export function engineFilters(filters: EventFilters): Record<string, readonly string[]> {
  const out: Record<string, readonly string[]> = {};
  for (const [k, v] of Object.entries(filters)) {
    if (!v?.length) continue;
    if (k === 'type') {
      const types = v.filter((t) => t !== 'deploy' && t !== 'chaos');
      // Only kiboko types asked for: the engine stream is not needed at all (the caller checks).
      if (types.length) out[k] = types;
      continue;
    }
    out[k] = v;
  }
  return out;
}

/** Whether the filters can match an engine event at all (false for `type=deploy` alone). */
export function wantsEngineEvents(filters: EventFilters): boolean {
  return !filters.type?.length || filters.type.some((t) => t !== 'deploy' && t !== 'chaos');
}

const exact = (values: readonly string[] | undefined, ...candidates: (string | undefined)[]) =>
  !values?.length || candidates.some((c) => c !== undefined && values.includes(c));
const fuzzy = (values: readonly string[] | undefined, ...candidates: (string | undefined)[]) =>
  !values?.length || candidates.some((c) => c !== undefined && c !== '' && values.some((v) => c === v || c.startsWith(v)));
const stripTag = (ref: string) => {
  const at = ref.lastIndexOf(':');
  return at > ref.lastIndexOf('/') ? ref.slice(0, at) : ref;
};

/** `key` or `key=value` filters, all of which must hold (moby's MatchKVList). */
export function matchLabels(values: readonly string[] | undefined, attributes: Readonly<Record<string, string>>): boolean {
  if (!values?.length) return true;
  return values.every((f) => {
    const eq = f.indexOf('=');
    if (eq < 0) return f in attributes;
    return attributes[f.slice(0, eq)] === f.slice(eq + 1);
  });
}

/**
 * Whether `docker events` with these filters would show the event (moby daemon/events/filter.go,
 * so the same filters mean the same locally and on the engine).
 */
export function matchesFilters(e: EngineEvent, f: EventFilters): boolean {
  const a = e.attributes;
  const byName = (key: FilterKey) => fuzzy(f[key], e.id, a.name);
  const imageName = e.type === 'image' ? a.name : a.image;
  return (
    matchesAction(f.event, e.action) &&
    exact(f.type, e.type) &&
    exact(f.scope, e.scope) &&
    byName('daemon') &&
    byName('container') &&
    byName('plugin') &&
    byName('volume') &&
    byName('network') &&
    byName('node') &&
    byName('service') &&
    byName('secret') &&
    byName('config') &&
    exact(f.image, e.id, imageName, stripTag(e.id), imageName === undefined ? undefined : stripTag(imageName)) &&
    matchLabels(f.label, a)
  );
}

/**
 * `event` filter values: exact, except that `health_status`, `exec_create` and `exec_start`
 * without their `: …` suffix match every action that starts with them (as the engine does).
 */
export function matchesAction(values: readonly string[] | undefined, action: string): boolean {
  if (!values?.length) return true;
  return values.some((v) => v === action || (PREFIX_ACTIONS.has(v) && action.startsWith(`${v}:`)));
}

const PREFIX_ACTIONS = new Set(['health_status', 'exec_create', 'exec_start', 'exec_die']);

/** Identity of an event across reconnects and restarts. */
export function eventKey(e: Pick<EngineEvent, 'timeNano' | 'type' | 'id' | 'action'>): string {
  return `${e.timeNano}|${e.type}|${e.id}|${e.action}`;
}
