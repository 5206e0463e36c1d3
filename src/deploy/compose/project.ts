/**
 * The merged tree of a project's files → SystemConfig: top-level definitions, then services,
 * then what spans services (profiles, dependencies and their cycles), then the project name.
 */
import path from 'node:path';
import type { NetworkDefinition, SystemConfig } from '../model.js';
import type { Context } from './context.js';
import { normalizeProjectName, PROJECT_NAME, PROJECT_NAME_RULE } from './files.js';
import { checkDependencies, reportCycles, type ReadService } from './health.js';
import { readGate, readKibokoExtension, readPostDeployTests } from './kiboko.js';
import { readNetworkDefinitions, readVolumeDefinitions } from './networks.js';
import { closest, DOCS, type Loc } from './problems.js';
import { str } from './scalars.js';
import { readFileObjects } from './secrets.js';
import { readService } from './service.js';
import { show, type Entry, type MapNode } from './yaml.js';

const TOP_LEVEL_KEYS = ['name', 'services', 'networks', 'volumes', 'secrets', 'configs', 'include', 'version'];

export interface NameSources {
  /** `-p`: already checked. */
  explicit?: string | undefined;
  /** COMPOSE_PROJECT_NAME from the environment or the env files. */
  fromEnv?: string | undefined;
}

export function buildConfig(root: MapNode, ctx: Context, names: NameSources, profiles: readonly string[]): SystemConfig | undefined {
  const { problems } = ctx;
  const get = (key: string) => root.entries.get(key);
  for (const e of root.entries.values()) {
    if (e.key.startsWith('x-') || TOP_LEVEL_KEYS.includes(e.key)) continue;
    if (e.key === 'models') problems.add(e.keyLoc, 'models need Docker Model Runner, which the Engine API does not drive', 'run the model as a service with an image');
    else {
      const guess = closest(e.key, TOP_LEVEL_KEYS);
      problems.add(e.keyLoc, `unknown key ${JSON.stringify(e.key)}`, guess ? `did you mean ${guess}? see ${DOCS}/` : `see ${DOCS}/`);
    }
  }
  const version = get('version');
  if (version) problems.warn(version.keyLoc, 'version is obsolete in the Compose Specification and is ignored');

  const project = readProjectName(get('name'), names, ctx) ?? '';
  const defaultPolicy = readKibokoExtension(get('x-kiboko'), ctx, { kind: 'pinned' });
  readGate(get('x-kiboko'), ctx, 'project');
  const postDeployTests = readPostDeployTests(get('x-kiboko'), ctx, 'project');
  const networks = readNetworkDefinitions(get('networks'), ctx, project);
  const volumes = readVolumeDefinitions(get('volumes'), ctx, project);
  const secrets = readFileObjects(get('secrets'), 'secrets', ctx, project);
  const configs = readFileObjects(get('configs'), 'configs', ctx, project);
  ctx.networks = new Set(networks.keys);
  ctx.volumes = new Set(volumes.keys);
  ctx.secrets = new Set(Object.keys(secrets));
  ctx.configs = new Set(Object.keys(configs));

  const servicesEntry = get('services');
  const servicesNode = servicesEntry?.value;
  if (!servicesEntry || servicesNode?.kind !== 'map' || servicesNode.entries.size === 0) {
    const loc = servicesEntry?.keyLoc ?? { ...root.loc, path: '' };
    problems.add(loc, `expected services: with at least one service, got ${servicesEntry ? show(servicesNode) : 'none'}`, `see ${DOCS}/services/`);
    return undefined;
  }
  ctx.services = new Set(servicesNode.entries.keys());

  const read: ReadService[] = [];
  for (const entry of servicesNode.entries.values()) {
    const one = readService(entry, ctx, defaultPolicy, project);
    if (one) read.push(one);
  }

  // Profiles, as compose: services with profiles run only when one is active (COMPOSE_PROFILES, --profile).
  const active = new Set(profiles);
  const enabled = (s: ReadService) => s.profiles.length === 0 || active.has('*') || s.profiles.some((p) => active.has(p));
  const byName = new Map(read.map((s) => [s.spec.name, s]));
  const declared = [...servicesNode.entries.keys()];
  const services = read.filter(enabled);
  for (const s of services) s.spec.dependsOn = checkDependencies(s, byName, declared, enabled, ctx);
  reportCycles(services, problems);
  checkServiceRefs(services, servicesNode, ctx);

  if (services.length === 0 && read.length > 0) {
    problems.add(servicesEntry.keyLoc, 'every service is disabled by its profiles', `activate one with COMPOSE_PROFILES=${read[0]!.profiles[0] ?? ''}`);
  }
  if (!project) return undefined;
  // `default` is described whenever a service is on it (compose names it <project>_default).
  const networkDefinitions: Record<string, NetworkDefinition> = { ...networks.definitions };
  if (!networkDefinitions.default && services.some((s) => s.spec.networks.includes('default'))) networkDefinitions.default = { name: `${project}_default` };
  return {
    project,
    services: services.map((s) => s.spec),
    networks: networks.keys,
    volumes: volumes.keys,
    sources: [...new Set(ctx.sources)],
    ...(postDeployTests ? { postDeployTests } : {}),
    projectDir: ctx.projectDir,
    networkDefinitions,
    volumeDefinitions: volumes.definitions,
    ...(Object.keys(secrets).length ? { secrets } : {}),
    ...(Object.keys(configs).length ? { configs } : {}),
  };
}

/** links, volumes_from, ipc/pid `service:` name services that exist (and are enabled). */
function checkServiceRefs(services: ReadService[], node: MapNode, ctx: Context): void {
  const enabled = new Set(services.map((s) => s.spec.name));
  for (const s of services) {
    const at = (key: string): Loc => node.entries.get(s.spec.name)?.value.kind === 'map'
      ? ((node.entries.get(s.spec.name)!.value as MapNode).entries.get(key)?.keyLoc ?? node.loc)
      : node.loc;
    const refs: [string, string][] = [
      ...(s.spec.links ?? []).map((l) => ['links', l.split(':')[0]!] as [string, string]),
      ...(s.spec.volumesFrom ?? []).filter((v) => v.startsWith('service:')).map((v) => ['volumes_from', v.split(':')[1]!] as [string, string]),
      ...(['ipc', 'pid'] as const).flatMap((k) => (s.spec[k]?.startsWith('service:') ? [[k, s.spec[k]!.slice(8)] as [string, string]] : [])),
    ];
    for (const [key, target] of refs) {
      if (!enabled.has(target)) ctx.problems.add(at(key), `${key} refers to ${ctx.services.has(target) ? 'disabled' : 'undefined'} service ${JSON.stringify(target)}`, ctx.services.has(target) ? 'activate its profile' : 'declare it under services:');
    }
  }
}

function readProjectName(entry: Entry | undefined, names: NameSources, ctx: Context): string | undefined {
  if (names.explicit !== undefined) return names.explicit;
  if (names.fromEnv) {
    if (PROJECT_NAME.test(names.fromEnv)) return names.fromEnv;
    ctx.problems.add(
      { file: 'COMPOSE_PROJECT_NAME', line: 0, path: '' },
      `invalid project name ${JSON.stringify(names.fromEnv)}: ${PROJECT_NAME_RULE}`,
      `use e.g. ${JSON.stringify(normalizeProjectName(names.fromEnv) || 'myapp')}`,
    );
    return undefined;
  }
  if (entry) {
    const name = str(entry.value, ctx, 'a project name', `see ${DOCS}/version-and-name/`);
    if (name === undefined) return undefined;
    if (!PROJECT_NAME.test(name)) {
      ctx.problems.add(entry.value.loc, `invalid project name ${JSON.stringify(name)}: ${PROJECT_NAME_RULE}`, `use e.g. ${JSON.stringify(normalizeProjectName(name) || 'myapp')}`);
      return undefined;
    }
    return name;
  }
  const folder = path.basename(ctx.projectDir);
  const normalized = normalizeProjectName(folder);
  if (!normalized) {
    ctx.problems.add(
      { file: ctx.display(ctx.projectDir), line: 0, path: '' },
      `cannot derive a project name from the folder name ${JSON.stringify(folder)}`,
      'set a top-level name: or pass a project name with -p',
    );
    return undefined;
  }
  return normalized;
}
