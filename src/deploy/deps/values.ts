import { networkName, serviceNetworks } from '../containers.js';
import type { ServiceSpec, SystemConfig } from '../model.js';
import { observeProject, type ObservedReplica } from '../observe.js';
import type { Engine } from '../../engine/index.js';
import type { Backend, BackendName } from '../../template/index.js';

/**
 * The keys a dependent service's templates see, built from the engine's view of the project:
 *
 * | key | value |
 * |---|---|
 * | `/deps/<dep>/address` | IPv4 of the dependency's first running replica on a network the two share |
 * | `/deps/<dep>/addresses` | every running replica's address, comma-separated, slot order |
 * | `/deps/<dep>/host` | its DNS name on the project network (the service name) |
 * | `/deps/<dep>/port` | its first declared container port, when it declares one |
 * | `/deps/<dep>/container_id`, `/deps/<dep>/container_name` | that first replica |
 * | `/deps/<dep>/replicas/<slot>/address`, `…/container_id` | each replica |
 * | `/self/project`, `/self/service` | the dependent itself |
 *
 * A dependency with no running replica has no keys, so a template that needs it fails to
 * render and the dependent keeps its current config (never one pointing at nothing).
 */
export async function dependencyValues(
  engine: Engine,
  config: SystemConfig,
  dependent: ServiceSpec,
  options: { retiring?: ReadonlySet<string> | undefined; observed?: readonly ObservedReplica[] | undefined } = {},
): Promise<Map<string, string>> {
  const values = new Map<string, string>([
    ['/self/project', config.project],
    ['/self/service', dependent.name],
  ]);
  const observed = options.observed ?? (await observeProject(engine, config.project));
  const reachable = new Set(serviceNetworks(dependent));
  for (const { service } of dependent.dependsOn) {
    const spec = config.services.find((s) => s.name === service);
    // The address on a network both services join (compose: a service joins only the networks it
    // lists, the default one when it lists none), else on the dependency's first network.
    const depNets = spec ? serviceNetworks(spec) : ['default'];
    const key = depNets.find((n) => reachable.has(n)) ?? depNets[0];
    const network = key === undefined ? undefined : networkName(config, key);
    const base = `/deps/${service}`;
    values.set(`${base}/host`, service);
    if (spec?.ports[0]) values.set(`${base}/port`, String(spec.ports[0].target));
    const replicas = liveReplicas(observed, service, options.retiring);
    const addresses: string[] = [];
    for (const r of replicas) {
      let ip: string | undefined;
      try {
        ip = network === undefined ? undefined : (await engine.inspect(r.id)).networks[network]?.ipAddress;
      } catch {
        continue; // removed meanwhile
      }
      if (!ip) continue;
      if (addresses.length === 0) {
        values.set(`${base}/address`, ip);
        values.set(`${base}/container_id`, r.id);
        values.set(`${base}/container_name`, r.name);
      }
      addresses.push(ip);
      values.set(`${base}/replicas/${r.slot}/address`, ip);
      values.set(`${base}/replicas/${r.slot}/container_id`, r.id);
    }
    if (addresses.length) values.set(`${base}/addresses`, addresses.join(','));
  }
  return values;
}

/**
 * Running replicas of a service, one per slot, slot order. During a start-first update a slot has
 * two; the newer revision wins, and `retiring` (the replica about to be removed) never does.
 */
export function liveReplicas(observed: readonly ObservedReplica[], service: string, retiring?: ReadonlySet<string>): ObservedReplica[] {
  const bySlot = new Map<number, ObservedReplica>();
  for (const r of observed) {
    if (r.service !== service || r.status !== 'running' || retiring?.has(r.id)) continue;
    const have = bySlot.get(r.slot);
    if (!have || (r.revision ?? 0) > (have.revision ?? 0)) bySlot.set(r.slot, r);
  }
  return [...bySlot.values()].sort((a, b) => a.slot - b.slot);
}

/** The values as a template backend (`deploy`): each key selects itself and everything under it. */
export function deployBackend(values: ReadonlyMap<string, string>): Backend {
  return {
    name: 'deploy' as BackendName,
    getValues: async (keys) => {
      const out = new Map<string, string>();
      for (const [k, v] of values) if (keys.some((key) => k === key || k.startsWith(key.endsWith('/') ? key : `${key}/`))) out.set(k, v);
      return out;
    },
    close: async () => undefined,
  };
}
