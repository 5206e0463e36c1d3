import { systemClock, type Clock } from '../common/clock.js';
import { KibokoError } from '../common/errors.js';
import type { Engine, PullProgress, RegistryAuth } from '../engine/index.js';
import { findCredentials, type CredentialOptions } from './credentials.js';
import { DOCKER_HUB, DOCKER_HUB_AUTH_KEY, parseReference } from './reference.js';

export interface RobustPullOptions {
  /** Where credentials come from (Docker config, helpers, given ones); looked up per registry. */
  credentials?: CredentialOptions | undefined;
  /** Attempts in all (default 4): retried on a failing registry (5xx), resets and timeouts only. */
  attempts?: number | undefined;
  /** First backoff step, doubled per retry with jitter (default 1 s, at most 15 s). */
  backoffMs?: number | undefined;
  /** A pull with no progress for this long is aborted as TIMEOUT (default 60 s). */
  stallTimeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  clock?: Clock | undefined;
  random?: (() => number) | undefined;
  onProgress?: ((line: string, progress?: PullProgress) => void) | undefined;
  onRetry?: ((info: { attempt: number; error: KibokoError; waitMs: number }) => void) | undefined;
}

const TRANSIENT = new Set(['REGISTRY_UNREACHABLE', 'TIMEOUT']);

/** The X-Registry-Auth the engine needs for `ref`, from the user's Docker credentials (undefined: anonymous). */
export async function engineAuthFor(ref: string, credentials: CredentialOptions = {}): Promise<RegistryAuth | undefined> {
  let registry: string;
  try {
    registry = parseReference(ref).registry;
  } catch {
    return undefined; // the engine reports a bad name itself
  }
  const c = await findCredentials(registry, credentials);
  if (!c) return undefined;
  const serveraddress = registry === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : registry;
  return c.identityToken ? { identitytoken: c.identityToken, serveraddress } : { username: c.username, password: c.password, serveraddress };
}

/**
 * Pulls through the engine with the user's registry credentials, retrying a failing or
 * unreachable registry with backoff and jitter; other failures (unauthorized, not found, TLS,
 * rate limited) are final at once. Resolves with the number of attempts it took.
 */
export async function pullImage(engine: Engine, ref: string, options: RobustPullOptions = {}): Promise<{ attempts: number }> {
  const attempts = Math.max(1, options.attempts ?? 4);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const auth = await engineAuthFor(ref, options.credentials);
  for (let attempt = 1; ; attempt++) {
    try {
      await engine.pullImage(ref, options.onProgress, { auth, signal: options.signal, stallTimeoutMs: options.stallTimeoutMs ?? 60_000 });
      return { attempts: attempt };
    } catch (err) {
      if (options.signal?.aborted) throw new KibokoError('CANCELLED', `pull ${ref}: cancelled`, { cause: err });
      if (!(err instanceof KibokoError) || !TRANSIENT.has(err.code) || attempt >= attempts) {
        if (err instanceof KibokoError && attempt > 1) {
          throw new KibokoError(err.code, `${err.message} (after ${attempt} attempts)`, { cause: err.cause, hint: err.hint, details: { ...err.details, attempts: attempt } });
        }
        throw err;
      }
      const cap = Math.min(15_000, (options.backoffMs ?? 1000) * 2 ** (attempt - 1));
      const waitMs = Math.round(cap / 2 + (random() * cap) / 2);
      options.onRetry?.({ attempt, error: err, waitMs });
      await clock.sleep(waitMs, options.signal);
    }
  }
}
