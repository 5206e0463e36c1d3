import { Agent } from 'node:https';
import Docker from 'dockerode';
import { KibokoError } from '../../common/errors.js';
import type { ConnectionTarget } from '../connection.js';
import type { Engine } from '../port.js';
import type {
  BuildOptions,
  ContainerDetails,
  ContainerRef,
  EndpointSpec,
  LogChunk,
  NetworkDetails,
  NetworkOptions,
  SwarmObject,
  VolumeOptions,
  VolumeSummary,
  ContainerSpec,
  ContainerStats,
  ContainerSummary,
  EngineInfo,
  EngineSystemInfo,
  ExecOptions,
  ExecResult,
  EngineEvent,
  EventsOptions,
  ImageDetails,
  ImageSummary,
  ListOptions,
  LogsOptions,
  NetworkSummary,
  PullOptions,
  PullProgress,
  RemoveOptions,
  CloneOptions,
  SwarmService,
  SwarmServiceDefinition,
  SwarmTask,
} from '../types.js';
import { translateEngineError, unreachable } from './errors.js';
import { compareVersions } from '../api-version.js';
import { buildImage } from './build.js';
import {
  cloneContainer,
  containerStats,
  createContainer,
  getArchive,
  inspectContainer,
  inspectSpec,
  killContainer,
  listContainers,
  pauseContainer,
  putArchive,
  removeContainer,
  renameContainer,
  restartContainer,
  startContainer,
  stopContainer,
  unpauseContainer,
  waitContainer,
} from './containers.js';
import type { DockerContext } from './context.js';
import { engineEvents } from './events.js';
import { containerLogs, execInContainer, streamLogs } from './exec.js';
import { imageExists, inspectImage, listImages, removeImage, tagImage } from './images.js';
import { connectNetwork, ensureNetwork, ensureOverlayNetwork, inspectNetwork, listNetworks, removeNetwork } from './networks.js';
import { pullImage } from './pull.js';
import { createService, createSwarmObject, inspectService, listServices, listSwarmObjects, listTasks, removeService, removeSwarmObject, updateService } from './swarm.js';
import { ensureVolume, listVolumes, removeVolume, volumeExists } from './volumes.js';

export { serviceSpec } from './service-spec.js';

/** The newest Engine API version kiboko is written against; older engines are spoken to in theirs. */
export const MAX_API_VERSION = '1.47';
export { compareVersions };
/** The oldest we accept (Docker 17.06); older engines lack filters and flags we rely on. */
export const MIN_API_VERSION = '1.30';

export interface DockerEngineOptions {
  /** Skip negotiation and speak this API version (e.g. `1.41`). */
  apiVersion?: string;
  connectTimeoutMs?: number;
}

export class DockerEngine implements Engine {
  readonly endpoint: string;
  private readonly docker: Docker;
  private negotiated: Promise<EngineInfo> | undefined;

  private readonly connectTimeoutMs: number;

  /** What the per-resource modules (containers.ts, images.ts, swarm.ts…) are handed. */
  private readonly ctx: DockerContext;
  constructor(target: ConnectionTarget, options: DockerEngineOptions = {}) {
    this.endpoint = target.endpoint;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    // Every key is set explicitly so docker-modem's own DOCKER_* environment defaults never win.
    const base = {
      host: undefined,
      port: undefined,
      socketPath: undefined,
      protocol: undefined,
      ca: undefined,
      cert: undefined,
      key: undefined,
      version: options.apiVersion ? `v${options.apiVersion}` : undefined,
      // No connectionTimeout: docker-modem clears it only when a response arrives, so it would
      // cut off every call longer than it (a graceful stop, a wait). Reachability is bounded in info().
    };
    const opts =
      target.kind === 'unix'
        ? { ...base, socketPath: target.socketPath }
        : {
            ...base,
            host: target.host,
            port: target.port,
            protocol: (target.tls ? 'https' : 'http') as 'https' | 'http',
            ...(target.tls ? { ca: target.tls.ca, cert: target.tls.cert, key: target.tls.key } : {}),
          };
    this.docker = new Docker(opts as Docker.DockerOptions);
    this.ctx = { docker: this.docker, endpoint: this.endpoint, info: () => this.info(), call: (operation, fn) => this.call(operation, fn) };
    if (target.kind === 'tcp' && target.tls && !target.tls.verify) {
      // --tls without --tlsverify: encrypt, but do not verify the server (docker CLI semantics).
      (this.docker.modem as unknown as { agent: Agent }).agent = new Agent({ rejectUnauthorized: false, keepAlive: true });
    }
    if (options.apiVersion) {
      this.negotiated = Promise.resolve({
        endpoint: this.endpoint,
        serverVersion: 'unknown',
        apiVersion: options.apiVersion,
        negotiatedApiVersion: options.apiVersion,
        os: 'unknown',
        arch: 'unknown',
      });
    }
  }

  /** API version negotiation, like the docker CLI: speak min(server, ours). Done once, lazily. */
  info(): Promise<EngineInfo> {
    this.negotiated ??= (async () => {
      let v: Docker.DockerVersion;
      let timer: NodeJS.Timeout | undefined;
      try {
        v = await Promise.race([
          this.docker.version(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })), this.connectTimeoutMs);
            timer.unref();
          }),
        ]);
      } catch (err) {
        this.negotiated = undefined;
        const code = (err as { code?: string }).code;
        if (code || (err as Error).message?.includes('socket hang up')) throw unreachable(this.endpoint, code ?? 'no answer', err);
        throw translateEngineError(err, { endpoint: this.endpoint, operation: 'connect' }) ?? err;
      } finally {
        clearTimeout(timer);
      }
      const server = v.ApiVersion;
      const negotiated = compareVersions(server, MAX_API_VERSION) < 0 ? server : MAX_API_VERSION;
      if (compareVersions(negotiated, MIN_API_VERSION) < 0) {
        throw new KibokoError('ENGINE_ERROR', `the engine at ${this.endpoint} speaks API ${server}; kiboko needs at least ${MIN_API_VERSION}`, {
          hint: 'upgrade the Docker engine (Docker 17.06 or newer)',
        });
      }
      (this.docker.modem as unknown as { version: string }).version = `v${negotiated}`;
      return {
        endpoint: this.endpoint,
        serverVersion: v.Version,
        apiVersion: server,
        negotiatedApiVersion: negotiated,
        os: v.Os,
        arch: v.Arch,
      };
    })();
    return this.negotiated;
  }

  async systemInfo(): Promise<EngineSystemInfo> {
    const i = (await this.call('info', () => this.docker.info())) as Record<string, unknown> & { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
    return {
      cgroupDriver: String(i.CgroupDriver ?? 'unknown'),
      cgroupVersion: String(i.CgroupVersion ?? '1'),
      kernelVersion: String(i.KernelVersion ?? 'unknown'),
      operatingSystem: String(i.OperatingSystem ?? 'unknown'),
      securityOptions: (i.SecurityOptions as string[] | undefined) ?? [],
      swarm: i.Swarm?.LocalNodeState ?? 'inactive',
      isManager: Boolean(i.Swarm?.ControlAvailable),
    };
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T | undefined> {
    await this.info();
    try {
      return await fn();
    } catch (err) {
      const translated = translateEngineError(err, { endpoint: this.endpoint, operation });
      if (translated === undefined) return undefined;
      throw translated;
    }
  }

  // Containers (containers.ts)
  list(options: ListOptions = {}): Promise<ContainerSummary[]> { return listContainers(this.ctx, options); }
  inspect(idOrName: string): Promise<ContainerDetails> { return inspectContainer(this.ctx, idOrName); }
  inspectSpec(idOrName: string): Promise<ContainerSpec & { name: string }> { return inspectSpec(this.ctx, idOrName); }
  create(spec: ContainerSpec): Promise<ContainerRef> { return createContainer(this.ctx, spec); }
  cloneContainer(id: string, options: CloneOptions): Promise<ContainerRef> { return cloneContainer(this.ctx, id, options); }
  rename(idOrName: string, newName: string): Promise<void> { return renameContainer(this.ctx, idOrName, newName); }
  start(id: string): Promise<void> { return startContainer(this.ctx, id); }
  stop(id: string, timeoutSeconds: number): Promise<void> { return stopContainer(this.ctx, id, timeoutSeconds); }
  kill(id: string, signal: string): Promise<void> { return killContainer(this.ctx, id, signal); }
  pause(id: string): Promise<void> { return pauseContainer(this.ctx, id); }
  unpause(id: string): Promise<void> { return unpauseContainer(this.ctx, id); }
  restart(id: string, timeoutSeconds: number): Promise<void> { return restartContainer(this.ctx, id, timeoutSeconds); }
  remove(id: string, options: RemoveOptions = {}): Promise<void> { return removeContainer(this.ctx, id, options); }
  wait(id: string, signal?: AbortSignal): Promise<number> { return waitContainer(this.ctx, id, signal); }
  stats(id: string): Promise<ContainerStats> { return containerStats(this.ctx, id); }
  putArchive(id: string, destDir: string, tar: Buffer): Promise<void> { return putArchive(this.ctx, id, destDir, tar); }
  getArchive(id: string, path: string): Promise<Buffer> { return getArchive(this.ctx, id, path); }

  // Exec and logs (exec.ts)
  exec(id: string, options: ExecOptions): Promise<ExecResult> { return execInContainer(this.ctx, id, options); }
  logs(id: string, options: LogsOptions = {}): Promise<string> { return containerLogs(this.ctx, id, options); }
  streamLogs(id: string, options: LogsOptions & { follow?: boolean; signal?: AbortSignal } = {}): AsyncIterable<LogChunk> { return streamLogs(this.ctx, id, options); }

  // Images (images.ts, pull.ts, build.ts)
  pullImage(ref: string, onProgress?: (line: string, progress?: PullProgress) => void, options: PullOptions = {}): Promise<void> { return pullImage(this.ctx, ref, onProgress, options); }
  imageExists(ref: string): Promise<boolean> { return imageExists(this.ctx, ref); }
  listImages(labels: readonly string[] = []): Promise<ImageSummary[]> { return listImages(this.ctx, labels); }
  inspectImage(ref: string): Promise<ImageDetails> { return inspectImage(this.ctx, ref); }
  tagImage(ref: string, repo: string, tag: string): Promise<void> { return tagImage(this.ctx, ref, repo, tag); }
  removeImage(ref: string, force = false): Promise<void> { return removeImage(this.ctx, ref, force); }
  buildImage(options: BuildOptions): Promise<string> { return buildImage(this.ctx, options); }

  // Events (events.ts)
  events(options: EventsOptions = {}): AsyncIterable<EngineEvent> { return engineEvents(this.ctx, options); }

  // Volumes (volumes.ts)
  volumeExists(name: string): Promise<boolean> { return volumeExists(this.ctx, name); }
  ensureVolume(name: string, labels: Readonly<Record<string, string>> = {}, options: VolumeOptions = {}): Promise<void> { return ensureVolume(this.ctx, name, labels, options); }
  listVolumes(labels: readonly string[] = []): Promise<VolumeSummary[]> { return listVolumes(this.ctx, labels); }
  removeVolume(name: string): Promise<void> { return removeVolume(this.ctx, name); }

  // Networks (networks.ts)
  inspectNetwork(idOrName: string): Promise<NetworkDetails> { return inspectNetwork(this.ctx, idOrName); }
  listNetworks(labels: readonly string[] = []): Promise<NetworkSummary[]> { return listNetworks(this.ctx, labels); }
  ensureNetwork(name: string, labels: Readonly<Record<string, string>> = {}, options: NetworkOptions = {}): Promise<string> { return ensureNetwork(this.ctx, name, labels, options); }
  removeNetwork(idOrName: string): Promise<void> { return removeNetwork(this.ctx, idOrName); }
  connectNetwork(network: string, container: string, aliases: readonly string[] = [], endpoint: Omit<EndpointSpec, 'name' | 'aliases'> = {}): Promise<void> { return connectNetwork(this.ctx, network, container, aliases, endpoint); }
  ensureOverlayNetwork(name: string, labels: Readonly<Record<string, string>> = {}): Promise<string> { return ensureOverlayNetwork(this.ctx, name, labels); }

  // Swarm services, tasks, secrets and configs (swarm.ts)
  listServices(labels: readonly string[] = []): Promise<SwarmService[]> { return listServices(this.ctx, labels); }
  inspectService(idOrName: string): Promise<SwarmService> { return inspectService(this.ctx, idOrName); }
  createService(definition: SwarmServiceDefinition): Promise<string> { return createService(this.ctx, definition); }
  updateService(id: string, version: number, definition: SwarmServiceDefinition): Promise<void> { return updateService(this.ctx, id, version, definition); }
  removeService(idOrName: string): Promise<void> { return removeService(this.ctx, idOrName); }
  listTasks(serviceId: string): Promise<SwarmTask[]> { return listTasks(this.ctx, serviceId); }
  createSwarmObject(kind: 'secret' | 'config', name: string, data: Buffer, labels: Readonly<Record<string, string>> = {}): Promise<string> { return createSwarmObject(this.ctx, kind, name, data, labels); }
  listSwarmObjects(kind: 'secret' | 'config', labels: readonly string[] = []): Promise<SwarmObject[]> { return listSwarmObjects(this.ctx, kind, labels); }
  removeSwarmObject(kind: 'secret' | 'config', idOrName: string): Promise<void> { return removeSwarmObject(this.ctx, kind, idOrName); }

  close(): void {
    // dockerode keeps no pooled sockets of its own; nothing to release today.
  }
}
