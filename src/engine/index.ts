export type { Engine } from './port.js';
export type * from './types.js';
export { resolveConnection, DEFAULT_HOST, type ConnectionFlags, type ConnectionTarget } from './connection.js';
export { FakeEngine } from './fake.js';
export { ANNOTATIONS_API, annotationsUnsupported, compareVersions } from './api-version.js';

import type { ConnectionFlags } from './connection.js';
import { resolveConnection } from './connection.js';
import type { Engine } from './port.js';

/**
 * Opens the Docker engine named by the flags / environment. The adapter (and with it dockerode)
 * is loaded on first use so that commands which never touch the engine start fast.
 */
export async function connectEngine(flags: ConnectionFlags = {}, env: NodeJS.ProcessEnv = process.env): Promise<Engine> {
  const target = resolveConnection(flags, env);
  const { DockerEngine } = await import('./docker/adapter.js');
  return new DockerEngine(target);
}
