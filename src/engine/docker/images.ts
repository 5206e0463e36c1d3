import type { ImageDetails, ImageSummary } from '../types.js';
import { found, type DockerContext } from './context.js';

export async function imageExists(ctx: DockerContext, ref: string): Promise<boolean> {
  return found(ctx, `inspect image ${ref}`, () => ctx.docker.getImage(ref).inspect());
}

export async function listImages(ctx: DockerContext, labels: readonly string[] = []): Promise<ImageSummary[]> {
  const raw = await ctx.call('list images', () =>
    ctx.docker.listImages({ filters: JSON.stringify(labels.length ? { label: [...labels] } : {}) }),
  );
  return (raw ?? []).map((i) => ({ id: i.Id, tags: i.RepoTags ?? [], labels: i.Labels ?? {} }));
}

export async function removeImage(ctx: DockerContext, ref: string, force = false): Promise<void> {
  await ctx.call(`remove image ${ref}`, () => ctx.docker.getImage(ref).remove({ force }));
}

export async function inspectImage(ctx: DockerContext, ref: string): Promise<ImageDetails> {
  const i = (await ctx.call(`inspect image ${ref}`, () => ctx.docker.getImage(ref).inspect())) as unknown as RawImage;
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

export async function tagImage(ctx: DockerContext, ref: string, repo: string, tag: string): Promise<void> {
  await ctx.call(`tag ${ref} ${repo}:${tag}`, () => ctx.docker.getImage(ref).tag({ repo, tag }));
}

export interface RawImage {
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
