import type Docker from 'dockerode';
import { KibokoError } from '../../common/errors.js';
import { ANNOTATIONS_API, annotationsUnsupported, compareVersions } from '../api-version.js';
import type { CloneOptions, ContainerDetails, ContainerRef, ContainerSpec, ContainerStats, ContainerStatus, ContainerSummary, ListOptions, RemoveOptions } from '../types.js';
import type { DockerContext } from './context.js';
import { createBody, endpointOf, specFromInspect, type RawContainer } from './create-body.js';
import type { RawImage } from './images.js';
import { connectNetwork } from './networks.js';

export async function listContainers(ctx: DockerContext, options: ListOptions = {}): Promise<ContainerSummary[]> {
  const filters: Record<string, string[]> = {};
  if (options.labels?.length) filters.label = [...options.labels];
  const raw = await ctx.call('list containers', () =>
    ctx.docker.listContainers({ all: options.all ?? false, filters: JSON.stringify(filters) }),
  );
  return (raw ?? []).map((c) => ({
    id: c.Id,
    name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''),
    image: c.Image,
    labels: c.Labels ?? {},
    status: (c.State as ContainerStatus) ?? 'created',
    created: c.Created,
  }));
}

export async function inspectContainer(ctx: DockerContext, idOrName: string): Promise<ContainerDetails> {
  const c = await ctx.call(`inspect ${idOrName}`, () => ctx.docker.getContainer(idOrName).inspect());
  if (!c) throw new KibokoError('INTERNAL', `inspect ${idOrName}: empty answer`);
  const networks: Record<string, { ipAddress: string }> = {};
  for (const [name, n] of Object.entries(c.NetworkSettings?.Networks ?? {})) networks[name] = { ipAddress: n.IPAddress };
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    image: c.Config?.Image ?? c.Image,
    labels: c.Config?.Labels ?? {},
    status: (c.State?.Status as ContainerStatus) ?? 'created',
    created: Math.floor(Date.parse(c.Created) / 1000),
    pid: c.State?.Pid ?? 0,
    startedAt: c.State?.StartedAt ?? '',
    finishedAt: c.State?.FinishedAt ?? '',
    exitCode: c.State?.ExitCode ?? 0,
    restartCount: c.RestartCount ?? 0,
    stopSignal: (c.Config as { StopSignal?: string } | undefined)?.StopSignal || undefined,
    networks,
    mounts: (c.Mounts ?? []).map((m) => ({
      type: m.Type,
      name: (m as { Name?: string }).Name,
      source: m.Source,
      destination: m.Destination,
    })),
    health: ((c.State as { Health?: { Status?: string } })?.Health?.Status as ContainerDetails['health'] | undefined) ?? 'none',
    hasHealthcheck: Boolean((c.Config as { Healthcheck?: { Test?: string[] } })?.Healthcheck?.Test?.length) && (c.Config as { Healthcheck?: { Test?: string[] } }).Healthcheck!.Test![0] !== 'NONE',
    ...healthLog((c.State as { Health?: RawHealth } | undefined)?.Health),
    imageId: c.Image,
    publishesPorts:
      c.HostConfig?.NetworkMode === 'host' ||
      Boolean((c.HostConfig as { PublishAllPorts?: boolean } | undefined)?.PublishAllPorts) ||
      Object.values(c.HostConfig?.PortBindings ?? {}).some((b) => Array.isArray(b) && b.length > 0),
  };
}

export async function cloneContainer(ctx: DockerContext, id: string, options: CloneOptions): Promise<ContainerRef> {
  const c = (await ctx.call(`inspect ${id}`, () => ctx.docker.getContainer(id).inspect())) as unknown as RawCloneSource;
  const oldImage = (await ctx.call(`inspect image ${c.Image}`, () => ctx.docker.getImage(c.Image).inspect()).catch(() => undefined)) as unknown as RawImage | undefined;
  const config: Record<string, unknown> = { ...c.Config, Image: options.image };
  const imageConfig = (oldImage?.Config ?? {}) as Record<string, unknown>;
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  // What the old image supplied is dropped, so the new image's defaults apply (Watchtower's rule).
  for (const k of ['Cmd', 'Entrypoint', 'WorkingDir', 'User', 'Healthcheck', 'StopSignal', 'Volumes', 'ExposedPorts']) {
    if (k in imageConfig && same(config[k], imageConfig[k])) delete config[k];
  }
  const imageEnv = new Set((imageConfig.Env as string[] | undefined) ?? []);
  config.Env = ((config.Env as string[] | undefined) ?? []).filter((e) => !imageEnv.has(e));
  const imageLabels = (imageConfig.Labels as Record<string, string> | undefined) ?? {};
  config.Labels = { ...Object.fromEntries(Object.entries((config.Labels as Record<string, string> | undefined) ?? {}).filter(([k, v]) => imageLabels[k] !== v)), ...(options.labels ?? {}) };
  delete config.Hostname; // the engine gives the new container its own (its id), as on create
  delete config.Domainname;
  const networks: Record<string, unknown> = {};
  for (const [name, n] of Object.entries(c.NetworkSettings?.Networks ?? {})) {
    const net = n as { Aliases?: string[] | null; IPAMConfig?: unknown; Links?: unknown; DriverOpts?: unknown };
    // The old container's short id is an alias the engine adds by itself; it must not follow.
    const aliases = (net.Aliases ?? []).filter((a) => !c.Id.startsWith(a));
    networks[name] = { Aliases: aliases, IPAMConfig: net.IPAMConfig ?? undefined, Links: net.Links ?? undefined, DriverOpts: net.DriverOpts ?? undefined };
  }
  const mode = c.HostConfig?.NetworkMode ?? '';
  const attach = mode === 'host' || mode === 'none' || mode.startsWith('container:') ? {} : networks;
  const created = await ctx.call(`create ${options.name}`, () =>
    ctx.docker.createContainer({ ...config, name: options.name, HostConfig: c.HostConfig, NetworkingConfig: { EndpointsConfig: attach } } as Docker.ContainerCreateOptions),
  );
  if (!created) throw new KibokoError('INTERNAL', `create ${options.name}: empty answer`);
  return { id: created.id, name: options.name };
}

export async function createContainer(ctx: DockerContext, spec: ContainerSpec): Promise<ContainerRef> {
  if (spec.annotations && Object.keys(spec.annotations).length) {
    // An older engine would drop HostConfig.Annotations without a word.
    const { negotiatedApiVersion } = await ctx.info();
    if (compareVersions(negotiatedApiVersion, ANNOTATIONS_API) < 0) throw annotationsUnsupported(ctx.endpoint, negotiatedApiVersion);
  }
  const [firstNet, ...otherNets] = spec.networks ?? [];
  const c = await ctx.call(`create ${spec.name ?? spec.image}`, () => ctx.docker.createContainer(createBody(spec) as Docker.ContainerCreateOptions));
  if (!c) throw new KibokoError('INTERNAL', 'create: empty answer');
  void firstNet;
  for (const net of otherNets) await connectNetwork(ctx, net.name, c.id, net.aliases, endpointOf(net));
  return { id: c.id, name: spec.name ?? c.id.slice(0, 12) };
}

export async function inspectSpec(ctx: DockerContext, idOrName: string): Promise<ContainerSpec & { name: string }> {
  const c = await ctx.call(`inspect ${idOrName}`, () => ctx.docker.getContainer(idOrName).inspect());
  if (!c) throw new KibokoError('INTERNAL', `inspect ${idOrName}: empty answer`);
  return specFromInspect(c as unknown as RawContainer);
}

export async function renameContainer(ctx: DockerContext, idOrName: string, newName: string): Promise<void> {
  await ctx.call(`rename ${idOrName} to ${newName}`, () => ctx.docker.getContainer(idOrName).rename({ name: newName }));
}

export async function startContainer(ctx: DockerContext, id: string): Promise<void> {
  await ctx.call(`start ${id}`, () => ctx.docker.getContainer(id).start());
}

export async function stopContainer(ctx: DockerContext, id: string, timeoutSeconds: number): Promise<void> {
  await ctx.call(`stop ${id}`, () => ctx.docker.getContainer(id).stop({ t: timeoutSeconds }));
}

export async function killContainer(ctx: DockerContext, id: string, signal: string): Promise<void> {
  await ctx.call(`kill ${id}`, () => ctx.docker.getContainer(id).kill({ signal }));
}

export async function pauseContainer(ctx: DockerContext, id: string): Promise<void> {
  await ctx.call(`pause ${id}`, () => ctx.docker.getContainer(id).pause());
}

export async function unpauseContainer(ctx: DockerContext, id: string): Promise<void> {
  await ctx.call(`unpause ${id}`, () => ctx.docker.getContainer(id).unpause());
}

export async function restartContainer(ctx: DockerContext, id: string, timeoutSeconds: number): Promise<void> {
  await ctx.call(`restart ${id}`, () => ctx.docker.getContainer(id).restart({ t: timeoutSeconds }));
}

export async function removeContainer(ctx: DockerContext, id: string, options: RemoveOptions = {}): Promise<void> {
  await ctx.call(`remove ${id}`, () =>
    ctx.docker.getContainer(id).remove({ force: options.force ?? false, link: options.links ?? false, v: options.volumes ?? false }),
  );
}

export async function waitContainer(ctx: DockerContext, id: string, signal?: AbortSignal): Promise<number> {
  const r = await ctx.call(`wait ${id}`, () =>
    ctx.docker.getContainer(id).wait({ condition: 'not-running', abortSignal: signal } as object),
  );
  return (r as { StatusCode?: number } | undefined)?.StatusCode ?? 0;
}

export async function containerStats(ctx: DockerContext, id: string): Promise<ContainerStats> {
  const s = (await ctx.call(`stats ${id}`, () => ctx.docker.getContainer(id).stats({ stream: false }))) as unknown as {
    read: string;
    cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
    memory_stats?: { usage?: number };
  };
  return {
    cpuTotalNs: s?.cpu_stats?.cpu_usage?.total_usage ?? 0,
    systemCpuNs: s?.cpu_stats?.system_cpu_usage ?? 0,
    onlineCpus: s?.cpu_stats?.online_cpus ?? 1,
    memoryBytes: s?.memory_stats?.usage ?? 0,
    read: s?.read ?? new Date().toISOString(),
  };
}

export async function putArchive(ctx: DockerContext, id: string, destDir: string, tar: Buffer): Promise<void> {
  await ctx.call(`copy into ${id}:${destDir}`, () => ctx.docker.getContainer(id).putArchive(tar, { path: destDir }));
}

export async function getArchive(ctx: DockerContext, id: string, path: string): Promise<Buffer> {
  const op = `copy from ${id}:${path}`;
  const buf = await ctx.call(op, async () => {
    const stream = (await ctx.docker.getContainer(id).getArchive({ path })) as unknown as NodeJS.ReadableStream;
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
    return Buffer.concat(chunks);
  });
  return buf ?? Buffer.alloc(0);
}

interface RawCloneSource {
  Id: string;
  Image: string;
  Config: Record<string, unknown>;
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { Networks?: Record<string, unknown> };
}

interface RawHealth {
  FailingStreak?: number;
  Log?: { Start?: string; ExitCode?: number; Output?: string }[] | null;
}

/** The last healthcheck run and the failing streak, from State.Health. */
function healthLog(h: RawHealth | undefined): Pick<ContainerDetails, 'lastHealthcheck' | 'failingStreak'> {
  if (!h) return {};
  const last = h.Log?.at(-1);
  return {
    failingStreak: h.FailingStreak ?? 0,
    ...(last ? { lastHealthcheck: { start: last.Start ?? '', exitCode: last.ExitCode ?? -1, output: last.Output ?? '' } } : {}),
  };
}
