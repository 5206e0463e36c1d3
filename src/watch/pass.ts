import { systemClock, type Clock } from '../common/clock.js';
import { mapSettled } from '../common/concurrency.js';
import { asKibokoError, errorSummary, KibokoError } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import { loadConfiguration, parseImageRef, type DeployStore, type ServiceSpec, type SystemConfig } from '../deploy/index.js';
import type { ContainerSummary, Engine } from '../engine/index.js';
import type { Journal } from '../journal/index.js';
import { formatReference, parseReference, pullImage, repositoryName, type CredentialOptions, type ImageReference, type RegistryClient } from '../registry/index.js';
import { newerTag } from './candidates.js';
import { updateContainer } from './container.js';
import { updateProject, type ServiceUpdate } from './service.js';
import { summarize, type WatchEvent, type WatchItem, type WatchOptions, type WatchReport, type WatchSelection } from './types.js';
import { WATCHTOWER_LABELS as W } from './watchtower.js';

export interface WatchDeps {
  engine: Engine;
  registry: RegistryClient;
  /** Deploy history (needed for projects). */
  store?: DeployStore | undefined;
  credentials?: CredentialOptions | undefined;
  clock?: Clock | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((e: WatchEvent) => void) | undefined;
  /** Container updates are journaled here before anything is touched (crash recovery). */
  journal?: Journal | undefined;
  /** Runs a project's update exclusively (the daemon: in the project's deploy queue). */
  projectLock?: (<T>(project: string, fn: () => Promise<T>) => Promise<T>) | undefined;
  /** Pull settings (tests shorten them). */
  pull?: { attempts?: number; backoffMs?: number; stallTimeoutMs?: number } | undefined;
}

/** One thing to check. */
export type Target =
  | { kind: 'service'; project: SystemConfig; service: ServiceSpec; containers: ContainerSummary[]; monitorOnly: boolean }
  | { kind: 'container'; container: ContainerSummary; monitorOnly: boolean };

interface Found {
  target: Target;
  item: WatchItem;
  /** The tag to set (services) when the tag moves. */
  tag?: string | undefined;
}

const IMAGE_ID = /^sha256:[0-9a-f]{64}$|^[0-9a-f]{12,64}$/;
const truthy = (v: string | undefined) => v !== undefined && /^(1|t|true|yes|on)$/i.test(v);
const falsy = (v: string | undefined) => v !== undefined && /^(0|f|false|no|off)$/i.test(v);

/** The standalone containers a pass watches, by Watchtower's rules (labels, names, scope, stopped). */
export async function watchedContainers(engine: Engine, o: WatchSelection): Promise<ContainerSummary[]> {
  const listed = await engine.list({ all: true });
  // The engine lists a container by its image id once its tag has moved to another image (a
  // pull, a push): the name it was created from is in its config.
  const all = await Promise.all(listed.map(async (c) => (IMAGE_ID.test(c.image) ? { ...c, image: await engine.inspect(c.id).then((d) => d.image, () => c.image) } : c)));
  return all.filter((c) => {
    const l = c.labels;
    if (l[LABELS.deployProject] || l[LABELS.managed] === 'true' && l[LABELS.role]) return false; // deploys and kiboko's helpers
    if (truthy(l[W.self])) return false;
    if (o.names?.length && !o.names.includes(c.name)) return false;
    if (o.disableContainers?.includes(c.name)) return false;
    const enable = l[W.kibokoEnable] ?? l[W.enable];
    if (o.labelEnable ? !truthy(enable) : falsy(enable)) return false;
    if (o.scope !== undefined && (l[W.scope] ?? '') !== o.scope) return false;
    if (c.status !== 'running' && !(o.includeStopped && (c.status === 'exited' || c.status === 'created'))) return false;
    if (IMAGE_ID.test(c.image)) return false; // created from an image id: nothing to follow
    return true;
  });
}

async function projectTargets(engine: Engine, o: WatchOptions): Promise<Target[]> {
  const out: Target[] = [];
  for (const p of o.projects ?? []) {
    const config = await loadConfiguration(p.files, { projectName: p.name });
    const running = await engine.list({ all: false, labels: [`${LABELS.deployProject}=${config.project}`] });
    // The daemon's per-service tag policies (deploy-config) override the configuration's own, as its deploys do.
    for (const spec of config.services) {
      const policy = p.tagPolicies?.[spec.name];
      const service = policy ? { ...spec, tagPolicy: policy } : spec;
      const containers = running.filter((c) => c.labels[LABELS.deployService] === service.name);
      const monitorOnly = Boolean(o.monitorOnly) || truthy(service.labels[W.monitorOnly]) || truthy(service.labels[W.kibokoMonitorOnly]);
      out.push({ kind: 'service', project: config, service, containers, monitorOnly });
    }
  }
  return out;
}

function matchesImages(image: string, images: readonly string[] | undefined): boolean {
  if (!images?.length) return true;
  let ref: ImageReference;
  try {
    ref = parseReference(image);
  } catch {
    return false;
  }
  return images.some((i) => {
    try {
      const want = parseReference(i);
      return want.registry === ref.registry && want.repository === ref.repository && (!/:[^/]+$/.test(i) || want.tag === ref.tag);
    } catch {
      return false;
    }
  });
}

/**
 * One pass: find what is watched, ask the registry what is newer (each repository's tags listed
 * once, each tag's digest asked once, tokens reused), then notify or update one by one.
 */
export async function runWatchPass(deps: WatchDeps, o: WatchOptions): Promise<WatchReport> {
  const clock = deps.clock ?? systemClock;
  const started = clock.now();
  const emit = (e: WatchEvent) => deps.onEvent?.(e);
  const at = () => new Date(clock.now()).toISOString();
  const targets: Target[] = await projectTargets(deps.engine, o);
  if (o.containers ?? true) {
    for (const c of await watchedContainers(deps.engine, o)) {
      const monitorOnly = Boolean(o.monitorOnly) || truthy(c.labels[W.monitorOnly]) || truthy(c.labels[W.kibokoMonitorOnly]);
      targets.push({ kind: 'container', container: c, monitorOnly });
    }
  }
  const selected = targets.filter((t) => matchesImages(t.kind === 'service' ? t.service.image : t.container.image, o.images));
  emit({ type: 'pass-started', at: at(), targets: selected.length });

  const tagCache = new Map<string, Promise<string[]>>();
  const digestCache = new Map<string, Promise<string>>();
  const tagsOf = (ref: ImageReference) => {
    const k = `${ref.registry}/${ref.repository}`;
    let p = tagCache.get(k);
    if (!p) tagCache.set(k, (p = deps.registry.listTags(ref, deps.signal)));
    return p;
  };
  const digestOf = (ref: ImageReference, tag: string) => {
    const k = `${ref.registry}/${ref.repository}:${tag}`;
    let p = digestCache.get(k);
    if (!p) digestCache.set(k, (p = deps.registry.resolve(ref, tag, deps.signal).then((m) => m.digest)));
    return p;
  };

  const checks = await mapSettled(selected, o.concurrency ?? 8, (t) => check(t, deps, o, clock, tagsOf, digestOf));
  const items: WatchItem[] = [];
  const byProject = new Map<string, { config: SystemConfig; found: Found[] }>();
  const containerUpdates: Found[] = [];
  checks.forEach((r, i) => {
    const t = selected[i]!;
    if (!r.ok) {
      const e = asKibokoError(r.error);
      const item: WatchItem = { ...baseItem(t), status: 'failed', reason: e.message, error: errorSummary(e) };
      items.push(item);
      emit({ type: 'item', at: at(), item });
      return;
    }
    const f = r.value;
    if (f.item.status !== 'newer' || f.target.monitorOnly) {
      items.push(f.item);
      emit({ type: 'item', at: at(), item: f.item });
      return;
    }
    if (f.target.kind === 'service') {
      const key = f.target.project.project;
      const entry = byProject.get(key) ?? { config: f.target.project, found: [] };
      entry.found.push(f);
      byProject.set(key, entry);
    } else containerUpdates.push(f);
  });

  const pull = async (image: string) =>
    pullImage(deps.engine, image, {
      credentials: deps.credentials,
      signal: deps.signal,
      clock,
      ...deps.pull,
      onProgress: (line) => emit({ type: 'pull-progress', at: at(), image, line }),
      onRetry: (r) => emit({ type: 'pull-retry', at: at(), image, attempt: r.attempt, waitMs: r.waitMs, reason: r.error.message }),
    });

  for (const { config, found } of byProject.values()) {
    if (deps.signal?.aborted) break;
    const updates: ServiceUpdate[] = found.map((f) => ({ service: (f.target as Extract<Target, { kind: 'service' }>).service, item: f.item, tag: f.tag }));
    const update = () => updateProject(config, updates, { engine: deps.engine, store: deps.store, pull, clock, signal: deps.signal, healthTimeoutMs: o.healthTimeoutMs, warn: (message) => emit({ type: 'warning', at: at(), message }) });
    const done = deps.projectLock ? await deps.projectLock(config.project, update) : await update();
    for (const item of done) {
      items.push(item);
      emit({ type: 'item', at: at(), item });
    }
  }
  for (const f of orderByDependencies(containerUpdates)) {
    if (deps.signal?.aborted) break;
    const t = f.target as Extract<Target, { kind: 'container' }>;
    const item = await updateContainer(t.container, f.item, { engine: deps.engine, pull, clock, signal: deps.signal, journal: deps.journal, options: o, warn: (message) => emit({ type: 'warning', at: at(), message }) });
    items.push(item);
    emit({ type: 'item', at: at(), item });
  }
  const report = summarize(items, started, clock.now(), deps.registry.stats);
  emit({ type: 'pass-finished', at: at(), report });
  return report;
}

function baseItem(t: Target): Omit<WatchItem, 'status'> {
  return t.kind === 'service'
    ? { kind: 'service', name: `${t.project.project}/${t.service.name}`, image: t.service.image, ...(t.monitorOnly ? { monitorOnly: true } : {}) }
    : { kind: 'container', name: t.container.name, image: t.container.image, ...(t.monitorOnly ? { monitorOnly: true } : {}) };
}

/** What the registry has that is newer than what runs; pure reads (registry and engine inspections). */
async function check(
  t: Target,
  deps: WatchDeps,
  o: WatchOptions,
  clock: Clock,
  tagsOf: (r: ImageReference) => Promise<string[]>,
  digestOf: (r: ImageReference, tag: string) => Promise<string>,
): Promise<Found> {
  const base = baseItem(t);
  const image = t.kind === 'service' ? t.service.image : t.container.image;
  const ref = parseReference(image);
  if (t.kind === 'service' && t.containers.length === 0) return { target: t, item: { ...base, status: 'skipped', reason: 'not deployed (no running containers); deploy it first' } };
  if (ref.digest) return { target: t, item: { ...base, status: 'skipped', reason: 'pinned to a digest' } };
  let found: { newImage: string; change: 'tag' | 'digest'; digest?: string | undefined; tag?: string | undefined } | undefined;
  if (t.kind === 'service' && t.service.tagPolicy.kind !== 'pinned') {
    const tag = newerTag(t.service.tagPolicy, parseImageRef(t.service.image).tag, await tagsOf(ref));
    if (tag) found = { newImage: formatReference(ref, { tag }), change: 'tag', tag };
  }
  if (!found) {
    // The same tag: has it moved on the registry since the running image was pulled?
    const remote = await digestOf(ref, ref.tag);
    const imageId = t.kind === 'service' ? (await deps.engine.inspect(t.containers[0]!.id)).imageId : (await deps.engine.inspect(t.container.id)).imageId;
    const local = (await deps.engine.inspectImage(imageId)).repoDigests ?? [];
    const repo = repositoryName(ref);
    const mine = local.filter((d) => d.slice(0, d.lastIndexOf('@')) === repo || parseReference(d).repository === ref.repository);
    if (mine.length === 0) return { target: t, item: { ...base, status: 'skipped', reason: `the running image has no digest from ${ref.registry} (built or loaded locally); nothing to compare` } };
    if (mine.some((d) => d.endsWith(`@${remote}`))) return { target: t, item: { ...base, status: 'up-to-date', digest: remote } };
    found = { newImage: `${repo}@${remote}`, change: 'digest', digest: remote };
  }
  const minAge = o.minAgeMs ?? minAgeLabel(t);
  if (minAge) {
    const created = await deps.registry.created(ref, found.digest ?? found.tag!, deps.signal);
    if (!created) return { target: t, item: { ...base, status: 'skipped', ...found, reason: 'the image records no creation time; --min-age cannot be checked' } };
    const age = clock.now() - created.getTime();
    if (age < minAge) return { target: t, item: { ...base, status: 'skipped', ...found, reason: `newer image is ${Math.round(age / 60000)} min old, younger than --min-age ${Math.round(minAge / 60000)} min` } };
  }
  return { target: t, item: { ...base, status: 'newer', newImage: found.newImage, change: found.change, ...(found.digest ? { digest: found.digest } : {}) }, tag: found.tag };
}

function minAgeLabel(t: Target): number | undefined {
  const v = t.kind === 'service' ? t.service.labels[W.kibokoMinAge] : t.container.labels[W.kibokoMinAge];
  if (!v) return undefined;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(v.trim());
  if (!m) throw new KibokoError('INVALID_ARGUMENT', `invalid label ${W.kibokoMinAge}=${v.slice(0, 40)}: expected a duration like 1h`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
}

/** Containers another depends on (depends-on label) are updated first. */
function orderByDependencies(found: Found[]): Found[] {
  const name = (f: Found) => (f.target as Extract<Target, { kind: 'container' }>).container.name;
  const deps = (f: Found) => ((f.target as Extract<Target, { kind: 'container' }>).container.labels[W.dependsOn] ?? '').split(',').map((s) => s.trim().replace(/^\//, '')).filter(Boolean);
  const byName = new Map(found.map((f) => [name(f), f]));
  const out: Found[] = [];
  const seen = new Set<string>();
  const visit = (f: Found, stack: Set<string>) => {
    const n = name(f);
    if (seen.has(n) || stack.has(n)) return;
    stack.add(n);
    for (const d of deps(f)) {
      const g = byName.get(d);
      if (g) visit(g, stack);
    }
    seen.add(n);
    out.push(f);
  };
  for (const f of found) visit(f, new Set());
  return out;
}

export { KibokoError };
