/** One service: its keys checked against the Compose Specification's list, then read key by key into a ServiceSpec. */
import { DEFAULT_ROLLBACK, DEFAULT_UPDATE, type ServiceSpec, type TagPolicy } from '../model.js';
import { readBuild } from './build.js';
import { readCommand, readImage } from './command.js';
import { CONTAINER_KEYS } from './container.js';
import type { Context, Mutable } from './context.js';
import { readDeploy } from './deploy.js';
import { readEnvironment, readLabels } from './environment.js';
import { readDependsOn, readHealthcheck, readProfiles, readRestart, readSignal, type ReadService } from './health.js';
import { checkGateLabel, readGate, readKibokoExtension, readPostDeployTests, readServiceTemplates } from './kiboko.js';
import { readServiceNetworks } from './networks.js';
import { readPorts } from './ports.js';
import { closest, DOCS, svcDocs } from './problems.js';
import { absolutePath, duration, omitUndefined, optional, str } from './scalars.js';
import { readFileRefs } from './secrets.js';
import { readVolumes } from './volumes.js';
import { isNull, show, type Entry } from './yaml.js';
import { own } from '../../common/own.js';

/** Keys read here by name (besides CONTAINER_KEYS). */
const READ_KEYS = [
  'image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'volumes', 'tmpfs', 'networks',
  'network_mode', 'labels', 'label_file', 'healthcheck', 'depends_on', 'restart', 'user', 'working_dir',
  'stop_signal', 'stop_grace_period', 'deploy', 'scale', 'profiles', 'secrets', 'configs', 'extends',
];

const KNOWN = new Set([...READ_KEYS, ...Object.keys(CONTAINER_KEYS)]);

/** Keys one Linux engine cannot honour: why, and what to write instead. */
const REFUSED: Record<string, string> = {
  credential_spec: 'credential_spec configures Windows containers (gMSA); a Linux engine has no equivalent — remove it',
  models: 'models need Docker Model Runner, which the Engine API does not drive — run the model as a service with an image',
  provider: 'provider services are run by Docker Desktop plugins, not by the engine — run the provider as a service with an image',
  use_api_socket: 'use_api_socket relies on Docker Desktop\'s credential proxy — mount the socket with volumes: [/var/run/docker.sock:/var/run/docker.sock]',
};

/** Accepted and not used: they change nothing on an engine kiboko deploys to. */
const NOTICED: Record<string, string> = {
  develop: 'develop (watch/sync for `docker compose watch`) is for development and is ignored by kiboko deploy',
  attach: 'attach only changes which logs `docker compose up` follows; ignored',
};

export function readService(entry: Entry, ctx: Context, defaultPolicy: TagPolicy, project: string): ReadService | undefined {
  const { problems } = ctx;
  const name = entry.key;
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
    problems.add(entry.keyLoc, `invalid service name ${JSON.stringify(name)}`, 'use letters, digits, _, . and - (starting with a letter or digit)');
  }
  const node = entry.value;
  if (node.kind !== 'map') {
    problems.add(entry.keyLoc, `expected a service definition (a mapping with image: or build:), got ${show(node)}`, `see ${DOCS}/services/`);
    return undefined;
  }
  // A key written with no value (`networks:`) counts as absent, as in compose.
  const get = (key: string) => {
    const e = node.entries.get(key);
    return e && !isNull(e.value) ? e : undefined;
  };
  for (const e of node.entries.values()) {
    if (e.key.startsWith('x-') || KNOWN.has(e.key)) continue;
    const refused = own(REFUSED, e.key);
    const noticed = own(NOTICED, e.key);
    if (refused) problems.add(e.keyLoc, `${e.key} cannot be honoured by a Docker engine`, refused);
    else if (noticed) problems.warn(e.keyLoc, noticed);
    else if (e.key === 'isolation') {
      if (!(e.value.kind === 'scalar' && (e.value.value === 'default' || e.value.value === null))) problems.add(e.value.loc, `isolation ${show(e.value)} exists only on Windows engines`, 'remove it (Linux containers use the default isolation)');
    } else {
      const guess = closest(e.key, [...KNOWN]);
      problems.add(e.keyLoc, `unknown key ${JSON.stringify(e.key)}`, guess ? `did you mean ${guess}? see ${DOCS}/services/` : `see ${DOCS}/services/`);
    }
  }

  const imageEntry = get('image');
  const build = readBuild(get('build'), ctx);
  let image = '';
  if (imageEntry) image = readImage(imageEntry.value, ctx) ?? '';
  else if (build) image = `${project}-${name}`; // compose's name for an image it builds
  else problems.add(entry.keyLoc, 'a service needs image: or build:', `add image: repo/name:tag (${svcDocs('image')})`);

  const volumes = readVolumes(get('volumes'), get('tmpfs'), ctx);
  const networkMode = get('network_mode');
  const networks = networkMode ? { names: [] } : readServiceNetworks(get('networks'), ctx);
  const spec: Mutable<ServiceSpec> = {
    name,
    image,
    command: readCommand(get('command'), ctx),
    entrypoint: readCommand(get('entrypoint'), ctx),
    environment: readEnvironment(get('env_file'), get('environment'), ctx),
    ports: readPorts(get('ports'), ctx),
    volumes: volumes.mounts,
    networks: networks.names,
    labels: readLabels(get('labels'), get('label_file'), ctx),
    healthcheck: readHealthcheck(get('healthcheck'), ctx),
    dependsOn: [],
    restart: readRestart(get('restart'), ctx),
    user: optional(get('user'), (n) => str(n, ctx, 'a user (name, uid or uid:gid)', svcDocs('user'), true)),
    workingDir: optional(get('working_dir'), (n) => absolutePath(n, ctx, svcDocs('working_dir'))),
    stopSignal: optional(get('stop_signal'), (n) => readSignal(n, ctx)),
    stopGracePeriodMs: optional(get('stop_grace_period'), (n) => duration(n, ctx, svcDocs('stop_grace_period'))),
    replicas: 1,
    update: { ...DEFAULT_UPDATE },
    rollback: { ...DEFAULT_ROLLBACK },
    tagPolicy: readKibokoExtension(get('x-kiboko'), ctx, defaultPolicy),
    templates: readServiceTemplates(get('x-kiboko'), ctx),
    gate: readGate(get('x-kiboko'), ctx, 'service'),
    origin: { file: entry.keyLoc.file, line: entry.keyLoc.line },
    build,
    secrets: readFileRefs(get('secrets'), 'secrets', ctx),
    configs: readFileRefs(get('configs'), 'configs', ctx),
    networkSettings: networks.settings,
    tmpfs: Object.keys(volumes.tmpfs).length ? volumes.tmpfs : undefined,
  };
  const retries = /^on-failure:(\d+)$/.exec(get('restart')?.value.kind === 'scalar' ? String((get('restart')!.value as { value: unknown }).value) : '');
  if (retries) spec.restartMaxRetries = Number(retries[1]);
  for (const e of node.entries.values()) {
    const read = own(CONTAINER_KEYS, e.key);
    if (read && !isNull(e.value)) read(e.value, spec, ctx, e);
  }
  if (networkMode) readNetworkMode(networkMode, node.entries.get('networks'), spec, ctx);
  readDeploy(get('deploy'), get('scale'), spec, ctx);
  checkGateLabel(spec, get('x-kiboko'), ctx);
  readPostDeployTests(get('x-kiboko'), ctx, 'service');
  if (spec.containerName && spec.replicas > 1) {
    problems.add(get('container_name')!.keyLoc, `container_name ${spec.containerName} names one container, but the service asks for ${spec.replicas}`, 'remove container_name, or run one replica');
  }
  if (spec.tagPolicy.kind === 'follow-branch' && image.includes('@') && imageEntry) {
    problems.add(imageEntry.value.loc, 'an image pinned by digest cannot follow a branch', 'drop the @sha256:… digest, or the x-kiboko tag-policy');
  }
  return { spec: omitUndefined(spec), profiles: readProfiles(get('profiles'), ctx), deps: readDependsOn(get('depends_on'), ctx) };
}

/** `network_mode`: host, none, bridge, service:<name> or container:<name>; never with `networks:`. */
function readNetworkMode(entry: Entry, networks: Entry | undefined, spec: Mutable<ServiceSpec>, ctx: Context): void {
  const docs = svcDocs('network_mode');
  const mode = str(entry.value, ctx, 'host, none, bridge, service:<name> or container:<name>', docs);
  if (mode === undefined) return;
  if (networks && !isNull(networks.value)) {
    ctx.problems.add(networks.keyLoc, 'networks: cannot be combined with network_mode:', 'keep one of them (compose refuses both)');
  }
  const m = /^(service|container):(.+)$/.exec(mode);
  if (m?.[1] === 'service' && !ctx.services.has(m[2]!)) {
    ctx.problems.add(entry.value.loc, `network_mode refers to undefined service ${JSON.stringify(m[2])}`, 'declare it under services:');
    return;
  }
  if (!m && !['host', 'none', 'bridge', 'default'].includes(mode)) {
    ctx.problems.add(entry.value.loc, `expected host, none, bridge, service:<name> or container:<name>, got ${show(entry.value)}`, docs);
    return;
  }
  spec.networkMode = mode;
}
