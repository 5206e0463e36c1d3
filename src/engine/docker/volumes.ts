import type { VolumeOptions, VolumeSummary } from '../types.js';
import { found, type DockerContext } from './context.js';

export async function volumeExists(ctx: DockerContext, name: string): Promise<boolean> {
  return found(ctx, `inspect volume ${name}`, () => ctx.docker.getVolume(name).inspect());
}

export async function ensureVolume(ctx: DockerContext, name: string, labels: Readonly<Record<string, string>> = {}, options: VolumeOptions = {}): Promise<void> {
  if (await volumeExists(ctx, name)) return;
  await ctx.call(`create volume ${name}`, () =>
    ctx.docker.createVolume({ Name: name, Labels: { ...labels }, ...(options.driver ? { Driver: options.driver } : {}), ...(options.driverOpts ? { DriverOpts: { ...options.driverOpts } } : {}) }),
  );
}

export async function listVolumes(ctx: DockerContext, labels: readonly string[] = []): Promise<VolumeSummary[]> {
  const raw = (await ctx.call('list volumes', () => ctx.docker.listVolumes({ filters: JSON.stringify(labels.length ? { label: [...labels] } : {}) }))) as
    | { Volumes?: { Name: string; Driver: string; Labels?: Record<string, string> | null }[] | null }
    | undefined;
  return (raw?.Volumes ?? []).map((v) => ({ name: v.Name, driver: v.Driver, labels: v.Labels ?? {} }));
}

export async function removeVolume(ctx: DockerContext, name: string): Promise<void> {
  await ctx.call(`remove volume ${name}`, () => ctx.docker.getVolume(name).remove());
}
