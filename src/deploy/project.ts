import { COMPOSE_LABELS, LABELS } from '../common/labels.js';
import { mapSettled } from '../common/concurrency.js';
import { KibokoError } from '../common/errors.js';
import type { ContainerSummary, Engine } from '../engine/index.js';
import { preStop } from './lifecycle-hooks.js';
import type { SystemConfig } from './model.js';
import { parseReplicaLabels, type ObservedReplica } from './observe.js';
import type { DeployPlan } from './plan.js';
import type { DeployStore } from './store.js';
import { compareNames } from '../common/collate.js';

/**
 * The project commands compose users type (`down`, `ps`, `logs`, `restart`, `pull`), over what
 * the engine holds for a project: kiboko's replicas and fronts, what `docker compose up` started,
 * and — on a Swarm node — the project's service tasks running here.
 */

/** Every container of a project (replicas, front proxies, containers docker compose started), by label. */
export async function projectContainers(engine: Engine, project: string): Promise<ContainerSummary[]> {
  const [ours, compose] = await Promise.all([
    engine.list({ all: true, labels: [`${LABELS.deployProject}=${project}`] }),
    engine.list({ all: true, labels: [`${COMPOSE_LABELS.project}=${project}`] }),
  ]);
  const seen = new Set(ours.map((c) => c.id));
  return [...ours, ...compose.filter((c) => !seen.has(c.id))];
}

/** The project's service containers (no front proxies), with their service and slot, sorted. */
export async function projectReplicas(engine: Engine, project: string, services: readonly string[] = []): Promise<ObservedReplica[]> {
  const all = (await projectContainers(engine, project)).map(parseReplicaLabels).filter((r): r is ObservedReplica => r !== undefined);
  for (const s of services) {
    if (!all.some((r) => r.service === s)) {
      throw new KibokoError('TARGET_NOT_FOUND', `project ${project} has no container of service ${s}`, { hint: `see \`kiboko deploy ps -p ${project}\`` });
    }
  }
  return all.filter((r) => services.length === 0 || services.includes(r.service)).sort((a, b) => compareNames(a.service, b.service) || a.slot - b.slot);
}

export interface PsRow {
  name: string;
  service: string;
  slot: number;
  image: string;
  status: string;
  health: string;
  ports: string[];
  /** `kiboko` or `docker compose` (an adopted container not yet replaced). */
  createdBy: 'kiboko' | 'docker compose';
}

/** `deploy ps`: one row per container of the project, like `docker compose ps -a`. */
export async function psProject(engine: Engine, project: string, services: readonly string[] = []): Promise<PsRow[]> {
  const rows: PsRow[] = [];
  for (const r of await projectReplicas(engine, project, services)) {
    const [d, spec] = await Promise.all([engine.inspect(r.id), engine.inspectSpec(r.id)]);
    rows.push({
      name: d.name,
      service: r.service,
      slot: r.slot,
      image: d.image,
      status: d.status,
      health: d.health,
      ports: (spec.ports ?? []).map((p) => `${p.hostIp ?? '0.0.0.0'}:${p.published ?? '?'}->${p.target}/${p.protocol}`),
      createdBy: r.adopted ? 'docker compose' : 'kiboko',
    });
  }
  // A front proxy holds a service's published ports: show them on its service's rows.
  for (const c of (await engine.list({ all: true, labels: [`${LABELS.deployProject}=${project}`, 'kiboko.deploy.front'] }))) {
    const spec = await engine.inspectSpec(c.id);
    const svc = c.labels['kiboko.deploy.front'];
    for (const row of rows.filter((x) => x.service === svc && x.ports.length === 0)) {
      row.ports = (spec.ports ?? []).map((p) => `${p.hostIp ?? '0.0.0.0'}:${p.published ?? '?'}->${p.target}/${p.protocol} (front)`);
    }
  }
  return rows;
}

export interface DownOptions {
  /** With a configuration: only its services' containers go, unless `removeOrphans`; without one, all of the project's. */
  config?: SystemConfig | undefined;
  volumes?: boolean;
  rmi?: 'local' | 'all' | undefined;
  removeOrphans?: boolean;
  /** Swarm: remove the project's services, secrets and configs. */
  swarm?: boolean;
  onEvent?: (e: DownEvent) => void;
}

export type DownEvent = { type: 'removed'; kind: 'container' | 'network' | 'volume' | 'image' | 'service' | 'secret' | 'config'; name: string } | { type: 'warning'; message: string };

export interface DownResult {
  project: string;
  removed: { containers: string[]; networks: string[]; volumes: string[]; images: string[]; services: string[]; secrets: string[]; configs: string[] };
  /** Containers of services not in the configuration that stayed (no --remove-orphans). */
  orphans: string[];
  revision?: number | undefined;
}

/**
 * `deploy down`: stops and removes the project's containers (and fronts), then its networks;
 * with `volumes` its named and anonymous volumes; with `rmi` its images. External networks and
 * volumes (not labelled as the project's) are never touched. Recorded in the deploy history.
 */
export async function downProject(engine: Engine, store: DeployStore | undefined, project: string, options: DownOptions = {}): Promise<DownResult> {
  const emit = options.onEvent ?? (() => undefined);
  const removed: DownResult['removed'] = { containers: [], networks: [], volumes: [], images: [], services: [], secrets: [], configs: [] };
  const orphans: string[] = [];
  const known = options.config ? new Set(options.config.services.map((s) => s.name)) : undefined;
  const config = options.config ?? store?.list(project, 1)[0]?.config ?? { project, services: [], networks: [], volumes: [], sources: [] };
  const plan: DeployPlan = { project, steps: [], order: [], changes: true };
  const revision = store?.begin({ project, trigger: 'down', source: options.config?.sources.join(',') || `project ${project}`, config, plan });
  try {
    if (options.swarm) {
      for (const s of await engine.listServices([`${LABELS.deployProject}=${project}`])) {
        await engine.removeService(s.id);
        removed.services.push(s.name);
        emit({ type: 'removed', kind: 'service', name: s.name });
      }
      for (const kind of ['secret', 'config'] as const) {
        for (const o of await engine.listSwarmObjects(kind, [`${LABELS.deployProject}=${project}`])) {
          // A task still shutting down holds it for a moment.
          await retry(() => engine.removeSwarmObject(kind, o.id));
          removed[kind === 'secret' ? 'secrets' : 'configs'].push(o.name);
          emit({ type: 'removed', kind, name: o.name });
        }
      }
    }
    const images = new Set<string>();
    const doomed: ContainerSummary[] = [];
    for (const c of await projectContainers(engine, project)) {
      const service = serviceOf(c);
      if (known && service && !known.has(service) && !options.removeOrphans) {
        orphans.push(c.name);
        continue;
      }
      if (c.labels[LABELS.deployService] || c.labels[COMPOSE_LABELS.service]) images.add(c.image);
      doomed.push(c);
    }
    // Containers go in parallel (at most DOWN_CONCURRENCY at once), dependents before what they
    // depend on (compose's order), each stopped with its service's stop_grace_period. The history
    // lists them in the order they were found, whatever order they finished in.
    const gone = new Set<string>();
    let failure: unknown;
    for (const wave of stopWaves(doomed, config)) {
      const settled = await mapSettled(wave, DOWN_CONCURRENCY, async (c) => {
        const hooks = config.services.find((x) => x.name === serviceOf(c))?.preStop ?? parseReplicaLabels(c)?.config?.preStop;
        if (c.status === 'running') await preStop(engine, c.id, hooks, (message) => emit({ type: 'warning', message: `${c.name}: ${message}` }));
        await engine.stop(c.id, stopGraceSeconds(c, config)).catch(() => undefined);
        await engine.remove(c.id, { force: true, volumes: Boolean(options.volumes) }).catch((err) => {
          if (!(err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND')) throw err;
        });
        emit({ type: 'removed', kind: 'container', name: c.name });
      });
      settled.forEach((r, i) => (r.ok ? gone.add(wave[i]!.id) : (failure ??= r.error)));
      if (failure !== undefined) break;
    }
    removed.containers.push(...doomed.filter((c) => gone.has(c.id)).map((c) => c.name));
    if (failure !== undefined) throw failure;
    if (orphans.length) emit({ type: 'warning', message: `containers of services not in the configuration stay: ${orphans.join(', ')} (add --remove-orphans to remove them)` });
    if (orphans.length === 0) {
      const nets = new Map<string, string>();
      for (const label of [`${LABELS.deployProject}=${project}`, `${COMPOSE_LABELS.project}=${project}`]) for (const n of await engine.listNetworks([label])) nets.set(n.id, n.name);
      for (const [id, name] of nets) {
        await retry(() => engine.removeNetwork(id));
        removed.networks.push(name);
        emit({ type: 'removed', kind: 'network', name });
      }
    }
    if (options.volumes) {
      const vols = new Set<string>();
      for (const label of [`${LABELS.deployProject}=${project}`, `${COMPOSE_LABELS.project}=${project}`]) for (const v of await engine.listVolumes([label])) vols.add(v.name);
      for (const name of vols) {
        await retry(() => engine.removeVolume(name));
        removed.volumes.push(name);
        emit({ type: 'removed', kind: 'volume', name });
      }
    }
    if (options.rmi) {
      // local: the images built for this project (labelled with it); all: every image its services ran.
      const built = (await engine.listImages([`${COMPOSE_LABELS.project}=${project}`])).flatMap((i) => i.tags);
      const targets = options.rmi === 'all' ? new Set([...images, ...built, ...config.services.map((s) => s.image)]) : new Set(built);
      for (const ref of targets) {
        try {
          await engine.removeImage(ref);
          removed.images.push(ref);
          emit({ type: 'removed', kind: 'image', name: ref });
        } catch (err) {
          if (!(err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND')) emit({ type: 'warning', message: `image ${ref} stays: ${(err as Error).message}` });
        }
      }
    }
    if (revision !== undefined) store!.finish(project, revision, 'ok', { down: removed, orphans });
    return { project, removed, orphans, revision };
  } catch (err) {
    if (revision !== undefined) store!.finish(project, revision, 'failed', { error: (err as Error).message, down: removed });
    throw err;
  }
}

/** Containers stopped and removed at once by `deploy down` (as many as apply creates at once). */
const DOWN_CONCURRENCY = 8;

const serviceOf = (c: { labels: Readonly<Record<string, string>> }): string | undefined => c.labels[LABELS.deployService] ?? c.labels[COMPOSE_LABELS.service] ?? c.labels['kiboko.deploy.front'];

/**
 * The seconds a container gets between SIGTERM and SIGKILL: its service's stop_grace_period (from
 * the configuration, else from the config kiboko recorded on it), compose's default 10 s otherwise.
 */
function stopGraceSeconds(c: ContainerSummary, config: SystemConfig): number {
  const service = serviceOf(c);
  const ms = config.services.find((s) => s.name === service)?.stopGracePeriodMs ?? parseReplicaLabels(c)?.config?.stopGracePeriodMs ?? 10_000;
  return Math.ceil(ms / 1000);
}

/**
 * `down`'s order, compose's: a service's containers stop before those of the services it depends
 * on. Each wave holds the containers whose dependents are all gone; fronts and containers of
 * services the configuration does not name go in the first wave.
 */
export function stopWaves<C extends { labels: Readonly<Record<string, string>> }>(containers: readonly C[], config: Pick<SystemConfig, 'services'>): C[][] {
  const dependents = new Map<string, Set<string>>();
  for (const s of config.services) for (const d of s.dependsOn) dependents.set(d.service, (dependents.get(d.service) ?? new Set()).add(s.name));
  const waves: C[][] = [];
  let left = [...containers];
  while (left.length) {
    const pending = new Set(left.map((c) => serviceOf(c) ?? ''));
    let wave = left.filter((c) => [...(dependents.get(serviceOf(c) ?? '') ?? [])].every((d) => !pending.has(d)));
    if (wave.length === 0) wave = left; // a depends_on cycle (refused when loaded, but an old record may have one): the rest together
    waves.push(wave);
    left = left.filter((c) => !wave.includes(c));
  }
  return waves;
}

/** Engine objects a just-removed container still holds are released within a moment. */
async function retry(fn: () => Promise<void>, attempts = 10): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND') return;
      if (i >= attempts || !(err instanceof KibokoError && (err.code === 'CONFLICT' || err.code === 'ENGINE_ERROR'))) throw err;
      await new Promise((r) => setTimeout(r, 300 * i));
    }
  }
}

/** `deploy restart [SERVICE…]`: restarts the project's containers (each with its stop grace period). */
export async function restartProject(engine: Engine, project: string, services: readonly string[] = [], onRestarted?: (name: string) => void): Promise<string[]> {
  const done: string[] = [];
  for (const r of await projectReplicas(engine, project, services)) {
    const grace = Math.ceil((r.config?.stopGracePeriodMs ?? 10_000) / 1000);
    await engine.restart(r.id, grace);
    done.push(r.name);
    onRestarted?.(r.name);
  }
  return done;
}

/**
 * `deploy pull`: pulls the images of the configuration's services, honouring pull_policy
 * (`never`/`build` are skipped; `missing` only when absent); services that build are skipped
 * unless they also name an image to pull with `always`.
 */
export async function pullProject(engine: Engine, config: SystemConfig, services: readonly string[] = [], onEvent?: (e: { service: string; image: string; outcome: 'pulled' | 'skipped' | 'failed'; detail?: string }) => void): Promise<{ failed: number }> {
  let failed = 0;
  for (const s of config.services.filter((x) => services.length === 0 || services.includes(x.name))) {
    const policy = typeof s.pullPolicy === 'object' ? 'always' : (s.pullPolicy ?? (s.build ? 'build' : 'missing'));
    if (policy === 'never' || policy === 'build' || (policy === 'missing' && (await engine.imageExists(s.image)))) {
      onEvent?.({ service: s.name, image: s.image, outcome: 'skipped', detail: policy === 'missing' ? 'present' : `pull_policy ${policy}` });
      continue;
    }
    try {
      await engine.pullImage(s.image);
      onEvent?.({ service: s.name, image: s.image, outcome: 'pulled' });
    } catch (err) {
      failed++;
      onEvent?.({ service: s.name, image: s.image, outcome: 'failed', detail: (err as Error).message });
    }
  }
  return { failed };
}
