import type Docker from 'dockerode';
import type { EndpointSpec, NetworkDetails, NetworkOptions, NetworkSummary } from '../types.js';
import type { DockerContext } from './context.js';
import { endpointConfig, networkBody, type RawNetwork } from './create-body.js';

export async function inspectNetwork(ctx: DockerContext, idOrName: string): Promise<NetworkDetails> {
  const n = (await ctx.call(`inspect network ${idOrName}`, () => ctx.docker.getNetwork(idOrName).inspect())) as RawNetwork;
  return {
    id: n.Id,
    name: n.Name,
    labels: n.Labels ?? {},
    driver: n.Driver,
    driverOpts: n.Options ?? {},
    internal: Boolean(n.Internal),
    attachable: Boolean(n.Attachable),
    enableIpv6: Boolean(n.EnableIPv6),
    ipam: {
      driver: n.IPAM?.Driver,
      options: n.IPAM?.Options ?? undefined,
      config: (n.IPAM?.Config ?? []).map((c) => ({ subnet: c.Subnet, ipRange: c.IPRange, gateway: c.Gateway, auxAddresses: c.AuxiliaryAddresses })),
    },
    containers: Object.fromEntries(Object.entries(n.Containers ?? {}).map(([id, c]) => [id, c.Name ?? ''])),
  };
}

export async function listNetworks(ctx: DockerContext, labels: readonly string[] = []): Promise<NetworkSummary[]> {
  const raw = await ctx.call('list networks', () => ctx.docker.listNetworks({ filters: JSON.stringify(labels.length ? { label: [...labels] } : {}) }));
  return (raw ?? []).map((n) => ({ id: n.Id, name: n.Name, labels: n.Labels ?? {} }));
}

export async function ensureNetwork(ctx: DockerContext, name: string, labels: Readonly<Record<string, string>> = {}, options: NetworkOptions = {}): Promise<string> {
  const existing = (await listNetworks(ctx)).find((n) => n.name === name);
  if (existing) return existing.id;
  const n = await ctx.call(`create network ${name}`, () => ctx.docker.createNetwork({ ...networkBody(options), Name: name, CheckDuplicate: true, Labels: { ...labels } } as Docker.NetworkCreateOptions));
  return (n as { id: string } | undefined)?.id ?? name;
}

export async function removeNetwork(ctx: DockerContext, idOrName: string): Promise<void> {
  await ctx.call(`remove network ${idOrName}`, () => ctx.docker.getNetwork(idOrName).remove());
}

export async function ensureOverlayNetwork(ctx: DockerContext, name: string, labels: Readonly<Record<string, string>> = {}): Promise<string> {
  const existing = (await listNetworks(ctx)).find((n) => n.name === name);
  if (existing) return existing.id;
  const n = await ctx.call(`create network ${name}`, () => ctx.docker.createNetwork({ Name: name, Driver: 'overlay', Attachable: true, CheckDuplicate: true, Labels: { ...labels } }));
  return (n as { id: string } | undefined)?.id ?? name;
}

export async function connectNetwork(ctx: DockerContext, network: string, container: string, aliases: readonly string[] = [], endpoint: Omit<EndpointSpec, 'name' | 'aliases'> = {}): Promise<void> {
  await ctx.call(`connect ${container} to ${network}`, () =>
    ctx.docker.getNetwork(network).connect({ Container: container, EndpointConfig: endpointConfig({ name: network, aliases, ...endpoint }) }),
  );
}
