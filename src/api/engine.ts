/**
 * The Docker engine as kiboko sees it: one `Engine` port (containers, images, exec, events,
 * networks, volumes, Swarm) with kiboko's own plain types, opened from the same flags and
 * environment as the docker CLI (`DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`).
 *
 * @example
 * ```ts
 * import { connectEngine } from 'kiboko/engine';
 *
 * const engine = await connectEngine({ host: 'unix:///var/run/docker.sock' });
 * for (const c of await engine.list({ all: false })) console.log(c.name, c.status);
 * ```
 *
 * @module kiboko/engine
 */
export { connectEngine, resolveConnection, DEFAULT_HOST, type Engine, type ConnectionFlags, type ConnectionTarget } from '../engine/index.js';
export type * from '../engine/index.js';
