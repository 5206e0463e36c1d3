import { readFile } from 'node:fs/promises';
import { systemClock, type Clock } from '../common/clock.js';
import { mapSettled } from '../common/concurrency.js';
import { asKibokoError, errorMessage, isAbortError, KibokoError } from '../common/errors.js';
import type { Engine } from '../engine/index.js';
import { selectTargets, type SelectionOptions, type TargetQuery } from '../targets/index.js';
import { applyPlan, type ApplyOptions, type ApplyResult, type Destination } from './apply.js';
import type { Backend } from './backends/types.js';
import { containerDestination, probeTools } from './container.js';
import { quiesce, type Wait } from './debounce.js';
import { hostDestination } from './host.js';
import { prefixedKeys, snapshotFor, type KvSnapshot } from './keys.js';
import { planResource } from './plan.js';
import { loadResources, type TemplateResource } from './resource.js';

/** Renders a template's text against a resource's key/value snapshot (the Go template engine by default). */
export type Renderer = (resource: TemplateResource, text: string, snapshot: KvSnapshot) => string | Promise<string>;

export type RunMode = 'onetime' | 'interval' | 'watch';

export interface ContainerTargets {
  engine: Engine;
  query: TargetQuery;
  selection?: SelectionOptions;
  /** Containers written at once (default 8). */
  concurrency?: number;
}

export interface TemplateRunOptions {
  backend: Backend;
  render: Renderer;
  /** Either a confd layout to (re)load, or resources already loaded. */
  confdir?: string;
  resources?: TemplateResource[];
  /** Global prefix (replaces each resource's prefix, as in confd). */
  prefix?: string | undefined;
  mode: RunMode;
  /** Polling period for `interval` (default 600 s, confd's). */
  intervalMs?: number;
  /** Quiescence before rendering after a change (watch). */
  wait?: Wait | undefined;
  apply?: Omit<ApplyOptions, 'signal'>;
  /** Render on the host, write into these containers instead of the host's files. */
  containers?: ContainerTargets | undefined;
  signal?: AbortSignal;
  clock?: Clock;
  onEvent?: (event: TemplateEvent) => void;
}

export type TemplateEvent =
  | { type: 'run-started'; backend: string; mode: RunMode; resources: string[]; containers: boolean }
  | { type: 'watching'; prefixes: string[] }
  | { type: 'change'; keys: string[] | undefined }
  | { type: 'cycle-started'; cycle: number; reason: 'start' | 'interval' | 'change'; resources: string[] }
  | { type: 'targets'; selected: string[]; unmatched: string[]; skipped: { name: string; reason: string }[] }
  | { type: 'result'; result: ApplyResult }
  | { type: 'render-failed'; resource: string; dest: string; error: KibokoError }
  | { type: 'notice'; message: string }
  | { type: 'cycle-finished'; cycle: number; changed: number; failed: number; ms: number }
  | { type: 'run-finished'; cycles: number; failed: number; interrupted: boolean };

export interface TemplateRunSummary {
  cycles: number;
  /** Failures over the whole run (render, check, reload, write). */
  failed: number;
  changed: number;
  /** Every result of the last cycle. */
  last: ApplyResult[];
  interrupted: boolean;
}

const FAILED = new Set<ApplyResult['outcome']>(['check-failed', 'reload-failed-restored', 'failed']);
const CHANGED = new Set<ApplyResult['outcome']>(['written', 'reloaded', 'noop']);

/** Whether a changed key concerns a resource (any of its prefixed keys is a prefix of it). */
export function affects(resource: TemplateResource, key: string): boolean {
  return prefixedKeys(resource.prefix, resource.keys).some((k) => key.startsWith(k));
}

/**
 * Renders on the host: reads the resource's keys from the backend and its template text, and
 * runs the renderer. Pure apart from those two reads; nothing is written.
 */
export async function renderResource(resource: TemplateResource, backend: Backend, render: Renderer, signal?: AbortSignal): Promise<string> {
  const values = await backend.getValues(prefixedKeys(resource.prefix, resource.keys), signal);
  let text: string;
  try {
    text = await readFile(resource.src, 'utf8');
  } catch (cause) {
    throw new KibokoError('INVALID_ARGUMENT', `Missing template: ${resource.src}`, { hint: `create it, or fix src in ${resource.file}`, cause });
  }
  return render(resource, text, snapshotFor(resource.prefix, values));
}

/**
 * `kiboko template`'s loop: render every resource, then apply (host files, or the files in the
 * selected containers) — once, every interval, or on every backend change after the changes
 * settle. Never throws for a failing resource: each outcome is an event and counted.
 */
export async function runTemplate(options: TemplateRunOptions): Promise<TemplateRunSummary> {
  const clock = options.clock ?? systemClock;
  const signal = options.signal ?? new AbortController().signal;
  const emit = options.onEvent ?? (() => undefined);
  const summary: TemplateRunSummary = { cycles: 0, failed: 0, changed: 0, last: [], interrupted: false };
  const load = async () =>
    options.resources ?? (await loadResources(options.confdir ?? '/etc/confd', { prefix: options.prefix, onWarning: (message) => emit({ type: 'notice', message }) }));

  let resources = await load();
  if (options.mode === 'watch' && !options.backend.watch) {
    const { envWatchRefused } = await import('./backends/env.js');
    throw options.backend.name === 'env'
      ? envWatchRefused()
      : new KibokoError('INVALID_ARGUMENT', `the ${options.backend.name} backend cannot be watched — use --interval`);
  }
  emit({ type: 'run-started', backend: options.backend.name, mode: options.mode, resources: resources.map((r) => r.name), containers: Boolean(options.containers) });

  const cycle = async (reason: 'start' | 'interval' | 'change', only?: TemplateResource[]) => {
    const started = clock.now();
    const n = ++summary.cycles;
    const set = only ?? resources;
    emit({ type: 'cycle-started', cycle: n, reason, resources: set.map((r) => r.name) });
    const results = await processResources(set, options, signal, emit);
    const failed = results.filter((r) => FAILED.has(r.outcome)).length;
    const changed = results.filter((r) => CHANGED.has(r.outcome) || r.outcome === 'reload-failed-restored').length;
    summary.failed += failed;
    summary.changed += changed;
    summary.last = results;
    emit({ type: 'cycle-finished', cycle: n, changed, failed, ms: clock.now() - started });
  };

  try {
    if (options.mode === 'onetime') {
      await cycle('start');
    } else if (options.mode === 'interval') {
      for (let first = true; !signal.aborted; first = false) {
        if (!first && options.confdir && !options.resources) resources = await load();
        await cycle(first ? 'start' : 'interval');
        await clock.sleep(options.intervalMs ?? 600_000, signal);
      }
    } else {
      await watchLoop(options, resources, cycle, clock, signal, emit);
    }
  } catch (err) {
    if (!(isAbortError(err) && signal.aborted)) throw err;
  }
  summary.interrupted = signal.aborted;
  emit({ type: 'run-finished', cycles: summary.cycles, failed: summary.failed, interrupted: summary.interrupted });
  return summary;

}

async function processResources(set: TemplateResource[], options: TemplateRunOptions, signal: AbortSignal, emit: (e: TemplateEvent) => void): Promise<ApplyResult[]> {
  const rendered: { resource: TemplateResource; content: string }[] = [];
  const results: ApplyResult[] = [];
  for (const resource of set) {
    if (signal.aborted) break;
    try {
      rendered.push({ resource, content: await renderResource(resource, options.backend, options.render, signal) });
    } catch (err) {
      const error = asKibokoError(err);
      emit({ type: 'render-failed', resource: resource.name, dest: resource.dest, error });
      const r: ApplyResult = { resource: resource.name, dest: resource.dest, target: options.containers ? '*' : 'host', outcome: 'failed', reasons: [], error, warnings: [], ms: 0 };
      results.push(r);
    }
  }
  const applyOptions: ApplyOptions = { ...options.apply, signal };
  const applyAll = async (to: Destination) => {
    const out: ApplyResult[] = [];
    for (const { resource, content } of rendered) {
      if (signal.aborted) break;
      let result: ApplyResult;
      try {
        const plan = planResource(resource, content, await to.read(resource.dest));
        result = await applyPlan(plan, to, applyOptions);
      } catch (err) {
        result = { resource: resource.name, dest: resource.dest, target: to.label, outcome: 'failed', reasons: [], error: asKibokoError(err), warnings: [], ms: 0 };
      }
      emit({ type: 'result', result });
      out.push(result);
    }
    return out;
  };
  if (!options.containers) {
    results.push(...(await applyAll(hostDestination())));
    return results;
  }
  if (rendered.length === 0) return results;
  const { engine, query, selection, concurrency } = options.containers;
  const sel = await selectTargets(engine, query, { requireExplicit: true, ...selection });
  emit({
    type: 'targets',
    selected: sel.selected.map((c) => c.name),
    unmatched: sel.unmatched,
    skipped: sel.skipped.map((s) => ({ name: s.container.name, reason: s.reason })),
  });
  for (const name of sel.unmatched) {
    const error = new KibokoError('TARGET_NOT_FOUND', `no running container '${name}'`, { hint: 'check the name with `docker ps`' });
    const r: ApplyResult = { resource: '*', dest: '*', target: name, outcome: 'failed', reasons: [], error, warnings: [], ms: 0 };
    emit({ type: 'result', result: r });
    results.push(r);
  }
  const settled = await mapSettled(sel.selected, concurrency ?? 8, async (c) => {
    const tools = await probeTools(engine, c.id);
    return applyAll(containerDestination(engine, { id: c.id, name: c.name }, tools));
  });
  settled.forEach((s, i) => {
    if (s.ok) results.push(...s.value);
    else {
      const c = sel.selected[i]!;
      const r: ApplyResult = { resource: '*', dest: '*', target: c.name, outcome: 'failed', reasons: [], error: asKibokoError(s.error), warnings: [], ms: 0 };
      emit({ type: 'result', result: r });
      results.push(r);
    }
  });
  return results;
}

/**
 * `--watch`: the backend's watch beside the render loop; changes are collected (and, with
 * `wait`, left to settle) and only the resources they affect are rendered again.
 */
async function watchLoop(
  options: TemplateRunOptions,
  resources: TemplateResource[],
  cycle: (reason: 'start' | 'interval' | 'change', only?: TemplateResource[]) => Promise<void>,
  clock: Clock,
  signal: AbortSignal,
  emit: (e: TemplateEvent) => void,
): Promise<void> {
  const backend = options.backend;
  const prefixes = [...new Set(resources.flatMap((r) => prefixedKeys(r.prefix, r.keys)))];
  let pending: Set<string> | 'all' | undefined;
  let firstAt = 0;
  let lastAt = 0;
  let wake: (() => void) | undefined;
  const onChange = (keys: string[] | undefined) => {
    emit({ type: 'change', keys });
    const t = clock.now();
    if (pending === undefined) {
      pending = keys ? new Set(keys) : 'all';
      firstAt = t;
    } else if (pending !== 'all') {
      if (keys) for (const k of keys) pending.add(k);
      else pending = 'all';
    }
    lastAt = t;
    wake?.();
  };
  // The watch runs beside the render loop; a broken watch is retried every 2 s (as confd does).
  // The first render waits until the watch is established, so no change can slip in between.
  let ready: () => void = () => undefined;
  const established = new Promise<void>((resolve) => (ready = resolve));
  const watching = (async () => {
    while (!signal.aborted) {
      try {
        await backend.watch!(prefixes, signal, { onChange, onReady: ready, onNotice: (message) => emit({ type: 'notice', message }) });
      } catch (err) {
        if (signal.aborted) return;
        ready();
        emit({ type: 'notice', message: `watch failed: ${errorMessage(err)}; retrying in 2s` });
        await clock.sleep(2_000, signal).catch(() => undefined);
        onChange(undefined);
      }
    }
  })();
  await Promise.race([established, watching]);
  emit({ type: 'watching', prefixes });
  try {
    await cycle('start');
    while (!signal.aborted) {
      if (pending === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
        wake = undefined;
        continue;
      }
      if (options.wait) await quiesce(clock, options.wait, firstAt, () => lastAt, signal);
      const taken: Set<string> | 'all' = pending;
      pending = undefined;
      const affected = taken === 'all' ? resources : resources.filter((r) => [...taken].some((k) => affects(r, k)));
      if (affected.length) await cycle('change', affected);
    }
  } finally {
    await watching;
  }
}
