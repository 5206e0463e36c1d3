import { join } from 'node:path';
import type { Command } from 'commander';
import { connectEngine } from '../engine/index.js';
import { defaultStateDir } from '../journal/index.js';
import { connectionFlags } from './options.js';
import { mergedOptions } from './program.js';

/**
 * `kiboko serve`: one long-running process serving fleet's v1 units API (and, next, the native
 * API) over a unix socket and/or TCP, every endpoint but /healthz behind the bearer token.
 */
export async function runServe(cmd: Command): Promise<number> {
  const o = mergedOptions(cmd);
  const { startServer, loadOrCreateToken } = await import('../server/index.js');
  const { EngineRegistry } = await import('../units/engine-registry.js');
  const stateDir = (o.stateDir as string | undefined) ?? defaultStateDir();
  const tokenFile = (o.tokenFile as string | undefined) ?? join(stateDir, 'serve.token');
  const { token, created } = loadOrCreateToken(tokenFile);
  const engine = await connectEngine(connectionFlags(o));
  let engineStatus: { status: string; error?: string } = { status: 'unknown' };
  const checkEngine = async () => {
    try {
      const info = await engine.info();
      engineStatus = { status: `connected (Docker ${info.serverVersion}, API ${info.negotiatedApiVersion})` };
      return true;
    } catch (err) {
      engineStatus = { status: 'unreachable', error: (err as Error).message };
      return false;
    }
  };
  await checkEngine();
  const registry = new EngineRegistry(engine, stateDir, Boolean(o.allowAnyExecStart));
  const log = (level: 'info' | 'warn' | 'error', msg: string, data: Record<string, unknown> = {}) =>
    process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg, ...data })}\n`);
  if (!o.listen && !o.socket) o.socket = join(stateDir, 'kiboko.sock');
  const server = await startServer({
    token,
    registry,
    listen: o.listen as string | undefined,
    socket: o.socket as string | undefined,
    tls: o.tlsCert && o.tlsKey ? { cert: String(o.tlsCert), key: String(o.tlsKey) } : undefined,
    log,
    health: async () => ({ engine: engineStatus }),
  });
  process.stdout.write(`${JSON.stringify({ event: 'listening', addresses: server.addresses, tokenFile, ...(created ? { token, note: 'token created; shown once' } : {}) })}\n`);
  // Units launched before a restart stay launched; the loop also recovers after an engine restart.
  const resync = async () => {
    if (await checkEngine()) await registry.reconcileAll().catch((err) => log('warn', 'reconcile failed', { error: (err as Error).message }));
  };
  await resync();
  const timer = setInterval(() => void resync(), 10_000);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  clearInterval(timer);
  await server.close();
  registry.close();
  log('info', 'stopped');
  return 0;
}
