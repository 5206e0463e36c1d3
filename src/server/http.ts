import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Edge, send } from './edge.js';
import { assertSocketFree, bindSocket, bindTcp, closeServers, createListener, parseListen, restrictSocket } from './listeners.js';
import { DEFAULT_LIMITS, type EdgeLimits, type RunningServer, type ServeOptions, type Transport } from './serve-options.js';

export { parseTarget } from './edge.js';
export { parseListen } from './listeners.js';
export { DEFAULT_LIMITS, type EdgeLimits, type RunningServer, type ServeOptions } from './serve-options.js';

/**
 * `kiboko serve`'s HTTP edge. Every request runs inside one error boundary (its target is parsed
 * there too). Credentials are checked from the request head before any body is read: a request over
 * the unix socket is trusted by the socket's file permissions; over TCP, the bearer token, a TLS
 * client certificate signed by `--tls-client-ca`, or (GET only) a dashboard session; the deploy
 * hook also takes an HMAC signature of its body, read under a small limit and a shared budget.
 * Failed attempts are answered late (the throttle), never a valid credential. fleet's v1 API under
 * /fleet/v1 and /v1-alpha with fleet's error body; kiboko's native API under /v1, /hooks/deploy and
 * /metrics with `{"error": {"code", "message", "hint"}}`; nothing leaks a 5xx detail.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const bound = await bindServer(options);
  try {
    return bound.start(options);
  } catch (err) {
    await bound.close();
    throw err;
  }
}

/** What binding needs: the addresses, TLS and the edge's timeouts. */
export type ListenOptions = Pick<ServeOptions, 'listen' | 'socket' | 'fleetSocket' | 'socketGroup' | 'tls' | 'limits' | 'log'>;

/** Listeners bound and configured, answering 503 until `start` gives them the daemon's handler. */
export interface BoundServer {
  servers: Server[];
  addresses: string[];
  start(options: ServeOptions): RunningServer;
  close(): Promise<void>;
}

/**
 * Binds every listener first — before the engine is reached or any loop starts — so a taken port,
 * a bad address or another daemon on the socket is a one-line user error (INVALID_ARGUMENT) within
 * milliseconds, with nothing left running behind it.
 */
export async function bindServer(options: ListenOptions): Promise<BoundServer> {
  const log = options.log ?? (() => undefined);
  const limits: EdgeLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const tcp = options.listen !== undefined ? parseListen(options.listen) : undefined;
  const starting = (_req: IncomingMessage, res: ServerResponse) => send(res, 503, { error: { code: 503, message: 'starting; try again in a moment' } }, { 'retry-after': '1', connection: 'close' });
  const handlers: Record<Transport, (req: IncomingMessage, res: ServerResponse) => void> = { unix: starting, tcp: starting };
  const make = (transport: Transport) => createListener(transport, (req, res) => handlers[transport](req, res), options.tls, limits, log);
  // Errors after a listener is bound (never a bind failure: that one is the caller's error).
  const logErrors = (s: Server) => s.on('error', (err) => log('error', 'server error', { error: err.message }));
  const servers: Server[] = [];
  const addresses: string[] = [];
  const closeAll = () => closeServers(servers);
  try {
    // TCP first: its address comes first in `addresses` (what clients and scripts read), and a taken
    // port fails before a socket file is touched.
    if (tcp) {
      const s = make('tcp');
      const address = await bindTcp(s, tcp, Boolean(options.tls));
      servers.push(logErrors(s));
      addresses.push(address);
    }
    for (const [path, flag] of [[options.socket, '--socket'], [options.fleetSocket, '--fleet-socket']] as const) {
      if (!path) continue;
      await assertSocketFree(path, flag);
      const s = make('unix');
      await bindSocket(s, path, flag);
      servers.push(logErrors(s));
      restrictSocket(path, options.socketGroup);
      addresses.push(`unix://${path}`);
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return {
    servers,
    addresses,
    start: (serve: ServeOptions) => {
      // What was bound (TLS and its client CA above all: a certificate is a credential) stays as bound.
      const edge = new Edge({ ...serve, listen: options.listen, socket: options.socket, fleetSocket: options.fleetSocket, socketGroup: options.socketGroup, tls: options.tls }, limits);
      handlers.unix = edge.handlerFor('unix');
      handlers.tcp = edge.handlerFor('tcp');
      return {
        servers,
        addresses,
        close: () => {
          edge.close();
          return closeAll();
        },
      };
    },
    close: closeAll,
  };
}
