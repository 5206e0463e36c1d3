import { Agent as HttpAgent, type AgentOptions, type IncomingMessage } from 'node:http';
import { inspect } from 'node:util';
import { Agent } from 'node:https';
import Docker from 'dockerode';
import { KibokoError } from '../../common/errors.js';
import type { ConnectionTarget } from '../connection.js';
import type { Engine } from '../port.js';
import type { EngineInfo, EngineSystemInfo } from '../types.js';
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
import { createService, createSwarmObject, inspectService, listNodes, listServices, listSwarmObjects, listTasks, removeService, removeSwarmObject, updateService } from './swarm.js';
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

/**
 * For plain connections (a unix socket, tcp without TLS): Node's global agent's settings, and an
 * empty TLS server name. Without one, Node works the name out for every request, testing the Host
 * header with `net.isIP`, whose IPv6 regular expression V8 compiles on the first two calls (~5-20
 * ms of a short command's few requests); only a TLS connection uses it (for SNI). docker-modem
 * formats each request's options with util.inspect (all depths, hidden properties too) whether or
 * not its debug log is on: the agent, with its sockets, shows as its name.
 */
class PlainAgent extends HttpAgent {
  constructor() {
    super({ keepAlive: true, scheduling: 'lifo', timeout: 5000, servername: '' } as AgentOptions);
  }

  [inspect.custom](): string {
    return 'PlainAgent';
  }
}

export class DockerEngine implements Engine {
  readonly endpoint: string;
  private readonly docker: Docker;
  private negotiated: Promise<string> | undefined;
  private described: Promise<EngineInfo> | undefined;

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
    } else if (target.kind === 'unix' || !target.tls) {
      (this.docker.modem as unknown as { agent: HttpAgent }).agent = new PlainAgent();
    }
    if (options.apiVersion) {
      this.negotiated = Promise.resolve(options.apiVersion);
      this.described = Promise.resolve({
        endpoint: this.endpoint,
        serverVersion: 'unknown',
        apiVersion: options.apiVersion,
        negotiatedApiVersion: options.apiVersion,
        os: 'unknown',
        arch: 'unknown',
      });
    }
  }

  /**
   * API version negotiation, like the docker CLI: the server's version from `/_ping` (its
   * Api-Version header, ~1 ms), then speak min(server, ours). Done once, lazily; every call waits
   * for it. (`/version` is slower, ~10-30 ms on Docker 20.10, which asks containerd and runs runc
   * and docker-init for their versions: only info() asks it.)
   */
  private negotiate(): Promise<string> {
    this.negotiated ??= (async () => {
      let server: string | undefined;
      let timer: NodeJS.Timeout | undefined;
      try {
        server = await Promise.race([
          this.pingApiVersion(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })), this.connectTimeoutMs);
            timer.unref();
          }),
        ]);
        // An engine that does not say (none known): its /version does.
        server ??= (await this.docker.version()).ApiVersion;
      } catch (err) {
        this.negotiated = undefined;
        const code = (err as { code?: string }).code;
        if (code || (err as Error).message?.includes('socket hang up')) throw unreachable(this.endpoint, code ?? 'no answer', err);
        throw translateEngineError(err, { endpoint: this.endpoint, operation: 'connect' }) ?? err;
      } finally {
        clearTimeout(timer);
      }
      const negotiated = compareVersions(server, MAX_API_VERSION) < 0 ? server : MAX_API_VERSION;
      if (compareVersions(negotiated, MIN_API_VERSION) < 0) {
        this.negotiated = undefined;
        throw new KibokoError('ENGINE_ERROR', `the engine at ${this.endpoint} speaks API ${server}; kiboko needs at least ${MIN_API_VERSION}`, {
          hint: 'upgrade the Docker engine (Docker 17.06 or newer)',
        });
      }
      (this.docker.modem as unknown as { version: string }).version = `v${negotiated}`;
      return negotiated;
    })();
    return this.negotiated;
  }

  /** The Api-Version header of `GET /_ping` (unversioned path: asked before negotiation). */
  private pingApiVersion(): Promise<string | undefined> {
    type Dial = (o: object, cb: (err: unknown, res: IncomingMessage) => void) => void;
    const dial = (this.docker.modem as unknown as { dial: Dial }).dial.bind(this.docker.modem);
    return new Promise((resolve, reject) => {
      dial({ path: '/_ping', method: 'GET', isStream: true, statusCodes: { 200: true, 500: 'server error' } }, (err, res) => {
        if (err) return reject(err);
        res.resume();
        const v = res.headers['api-version'];
        resolve(typeof v === 'string' && /^\d+\.\d+$/.test(v) ? v : undefined);
      });
    });
  }

  async ready(): Promise<void> {
    await this.negotiate();
  }

  async ping(): Promise<void> {
    await this.call('ping', () => this.docker.ping());
  }

  /** The engine's versions: negotiation, then `/version` (once; asked again after a failure). */
  info(): Promise<EngineInfo> {
    this.described ??= (async () => {
      const negotiatedApiVersion = await this.negotiate();
      const v = await this.call('version', () => this.docker.version());
      return {
        endpoint: this.endpoint,
        serverVersion: v?.Version ?? 'unknown',
        apiVersion: v?.ApiVersion ?? negotiatedApiVersion,
        negotiatedApiVersion,
        os: v?.Os ?? 'unknown',
        arch: v?.Arch ?? 'unknown',
      };
    })();
    const described = this.described;
    described.catch(() => {
      if (this.described === described) this.described = undefined;
    });
    return described;
  }

  /**
   * Whether this engine is a Swarm manager (systemInfo().isManager) from `GET /swarm`, ~1 ms
   * against ~10-30 ms for `/info`: 200 on a manager, 503 "This node is not a swarm manager" on
   * any other node. Any other answer (a locked swarm, a manager that lost its quorum, an engine
   * without the endpoint) is settled by `/info` as before.
   */
  async isSwarmManager(): Promise<boolean> {
    await this.negotiate();
    try {
      await this.docker.swarmInspect();
      return true;
    } catch (err) {
      const e = err as { statusCode?: number; json?: { message?: unknown } };
      if (e.statusCode === 503 && typeof e.json?.message === 'string' && /^This node is not a swarm manager\./.test(e.json.message)) return false;
    }
    return (await this.systemInfo()).isManager;
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
    await this.negotiate();
    try {
      return await fn();
    } catch (err) {
      const translated = translateEngineError(err, { endpoint: this.endpoint, operation });
      if (translated === undefined) return undefined;
      throw translated;
    }
  }

  // Every operation has the port's signature (Engine['…'], written once in port.ts) and forwards to its
  // per-resource module with the context.

  // Containers (containers.ts)
  list: Engine['list'] = (options = {}) => listContainers(this.ctx, options);
  inspect: Engine['inspect'] = (idOrName) => inspectContainer(this.ctx, idOrName);
  inspectSpec: Engine['inspectSpec'] = (idOrName) => inspectSpec(this.ctx, idOrName);
  create: Engine['create'] = (spec) => createContainer(this.ctx, spec);
  cloneContainer: Engine['cloneContainer'] = (id, options) => cloneContainer(this.ctx, id, options);
  rename: Engine['rename'] = (idOrName, newName) => renameContainer(this.ctx, idOrName, newName);
  start: Engine['start'] = (id) => startContainer(this.ctx, id);
  stop: Engine['stop'] = (id, timeoutSeconds) => stopContainer(this.ctx, id, timeoutSeconds);
  kill: Engine['kill'] = (id, signal) => killContainer(this.ctx, id, signal);
  pause: Engine['pause'] = (id) => pauseContainer(this.ctx, id);
  unpause: Engine['unpause'] = (id) => unpauseContainer(this.ctx, id);
  restart: Engine['restart'] = (id, timeoutSeconds) => restartContainer(this.ctx, id, timeoutSeconds);
  remove: Engine['remove'] = (id, options = {}) => removeContainer(this.ctx, id, options);
  wait: Engine['wait'] = (id, signal) => waitContainer(this.ctx, id, signal);
  stats: Engine['stats'] = (id) => containerStats(this.ctx, id);
  putArchive: Engine['putArchive'] = (id, destDir, tar) => putArchive(this.ctx, id, destDir, tar);
  getArchive: Engine['getArchive'] = (id, path) => getArchive(this.ctx, id, path);

  // Exec and logs (exec.ts)
  exec: Engine['exec'] = (id, options) => execInContainer(this.ctx, id, options);
  logs: Engine['logs'] = (id, options = {}) => containerLogs(this.ctx, id, options);
  streamLogs: Engine['streamLogs'] = (id, options = {}) => streamLogs(this.ctx, id, options);

  // Images (images.ts, pull.ts, build.ts)
  pullImage: Engine['pullImage'] = (ref, onProgress, options = {}) => pullImage(this.ctx, ref, onProgress, options);
  imageExists: Engine['imageExists'] = (ref) => imageExists(this.ctx, ref);
  listImages: Engine['listImages'] = (labels = []) => listImages(this.ctx, labels);
  inspectImage: Engine['inspectImage'] = (ref) => inspectImage(this.ctx, ref);
  tagImage: Engine['tagImage'] = (ref, repo, tag) => tagImage(this.ctx, ref, repo, tag);
  removeImage: Engine['removeImage'] = (ref, force = false) => removeImage(this.ctx, ref, force);
  buildImage: Engine['buildImage'] = (options) => buildImage(this.ctx, options);

  // Events (events.ts)
  events: Engine['events'] = (options = {}) => engineEvents(this.ctx, options);

  // Volumes (volumes.ts)
  volumeExists: Engine['volumeExists'] = (name) => volumeExists(this.ctx, name);
  ensureVolume: Engine['ensureVolume'] = (name, labels = {}, options = {}) => ensureVolume(this.ctx, name, labels, options);
  listVolumes: Engine['listVolumes'] = (labels = []) => listVolumes(this.ctx, labels);
  removeVolume: Engine['removeVolume'] = (name) => removeVolume(this.ctx, name);

  // Networks (networks.ts)
  inspectNetwork: Engine['inspectNetwork'] = (idOrName) => inspectNetwork(this.ctx, idOrName);
  listNetworks: Engine['listNetworks'] = (labels = []) => listNetworks(this.ctx, labels);
  ensureNetwork: Engine['ensureNetwork'] = (name, labels = {}, options = {}) => ensureNetwork(this.ctx, name, labels, options);
  removeNetwork: Engine['removeNetwork'] = (idOrName) => removeNetwork(this.ctx, idOrName);
  connectNetwork: Engine['connectNetwork'] = (network, container, aliases = [], endpoint = {}) => connectNetwork(this.ctx, network, container, aliases, endpoint);
  ensureOverlayNetwork: Engine['ensureOverlayNetwork'] = (name, labels = {}) => ensureOverlayNetwork(this.ctx, name, labels);

  // Swarm services, tasks, nodes, secrets and configs (swarm.ts)
  listServices: Engine['listServices'] = (labels = []) => listServices(this.ctx, labels);
  inspectService: Engine['inspectService'] = (idOrName) => inspectService(this.ctx, idOrName);
  createService: Engine['createService'] = (definition) => createService(this.ctx, definition);
  updateService: Engine['updateService'] = (id, version, definition) => updateService(this.ctx, id, version, definition);
  removeService: Engine['removeService'] = (idOrName) => removeService(this.ctx, idOrName);
  listTasks: Engine['listTasks'] = (serviceId) => listTasks(this.ctx, serviceId);
  listNodes: Engine['listNodes'] = () => listNodes(this.ctx);
  createSwarmObject: Engine['createSwarmObject'] = (kind, name, data, labels = {}) => createSwarmObject(this.ctx, kind, name, data, labels);
  listSwarmObjects: Engine['listSwarmObjects'] = (kind, labels = []) => listSwarmObjects(this.ctx, kind, labels);
  removeSwarmObject: Engine['removeSwarmObject'] = (kind, idOrName) => removeSwarmObject(this.ctx, kind, idOrName);

  close(): void {
    // dockerode keeps no pooled sockets of its own; nothing to release today.
  }
}
