import { KibokoError } from '../common/errors.js';
import type { Engine } from '../engine/index.js';
import type { LifecycleHook } from './model.js';

export type HookKind = 'post_start' | 'pre_stop';

/**
 * Runs a service's `post_start` or `pre_stop` hooks in one container, in order, as compose does:
 * an exec of the hook's command with its user, privileged flag, working_dir and environment.
 * A hook that exits non-zero (or cannot run) is an ACTION_FAILED error naming the hook, its exit
 * code and the end of its output; the hooks after it do not run.
 */
export async function runLifecycleHooks(engine: Engine, id: string, kind: HookKind, hooks: readonly LifecycleHook[] | undefined, signal?: AbortSignal): Promise<void> {
  for (const [i, h] of (hooks ?? []).entries()) {
    const what = `${kind} hook ${i + 1} (${h.command.join(' ')})`;
    let result: { exitCode: number; stdout: string; stderr: string };
    try {
      result = await engine.exec(id, {
        cmd: h.command,
        ...(h.user !== undefined ? { user: h.user } : {}),
        ...(h.privileged !== undefined ? { privileged: h.privileged } : {}),
        ...(h.workingDir !== undefined ? { workingDir: h.workingDir } : {}),
        ...(h.environment ? { env: Object.entries(h.environment).map(([k, v]) => `${k}=${v}`) } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (cause) {
      throw new KibokoError('ACTION_FAILED', `${what} could not run: ${(cause as Error).message}`, { cause, hint: `check the hook's command, user and working_dir under ${kind}:` });
    }
    if (result.exitCode !== 0) {
      const tail = `${result.stderr}${result.stdout}`.trim().split('\n').slice(-3).join(' | ');
      throw new KibokoError('ACTION_FAILED', `${what} exited with ${result.exitCode}${tail ? `: ${tail}` : ''}`, { hint: `fix the hook under ${kind}: (it runs inside the container)` });
    }
  }
}

/**
 * `pre_stop` before a container is stopped (by an update, a scale-down, a delete or `down`): only
 * while it runs (compose runs it only in a running container); a failing hook is reported through
 * `warn` and the stop goes on, so nothing is left half-removed.
 */
export async function preStop(engine: Engine, id: string, hooks: readonly LifecycleHook[] | undefined, warn: (message: string) => void): Promise<void> {
  if (!hooks?.length) return;
  const status = await engine.inspect(id).then(
    (d) => d.status,
    () => undefined,
  );
  if (status !== 'running') return;
  try {
    await runLifecycleHooks(engine, id, 'pre_stop', hooks);
  } catch (err) {
    warn(`${(err as Error).message}; stopping it anyway`);
  }
}
