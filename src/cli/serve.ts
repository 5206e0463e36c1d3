import { join } from 'node:path';
import type { Command } from 'commander';
import { connectEngine } from '../engine/index.js';
import { defaultStateDir } from '../journal/index.js';
import { invalidArgument } from '../common/errors.js';
import { VERSION } from '../common/version.js';
import { connectionFlags } from './options.js';
import { mergedOptions } from './program.js';

/**
 * `kiboko serve`: one long-running process serving fleet's v1 units API (and, next, the native
 * API) over a unix socket and/or TCP, every endpoint but /healthz behind the bearer token.
 */
export async function runServe(cmd: Command): Promise<number> {
  const o = mergedOptions(cmd);
  const { startServer, loadOrCreateToken, createDaemonServices, parseProjectFlag, loadDeployConfig, readSecretFile } = await import('../server/index.js');
  const { startUnitsDaemon, parseMetadata } = await import('../units/index.js');
  const stateDir = (o.stateDir as string | undefined) ?? defaultStateDir();
  const tokenFile = (o.tokenFile as string | undefined) ?? join(stateDir, 'serve.token');
  const { token, created } = loadOrCreateToken(tokenFile);
  const engine = await connectEngine(connectionFlags(o));
  const log = (level: 'info' | 'warn' | 'error', msg: string, data: Record<string, unknown> = {}) =>
    process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg, ...data })}\n`);
  if (o.engine !== undefined && o.engine !== 'docker' && o.engine !== 'swarm') throw invalidArgument(`invalid --engine '${String(o.engine)}': expected docker or swarm`, 'e.g. --engine swarm');
  // Units: reconciled at start, every 10 s and as soon as the engine is back after a restart.
  const units = await startUnitsDaemon({
    engine,
    stateDir,
    backend: o.engine as 'docker' | 'swarm' | undefined,
    allowAnyExecStart: Boolean(o.allowAnyExecStart),
    metadata: parseMetadata(o.metadata as string | undefined),
    log,
  });
  const registry = units.registry;
  // Deploy projects, the deploy hook's secret, and the services behind the native API.
  const deployConfig = o.deployConfig ? loadDeployConfig(String(o.deployConfig)) : { projects: [], webhook: { secret: undefined } };
  const projects = [...deployConfig.projects, ...((o.project as string[] | undefined) ?? []).map((p) => parseProjectFlag(p))];
  const dup = projects.find((p, i) => projects.findIndex((q) => q.name === p.name) !== i);
  if (dup) throw invalidArgument(`project ${dup.name} is configured twice`, 'give each --project (and deploy-config project) its own name');
  const webhookSecret = o.webhookSecretFile ? readSecretFile(String(o.webhookSecretFile)) : deployConfig.webhook.secret;
  const services = createDaemonServices({ engine, stateDir, projects });
  // --rules: the reactor (kiboko react) inside the daemon, hearing its deploy jobs and chaos experiments too.
  const reactor = o.rules ? (await import('../events/index.js')).startRulesReactor(engine, String(o.rules), { stateDir, bus: services.bus, onNotice: (n) => log(n.type === 'warning' || n.type === 'disconnected' || (n.type === 'firing' && n.firing.outcome === 'failed') ? 'warn' : 'info', `rules: ${n.type}`, { ...n }) }) : undefined;
  if (!o.listen && !o.socket) o.socket = join(stateDir, 'kiboko.sock');
  // toxiproxy's API under /toxiproxy/ (issue 15): its proxies live as long as the daemon.
  const { ProxyCollection, toxiproxyHandler } = await import('../proxy/index.js');
  const proxies = new ProxyCollection();
  const server = await startServer({
    toxiproxy: toxiproxyHandler(proxies, { version: `${VERSION} (kiboko)` }),
    token,
    registry,
    engine,
    listen: o.listen as string | undefined,
    socket: o.socket as string | undefined,
    tls: o.tlsCert && o.tlsKey ? { cert: String(o.tlsCert), key: String(o.tlsKey) } : undefined,
    log,
    health: () => units.health(),
    deploys: services.deploys,
    chaos: services.chaos,
    bus: services.bus,
    webhookSecret,
    engineUp: () => units.engineReachable(),
  });
  process.stdout.write(`${JSON.stringify({ event: 'listening', addresses: server.addresses, tokenFile, projects: projects.map((p) => p.name), webhook: webhookSecret ? 'hmac' : 'token only', ...(created ? { token, note: 'token created; shown once' } : {}) })}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await reactor?.stop();
  // Experiments are stopped (their faults restored) and the running deploy finishes its batch.
  await services.close();
  await server.close();
  await proxies.close();
  await units.close();
  log('info', 'stopped');
  return 0;
}
