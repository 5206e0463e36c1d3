import { COMPOSE_LABELS } from '../common/labels.js';
import { KibokoError } from '../common/errors.js';
import type { Engine } from '../engine/index.js';
import type { BuildSpec, ServiceSpec, SystemConfig } from './model.js';

/** One image to build for a service (`build:`), as an image builder takes it. */
export interface ServiceBuildRequest {
  service: string;
  project: string;
  contextDir: string;
  /** Relative to the context (or absolute); absent with `dockerfileContent`. */
  dockerfile?: string | undefined;
  dockerfileContent?: string | undefined;
  /** `image:` first, then `build.tags`. */
  tags: readonly string[];
  buildArgs?: Readonly<Record<string, string>> | undefined;
  target?: string | undefined;
  /** `build.labels` plus the project's labels (so `down --rmi local` finds the images it built). */
  labels: Readonly<Record<string, string>>;
  noCache?: boolean | undefined;
  pull?: boolean | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((line: string) => void) | undefined;
}

/**
 * Builds one service image; resolves with the image id. The CLI passes kiboko's package builder
 * (which records build metadata and ancestry, as `kiboko build` does); without one, the engine's
 * build with the same labels.
 */
export type ImageBuilder = (req: ServiceBuildRequest) => Promise<string>;

/** `--build` always, `--no-build` never; default: when the image is missing or pull_policy is `build`. */
export type BuildMode = 'auto' | 'always' | 'never';

export type BuildEvent = { type: 'build-started'; service: string; image: string; why: string } | { type: 'build-output'; service: string; line: string } | { type: 'built'; service: string; image: string; id: string };

export function buildRequest(config: SystemConfig, s: ServiceSpec & { build: BuildSpec }): ServiceBuildRequest {
  const b = s.build;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(b.context) || b.context.startsWith('git@')) {
    throw new KibokoError('INVALID_ARGUMENT', `service ${s.name}: build context ${b.context} is remote; kiboko sends local folders to the engine`, {
      hint: 'clone it and point build.context at the folder, or build the image first and set image:',
    });
  }
  return {
    service: s.name,
    project: config.project,
    contextDir: b.context,
    dockerfile: b.dockerfileInline === undefined ? b.dockerfile : undefined,
    dockerfileContent: b.dockerfileInline,
    tags: [...new Set([s.image, ...(b.tags ?? [])])],
    buildArgs: b.args,
    target: b.target,
    // The project label lets `down --rmi local` find what was built for it (no service label: the
    // containers of a build's steps inherit the image's labels and must not look like replicas).
    labels: { ...b.labels, [COMPOSE_LABELS.project]: config.project },
    noCache: b.noCache,
    pull: b.pull,
  };
}

/** The engine's plain build (no package metadata): used when no builder is given. */
export function engineBuilder(engine: Engine): ImageBuilder {
  return (req) =>
    engine.buildImage({
      contextDir: req.contextDir,
      tag: req.tags[0]!,
      extraTags: req.tags.slice(1),
      ...(req.dockerfileContent !== undefined ? { dockerfileContent: req.dockerfileContent } : req.dockerfile ? { dockerfile: req.dockerfile } : {}),
      labels: req.labels,
      ...(req.buildArgs ? { buildArgs: req.buildArgs } : {}),
      ...(req.target ? { target: req.target } : {}),
      ...(req.noCache ? { noCache: true } : {}),
      ...(req.pull ? { pull: true } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
      ...(req.onProgress ? { onProgress: req.onProgress } : {}),
    });
}

/**
 * Builds the images of the services that need one, before anything is applied (compose's `up`):
 * with `build:` and the image missing, or pull_policy `build`, or `--build`. `--no-build` builds
 * nothing (a missing image is then pulled, and fails if it cannot be). Returns the services built.
 */
export async function buildServices(
  engine: Engine,
  config: SystemConfig,
  options: { mode?: BuildMode; services?: readonly string[]; builder?: ImageBuilder; signal?: AbortSignal; onEvent?: (e: BuildEvent) => void } = {},
): Promise<string[]> {
  const mode = options.mode ?? 'auto';
  if (mode === 'never') return [];
  const builder = options.builder ?? engineBuilder(engine);
  const built: string[] = [];
  for (const s of config.services) {
    if (!s.build || (options.services?.length && !options.services.includes(s.name))) continue;
    let why: string | undefined;
    if (mode === 'always') why = '--build';
    else if (s.pullPolicy === 'build') why = 'pull_policy: build';
    else if (s.pullPolicy !== 'always' && !(await engine.imageExists(s.image))) why = 'image not on the engine';
    if (!why) continue;
    options.onEvent?.({ type: 'build-started', service: s.name, image: s.image, why });
    const req = buildRequest(config, s as ServiceSpec & { build: BuildSpec });
    const id = await builder({ ...req, signal: options.signal, onProgress: (line) => options.onEvent?.({ type: 'build-output', service: s.name, line }) });
    options.onEvent?.({ type: 'built', service: s.name, image: s.image, id });
    built.push(s.name);
  }
  return built;
}
