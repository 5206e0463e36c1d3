import type { ErrorSummary } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import type { ContainerDetails, Engine } from '../engine/index.js';
import type { DeployService } from './deploys.js';
import { compareNames } from '../common/collate.js';

/** One replica as an operator needs it: what it runs, its state, and its healthcheck's last word. */
export interface ReplicaView {
  id: string;
  name: string;
  /** The image the container was created from (as the engine records it). */
  image: string;
  imageId: string;
  status: string;
  health: string;
  startedAt: string;
  restartCount: number;
  lastHealthcheck?: { start: string; exitCode: number; output: string } | undefined;
}

export interface ServiceView {
  name: string;
  /** The image the configuration asks for. */
  configured: string;
  /** The distinct images the service's containers run. */
  running: string[];
  /** Some replica runs another image than the configured one. */
  differs: boolean;
  replicas: number;
  replicasRunning: number;
  containers: ReplicaView[];
}

export interface ProjectView {
  name: string;
  services: ServiceView[];
  error?: ErrorSummary | undefined;
}

/** At most this many containers per project are inspected per request (each is one engine call). */
const MAX_INSPECT = 200;

/** `nginx` → `docker.io/library/nginx:latest`, so refs that name the same image compare equal. */
export function normalizeImageRef(ref: string): string {
  let r = ref.trim();
  if (/^sha256:[0-9a-f]{64}$/.test(r)) return r;
  const at = r.indexOf('@');
  const digest = at >= 0 ? r.slice(at) : '';
  if (at >= 0) r = r.slice(0, at);
  const slash = r.lastIndexOf('/');
  const colon = r.lastIndexOf(':');
  if (!digest && colon <= slash) r += ':latest';
  const first = r.split('/')[0]!;
  const hasRegistry = r.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) r = `docker.io/${r.includes('/') ? '' : 'library/'}${r}`;
  return r + digest;
}

/** Whether a replica runs the configured image (compared by normalised reference). */
export function runsConfigured(configured: string, replica: Pick<ReplicaView, 'image'>): boolean {
  return normalizeImageRef(configured) === normalizeImageRef(replica.image);
}

const replicaOf = (d: ContainerDetails): ReplicaView => ({
  id: d.id,
  name: d.name,
  image: d.image,
  imageId: d.imageId,
  status: d.status,
  health: d.health,
  startedAt: d.startedAt,
  restartCount: d.restartCount,
  ...(d.lastHealthcheck ? { lastHealthcheck: { ...d.lastHealthcheck, output: d.lastHealthcheck.output.slice(0, 2000) } } : {}),
});

/**
 * `GET /v1/services`: each configured project's services with the image configured next to the
 * images its containers really run, and every replica's state and last healthcheck output.
 */
export async function servicesView(deploys: DeployService, engine: Engine): Promise<ProjectView[]> {
  const out: ProjectView[] = [];
  for (const p of await deploys.projects()) {
    if ('error' in p && p.error) {
      out.push({ name: p.name, services: [], error: p.error });
      continue;
    }
    const listed = await engine.list({ all: true, labels: [`${LABELS.deployProject}=${p.name}`] }).catch(() => []);
    const details = await Promise.all(listed.slice(0, MAX_INSPECT).map((c) => engine.inspect(c.id).catch(() => undefined)));
    const bySvc = new Map<string, ReplicaView[]>();
    for (const d of details) {
      const svc = d?.labels[LABELS.deployService];
      if (!d || !svc) continue;
      bySvc.set(svc, [...(bySvc.get(svc) ?? []), replicaOf(d)]);
    }
    out.push({
      name: p.name,
      services: p.services.map((s) => {
        const containers = (bySvc.get(s.name) ?? []).sort((a, b) => compareNames(a.name, b.name));
        const live = containers.filter((c) => c.status !== 'exited' && c.status !== 'dead' && c.status !== 'created');
        const running = [...new Set(live.map((c) => c.image))];
        return {
          name: s.name,
          configured: s.image,
          running,
          differs: live.some((c) => !runsConfigured(s.image, c)),
          replicas: s.replicas,
          replicasRunning: s.running,
          containers,
        };
      }),
    });
  }
  return out;
}
