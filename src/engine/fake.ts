import { posix } from 'node:path';
import { KibokoError } from '../common/errors.js';
import { signalNumber } from '../common/signals.js';
import { packTar, readTar } from '../common/tar.js';
import { followEvents, matchLabel } from './fake-events.js';
import { imageDetailsOf, newFakeContainer, notSwarm, type FakeContainer } from './fake-records.js';
import type { Engine } from './port.js';
import type {
  BuildOptions,
  ContainerDetails,
  ContainerRef,
  ContainerSpec,
  ContainerStats,
  ContainerStatus,
  ContainerSummary,
  EngineInfo,
  EngineSystemInfo,
  ExecOptions,
  ExecResult,
  HealthcheckRun,
  EngineEvent,
  EventsOptions,
  ImageDetails,
  ImageSummary,
  EndpointSpec,
  LogChunk,
  LogsOptions,
  NetworkDetails,
  NetworkOptions,
  SwarmObject,
  VolumeOptions,
  VolumeSummary,
  ListOptions,
  NetworkSummary,
  RemoveOptions,
  CloneOptions,
  SwarmNode,
  SwarmService,
  SwarmTask,
} from './types.js';

export interface FakeCall {
  op: string;
  id: string;
  args?: unknown;
}

/**
 * An in-memory engine with the Docker engine's state rules (pause needs running, start on a
 * running container is a no-op, …). Unit tests of chaos and deploy logic run against it; the
 * same contract suite runs against it and the real adapter so the two cannot drift.
 */
export class FakeEngine implements Engine {
  readonly endpoint = 'fake://engine';
  readonly calls: FakeCall[] = [];
  private readonly containers = new Map<string, FakeContainer>();
  private readonly images = new Map<string, ImageSummary>();
  private readonly imageDetails = new Map<string, ImageDetails>();
  private readonly volumeNames = new Set<string>();
  /** Volume settings and labels by name (volumes created with ensureVolume). */
  readonly volumeInfo = new Map<string, { labels: Readonly<Record<string, string>>; options: VolumeOptions }>();
  /** Network settings by name (networks created with ensureNetwork). */
  readonly networkOptions = new Map<string, NetworkOptions>();
  private seq = 0;
  /** Make an operation fail: return an error to throw, or undefined to proceed. */
  failWith: ((op: string, id: string) => KibokoError | undefined) | undefined;
  /** Result for exec; default exits 0 with no output. */
  execHandler: (id: string, cmd: readonly string[]) => ExecResult = () => ({ exitCode: 0, stdout: '', stderr: '' });
  /** Health a started container with a healthcheck reaches; default healthy. */
  healthOf: (c: ContainerDetails & { spec?: ContainerSpec | undefined }) => 'healthy' | 'unhealthy' | 'starting' = () => 'healthy';
  /** The healthcheck run a started container with a healthcheck reports last (State.Health.Log); default none. */
  lastHealthcheckOf: (c: ContainerDetails & { spec?: ContainerSpec | undefined }) => HealthcheckRun | undefined = () => undefined;
  /** Whether a started container keeps running; default true (false: it exits with code 1 at once). */
  staysUp: (c: ContainerDetails & { spec?: ContainerSpec | undefined }) => boolean = () => true;
  private readonly networks = new Map<string, NetworkSummary>();
  unreachable = false;

  async ready(): Promise<void> {
    this.guard('info', '');
  }

  async ping(): Promise<void> {
    this.guard('ping', '');
  }

  async info(): Promise<EngineInfo> {
    this.guard('info', '');
    return { endpoint: this.endpoint, serverVersion: 'fake', apiVersion: '1.47', negotiatedApiVersion: '1.47', os: 'linux', arch: 'amd64' };
  }

  async systemInfo(): Promise<EngineSystemInfo> {
    this.guard('systemInfo', '');
    return { cgroupDriver: 'cgroupfs', cgroupVersion: '2', kernelVersion: 'fake', operatingSystem: 'fake', securityOptions: [], swarm: 'inactive', isManager: false };
  }

  async isSwarmManager(): Promise<boolean> {
    return (await this.systemInfo()).isManager;
  }

  /** Test helper: adds a container directly in a given state. */
  add(partial: Partial<ContainerDetails> & { name: string }): ContainerDetails {
    const id = partial.id ?? (++this.seq).toString(16).padStart(64, '0');
    const c = newFakeContainer(id, this.seq, partial);
    this.containers.set(id, c);
    return c;
  }

  async list(options: ListOptions = {}): Promise<ContainerSummary[]> {
    this.guard('list', '');
    return [...this.containers.values()]
      .filter((c) => options.all || c.status === 'running' || c.status === 'paused' || c.status === 'restarting')
      .filter((c) => (options.labels ?? []).every((f) => matchLabel(c.labels, f)))
      .map(({ id, name, image, labels, status, created }) => ({ id, name, image, labels, status, created }));
  }

  async inspect(idOrName: string): Promise<ContainerDetails> {
    const c = this.find(idOrName, 'inspect');
    const { volumes: _v, spec: _s, files: _f, logText: _l, ...details } = c;
    return structuredClone(details);
  }

  async inspectSpec(idOrName: string): Promise<ContainerSpec & { name: string }> {
    const c = this.find(idOrName, 'inspect');
    const spec = structuredClone(c.spec ?? { image: c.image });
    // As the engine: every network the container is on, with the endpoint settings it was given.
    const given = new Map((spec.networks ?? []).map((n) => [n.name, n]));
    const networks: EndpointSpec[] = spec.networkMode ? [] : Object.keys(c.networks).map((name) => given.get(name) ?? c.connected?.get(name) ?? { name });
    return { ...spec, name: c.name, labels: c.labels, networks, restartPolicy: spec.restartPolicy ?? { name: 'no' } };
  }

  async rename(idOrName: string, newName: string): Promise<void> {
    const c = this.find(idOrName, 'rename', newName);
    if ([...this.containers.values()].some((x) => x.name === newName && x.id !== c.id)) throw new KibokoError('CONFLICT', `rename ${idOrName}: name ${newName} already in use`);
    c.name = newName;
  }

  async *streamLogs(id: string, options: LogsOptions & { follow?: boolean; signal?: AbortSignal } = {}): AsyncIterable<LogChunk> {
    const text = await this.logs(id, options);
    if (text) yield { stream: 'stdout', text };
  }

  async create(spec: ContainerSpec): Promise<ContainerRef> {
    this.guard('create', spec.name ?? '');
    if (spec.name && [...this.containers.values()].some((c) => c.name === spec.name)) {
      throw new KibokoError('CONFLICT', `create ${spec.name}: name already in use`);
    }
    const c = this.add({ name: spec.name ?? `fake_${this.seq + 1}`, image: spec.image, labels: spec.labels ?? {}, status: 'created', stopSignal: spec.stopSignal });
    const fc = this.containers.get(c.id)!;
    fc.spec = spec;
    fc.networkMode = spec.networkMode;
    this.containerEvent(fc, 'create');
    fc.hasHealthcheck = Boolean(spec.healthcheck && spec.healthcheck.test[0] !== 'NONE');
    fc.publishesPorts = (spec.ports ?? []).length > 0 || spec.networkMode === 'host';
    if (spec.networks?.length && !spec.networkMode) fc.networks = Object.fromEntries(spec.networks.map((n, i) => [n.name, { ipAddress: n.ipv4Address ?? `10.0.${i}.${(this.seq % 250) + 2}` }]));
    for (let i = 0; i < (spec.volumes ?? []).length; i++) {
      const vol = `vol_${c.id.slice(-8)}_${fc.volumes.length}`;
      fc.volumes.push(vol);
      this.volumeNames.add(vol);
    }
    return { id: c.id, name: c.name };
  }

  async cloneContainer(id: string, options: CloneOptions): Promise<ContainerRef> {
    const c = this.find(id, 'clone', options.image);
    const spec: ContainerSpec = c.spec ?? { image: c.image, labels: c.labels, ...(c.stopSignal ? { stopSignal: c.stopSignal } : {}) };
    return this.create({ ...spec, image: options.image, name: options.name, labels: { ...spec.labels, ...(options.labels ?? {}) } });
  }

  async start(id: string): Promise<void> {
    const c = this.find(id, 'start');
    if (c.status === 'running' || c.status === 'paused') return;
    this.setStatus(c, 'running');
    c.startedAt = new Date(Date.now() + this.seq++).toISOString();
    this.containerEvent(c, 'start');
    if (c.hasHealthcheck) {
      c.health = this.healthOf(c);
      c.lastHealthcheck = this.lastHealthcheckOf(c);
      c.failingStreak = c.health === 'unhealthy' ? (c.spec?.healthcheck?.retries ?? 3) : 0;
    }
    if (!this.staysUp(c)) this.exit(c, 1);
  }

  async stop(id: string, timeoutSeconds: number): Promise<void> {
    const c = this.find(id, 'stop', timeoutSeconds);
    if (c.status !== 'running' && c.status !== 'paused') return;
    this.exit(c, 0);
    this.containerEvent(c, 'stop');
  }

  async kill(id: string, signal: string): Promise<void> {
    const c = this.find(id, 'kill', signal);
    // The engine delivers signals to paused containers too (it thaws them to do so).
    if (c.status !== 'running' && c.status !== 'paused') throw new KibokoError('CONFLICT', `kill ${id}: container ${c.name} is not running`);
    this.containerEvent(c, 'kill', { signal: String(signalNumber(signal) ?? 9) });
    this.exit(c, 128 + (signalNumber(signal) ?? 9));
  }

  async pause(id: string): Promise<void> {
    const c = this.find(id, 'pause');
    if (c.status !== 'running') throw new KibokoError('CONFLICT', `pause ${id}: container ${c.name} is not running`);
    this.setStatus(c, 'paused');
    this.containerEvent(c, 'pause');
  }

  async unpause(id: string): Promise<void> {
    const c = this.find(id, 'unpause');
    if (c.status !== 'paused') throw new KibokoError('CONFLICT', `unpause ${id}: container ${c.name} is not paused`);
    this.setStatus(c, 'running');
    this.containerEvent(c, 'unpause');
  }

  async restart(id: string, timeoutSeconds: number): Promise<void> {
    const c = this.find(id, 'restart', timeoutSeconds);
    this.setStatus(c, 'running');
    c.restartCount += 1;
    c.startedAt = new Date(Date.now() + this.seq++).toISOString();
    this.containerEvent(c, 'restart');
  }

  async remove(id: string, options: RemoveOptions = {}): Promise<void> {
    const c = this.find(id, 'remove', options);
    if ((c.status === 'running' || c.status === 'paused') && !options.force) {
      throw new KibokoError('CONFLICT', `remove ${id}: container ${c.name} is running; stop it or force the removal`);
    }
    this.containers.delete(c.id);
    this.containerEvent(c, 'destroy');
    if (options.volumes) for (const v of c.volumes) this.volumeNames.delete(v);
  }

  async wait(id: string): Promise<number> {
    const c = this.find(id, 'wait');
    return c.exitCode;
  }

  async exec(id: string, options: ExecOptions): Promise<ExecResult> {
    const c = this.find(id, 'exec', options.cmd);
    if (c.status !== 'running') throw new KibokoError('CONFLICT', `exec in ${id}: container ${c.name} is not running`);
    return this.execHandler(c.id, options.cmd);
  }


  async stats(id: string): Promise<ContainerStats> {
    const c = this.find(id, 'stats');
    return { cpuTotalNs: c.status === 'running' ? 1_000_000 : 0, systemCpuNs: Date.now() * 1e6, onlineCpus: 2, memoryBytes: 0, read: new Date().toISOString() };
  }

  async pullImage(ref: string): Promise<void> {
    this.guard('pull', ref);
    if (!this.images.has(ref)) throw new KibokoError('TARGET_NOT_FOUND', `pull ${ref}: repository does not exist or may require 'docker login'`);
  }

  async imageExists(ref: string): Promise<boolean> {
    return this.images.has(ref);
  }

  async listImages(): Promise<ImageSummary[]> {
    return [...this.images.values()];
  }

  async removeImage(ref: string): Promise<void> {
    this.images.delete(ref);
  }

  async buildImage(options: BuildOptions): Promise<string> {
    this.guard('build', options.tag, options);
    return this.addImage({ tags: [options.tag, ...(options.extraTags ?? [])], labels: options.labels ?? {} }).id;
  }

  async ensureVolume(name: string, labels: Readonly<Record<string, string>> = {}, options: VolumeOptions = {}): Promise<void> {
    this.guard('ensureVolume', name, Object.keys(options).length ? options : undefined);
    if (this.volumeNames.has(name)) return;
    this.volumeNames.add(name);
    this.volumeInfo.set(name, { labels, options });
  }

  async listVolumes(labels: readonly string[] = []): Promise<VolumeSummary[]> {
    return [...this.volumeNames]
      .map((name) => ({ name, driver: this.volumeInfo.get(name)?.options.driver ?? 'local', labels: this.volumeInfo.get(name)?.labels ?? {} }))
      .filter((v) => labels.every((f) => matchLabel(v.labels, f)));
  }

  async inspectNetwork(idOrName: string): Promise<NetworkDetails> {
    const n = [...this.networks.values()].find((x) => x.id === idOrName || x.name === idOrName);
    if (!n) throw new KibokoError('TARGET_NOT_FOUND', `network ${idOrName} not found`);
    const containers = Object.fromEntries([...this.containers.values()].filter((c) => n.name in c.networks).map((c) => [c.id, c.name]));
    return { ...n, driver: 'bridge', ...this.networkOptions.get(n.name), containers };
  }

  async listNetworks(labels: readonly string[] = []): Promise<NetworkSummary[]> {
    return [...this.networks.values()].filter((n) => labels.every((f) => matchLabel(n.labels, f)));
  }

  async ensureNetwork(name: string, labels: Readonly<Record<string, string>> = {}, options: NetworkOptions = {}): Promise<string> {
    this.guard('ensureNetwork', name, Object.keys(options).length ? options : undefined);
    const existing = this.networks.get(name);
    if (existing) return existing.id;
    const id = `net${++this.seq}`;
    this.networks.set(name, { id, name, labels });
    this.networkOptions.set(name, options);
    return id;
  }

  async removeNetwork(idOrName: string): Promise<void> {
    this.guard('removeNetwork', idOrName);
    for (const [k, n] of this.networks) if (n.id === idOrName || n.name === idOrName) this.networks.delete(k);
  }

  /** Services, tasks and nodes are Swarm features: the fake is a single engine (see FakeSwarm). */
  async listServices(): Promise<SwarmService[]> { throw notSwarm(); }
  async inspectService(): Promise<SwarmService> { throw notSwarm(); }
  async createService(): Promise<string> { throw notSwarm(); }
  async updateService(): Promise<void> { throw notSwarm(); }
  async removeService(): Promise<void> { throw notSwarm(); }
  async listTasks(): Promise<SwarmTask[]> { throw notSwarm(); }
  async listNodes(): Promise<SwarmNode[]> { throw notSwarm(); }

  async ensureOverlayNetwork(name: string, labels: Readonly<Record<string, string>> = {}): Promise<string> {
    return this.ensureNetwork(name, labels);
  }

  async connectNetwork(network: string, container: string, aliases: readonly string[] = [], endpoint: Omit<EndpointSpec, 'name' | 'aliases'> = {}): Promise<void> {
    const c = this.find(container, 'connect');
    if (c.networkMode) throw new KibokoError('CONFLICT', `connect ${container} to ${network}: container shares another network namespace (${c.networkMode})`);
    c.networks = { ...c.networks, [network]: { ipAddress: endpoint.ipv4Address ?? `10.1.0.${(this.seq++ % 250) + 2}` } };
    (c.connected ??= new Map()).set(network, { name: network, aliases: aliases.length ? [...aliases] : undefined, ...endpoint });
  }

  /** Swarm objects are a Swarm feature: like the services, the fake is a single engine. */
  async createSwarmObject(): Promise<string> { throw notSwarm(); }
  async listSwarmObjects(): Promise<SwarmObject[]> { throw notSwarm(); }
  async removeSwarmObject(): Promise<void> { throw notSwarm(); }

  async volumeExists(name: string): Promise<boolean> {
    return this.volumeNames.has(name);
  }

  async removeVolume(name: string): Promise<void> {
    if ([...this.containers.values()].some((c) => c.volumes.includes(name) || (c.spec?.binds ?? []).some((b) => b.split(':')[0] === name))) {
      throw new KibokoError('CONFLICT', `remove volume ${name}: volume is in use`);
    }
    this.volumeNames.delete(name);
    this.volumeInfo.delete(name);
  }

  /** Test helper: the container's volumes (anonymous volumes created with it). */
  volumesOf(id: string): string[] {
    return [...(this.containers.get(id)?.volumes ?? [])];
  }

  /** Test helper: removes a container behind kiboko's back (it "vanished"). */
  vanish(id: string): void {
    this.containers.delete(id);
  }

  // ---- images, archives, events, logs ------------------------------------------------------

  /** Test helper: adds (or replaces) an image with the given details. */
  addImage(partial: Partial<ImageDetails> & { tags: readonly string[] }): ImageDetails {
    const d = imageDetailsOf(partial, partial.id ?? `sha256:${(++this.seq).toString(16).padStart(64, '0')}`);
    for (const t of d.tags) this.images.set(t, { id: d.id, tags: d.tags, labels: d.labels });
    this.imageDetails.set(d.id, d);
    return d;
  }

  async inspectImage(ref: string): Promise<ImageDetails> {
    this.guard('inspectImage', ref);
    const summary = this.images.get(ref) ?? [...this.images.values()].find((i) => i.id === ref || i.id === `sha256:${ref}`);
    if (!summary) throw new KibokoError('TARGET_NOT_FOUND', `inspect image ${ref}: No such image: ${ref}`);
    const d = this.imageDetails.get(summary.id);
    return structuredClone(d ?? { id: summary.id, tags: summary.tags, labels: summary.labels, created: new Date(0).toISOString(), parent: '', env: [], entrypoint: undefined, cmd: undefined, workingDir: '', user: '', onBuild: [], layers: [], size: 0 });
  }

  async tagImage(ref: string, repo: string, tag: string): Promise<void> {
    this.guard('tagImage', ref, `${repo}:${tag}`);
    const d = await this.inspectImage(ref);
    this.addImage({ ...d, tags: [...new Set([...d.tags, `${repo}:${tag}`])] });
  }

  /** Test helper: a file in a container's filesystem (as putArchive left it). */
  readFile(id: string, path: string): string | undefined {
    return this.find(id, 'readFile').files.get(path)?.content.toString('utf8');
  }

  /** Test helper: puts a file into a container's filesystem. */
  writeFile(id: string, path: string, content: string | Buffer, mode = 0o644): void {
    this.find(id, 'writeFile').files.set(path, { content: Buffer.from(content), mode });
  }

  async putArchive(id: string, destDir: string, tar: Buffer): Promise<void> {
    const c = this.find(id, 'putArchive', destDir);
    for (const e of await readTar(tar)) if (e.type === 'file') c.files.set(posix.join(destDir, e.name), { content: e.data, mode: e.mode });
  }

  async getArchive(id: string, path: string): Promise<Buffer> {
    const c = this.find(id, 'getArchive', path);
    const base = posix.basename(path);
    const entries = [...c.files].filter(([p]) => p === path || p.startsWith(`${path.replace(/\/$/, '')}/`));
    if (!entries.length) throw new KibokoError('TARGET_NOT_FOUND', `copy from ${id}:${path}: Could not find the file ${path} in container ${c.name}`);
    return packTar(entries.map(([p, f]) => ({ name: p === path ? base : posix.join(base, posix.relative(path, p)), mode: f.mode, data: f.content })));
  }

  /** Test helper: sets what logs() returns for a container. */
  setLogs(id: string, text: string): void {
    this.find(id, 'setLogs').logText = text;
  }

  async logs(id: string, options: LogsOptions = {}): Promise<string> {
    const c = this.find(id, 'logs');
    if (options.tail === undefined) return c.logText;
    const lines = c.logText.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const tail = lines.slice(Math.max(0, lines.length - options.tail));
    return tail.length ? `${tail.join('\n')}\n` : '';
  }

  /** Everything the fake engine has emitted, oldest first (for `since` replays). */
  readonly eventLog: EngineEvent[] = [];
  private readonly eventListeners = new Set<(e: EngineEvent | Error) => void>();
  /** The time of the last event, unix nanoseconds (wall clock, strictly increasing). */
  eventClockNs = 0n;

  /** Test helper: emits an engine event (container events are also emitted by the operations). */
  emitEvent(partial: Partial<EngineEvent> & { action: string }): EngineEvent {
    const now = BigInt(Date.now()) * 1_000_000n;
    this.eventClockNs = now > this.eventClockNs ? now : this.eventClockNs + 1n;
    const e: EngineEvent = {
      type: partial.type ?? 'container',
      action: partial.action,
      id: partial.id ?? '',
      attributes: partial.attributes ?? {},
      time: partial.time ?? Number(this.eventClockNs / 1_000_000_000n),
      timeNano: partial.timeNano ?? this.eventClockNs.toString(),
      scope: partial.scope ?? 'local',
    };
    this.eventLog.push(e);
    for (const l of this.eventListeners) l(e);
    return e;
  }

  /** Test helper: drops every open event stream as a dying engine connection would. */
  dropEventStreams(): void {
    const err = new KibokoError('ENGINE_UNREACHABLE', `cannot reach the Docker engine at ${this.endpoint}: the event stream ended`);
    for (const l of this.eventListeners) l(err);
  }

  async *events(options: EventsOptions = {}): AsyncIterable<EngineEvent> {
    this.guard('events', '');
    yield* followEvents(this.eventLog, this.eventListeners, options);
  }

  private containerEvent(c: FakeContainer, action: string, extra: Record<string, string> = {}) {
    this.emitEvent({ type: 'container', action, id: c.id, attributes: { ...c.labels, name: c.name, image: c.image, ...extra } });
  }

  close(): void {}

  private guard(op: string, id: string, args?: unknown) {
    if (this.unreachable) throw new KibokoError('ENGINE_UNREACHABLE', `cannot reach the Docker engine at ${this.endpoint}`);
    this.calls.push(args === undefined ? { op, id } : { op, id, args });
    const err = this.failWith?.(op, id);
    if (err) throw err;
  }

  private find(idOrName: string, op: string, args?: unknown): FakeContainer {
    this.guard(op, idOrName, args);
    const c =
      this.containers.get(idOrName) ??
      [...this.containers.values()].find((x) => x.name === idOrName.replace(/^\//, '') || (idOrName.length >= 12 && x.id.startsWith(idOrName)));
    if (!c) throw new KibokoError('TARGET_NOT_FOUND', `${op} ${idOrName}: No such container: ${idOrName}`);
    return c;
  }

  private setStatus(c: FakeContainer, status: ContainerStatus) {
    c.status = status;
    c.pid = status === 'running' || status === 'paused' ? 1000 + this.seq : 0;
  }

  private exit(c: FakeContainer, code: number) {
    this.setStatus(c, 'exited');
    c.exitCode = code;
    c.finishedAt = new Date().toISOString();
    this.containerEvent(c, 'die', { exitCode: String(code) });
  }
}
