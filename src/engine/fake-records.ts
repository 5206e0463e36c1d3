import { KibokoError } from '../common/errors.js';
import type { ContainerDetails, ContainerSpec, EndpointSpec, ImageDetails } from './types.js';

/** A container as the fake engine holds it: its details plus what only the fake keeps. */
export interface FakeContainer extends ContainerDetails {
  volumes: string[];
  files: Map<string, { content: Buffer; mode: number }>;
  logText: string;
  spec?: ContainerSpec | undefined;
  /** Networks joined after create, with their endpoint settings. */
  connected?: Map<string, EndpointSpec>;
  networkMode?: string | undefined;
}

/** A container in the state `FakeEngine.add` is given; `seq` numbers its pid, creation time and address. */
export function newFakeContainer(id: string, seq: number, partial: Partial<ContainerDetails> & { name: string }): FakeContainer {
  return {
    id,
    name: partial.name,
    image: partial.image ?? 'busybox:latest',
    labels: partial.labels ?? {},
    status: partial.status ?? 'running',
    created: partial.created ?? 1_700_000_000 + seq,
    pid: partial.status === 'exited' ? 0 : 1000 + seq,
    startedAt: partial.startedAt ?? new Date(0).toISOString(),
    finishedAt: '0001-01-01T00:00:00Z',
    exitCode: 0,
    restartCount: 0,
    stopSignal: partial.stopSignal,
    networks: partial.networks ?? { bridge: { ipAddress: `172.17.0.${(seq % 250) + 2}` } },
    mounts: [],
    volumes: [],
    files: new Map(),
    logText: '',
    health: partial.health ?? 'none',
    hasHealthcheck: partial.hasHealthcheck ?? false,
    imageId: partial.imageId ?? `sha256:${partial.image ?? 'busybox:latest'}`,
  };
}

/** An image's details, what `partial` leaves out filled as the engine reports an image without them. */
export function imageDetailsOf(partial: Partial<ImageDetails> & { tags: readonly string[] }, id: string): ImageDetails {
  return {
    id: id,
    tags: partial.tags,
    labels: partial.labels ?? {},
    created: partial.created ?? new Date().toISOString(),
    parent: partial.parent ?? '',
    env: partial.env ?? [],
    entrypoint: partial.entrypoint,
    cmd: partial.cmd,
    workingDir: partial.workingDir ?? '',
    user: partial.user ?? '',
    onBuild: partial.onBuild ?? [],
    layers: partial.layers ?? [],
    size: partial.size ?? 0,
    ...(partial.repoDigests ? { repoDigests: partial.repoDigests } : {}),
  };
}

/** The fake is a single engine, never a Swarm manager (as a non-manager engine answers). */
/** As the Docker adapter reports the engine's 503 (src/engine/docker/errors.ts). */
export const notSwarm = () => new KibokoError('ENGINE_ERROR', 'This node is not a swarm manager.', { hint: 'docker swarm init (or join a Swarm), or deploy with --engine docker' });
