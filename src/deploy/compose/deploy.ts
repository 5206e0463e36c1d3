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
import { closest, deployDocs, svcDocs, type Loc } from './problems.js';
import { bytes, decimalIn, duration, int, mapOf, omitUndefined, oneOf, ratio, seqOf, str, stringList, stringMap } from './scalars.js';
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

function readResources(node: Node, ctx: Context): DeploySettings['resources'] {
  const docs = deployDocs('resources');
  const map = mapOf(node, ctx, 'a mapping with limits and/or reservations', docs);
  if (!map) return undefined;
  const out: { limits?: ResourceSet; reservations?: ResourceSet } = {};
  for (const e of map.entries.values()) {
    if (isNull(e.value)) continue;
    if (e.key === 'limits' || e.key === 'reservations') out[e.key] = readResourceSet(e.value, ctx, e.key === 'reservations');
    else ctx.problems.add(e.keyLoc, `unknown deploy.resources key ${JSON.stringify(e.key)}`, `expected limits or reservations; ${docs}`);
  }
  return Object.keys(out).length ? out : undefined;
}

function readResourceSet(node: Node, ctx: Context, reservations: boolean): ResourceSet | undefined {
  const docs = deployDocs('resources');
  const map = mapOf(node, ctx, 'a mapping', docs);
  if (!map) return undefined;
  const out: Mutable<ResourceSet> = {};
  for (const e of map.entries.values()) {
    if (isNull(e.value)) continue;
    switch (e.key) {
      case 'cpus':
        out.cpus = decimalIn(e.value, ctx, 0, 1e6, 'a number of CPUs like 0.5', docs);
        break;
      case 'memory':
        out.memoryBytes = bytes(e.value, ctx, docs);
        break;
      case 'pids':
        if (reservations) ctx.problems.add(e.keyLoc, 'pids is a limit, not a reservation', 'move it under limits');
        else out.pids = int(e.value, ctx, -1, 2 ** 31, 'a whole number (-1 for unlimited)', docs);
        break;
      case 'devices':
        if (!reservations) ctx.problems.add(e.keyLoc, 'devices are reserved, not limited', 'move them under reservations');
        else out.devices = readDeviceRequests(e.value, ctx, docs);
        break;
      case 'generic_resources':
        if (!reservations) ctx.problems.add(e.keyLoc, 'generic_resources are reserved, not limited', 'move them under reservations');
        else out.genericResources = readGenericResources(e.value, ctx, docs);
        break;
      default:
        ctx.problems.add(e.keyLoc, `unknown resources key ${JSON.stringify(e.key)}`, `expected cpus, memory, pids, devices or generic_resources; ${docs}`);
    }
  }
  return omitUndefined(out);
}

/** Device requests (`devices:` under reservations, `gpus:`): capabilities, driver, count or device_ids, options. */
export function readDeviceRequests(node: Node, ctx: Context, docs: string): DeviceRequest[] | undefined {
  const list = seqOf(node, ctx, 'a list of device requests', docs);
  if (!list) return undefined;
  const out: DeviceRequest[] = [];
  for (const item of list.items) {
    const m = mapOf(item, ctx, 'a mapping with capabilities (and driver, count, device_ids, options)', docs);
    if (!m) continue;
    const req: Mutable<DeviceRequest> = { capabilities: [] };
    for (const e of m.entries.values()) {
      if (isNull(e.value)) continue;
      if (e.key === 'capabilities') req.capabilities = stringList(e.value, ctx, 'capabilities', docs) ?? [];
      else if (e.key === 'driver') req.driver = str(e.value, ctx, 'a driver name', docs);
      else if (e.key === 'count') {
        if (e.value.kind === 'scalar' && e.value.value === 'all') req.count = -1;
        else req.count = int(e.value, ctx, 0, 1024, 'a whole number or all', docs);
      } else if (e.key === 'device_ids') req.deviceIds = stringList(e.value, ctx, 'device ids', docs);
      else if (e.key === 'options') req.options = stringMap(e.value, ctx, 'options', docs);
      else ctx.problems.add(e.keyLoc, `unknown device request key ${JSON.stringify(e.key)}`, `expected capabilities, driver, count, device_ids or options; ${docs}`);
    }
    if (req.count !== undefined && req.deviceIds) ctx.problems.add(m.loc, 'count and device_ids cannot be used together', 'keep one of them');
    out.push(omitUndefined(req));
  }
  return out;
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

function readRestartPolicy(node: Node, ctx: Context): RestartPolicy | undefined {
  const docs = deployDocs('restart_policy');
  const map = mapOf(node, ctx, 'a mapping', docs);
  if (!map) return undefined;
  const out: Mutable<RestartPolicy> = { condition: 'any' };
  for (const e of map.entries.values()) {
    if (isNull(e.value)) continue;
    if (e.key === 'condition') out.condition = oneOf(e.value, ctx, ['none', 'on-failure', 'any'] as const, docs) ?? 'any';
    else if (e.key === 'delay') out.delayMs = duration(e.value, ctx, docs);
    else if (e.key === 'max_attempts') out.maxAttempts = int(e.value, ctx, 0, 1_000_000, 'a whole number ≥ 0', docs);
    else if (e.key === 'window') out.windowMs = duration(e.value, ctx, docs);
    else ctx.problems.add(e.keyLoc, `unknown restart_policy key ${JSON.stringify(e.key)}`, `expected condition, delay, max_attempts or window; ${docs}`);
  }
  return omitUndefined(out);
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
