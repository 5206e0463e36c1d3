import { KibokoError } from '../../common/errors.js';
import type Docker from 'dockerode';
import type { EngineInfo } from '../types.js';

/**
 * What the per-resource modules of the Docker adapter share: the dockerode client, the endpoint
 * for messages, and the adapter's negotiated, error-translating call (`call` answers undefined for
 * a 304: the engine reports the container already in the asked state, which counts as done).
 */
export interface DockerContext {
  readonly docker: Docker;
  readonly endpoint: string;
  /** Negotiates the API version once; every call waits for it. */
  info(): Promise<EngineInfo>;
  /** Runs `fn` after negotiation; engine errors come back translated once (see errors.ts), a 304 as undefined. */
  call<T>(operation: string, fn: () => Promise<T>): Promise<T | undefined>;
}

/** Whether the engine has what `inspect` looks up: false on not found, other errors thrown. */
export async function found(ctx: DockerContext, operation: string, inspect: () => Promise<unknown>): Promise<boolean> {
  try {
    await ctx.call(operation, inspect);
    return true;
  } catch (err) {
    if (err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND') return false;
    throw err;
  }
}
