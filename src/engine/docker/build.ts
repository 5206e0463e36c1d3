import { KibokoError } from '../../common/errors.js';
import type { BuildOptions } from '../types.js';
import { listContextFiles, packContext } from './build-context.js';
import type { DockerContext } from './context.js';
import { tagImage } from './images.js';

export async function buildImage(ctx: DockerContext, options: BuildOptions): Promise<string> {
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
  await ctx.call(op, async () => {
    const stream = await ctx.docker.buildImage(context as never, {
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
      ctx.docker.modem.followProgress(
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
  const image = await ctx.call(`inspect image ${options.tag}`, () => ctx.docker.getImage(options.tag).inspect());
  for (const extra of options.extraTags ?? []) {
    const at = extra.lastIndexOf(':');
    const [repo, tag] = at > extra.lastIndexOf('/') ? [extra.slice(0, at), extra.slice(at + 1)] : [extra, 'latest'];
    await tagImage(ctx, image?.Id ?? options.tag, repo, tag);
  }
  return image?.Id ?? '';
}
