import type Docker from 'dockerode';
import type { SwarmNode, SwarmObject, SwarmService, SwarmServiceDefinition, SwarmTask } from '../types.js';
import type { DockerContext } from './context.js';
import { serviceSpec } from './service-spec.js';

export async function listServices(ctx: DockerContext, labels: readonly string[] = []): Promise<SwarmService[]> {
  const raw = await ctx.call('list services', () => ctx.docker.listServices({ filters: JSON.stringify(labels.length ? { label: [...labels] } : {}) }));
  return ((raw ?? []) as unknown as RawService[]).map(toSwarmService);
}

export async function inspectService(ctx: DockerContext, idOrName: string): Promise<SwarmService> {
  const raw = await ctx.call(`inspect service ${idOrName}`, () => ctx.docker.getService(idOrName).inspect());
  return toSwarmService(raw as unknown as RawService);
}

export async function createService(ctx: DockerContext, definition: SwarmServiceDefinition): Promise<string> {
  const r = await ctx.call(`create service ${definition.name}`, () => ctx.docker.createService(serviceSpec(definition) as unknown as Docker.CreateServiceOptions));
  return (r as unknown as { id?: string; ID?: string } | undefined)?.id ?? (r as unknown as { ID?: string } | undefined)?.ID ?? '';
}

export async function updateService(ctx: DockerContext, id: string, version: number, definition: SwarmServiceDefinition): Promise<void> {
  await ctx.call(`update service ${definition.name}`, () =>
    ctx.docker.getService(id).update({ ...serviceSpec(definition), version } as unknown as Docker.ServiceSpec & { version: number }),
  );
}

export async function removeService(ctx: DockerContext, idOrName: string): Promise<void> {
  await ctx.call(`remove service ${idOrName}`, () => ctx.docker.getService(idOrName).remove());
}

export async function listTasks(ctx: DockerContext, serviceId: string): Promise<SwarmTask[]> {
  const raw = (await ctx.call(`list tasks of ${serviceId}`, () => ctx.docker.listTasks({ filters: JSON.stringify({ service: [serviceId] }) }))) as unknown as {
    ID: string;
    NodeID?: string;
    DesiredState?: string;
    Status?: { State?: string; Message?: string; Err?: string };
    Spec?: { ContainerSpec?: { Image?: string } };
  }[];
  return (raw ?? []).map((t) => ({
    id: t.ID,
    state: t.Status?.State ?? 'unknown',
    desiredState: t.DesiredState ?? 'unknown',
    message: t.Status?.Message ?? '',
    error: t.Status?.Err,
    image: t.Spec?.ContainerSpec?.Image ?? '',
    nodeId: t.NodeID ?? '',
  }));
}

interface RawNode {
  ID: string;
  Spec?: { Labels?: Record<string, string>; Role?: string; Availability?: string };
  Description?: { Hostname?: string };
  Status?: { State?: string; Addr?: string };
  ManagerStatus?: { Addr?: string };
}

/** The nodes, with the engine's own (docker info's Swarm.NodeID) marked `self`. */
export async function listNodes(ctx: DockerContext): Promise<SwarmNode[]> {
  const [raw, info] = await Promise.all([
    ctx.call('list nodes', () => ctx.docker.listNodes()) as Promise<unknown>,
    ctx.call('info', () => ctx.docker.info()) as Promise<{ Swarm?: { NodeID?: string } }>,
  ]);
  return ((raw ?? []) as RawNode[]).map((n) => ({
    id: n.ID,
    hostname: n.Description?.Hostname ?? '',
    addr: nodeAddr(n),
    role: n.Spec?.Role === 'manager' ? ('manager' as const) : ('worker' as const),
    availability: n.Spec?.Availability ?? 'active',
    state: n.Status?.State ?? 'unknown',
    labels: n.Spec?.Labels ?? {},
    self: Boolean(info.Swarm?.NodeID) && n.ID === info.Swarm?.NodeID,
  }));
}

/** Status.Addr, unless it is the unspecified 0.0.0.0 a manager may report: then the host of its advertised manager address. */
function nodeAddr(n: RawNode): string {
  const addr = n.Status?.Addr ?? '';
  if (addr && addr !== '0.0.0.0') return addr;
  // host:port, or [v6]:port
  const host = /^\[?(.*?)\]?(?::\d+)?$/.exec(n.ManagerStatus?.Addr ?? '')?.[1] ?? '';
  return host || addr;
}

export async function createSwarmObject(ctx: DockerContext, kind: 'secret' | 'config', name: string, data: Buffer, labels: Readonly<Record<string, string>> = {}): Promise<string> {
  const body = { Name: name, Labels: { ...labels }, Data: data.toString('base64') };
  const r = await ctx.call(`create ${kind} ${name}`, () => (kind === 'secret' ? ctx.docker.createSecret(body) : ctx.docker.createConfig(body)) as Promise<unknown>);
  return (r as unknown as { id?: string; ID?: string } | undefined)?.id ?? (r as unknown as { ID?: string } | undefined)?.ID ?? '';
}

export async function listSwarmObjects(ctx: DockerContext, kind: 'secret' | 'config', labels: readonly string[] = []): Promise<SwarmObject[]> {
  const filters = JSON.stringify(labels.length ? { label: [...labels] } : {});
  const raw = (await ctx.call(`list ${kind}s`, () => (kind === 'secret' ? ctx.docker.listSecrets({ filters }) : ctx.docker.listConfigs({ filters })) as Promise<unknown>)) as unknown as
    | { ID: string; Spec?: { Name?: string; Labels?: Record<string, string> } }[]
    | undefined;
  return (raw ?? []).map((o) => ({ id: o.ID, name: o.Spec?.Name ?? o.ID, labels: o.Spec?.Labels ?? {} }));
}

export async function removeSwarmObject(ctx: DockerContext, kind: 'secret' | 'config', idOrName: string): Promise<void> {
  await ctx.call(`remove ${kind} ${idOrName}`, () => (kind === 'secret' ? ctx.docker.getSecret(idOrName).remove() : ctx.docker.getConfig(idOrName).remove()) as Promise<unknown>);
}

interface RawService {
  ID: string;
  Version?: { Index?: number };
  Spec?: { Name?: string; Labels?: Record<string, string>; Mode?: { Replicated?: { Replicas?: number } }; TaskTemplate?: { ContainerSpec?: { Image?: string } } };
  UpdateStatus?: { State?: string; Message?: string; StartedAt?: string };
}

function toSwarmService(s: RawService): SwarmService {
  return {
    id: s.ID,
    name: s.Spec?.Name ?? s.ID,
    version: s.Version?.Index ?? 0,
    labels: s.Spec?.Labels ?? {},
    image: s.Spec?.TaskTemplate?.ContainerSpec?.Image ?? '',
    replicas: s.Spec?.Mode?.Replicated?.Replicas ?? 0,
    updateState: s.UpdateStatus?.State as SwarmService['updateState'],
    updateMessage: s.UpdateStatus?.Message,
    updateStartedAt: s.UpdateStatus?.StartedAt,
  };
}

