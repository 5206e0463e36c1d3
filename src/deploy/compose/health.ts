/** `healthcheck`, `depends_on` (with profiles and cycles), `restart`, `stop_signal` and `profiles`. */
import { errorMessage, type KibokoError } from '../../common/errors.js';
import { parseSignal } from '../../common/signals.js';
import type { DependsCondition, Healthcheck, ServiceSpec } from '../model.js';
import type { Context, Mutable } from './context.js';
import { asKeyedMap } from './merge.js';
import { closest, svcDocs, type Loc, type Problems } from './problems.js';
import { bool, duration, int, mapOf, omitUndefined, oneOf, seqOf, str } from './scalars.js';
import { show, type Entry, type Node } from './yaml.js';

/** A service as read, before profiles and dependencies are settled. */
export interface ReadService {
  spec: Mutable<ServiceSpec>;
  profiles: string[];
  deps: { service: string; condition: DependsCondition; required: boolean; loc: Loc }[];
}

const HEALTH_HINT = svcDocs('healthcheck');

export function readHealthcheck(entry: Entry | undefined, ctx: Context): Healthcheck | undefined {
  if (!entry) return undefined;
  const map = mapOf(entry.value, ctx, 'a mapping', HEALTH_HINT);
  if (!map) return undefined;
  let test: string[] = [];
  let disable = false;
  const hc: Healthcheck = { test };
  for (const e of map.entries.values()) {
    const v = e.value;
    switch (e.key) {
      case 'test':
        test = readHealthTest(v, ctx) ?? [];
        break;
      case 'interval':
        hc.intervalMs = duration(v, ctx, HEALTH_HINT);
        break;
      case 'timeout':
        hc.timeoutMs = duration(v, ctx, HEALTH_HINT);
        break;
      case 'start_period':
        hc.startPeriodMs = duration(v, ctx, HEALTH_HINT);
        break;
      case 'retries':
        hc.retries = int(v, ctx, 0, 1_000_000, 'a whole number ≥ 0', HEALTH_HINT);
        break;
      case 'disable':
        disable = bool(v, ctx, HEALTH_HINT) ?? false;
        break;
      case 'start_interval':
        duration(v, ctx, HEALTH_HINT); // accepted, not carried: probes at `interval` during start_period too
        break;
      default:
        ctx.problems.add(
          e.keyLoc,
          `unknown healthcheck key ${JSON.stringify(e.key)}`,
          `expected test, interval, timeout, retries, start_period or disable; ${HEALTH_HINT}`,
        );
    }
  }
  if (disable) {
    if (test.length > 0 && test[0] !== 'NONE') ctx.problems.add(
      map.loc,
      'healthcheck has both disable: true and a test',
      'keep one of them',
    );
    return { test: ['NONE'] };
  }
  // An empty test keeps the image's HEALTHCHECK command and overrides only the timings given.
  return omitUndefined({ ...hc, test });
}

function readHealthTest(node: Node, ctx: Context): string[] | undefined {
  if (node.kind === 'scalar' && typeof node.value === 'string') {
    if (node.value.trim() === '') {
      ctx.problems.add(node.loc, 'expected a command, got ""', HEALTH_HINT);
      return undefined;
    }
    return ['CMD-SHELL', node.value];
  }
  if (node.kind === 'seq') {
    const list = node.items.map((i) => str(i, ctx, 'a string', HEALTH_HINT, true) ?? '');
    if (!['CMD', 'CMD-SHELL', 'NONE'].includes(list[0] ?? '')) {
      ctx.problems.add(
        node.loc,
        `expected a list starting with "CMD", "CMD-SHELL" or "NONE", got ${JSON.stringify(list[0] ?? '(empty)')}`,
        HEALTH_HINT,
      );
      return undefined;
    }
    if (list[0] !== 'NONE' && list.length < 2) {
      ctx.problems.add(node.loc, `expected a command after ${JSON.stringify(list[0])}`, HEALTH_HINT);
      return undefined;
    }
    return list;
  }
  ctx.problems.add(
    node.loc,
    `expected a command string or a list like ["CMD", "curl", "-f", "http://localhost"], got ${show(node)}`,
    HEALTH_HINT,
  );
  return undefined;
}

const CONDITIONS = ['service_started', 'service_healthy', 'service_completed_successfully'] as const;

export function readDependsOn(entry: Entry | undefined, ctx: Context): ReadService['deps'] {
  if (!entry) return [];
  const docs = svcDocs('depends_on');
  const node = entry.value.kind === 'seq' ? asKeyedMap(entry.value, 'depends_on') ?? entry.value : entry.value;
  if (node.kind === 'seq') {
    for (const item of node.items) str(item, ctx, 'a service name', docs);
    return [];
  }
  const map = mapOf(node, ctx, 'a list or mapping of services', docs);
  if (!map) return [];
  const deps: ReadService['deps'] = [];
  for (const e of map.entries.values()) {
    let condition: DependsCondition = 'service_started';
    let required = true;
    if (!(e.value.kind === 'scalar' && e.value.value === null)) {
      for (const o of mapOf(e.value, ctx, 'a mapping with condition:', docs)?.entries.values() ?? []) {
        if (o.key === 'condition') condition = oneOf(o.value, ctx, CONDITIONS, docs) ?? condition;
        else if (o.key === 'required') required = bool(o.value, ctx, docs) ?? true;
        else if (o.key === 'restart') bool(o.value, ctx, docs); // accepted; kiboko restarts nothing on its own
        else ctx.problems.add(
          o.keyLoc,
          `unknown depends_on key ${JSON.stringify(o.key)}`,
          `expected condition, required or restart; ${docs}`,
        );
      }
    }
    deps.push({ service: e.key, condition, required, loc: e.keyLoc });
  }
  return deps;
}

/** Drops optional and disabled dependencies and reports the ones that cannot be met. */
export function checkDependencies(
  s: ReadService,
  byName: Map<string, ReadService>,
  declared: string[],
  enabled: (s: ReadService) => boolean,
  ctx: Context,
): ServiceSpec['dependsOn'] {
  const out: { service: string; condition: DependsCondition }[] = [];
  for (const d of s.deps) {
    const target = byName.get(d.service);
    if (!declared.includes(d.service)) {
      if (!d.required) continue;
      const guess = closest(d.service, declared);
      ctx.problems.add(
        d.loc,
        `depends on undefined service ${JSON.stringify(d.service)}`,
        guess ? `did you mean ${guess}?` : 'declare it under services:, or mark the dependency required: false',
      );
      continue;
    }
    if (!target) continue; // invalid service, already reported
    if (!enabled(target)) {
      if (d.required) ctx.problems.add(
        d.loc,
        `depends on ${JSON.stringify(d.service)}, which its profiles disable`,
        `activate it with COMPOSE_PROFILES=${target.profiles.join(',')}, or mark the dependency required: false`,
      );
      continue;
    }
    if (d.service === s.spec.name) {
      ctx.problems.add(d.loc, `service ${JSON.stringify(s.spec.name)} depends on itself`, 'remove this entry');
      continue;
    }
    if (!out.some((o) => o.service === d.service)) out.push({ service: d.service, condition: d.condition });
  }
  return out;
}

/** Reports each depends_on cycle once, at the first edge of the cycle, naming the whole loop. */
export function reportCycles(services: ReadService[], problems: Problems): void {
  const byName = new Map(services.map((s) => [s.spec.name, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (name: string) => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const d of byName.get(name)?.spec.dependsOn ?? []) {
      const st = state.get(d.service);
      if (st === 'visiting') {
        const cycle = stack.slice(stack.indexOf(d.service));
        const key = [...cycle].sort().join('\0');
        if (!reported.has(key)) {
          reported.add(key);
          const first = byName.get(cycle[0]!)!;
          const edge = first.deps.find((x) => x.service === (cycle[1] ?? cycle[0]));
          problems.add(edge!.loc, `depends_on cycle: ${[...cycle, cycle[0]].join(' → ')}`, 'remove one of these dependencies');
        }
      } else if (st === undefined && byName.has(d.service)) visit(d.service);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const s of services) if (!state.has(s.spec.name)) visit(s.spec.name);
}

export function readRestart(entry: Entry | undefined, ctx: Context): ServiceSpec['restart'] {
  if (!entry) return 'no';
  const docs = svcDocs('restart');
  const v = str(entry.value, ctx, 'no, always, on-failure[:N] or unless-stopped', docs);
  if (v === undefined) return 'no';
  if (v === 'no' || v === 'always' || v === 'unless-stopped' || v === 'on-failure') return v;
  // on-failure:N is validated, but the model has no retry count: such a service restarts on every failure.
  if (/^on-failure:\d+$/.test(v)) return 'on-failure';
  ctx.problems.add(entry.value.loc, `expected no, always, on-failure[:N] or unless-stopped, got ${JSON.stringify(v)}`, docs);
  return 'no';
}

export function readSignal(node: Node, ctx: Context): string | undefined {
  const s = str(node, ctx, 'a signal name like SIGTERM', svcDocs('stop_signal'), true);
  if (s === undefined) return undefined;
  try {
    return parseSignal(s);
  } catch (err) {
    ctx.problems.add(node.loc, errorMessage(err), (err as KibokoError).hint);
    return undefined;
  }
}

export function readProfiles(entry: Entry | undefined, ctx: Context): string[] {
  if (!entry) return [];
  const docs = svcDocs('profiles');
  const list = seqOf(entry.value, ctx, 'a list of profile names', docs);
  if (!list) return [];
  return list.items.flatMap((i) => str(i, ctx, 'a profile name', docs) ?? []);
}

