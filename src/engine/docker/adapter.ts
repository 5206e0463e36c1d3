import { lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { Agent } from 'node:https';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { createRequire } from 'node:module';
import Docker from 'dockerode';
import tarStream from 'tar-stream';
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
  ContainerStatus,
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
  SwarmUpdateConfig,
} from '../types.js';
import { classifyPullError, translateEngineError, unreachable } from './errors.js';
import { ANNOTATIONS_API, annotationsUnsupported, compareVersions } from '../api-version.js';
import { createBody, endpointConfig, endpointOf, networkBody, specFromInspect, type RawContainer, type RawNetwork } from './create-body.js';

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

  async list(options: ListOptions = {}): Promise<ContainerSummary[]> {
    const filters: Record<string, string[]> = {};
    if (options.labels?.length) filters.label = [...options.labels];
    const raw = await this.call('list containers', () =>
      this.docker.listContainers({ all: options.all ?? false, filters: JSON.stringify(filters) }),
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

  async inspect(idOrName: string): Promise<ContainerDetails> {
    const c = await this.call(`inspect ${idOrName}`, () => this.docker.getContainer(idOrName).inspect());
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

  async cloneContainer(id: string, options: CloneOptions): Promise<ContainerRef> {
    const c = (await this.call(`inspect ${id}`, () => this.docker.getContainer(id).inspect())) as unknown as RawCloneSource;
    const oldImage = (await this.call(`inspect image ${c.Image}`, () => this.docker.getImage(c.Image).inspect()).catch(() => undefined)) as unknown as RawImage | undefined;
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
    const created = await this.call(`create ${options.name}`, () =>
      this.docker.createContainer({ ...config, name: options.name, HostConfig: c.HostConfig, NetworkingConfig: { EndpointsConfig: attach } } as Docker.ContainerCreateOptions),
    );
    if (!created) throw new KibokoError('INTERNAL', `create ${options.name}: empty answer`);
    return { id: created.id, name: options.name };
  }

  async create(spec: ContainerSpec): Promise<ContainerRef> {
    if (spec.annotations && Object.keys(spec.annotations).length) {
      // An older engine would drop HostConfig.Annotations without a word.
      const { negotiatedApiVersion } = await this.info();
      if (compareVersions(negotiatedApiVersion, ANNOTATIONS_API) < 0) throw annotationsUnsupported(this.endpoint, negotiatedApiVersion);
    }
    const [firstNet, ...otherNets] = spec.networks ?? [];
    const c = await this.call(`create ${spec.name ?? spec.image}`, () => this.docker.createContainer(createBody(spec) as Docker.ContainerCreateOptions));
    if (!c) throw new KibokoError('INTERNAL', 'create: empty answer');
    void firstNet;
    for (const net of otherNets) await this.connectNetwork(net.name, c.id, net.aliases, endpointOf(net));
    return { id: c.id, name: spec.name ?? c.id.slice(0, 12) };
  }

  async inspectSpec(idOrName: string): Promise<ContainerSpec & { name: string }> {
    const c = await this.call(`inspect ${idOrName}`, () => this.docker.getContainer(idOrName).inspect());
    if (!c) throw new KibokoError('INTERNAL', `inspect ${idOrName}: empty answer`);
    return specFromInspect(c as unknown as RawContainer);
  }

  async rename(idOrName: string, newName: string): Promise<void> {
    await this.call(`rename ${idOrName} to ${newName}`, () => this.docker.getContainer(idOrName).rename({ name: newName }));
  }

  async start(id: string): Promise<void> {
    await this.call(`start ${id}`, () => this.docker.getContainer(id).start());
  }

  async stop(id: string, timeoutSeconds: number): Promise<void> {
    await this.call(`stop ${id}`, () => this.docker.getContainer(id).stop({ t: timeoutSeconds }));
  }

  async kill(id: string, signal: string): Promise<void> {
    await this.call(`kill ${id}`, () => this.docker.getContainer(id).kill({ signal }));
  }

  async pause(id: string): Promise<void> {
    await this.call(`pause ${id}`, () => this.docker.getContainer(id).pause());
  }

  async unpause(id: string): Promise<void> {
    await this.call(`unpause ${id}`, () => this.docker.getContainer(id).unpause());
  }

  async restart(id: string, timeoutSeconds: number): Promise<void> {
    await this.call(`restart ${id}`, () => this.docker.getContainer(id).restart({ t: timeoutSeconds }));
  }

  async remove(id: string, options: RemoveOptions = {}): Promise<void> {
    await this.call(`remove ${id}`, () =>
      this.docker.getContainer(id).remove({ force: options.force ?? false, link: options.links ?? false, v: options.volumes ?? false }),
    );
  }

  async wait(id: string, signal?: AbortSignal): Promise<number> {
    const r = await this.call(`wait ${id}`, () =>
      this.docker.getContainer(id).wait({ condition: 'not-running', abortSignal: signal } as object),
    );
    return (r as { StatusCode?: number } | undefined)?.StatusCode ?? 0;
  }

  async exec(id: string, options: ExecOptions): Promise<ExecResult> {
    const op = `exec in ${id}`;
    return (await this.call(op, async () => {
      const exec = await this.docker.getContainer(id).exec({
        Cmd: [...options.cmd],
        AttachStdout: true,
        AttachStderr: true,
        User: options.user,
        Env: options.env ? [...options.env] : undefined,
        WorkingDir: options.workingDir,
        Privileged: options.privileged ?? false,
      });
      const stream = await exec.start({ hijack: true, stdin: false });
      let stdout = '';
      let stderr = '';
      const out = new PassThrough();
      const err = new PassThrough();
      out.on('data', (b: Buffer) => {
        const s = b.toString('utf8');
        stdout += s;
        options.onOutput?.('stdout', s);
      });
      err.on('data', (b: Buffer) => {
        const s = b.toString('utf8');
        stderr += s;
        options.onOutput?.('stderr', s);
      });
      this.docker.modem.demuxStream(stream, out, err);
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          stream.destroy();
          reject(new KibokoError('CANCELLED', `${op}: cancelled`));
        };
        if (options.signal?.aborted) return onAbort();
        options.signal?.addEventListener('abort', onAbort, { once: true });
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', reject);
      });
      const inspected = await exec.inspect();
      return { exitCode: inspected.ExitCode ?? -1, stdout, stderr };
    }))!;
  }

  async logs(id: string, options: LogsOptions = {}): Promise<string> {
    const buf = await this.call(`logs ${id}`, async () => {
      const raw = (await this.docker.getContainer(id).logs({
        stdout: true,
        stderr: true,
        follow: false,
        ...(options.tail !== undefined ? { tail: options.tail } : {}),
        ...(options.since !== undefined ? { since: options.since } : {}),
        timestamps: options.timestamps ?? false,
      })) as unknown as Buffer;
      return demuxBuffer(raw);
    });
    return buf ?? '';
  }

  async *streamLogs(id: string, options: LogsOptions & { follow?: boolean; signal?: AbortSignal } = {}): AsyncIterable<LogChunk> {
    const op = `logs ${id}`;
    const info = await this.call(`inspect ${id}`, () => this.docker.getContainer(id).inspect());
    const tty = Boolean((info as { Config?: { Tty?: boolean } } | undefined)?.Config?.Tty);
    const common = {
      stdout: true,
      stderr: true,
      ...(options.tail !== undefined ? { tail: options.tail } : {}),
      ...(options.since !== undefined ? { since: options.since } : {}),
      timestamps: options.timestamps ?? false,
    };
    if (!options.follow) {
      const buf = (await this.call(op, () => this.docker.getContainer(id).logs({ ...common, follow: false }))) as unknown as Buffer | undefined;
      yield* demuxChunks(buf ?? Buffer.alloc(0), tty);
      return;
    }
    const raw = (await this.call(op, () => this.docker.getContainer(id).logs({ ...common, follow: true, abortSignal: options.signal } as Docker.ContainerLogsOptions & { follow: true }))) as unknown as NodeJS.ReadableStream & {
      destroy(): void;
    };
    const queue: LogChunk[] = [];
    let done = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const push = (c: LogChunk) => {
      queue.push(c);
      wake?.();
    };
    if (tty) raw.on('data', (b: Buffer) => push({ stream: 'stdout', text: b.toString('utf8') }));
    else {
      const out = new PassThrough();
      const err = new PassThrough();
      out.on('data', (b: Buffer) => push({ stream: 'stdout', text: b.toString('utf8') }));
      err.on('data', (b: Buffer) => push({ stream: 'stderr', text: b.toString('utf8') }));
      this.docker.modem.demuxStream(raw, out, err);
    }
    const finish = () => {
      done = true;
      wake?.();
    };
    raw.on('end', finish);
    raw.on('close', finish);
    raw.on('error', (e: unknown) => {
      failure = e;
      finish();
    });
    const onAbort = () => {
      raw.destroy();
      finish();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        while (queue.length) yield queue.shift()!;
        if (done) break;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
      if (failure && !options.signal?.aborted) throw translateEngineError(failure, { endpoint: this.endpoint, operation: op }) ?? failure;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      raw.destroy();
    }
  }

  async stats(id: string): Promise<ContainerStats> {
    const s = (await this.call(`stats ${id}`, () => this.docker.getContainer(id).stats({ stream: false }))) as unknown as {
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

  async pullImage(ref: string, onProgress?: (line: string, progress?: PullProgress) => void, options: PullOptions = {}): Promise<void> {
    const stallMs = options.stallTimeoutMs ?? 0;
    // One controller aborts the engine request on Ctrl-C and when the pull stalls (also before the
    // engine has answered at all: a registry that never answers holds the engine's reply back).
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(options.signal!.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let stalled = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (!stallMs) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        ctl.abort(new Error('stalled'));
      }, stallMs);
    };
    const stallError = () =>
      new KibokoError('TIMEOUT', `pull ${ref}: no progress from the engine for ${Math.round(stallMs / 1000)}s (the registry stopped answering)`, {
        details: { image: ref, transient: true },
        hint: 'check that the registry is up and reachable from the engine; raise --pull-timeout for very slow links',
      });
    arm();
    try {
      await this.call(`pull ${ref}`, async () => {
        const stream = (await this.docker.pull(ref, { ...(options.auth ? { authconfig: options.auth } : {}), abortSignal: ctl.signal })) as NodeJS.ReadableStream;
        await new Promise<void>((resolve, reject) => {
          ctl.signal.addEventListener('abort', () => reject(stalled ? stallError() : new KibokoError('CANCELLED', `pull ${ref}: cancelled`)), { once: true });
          arm();
          this.docker.modem.followProgress(
            stream,
            (err: Error | null, out: { error?: string; errorDetail?: { message?: string } }[]) => {
              const failed = err ?? out.find((o) => o.error || o.errorDetail);
              if (failed) reject(classifyPullError(ref, failed instanceof Error ? failed.message : (failed.errorDetail?.message ?? failed.error ?? 'unknown error'), failed));
              else resolve();
            },
            (e: { status?: string; progress?: string; id?: string; progressDetail?: { current?: number; total?: number } }) => {
              arm();
              const detail = e.progressDetail;
              onProgress?.(`${e.id ? `${e.id}: ` : ''}${e.status ?? ''} ${e.progress ?? ''}`.trim(), {
                id: e.id,
                status: e.status ?? '',
                ...(typeof detail?.current === 'number' ? { current: detail.current } : {}),
                ...(typeof detail?.total === 'number' && detail.total > 0 ? { total: detail.total } : {}),
              });
            },
          );
        });
      });
    } catch (err) {
      if (stalled) throw stallError();
      if (options.signal?.aborted) throw new KibokoError('CANCELLED', `pull ${ref}: cancelled`, { cause: err });
      // Errors the engine answers before streaming (404 manifest unknown, 500 unauthorized…) get the same causes.
      if (err instanceof KibokoError && (err.code === 'ENGINE_ERROR' || err.code === 'TARGET_NOT_FOUND')) throw classifyPullError(ref, err.message, err);
      throw err;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  async imageExists(ref: string): Promise<boolean> {
    try {
      await this.call(`inspect image ${ref}`, () => this.docker.getImage(ref).inspect());
      return true;
    } catch (err) {
      if (err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND') return false;
      throw err;
    }
  }

  async listImages(labels: readonly string[] = []): Promise<ImageSummary[]> {
    const raw = await this.call('list images', () =>
      this.docker.listImages({ filters: JSON.stringify(labels.length ? { label: [...labels] } : {}) }),
    );
    return (raw ?? []).map((i) => ({ id: i.Id, tags: i.RepoTags ?? [], labels: i.Labels ?? {} }));
  }

  async removeImage(ref: string, force = false): Promise<void> {
    await this.call(`remove image ${ref}`, () => this.docker.getImage(ref).remove({ force }));
  }

  async buildImage(options: BuildOptions): Promise<string> {
    const op = `build ${options.tag}`;
    let dockerfile = options.dockerfile ?? 'Dockerfile';
    let context: NodeJS.ReadableStream | { context: string; src: string[] };
    if (options.dockerfileContent !== undefined || options.contextFiles) {
      const extra: Record<string, string> = { ...options.contextFiles };
      if (options.dockerfileContent !== undefined) {
        // The Dockerfile text travels inside the context under a name no project file uses.
        dockerfile = `.kiboko-dockerfile-${process.pid}-${Date.now().toString(36)}`;
        extra[dockerfile] = options.dockerfileContent;
      }
      // contextFiles stay visible to COPY; only the generated Dockerfile is hidden.
      context = await packContext(options.contextDir, extra, options.dockerfileContent !== undefined ? [dockerfile] : []);
    } else {
      context = { context: options.contextDir, src: listContextFiles(options.contextDir) };
    }
    await this.call(op, async () => {
      const stream = await this.docker.buildImage(context as never, {
        t: options.tag,
        dockerfile,
        labels: options.labels ? JSON.stringify(options.labels) : undefined,
        buildargs: options.buildArgs ? JSON.stringify(options.buildArgs) : undefined,
        target: options.target,
        nocache: options.noCache ?? false,
        pull: options.pull ? '1' : undefined,
        rm: true,
        forcerm: true,
        abortSignal: options.signal,
      } as object);
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(
          stream,
          (err: Error | null, output: { error?: string; errorDetail?: { message?: string } }[]) => {
            if (err) return reject(err);
            const failed = output.find((o) => o.error || o.errorDetail);
            if (failed) {
              return reject(
                new KibokoError('ACTION_FAILED', `${op}: ${failed.errorDetail?.message ?? failed.error}`, {
                  hint: 'fix the Dockerfile or the build context and build again',
                }),
              );
            }
            resolve();
          },
          (event: { stream?: string; status?: string }) => {
            const line = (event.stream ?? event.status ?? '').trimEnd();
            if (line) options.onProgress?.(line);
          },
        );
      });
    });
    const image = await this.call(`inspect image ${options.tag}`, () => this.docker.getImage(options.tag).inspect());
    for (const extra of options.extraTags ?? []) {
      const at = extra.lastIndexOf(':');
      const [repo, tag] = at > extra.lastIndexOf('/') ? [extra.slice(0, at), extra.slice(at + 1)] : [extra, 'latest'];
      await this.tagImage(image?.Id ?? options.tag, repo, tag);
    }
    return image?.Id ?? '';
  }

  async inspectImage(ref: string): Promise<ImageDetails> {
    const i = (await this.call(`inspect image ${ref}`, () => this.docker.getImage(ref).inspect())) as unknown as RawImage;
    return {
      id: i.Id,
      tags: i.RepoTags ?? [],
      labels: i.Config?.Labels ?? {},
      created: i.Created,
      parent: i.Parent ?? '',
      env: i.Config?.Env ?? [],
      entrypoint: i.Config?.Entrypoint ?? undefined,
      cmd: i.Config?.Cmd ?? undefined,
      workingDir: i.Config?.WorkingDir ?? '',
      user: i.Config?.User ?? '',
      onBuild: i.Config?.OnBuild ?? [],
      layers: i.RootFS?.Layers ?? [],
      size: i.Size ?? 0,
      repoDigests: i.RepoDigests ?? [],
    };
  }

  async tagImage(ref: string, repo: string, tag: string): Promise<void> {
    await this.call(`tag ${ref} ${repo}:${tag}`, () => this.docker.getImage(ref).tag({ repo, tag }));
  }

  async putArchive(id: string, destDir: string, tar: Buffer): Promise<void> {
    await this.call(`copy into ${id}:${destDir}`, () => this.docker.getContainer(id).putArchive(tar, { path: destDir }));
  }

  async getArchive(id: string, path: string): Promise<Buffer> {
    const op = `copy from ${id}:${path}`;
    const buf = await this.call(op, async () => {
      const stream = (await this.docker.getContainer(id).getArchive({ path })) as unknown as NodeJS.ReadableStream;
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
      return Buffer.concat(chunks);
    });
    return buf ?? Buffer.alloc(0);
  }

  async *events(options: EventsOptions = {}): AsyncIterable<EngineEvent> {
    const op = 'events';
    const filters: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(options.filters ?? {})) filters[k] = [...v];
    const stream = (await this.call(op, () =>
      this.docker.getEvents({
        since: options.since === undefined ? undefined : eventTime(options.since),
        until: options.until === undefined ? undefined : eventTime(options.until),
        filters: JSON.stringify(filters),
        abortSignal: options.signal,
      } as Docker.GetEventsOptions),
    )) as unknown as NodeJS.ReadableStream & { destroy(): void };
    const onAbort = () => stream.destroy();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let rest = '';
    try {
      for await (const chunk of stream) {
        rest += chunk.toString();
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, nl).trim();
          rest = rest.slice(nl + 1);
          if (line) yield toEngineEvent(JSON.parse(line) as RawEvent, /"timeNano":\s*(\d+)/.exec(line)?.[1]);
        }
      }
    } catch (err) {
      if (options.signal?.aborted) return;
      throw translateEngineError(err, { endpoint: this.endpoint, operation: op }) ?? err;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    if (options.signal?.aborted || options.until !== undefined) return;
    throw unreachable(this.endpoint, 'the event stream ended');
  }

  async volumeExists(name: string): Promise<boolean> {
    try {
      await this.call(`inspect volume ${name}`, () => this.docker.getVolume(name).inspect());
      return true;
    } catch (err) {
      if (err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND') return false;
      throw err;
    }
  }

  async ensureVolume(name: string, labels: Readonly<Record<string, string>> = {}, options: VolumeOptions = {}): Promise<void> {
    if (await this.volumeExists(name)) return;
    await this.call(`create volume ${name}`, () =>
      this.docker.createVolume({ Name: name, Labels: { ...labels }, ...(options.driver ? { Driver: options.driver } : {}), ...(options.driverOpts ? { DriverOpts: { ...options.driverOpts } } : {}) }),
    );
  }

  async listVolumes(labels: readonly string[] = []): Promise<VolumeSummary[]> {
    const raw = (await this.call('list volumes', () => this.docker.listVolumes({ filters: JSON.stringify(labels.length ? { label: [...labels] } : {}) }))) as
      | { Volumes?: { Name: string; Driver: string; Labels?: Record<string, string> | null }[] | null }
      | undefined;
    return (raw?.Volumes ?? []).map((v) => ({ name: v.Name, driver: v.Driver, labels: v.Labels ?? {} }));
  }

  async inspectNetwork(idOrName: string): Promise<NetworkDetails> {
    const n = (await this.call(`inspect network ${idOrName}`, () => this.docker.getNetwork(idOrName).inspect())) as RawNetwork;
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

  async listNetworks(labels: readonly string[] = []): Promise<NetworkSummary[]> {
    const raw = await this.call('list networks', () => this.docker.listNetworks({ filters: JSON.stringify(labels.length ? { label: [...labels] } : {}) }));
    return (raw ?? []).map((n) => ({ id: n.Id, name: n.Name, labels: n.Labels ?? {} }));
  }

  async ensureNetwork(name: string, labels: Readonly<Record<string, string>> = {}, options: NetworkOptions = {}): Promise<string> {
    const existing = (await this.listNetworks()).find((n) => n.name === name);
    if (existing) return existing.id;
    const n = await this.call(`create network ${name}`, () => this.docker.createNetwork({ ...networkBody(options), Name: name, CheckDuplicate: true, Labels: { ...labels } } as Docker.NetworkCreateOptions));
    return (n as { id: string } | undefined)?.id ?? name;
  }

  async removeNetwork(idOrName: string): Promise<void> {
    await this.call(`remove network ${idOrName}`, () => this.docker.getNetwork(idOrName).remove());
  }

  async listServices(labels: readonly string[] = []): Promise<SwarmService[]> {
    const raw = await this.call('list services', () => this.docker.listServices({ filters: JSON.stringify(labels.length ? { label: [...labels] } : {}) }));
    return ((raw ?? []) as unknown as RawService[]).map(toSwarmService);
  }

  async inspectService(idOrName: string): Promise<SwarmService> {
    const raw = await this.call(`inspect service ${idOrName}`, () => this.docker.getService(idOrName).inspect());
    return toSwarmService(raw as unknown as RawService);
  }

  async createService(definition: SwarmServiceDefinition): Promise<string> {
    const r = await this.call(`create service ${definition.name}`, () => this.docker.createService(serviceSpec(definition) as unknown as Docker.CreateServiceOptions));
    return (r as unknown as { id?: string; ID?: string } | undefined)?.id ?? (r as unknown as { ID?: string } | undefined)?.ID ?? '';
  }

  async updateService(id: string, version: number, definition: SwarmServiceDefinition): Promise<void> {
    await this.call(`update service ${definition.name}`, () =>
      this.docker.getService(id).update({ ...serviceSpec(definition), version } as unknown as Docker.ServiceSpec & { version: number }),
    );
  }

  async removeService(idOrName: string): Promise<void> {
    await this.call(`remove service ${idOrName}`, () => this.docker.getService(idOrName).remove());
  }

  async listTasks(serviceId: string): Promise<SwarmTask[]> {
    const raw = (await this.call(`list tasks of ${serviceId}`, () => this.docker.listTasks({ filters: JSON.stringify({ service: [serviceId] }) }))) as unknown as {
      ID: string;
      NodeID?: string;
      DesiredState?: string;
      Status?: { State?: string; Message?: string; Err?: string };
      Spec?: { ContainerSpec?: { Image?: string } };
    }[];
    return (raw ?? []).map((t) => ({
      id: t.ID,
      state: t.Status?.State ?? 'unknown',
      desiredState: t.DesiredState ?? 'unknown',
      message: t.Status?.Message ?? '',
      error: t.Status?.Err,
      image: t.Spec?.ContainerSpec?.Image ?? '',
      nodeId: t.NodeID ?? '',
    }));
  }

  async ensureOverlayNetwork(name: string, labels: Readonly<Record<string, string>> = {}): Promise<string> {
    const existing = (await this.listNetworks()).find((n) => n.name === name);
    if (existing) return existing.id;
    const n = await this.call(`create network ${name}`, () => this.docker.createNetwork({ Name: name, Driver: 'overlay', Attachable: true, CheckDuplicate: true, Labels: { ...labels } }));
    return (n as { id: string } | undefined)?.id ?? name;
  }

  async connectNetwork(network: string, container: string, aliases: readonly string[] = [], endpoint: Omit<EndpointSpec, 'name' | 'aliases'> = {}): Promise<void> {
    await this.call(`connect ${container} to ${network}`, () =>
      this.docker.getNetwork(network).connect({ Container: container, EndpointConfig: endpointConfig({ name: network, aliases, ...endpoint }) }),
    );
  }

  async createSwarmObject(kind: 'secret' | 'config', name: string, data: Buffer, labels: Readonly<Record<string, string>> = {}): Promise<string> {
    const body = { Name: name, Labels: { ...labels }, Data: data.toString('base64') };
    const r = await this.call(`create ${kind} ${name}`, () => (kind === 'secret' ? this.docker.createSecret(body) : this.docker.createConfig(body)) as Promise<unknown>);
    return (r as unknown as { id?: string; ID?: string } | undefined)?.id ?? (r as unknown as { ID?: string } | undefined)?.ID ?? '';
  }

  async listSwarmObjects(kind: 'secret' | 'config', labels: readonly string[] = []): Promise<SwarmObject[]> {
    const filters = JSON.stringify(labels.length ? { label: [...labels] } : {});
    const raw = (await this.call(`list ${kind}s`, () => (kind === 'secret' ? this.docker.listSecrets({ filters }) : this.docker.listConfigs({ filters })) as Promise<unknown>)) as unknown as
      | { ID: string; Spec?: { Name?: string; Labels?: Record<string, string> } }[]
      | undefined;
    return (raw ?? []).map((o) => ({ id: o.ID, name: o.Spec?.Name ?? o.ID, labels: o.Spec?.Labels ?? {} }));
  }

  async removeSwarmObject(kind: 'secret' | 'config', idOrName: string): Promise<void> {
    await this.call(`remove ${kind} ${idOrName}`, () => (kind === 'secret' ? this.docker.getSecret(idOrName).remove() : this.docker.getConfig(idOrName).remove()) as Promise<unknown>);
  }

  async removeVolume(name: string): Promise<void> {
    await this.call(`remove volume ${name}`, () => this.docker.getVolume(name).remove());
  }

  close(): void {
    // dockerode keeps no pooled sockets of its own; nothing to release today.
  }
}

const NS = 1e6;

function updateConfigSpec(u: SwarmUpdateConfig) {
  return {
    Parallelism: u.parallelism,
    Delay: Math.round(u.delayMs * NS),
    FailureAction: u.failureAction,
    Monitor: Math.round(u.monitorMs * NS),
    MaxFailureRatio: u.maxFailureRatio,
    Order: u.order,
  };
}

/** kiboko's service definition → the Engine API's ServiceSpec. */
export function serviceSpec(d: SwarmServiceDefinition): Record<string, unknown> {
  return {
    Name: d.name,
    Labels: { ...d.labels },
    TaskTemplate: {
      ContainerSpec: {
        Image: d.image,
        Command: d.entrypoint ? [...d.entrypoint] : undefined,
        Args: d.command ? [...d.command] : undefined,
        Env: [...d.env],
        Labels: { ...d.containerLabels },
        User: d.user,
        Dir: d.workingDir,
        StopSignal: d.stopSignal,
        StopGracePeriod: d.stopGracePeriodMs === undefined ? undefined : Math.round(d.stopGracePeriodMs * NS),
        Healthcheck: d.healthcheck
          ? {
              Test: [...d.healthcheck.test],
              Interval: d.healthcheck.intervalMs === undefined ? undefined : d.healthcheck.intervalMs * NS,
              Timeout: d.healthcheck.timeoutMs === undefined ? undefined : d.healthcheck.timeoutMs * NS,
              Retries: d.healthcheck.retries,
              StartPeriod: d.healthcheck.startPeriodMs === undefined ? undefined : d.healthcheck.startPeriodMs * NS,
            }
          : undefined,
        Mounts: [
          ...d.mounts.map((m) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
          ...(d.tmpfs ?? []).map((t) => ({ Type: 'tmpfs', Target: t.target, TmpfsOptions: { SizeBytes: t.sizeBytes, Mode: t.mode } })),
        ],
        Hostname: d.hostname,
        CapabilityAdd: d.capAdd ? [...d.capAdd] : undefined,
        CapabilityDrop: d.capDrop ? [...d.capDrop] : undefined,
        Sysctls: d.sysctls ? { ...d.sysctls } : undefined,
        Ulimits: d.ulimits?.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
        TTY: d.tty,
        OpenStdin: d.openStdin,
        ReadOnly: d.readOnly,
        Init: d.init,
        ...(d.dns || d.dnsSearch || d.dnsOptions ? { DNSConfig: { Nameservers: d.dns ? [...d.dns] : undefined, Search: d.dnsSearch ? [...d.dnsSearch] : undefined, Options: d.dnsOptions ? [...d.dnsOptions] : undefined } } : {}),
        Hosts: d.hosts ? [...d.hosts] : undefined,
        Secrets: d.secrets?.map((r) => ({ SecretID: r.id, SecretName: r.name, File: { Name: r.target, UID: r.uid, GID: r.gid, Mode: r.mode } })),
        Configs: d.configs?.map((r) => ({ ConfigID: r.id, ConfigName: r.name, File: { Name: r.target, UID: r.uid, GID: r.gid, Mode: r.mode } })),
      },
      RestartPolicy: {
        Condition: d.restart,
        ...(d.restartDelayMs !== undefined ? { Delay: Math.round(d.restartDelayMs * NS) } : {}),
        ...(d.restartMaxAttempts !== undefined ? { MaxAttempts: d.restartMaxAttempts } : {}),
        ...(d.restartWindowMs !== undefined ? { Window: Math.round(d.restartWindowMs * NS) } : {}),
      },
      ...(d.forceUpdate !== undefined ? { ForceUpdate: d.forceUpdate } : {}),
      ...(d.resources
        ? {
            Resources: {
              Limits: d.resources.limits ? { NanoCPUs: d.resources.limits.nanoCpus, MemoryBytes: d.resources.limits.memoryBytes, Pids: d.resources.limits.pids } : undefined,
              Reservations: d.resources.reservations
                ? {
                    NanoCPUs: d.resources.reservations.nanoCpus,
                    MemoryBytes: d.resources.reservations.memoryBytes,
                    GenericResources: d.resources.reservations.genericResources?.map((g) =>
                      typeof g.value === 'number' ? { DiscreteResourceSpec: { Kind: g.kind, Value: g.value } } : { NamedResourceSpec: { Kind: g.kind, Value: g.value } },
                    ),
                  }
                : undefined,
            },
          }
        : {}),
      ...(d.constraints?.length || d.spread?.length || d.maxReplicasPerNode
        ? {
            Placement: {
              ...(d.constraints?.length ? { Constraints: [...d.constraints] } : {}),
              ...(d.spread?.length ? { Preferences: d.spread.map((s) => ({ Spread: { SpreadDescriptor: s } })) } : {}),
              ...(d.maxReplicasPerNode ? { MaxReplicas: d.maxReplicasPerNode } : {}),
            },
          }
        : {}),
      Networks: d.networks.map((n) => ({ Target: n.target, Aliases: [...n.aliases] })),
    },
    Mode: d.mode === 'global' ? { Global: {} } : { Replicated: { Replicas: d.replicas } },
    UpdateConfig: updateConfigSpec(d.update),
    RollbackConfig: updateConfigSpec(d.rollback),
    EndpointSpec: { ...(d.endpointMode ? { Mode: d.endpointMode } : {}), Ports: d.ports.map((p) => ({ Protocol: p.protocol, TargetPort: p.target, PublishedPort: p.published, PublishMode: 'ingress' })) },
  };
}

interface RawService {
  ID: string;
  Version?: { Index?: number };
  Spec?: { Name?: string; Labels?: Record<string, string>; Mode?: { Replicated?: { Replicas?: number } }; TaskTemplate?: { ContainerSpec?: { Image?: string } } };
  UpdateStatus?: { State?: string; Message?: string; StartedAt?: string };
}

function toSwarmService(s: RawService): SwarmService {
  return {
    id: s.ID,
    name: s.Spec?.Name ?? s.ID,
    version: s.Version?.Index ?? 0,
    labels: s.Spec?.Labels ?? {},
    image: s.Spec?.TaskTemplate?.ContainerSpec?.Image ?? '',
    replicas: s.Spec?.Mode?.Replicated?.Replicas ?? 0,
    updateState: s.UpdateStatus?.State as SwarmService['updateState'],
    updateMessage: s.UpdateStatus?.Message,
    updateStartedAt: s.UpdateStatus?.StartedAt,
  };
}


/** The engine's multiplexed log format as chunks per stream (a TTY container's log is raw text). */
function demuxChunks(buf: Buffer, tty: boolean): LogChunk[] {
  if (!Buffer.isBuffer(buf)) return [{ stream: 'stdout', text: String(buf ?? '') }];
  if (tty) return buf.length ? [{ stream: 'stdout', text: buf.toString('utf8') }] : [];
  const out: LogChunk[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i];
    const size = buf.readUInt32BE(i + 4);
    if (type !== 0 && type !== 1 && type !== 2) return [{ stream: 'stdout', text: buf.toString('utf8') }];
    out.push({ stream: type === 2 ? 'stderr' : 'stdout', text: buf.subarray(i + 8, i + 8 + size).toString('utf8') });
    i += 8 + size;
  }
  return out;
}

/** Splits the engine's multiplexed log format (8-byte frame headers) into text. */
function demuxBuffer(buf: Buffer): string {
  if (!Buffer.isBuffer(buf)) return String(buf ?? '');
  let out = '';
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i];
    const size = buf.readUInt32BE(i + 4);
    if (type !== 0 && type !== 1 && type !== 2) return buf.toString('utf8');
    out += buf.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return out;
}

function listContextFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const full = join(d, entry);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(relative(dir, full));
    }
  };
  walk(dir);
  return out;
}

interface RawCloneSource {
  Id: string;
  Image: string;
  Config: Record<string, unknown>;
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { Networks?: Record<string, unknown> };
}

interface RawImage {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created: string;
  Parent?: string;
  Size?: number;
  RootFS?: { Layers?: string[] };
  Config?: {
    Labels?: Record<string, string> | null;
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    User?: string;
    OnBuild?: string[] | null;
  } | null;
}

interface RawEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  scope?: string;
  time?: number;
  timeNano?: number | string;
}

/** `exactNano`: timeNano as written in the JSON text (JSON numbers lose digits beyond 2^53). */
function toEngineEvent(e: RawEvent, exactNano?: string): EngineEvent {
  const time = e.time ?? 0;
  const timeNano = exactNano ?? `${time}000000000`;
  return {
    type: e.Type ?? 'container',
    action: e.Action ?? e.status ?? '',
    id: e.Actor?.ID ?? e.id ?? '',
    attributes: e.Actor?.Attributes ?? {},
    time,
    timeNano,
    scope: e.scope ?? 'local',
  };
}

/** The Engine API takes `since`/`until` as unix seconds (fractions allowed) or RFC 3339. */
function eventTime(t: number | string): string {
  if (typeof t === 'number') return t.toFixed(9).replace(/\.?0+$/, '');
  if (/^\d+(\.\d+)?$/.test(t)) return t;
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) throw new KibokoError('INVALID_ARGUMENT', `invalid event time '${t}': expected unix seconds or an ISO date`, { hint: 'e.g. 1700000000 or 2026-01-02T03:04:05Z' });
  return (ms / 1000).toFixed(3);
}

/**
 * The build context as a tar stream, `.dockerignore` honoured (the same filter dockerode uses),
 * plus extra in-memory files (e.g. a generated Dockerfile).
 */
// CommonJS package whose typings say `export default`: loaded through require for a stable shape.
const DockerIgnore = createRequire(import.meta.url)('@balena/dockerignore') as typeof import('@balena/dockerignore').default;

async function packContext(dir: string, extra: Readonly<Record<string, string>>, hidden: readonly string[] = Object.keys(extra)): Promise<NodeJS.ReadableStream> {
  let files = listContextFiles(dir);
  let ignoreText = '';
  try {
    ignoreText = readFileSync(join(dir, '.dockerignore'), 'utf8');
    files = files.filter(DockerIgnore({ ignorecase: false }).add(ignoreText).createFilter());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const pack = tarStream.pack();
  // As `docker build -f -` does: the generated Dockerfile is listed in the sent .dockerignore.
  // The classic builder drops the Dockerfile and .dockerignore named there from what `COPY .`
  // sees (other files are filtered here, client side, before sending).
  const sentIgnore = `${ignoreText}${ignoreText && !ignoreText.endsWith('\n') ? '\n' : ''}.dockerignore\n${hidden.join('\n')}\n`;
  pack.entry({ name: '.dockerignore', mode: 0o644 }, sentIgnore);
  for (const rel of files) {
    if (rel === '.dockerignore') continue;
    const full = join(dir, rel);
    const st = lstatSync(full);
    const name = rel.split(/[\\/]/).join('/');
    if (st.isSymbolicLink()) pack.entry({ name, type: 'symlink', linkname: readlinkSync(full), mode: st.mode & 0o7777, mtime: st.mtime });
    else pack.entry({ name, mode: st.mode & 0o7777, mtime: st.mtime }, readFileSync(full));
  }
  for (const [name, text] of Object.entries(extra)) pack.entry({ name, mode: 0o644 }, text);
  pack.finalize();
  return pack as unknown as NodeJS.ReadableStream;
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
