import type Docker from 'dockerode';
import type { EngineInfo } from '../types.js';

/**
 * What the per-resource modules of the Docker adapter share: the dockerode client, the endpoint
 * for messages, and the adapter's negotiated, error-translating call (a 404 on a removal is done,
 * not an error: `call` answers undefined for what the engine reports as already done).
 */
export interface DockerContext {
  readonly docker: Docker;
  readonly endpoint: string;
  /** Negotiates the API version once; every call waits for it. */
  info(): Promise<EngineInfo>;
  /** Runs `fn` after negotiation; engine errors come back translated once (see errors.ts). */
  call<T>(operation: string, fn: () => Promise<T>): Promise<T | undefined>;
}
