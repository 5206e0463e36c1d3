import { KibokoError } from '../../common/errors.js';
import { LABELS } from '../../common/labels.js';
import type { Engine } from '../../engine/index.js';
import { buildHostToolsImage, type HostToolsImage } from '../../images/index.js';
import { canonicalJson } from '../hash.js';
import type { PortMapping } from '../model.js';
import { FRONT_SCRIPT } from './proxy-script.js';

/** The front proxy image, built FROM scratch from this host's node binary (no registry needed). */
export const FRONT_IMAGE: HostToolsImage = {
  tag: 'kiboko/front:local',
  programs: ['node'],
  files: { '/kiboko/front.cjs': FRONT_SCRIPT },
  entrypoint: ['node', '/kiboko/front.cjs'],
};

const FRONT_LABEL = 'kiboko.deploy.front';
const FRONT_PORTS_LABEL = 'kiboko.deploy.front-ports';

export interface Front {
  id: string;
  service: string;
  upstreams: string[];
}

export const frontName = (project: string, service: string): string => `${project}-${service}-front`;

/** The TCP ports a front serves; UDP cannot be proxied this way. */
export function frontPorts(ports: readonly PortMapping[]): PortMapping[] {
  return ports.filter((p) => p.protocol === 'tcp');
}

export async function ensureFrontImage(engine: Engine): Promise<void> {
  if (!(await engine.imageExists(FRONT_IMAGE.tag))) await buildHostToolsImage(engine, FRONT_IMAGE);
}

/**
 * The service's front: one long-lived container holding its published TCP ports on the project
 * network, forwarding to the replicas kiboko lists. Recreated only when the published ports
 * change (that is the one moment a client may be refused).
 */
export async function ensureFront(engine: Engine, project: string, service: string, network: string, ports: readonly PortMapping[], upstreams: readonly string[]): Promise<Front & { created: boolean }> {
  const tcp = frontPorts(ports);
  const portsKey = canonicalJson(tcp);
  const existing = (await engine.list({ all: true, labels: [`${LABELS.deployProject}=${project}`, `${FRONT_LABEL}=${service}`] }))[0];
  if (existing && existing.labels[FRONT_PORTS_LABEL] === portsKey && existing.status === 'running') {
    return { id: existing.id, service, upstreams: [...upstreams], created: false };
  }
  if (existing) await engine.remove(existing.id, { force: true });
  await ensureFrontImage(engine);
  const listeners = tcp.map((p) => ({ port: p.published ?? p.target, targetPort: p.target }));
  const ref = await engine.create({
    name: frontName(project, service),
    image: FRONT_IMAGE.tag,
    env: [`KIBOKO_FRONT=${JSON.stringify({ listeners, upstreams })}`],
    ports: tcp.map((p) => ({ target: p.published ?? p.target, protocol: 'tcp' as const, published: p.published, hostIp: p.hostIp })),
    networks: [{ name: network }],
    restartPolicy: { name: 'unless-stopped' },
    stopSignal: 'SIGTERM',
    labels: { [LABELS.managed]: 'true', [LABELS.deployProject]: project, [FRONT_LABEL]: service, [FRONT_PORTS_LABEL]: portsKey },
  });
  await engine.start(ref.id);
  return { id: ref.id, service, upstreams: [...upstreams], created: true };
}

/** Atomically replaces the set of replicas new connections go to; resolves once the front applied it. */
export async function setUpstreams(engine: Engine, front: Front, upstreams: readonly string[]): Promise<void> {
  const r = await engine.exec(front.id, { cmd: ['node', '/kiboko/front.cjs', 'set', JSON.stringify(upstreams)] });
  if (r.exitCode !== 0) throw new KibokoError('ACTION_FAILED', `front of ${front.service} did not take its new upstreams: ${(r.stderr || r.stdout).trim()}`);
  front.upstreams = [...upstreams];
}

/** Waits until no connection through the front is open to `upstream` (or the timeout passes). */
export async function drain(engine: Engine, front: Front, upstream: string, timeoutMs: number, clock: { now(): number; sleep(ms: number): Promise<void> }): Promise<boolean> {
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const r = await engine.exec(front.id, { cmd: ['node', '/kiboko/front.cjs', 'status'] });
    const status = JSON.parse(r.stdout || '{}') as { active?: Record<string, number> };
    if (!status.active?.[upstream]) return true;
    if (clock.now() > deadline) return false;
    await clock.sleep(100);
  }
}

export async function removeFront(engine: Engine, project: string, service: string): Promise<void> {
  for (const c of await engine.list({ all: true, labels: [`${LABELS.deployProject}=${project}`, `${FRONT_LABEL}=${service}`] })) {
    await engine.remove(c.id, { force: true });
  }
}
