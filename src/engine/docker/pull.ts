import { onAbort } from '../../common/abort.js';
import { KibokoError } from '../../common/errors.js';
import type { PullOptions, PullProgress } from '../types.js';
import type { DockerContext } from './context.js';
import { classifyPullError } from './errors.js';

export async function pullImage(ctx: DockerContext, ref: string, onProgress?: (line: string, progress?: PullProgress) => void, options: PullOptions = {}): Promise<void> {
  const stallMs = options.stallTimeoutMs ?? 0;
  // One controller aborts the engine request on Ctrl-C and when the pull stalls (also before the
  // engine has answered at all: a registry that never answers holds the engine's reply back).
  const ctl = new AbortController();
  const off = onAbort(options.signal, () => ctl.abort(options.signal!.reason));
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
    await ctx.call(`pull ${ref}`, async () => {
      const stream = (await ctx.docker.pull(ref, { ...(options.auth ? { authconfig: options.auth } : {}), abortSignal: ctl.signal })) as NodeJS.ReadableStream;
      await new Promise<void>((resolve, reject) => {
        onAbort(ctl.signal, () => reject(stalled ? stallError() : new KibokoError('CANCELLED', `pull ${ref}: cancelled`)));
        arm();
        ctx.docker.modem.followProgress(
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
    off();
  }
}
