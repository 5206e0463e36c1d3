/** `deploy:` (and `scale:`): replicas, mode, rollout settings, resources, restart policy, placement, labels. */
import {
  DEFAULT_ROLLBACK,
  DEFAULT_UPDATE,
  type DeploySettings,
  type DeviceRequest,
  type ResourceSet,
  type RestartPolicy,
  type RollbackConfig,
  type ServiceSpec,
  type UpdateConfig,
} from '../model.js';
import type { Context, Mutable } from './context.js';
import { listKey, mapKey, readKeys, readMapList, textKey, valueKey, type KeyReader } from './key-readers.js';
import { closest, deployDocs, svcDocs, type Loc } from './problems.js';
import { bytes, decimalIn, duration, int, mapOf, omitUndefined, oneOf, ratio, seqOf, stringList, stringMap } from './scalars.js';
import { isNull, scalarText, show, type Entry, type Node } from './yaml.js';

const DEPLOY_KEYS = ['replicas', 'mode', 'update_config', 'rollback_config', 'resources', 'restart_policy', 'placement', 'labels', 'endpoint_mode'];
const MODES = ['replicated', 'global', 'replicated-job', 'global-job'] as const;

/** deploy.* (and scale), written into `spec`; the keys besides replicas/update/rollback land in spec.deploy. */
export function readDeploy(deployEntry: Entry | undefined, scaleEntry: Entry | undefined, spec: Mutable<ServiceSpec>, ctx: Context) {
  const scale = scaleEntry ? int(scaleEntry.value, ctx, 0, 10_000, 'a whole number ≥ 0', svcDocs('scale')) : undefined;
  let replicas: number | undefined;
  let replicasLoc: Loc | undefined;
  const settings: Mutable<DeploySettings> = {};
  const map = deployEntry && !isNull(deployEntry.value) ? mapOf(deployEntry.value, ctx, 'a mapping', deployDocs()) : undefined;
  for (const e of map?.entries.values() ?? []) {
    if (isNull(e.value)) continue;
    switch (e.key) {
      case 'replicas':
        replicas = int(e.value, ctx, 0, 10_000, 'a whole number ≥ 0', deployDocs('replicas'));
        replicasLoc = e.value.loc;
        break;
      case 'mode': {
        const mode = oneOf(e.value, ctx, MODES, deployDocs('mode'));
        if (mode !== undefined && mode !== 'replicated') settings.mode = mode;
        break;
      }
      case 'update_config':
        spec.update = readUpdateConfig(e.value, ctx, DEFAULT_UPDATE, UPDATE_ACTIONS, 'update_config');
        break;
      case 'rollback_config':
        spec.rollback = readUpdateConfig(e.value, ctx, DEFAULT_ROLLBACK, ROLLBACK_ACTIONS, 'rollback_config') as RollbackConfig;
        break;
      case 'resources':
        settings.resources = readResources(e.value, ctx);
        break;
      case 'restart_policy':
        settings.restartPolicy = readRestartPolicy(e.value, ctx);
        break;
      case 'placement':
        settings.placement = readPlacement(e.value, ctx);
        break;
      case 'labels':
        settings.labels = stringMap(e.value, ctx, 'labels', deployDocs('labels'));
        break;
      case 'endpoint_mode':
        settings.endpointMode = oneOf(e.value, ctx, ['vip', 'dnsrr'] as const, deployDocs('endpoint_mode'));
        break;
      default: {
        if (e.key.startsWith('x-')) break;
        const guess = closest(e.key, DEPLOY_KEYS);
        ctx.problems.add(e.keyLoc, `unknown deploy key ${JSON.stringify(e.key)}`, guess ? `did you mean ${guess}? ${deployDocs()}` : deployDocs());
      }
    }
  }
  if (replicas !== undefined && scale !== undefined && replicas !== scale) {
    ctx.problems.add(replicasLoc!, `scale: ${scale} and deploy.replicas: ${replicas} disagree`, 'keep one of them');
  }
  if ((settings.mode === 'global' || settings.mode === 'global-job') && replicas !== undefined && replicasLoc) {
    ctx.problems.add(replicasLoc, `deploy.mode ${settings.mode} runs one task per node; replicas does not apply`, 'remove replicas, or use mode: replicated');
  }
  spec.replicas = replicas ?? scale ?? 1;
  const deploy = omitUndefined(settings);
  if (Object.keys(deploy).length > 0) spec.deploy = deploy;
}

/** A key that belongs under the other of limits/reservations: a problem saying where it goes. */
const misplaced = (message: string, hint: string): KeyReader<Mutable<ResourceSet>> => (_v, _out, ctx, _docs, e) => ctx.problems.add(e.keyLoc, message, hint);

const RESOURCE_KEYS: Record<string, KeyReader<Mutable<ResourceSet>>> = {
  cpus: valueKey('cpus', (v, ctx, docs) => decimalIn(v, ctx, 0, 1e6, 'a number of CPUs like 0.5', docs)),
  memory: valueKey('memoryBytes', (v, ctx, docs) => bytes(v, ctx, docs)),
  pids: valueKey('pids', (v, ctx, docs) => int(v, ctx, -1, 2 ** 31, 'a whole number (-1 for unlimited)', docs)),
  devices: valueKey('devices', readDeviceRequests),
  generic_resources: valueKey('genericResources', readGenericResources),
};
const LIMIT_KEYS = {
  ...RESOURCE_KEYS,
  devices: misplaced('devices are reserved, not limited', 'move them under reservations'),
  generic_resources: misplaced('generic_resources are reserved, not limited', 'move them under reservations'),
};
const RESERVATION_KEYS = { ...RESOURCE_KEYS, pids: misplaced('pids is a limit, not a reservation', 'move it under limits') };

/** `deploy.resources`: the same keys under limits and under reservations, but for the ones only one of them takes. */
type Resources = { limits?: ResourceSet | undefined; reservations?: ResourceSet | undefined };
const DEPLOY_RESOURCES_KEYS: Record<string, KeyReader<Resources>> = {
  limits: valueKey('limits', (v, ctx) => readResourceSet(v, ctx, LIMIT_KEYS)),
  reservations: valueKey('reservations', (v, ctx) => readResourceSet(v, ctx, RESERVATION_KEYS)),
};

function readResources(node: Node, ctx: Context): DeploySettings['resources'] {
  const docs = deployDocs('resources');
  const map = mapOf(node, ctx, 'a mapping with limits and/or reservations', docs);
  if (!map) return undefined;
  const out = readKeys<Resources>(map, {}, DEPLOY_RESOURCES_KEYS, ctx, docs, { name: 'deploy.resources key' });
  return Object.keys(out).length ? out : undefined;
}

function readResourceSet(node: Node, ctx: Context, keys: Record<string, KeyReader<Mutable<ResourceSet>>>): ResourceSet | undefined {
  const docs = deployDocs('resources');
  const map = mapOf(node, ctx, 'a mapping', docs);
  if (!map) return undefined;
  return omitUndefined(readKeys(map, {}, keys, ctx, docs, { name: 'resources key' }));
}

const DEVICE_REQUEST_KEYS: Record<string, KeyReader<Mutable<DeviceRequest>>> = {
  capabilities: valueKey('capabilities', (v, ctx, docs) => stringList(v, ctx, 'capabilities', docs) ?? []),
  driver: textKey('driver', 'a driver name'),
  count: valueKey('count', (v, ctx, docs) => (v.kind === 'scalar' && v.value === 'all' ? -1 : int(v, ctx, 0, 1024, 'a whole number or all', docs))),
  device_ids: listKey('deviceIds', 'device ids'),
  options: mapKey('options', 'options'),
};

/** Device requests (`devices:` under reservations, `gpus:`): capabilities, driver, count or device_ids, options. */
export function readDeviceRequests(node: Node, ctx: Context, docs: string): DeviceRequest[] | undefined {
  const expected = { list: 'a list of device requests', item: 'a mapping with capabilities (and driver, count, device_ids, options)' };
  return readMapList(node, ctx, docs, expected, (m) => {
    const req = readKeys<Mutable<DeviceRequest>>(m, { capabilities: [] }, DEVICE_REQUEST_KEYS, ctx, docs, { name: 'device request key' });
    if (req.count !== undefined && req.deviceIds) ctx.problems.add(m.loc, 'count and device_ids cannot be used together', 'keep one of them');
    return omitUndefined(req);
  });
}

function readGenericResources(node: Node, ctx: Context, docs: string): ResourceSet['genericResources'] {
  const list = seqOf(node, ctx, 'a list of generic resources', docs);
  if (!list) return undefined;
  const out: { kind: string; value: string | number }[] = [];
  for (const item of list.items) {
    const spec = item.kind === 'map' ? item.entries.get('discrete_resource_spec') : undefined;
    const m = spec?.value.kind === 'map' ? spec.value : undefined;
    const kind = m?.entries.get('kind')?.value;
    const value = m?.entries.get('value')?.value;
    if (!m || kind?.kind !== 'scalar' || value?.kind !== 'scalar') {
      ctx.problems.add(item.loc, 'expected { discrete_resource_spec: { kind, value } }', docs);
      continue;
    }
    out.push({ kind: scalarText(kind), value: typeof value.value === 'number' ? value.value : scalarText(value) });
  }
  return out;
}

const RESTART_POLICY_KEYS: Record<string, KeyReader<Mutable<RestartPolicy>>> = {
  condition: valueKey('condition', (v, ctx, docs) => oneOf(v, ctx, ['none', 'on-failure', 'any'] as const, docs) ?? 'any'),
  delay: valueKey('delayMs', duration),
  max_attempts: valueKey('maxAttempts', (v, ctx, docs) => int(v, ctx, 0, 1_000_000, 'a whole number ≥ 0', docs)),
  window: valueKey('windowMs', duration),
};

function readRestartPolicy(node: Node, ctx: Context): RestartPolicy | undefined {
  const docs = deployDocs('restart_policy');
  const map = mapOf(node, ctx, 'a mapping', docs);
  if (!map) return undefined;
  return omitUndefined(readKeys<Mutable<RestartPolicy>>(map, { condition: 'any' }, RESTART_POLICY_KEYS, ctx, docs, { name: 'restart_policy key' }));
}

function readPlacement(node: Node, ctx: Context): DeploySettings['placement'] {
  const docs = deployDocs('placement');
  const map = mapOf(node, ctx, 'a mapping', docs);
  if (!map) return undefined;
  const out: { constraints?: string[]; preferences?: { spread: string }[]; maxReplicasPerNode?: number } = {};
  for (const e of map.entries.values()) {
    if (isNull(e.value)) continue;
    if (e.key === 'constraints') {
      out.constraints = stringList(e.value, ctx, 'constraints like node.role == manager', docs, false);
      for (const [i, c] of (out.constraints ?? []).entries()) {
        if (!/^\s*[\w.\-\[\]]+\s*(==|!=)\s*\S.*$/.test(c)) {
          const at = e.value.kind === 'seq' ? e.value.items[i]!.loc : e.value.loc;
          ctx.problems.add(at, `expected a constraint like node.role == manager, got ${JSON.stringify(c)}`, docs);
        }
      }
    } else if (e.key === 'preferences') {
      const list = seqOf(e.value, ctx, 'a list of { spread: node.labels.zone }', docs);
      if (!list) continue;
      out.preferences = [];
      for (const p of list.items) {
        const spread = p.kind === 'map' ? p.entries.get('spread')?.value : undefined;
        if (spread?.kind === 'scalar' && typeof spread.value === 'string') out.preferences.push({ spread: spread.value });
        else ctx.problems.add(p.loc, `expected { spread: node.labels.zone }, got ${show(p)}`, docs);
      }
    } else if (e.key === 'max_replicas_per_node') out.maxReplicasPerNode = int(e.value, ctx, 0, 1_000_000, 'a whole number ≥ 0', docs);
    else ctx.problems.add(e.keyLoc, `unknown placement key ${JSON.stringify(e.key)}`, `expected constraints, preferences or max_replicas_per_node; ${docs}`);
  }
  return omitUndefined(out);
}

const UPDATE_ACTIONS = ['rollback', 'pause', 'continue'] as const;
const ROLLBACK_ACTIONS = ['pause', 'continue'] as const; // a rollback cannot roll back

type Action = UpdateConfig['failureAction'];
function readUpdateConfig(node: Node, ctx: Context, defaults: UpdateConfig, actions: readonly Action[], key: string) {
  const docs = deployDocs(key);
  const out: UpdateConfig = { ...defaults };
  const map = mapOf(node, ctx, 'a mapping', docs);
  for (const e of map?.entries.values() ?? []) {
    const v = e.value;
    switch (e.key) {
      case 'parallelism':
        out.parallelism = int(v, ctx, 0, 10_000, 'a whole number ≥ 0 (0 means all at once)', docs) ?? out.parallelism;
        break;
      case 'delay':
        out.delayMs = duration(v, ctx, docs) ?? out.delayMs;
        break;
      case 'monitor':
        out.monitorMs = duration(v, ctx, docs) ?? out.monitorMs;
        break;
      case 'failure_action':
        out.failureAction = oneOf(v, ctx, actions, docs) ?? out.failureAction;
        break;
      case 'max_failure_ratio':
        out.maxFailureRatio = ratio(v, ctx, docs) ?? out.maxFailureRatio;
        break;
      case 'order':
        out.order = oneOf(v, ctx, ['start-first', 'stop-first'] as const, docs) ?? out.order;
        break;
      default:
        ctx.problems.add(
          e.keyLoc,
          `unknown ${key} key ${JSON.stringify(e.key)}`,
          `expected parallelism, delay, failure_action, monitor, max_failure_ratio or order; ${docs}`,
        );
    }
  }
  return out;
}
