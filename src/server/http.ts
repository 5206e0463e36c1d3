import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync, rmSync } from 'node:fs';
import { VERSION } from '../common/version.js';
import { fleetError, handleFleet, type UnitRegistry } from '../units/index.js';
import { bearerOf, FailureThrottle, tokenMatches } from './auth.js';

export interface ServeOptions {
  token: string;
  registry: UnitRegistry;
  /** `host:port` to listen on TCP. */
  listen?: string | undefined;
  /** Unix socket path. */
  socket?: string | undefined;
  tls?: { cert: string; key: string } | undefined;
  /** Structured log lines (auth failures, requests with errors). */
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
  /** Health details for /healthz (engine status). */
  health?: () => Promise<Record<string, unknown>>;
  maxBodyBytes?: number;
}

export interface RunningServer {
  servers: Server[];
  /** Addresses actually bound (port 0 resolved). */
  addresses: string[];
  close(): Promise<void>;
}

const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', server: `kiboko/${VERSION}`, ...headers, ...(text ? { 'content-length': Buffer.byteLength(text) } : {}) });
  res.end(text);
};

function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined));
    req.on('error', reject);
  });
}

/**
 * `kiboko serve`'s HTTP edge: every endpoint but /healthz needs the bearer token (compared in
 * constant time; repeated failures are throttled and logged); fleet's v1 API under /fleet/v1 and
 * /v1-alpha. Kiboko errors map to HTTP statuses with fleet's JSON error body; nothing leaks a 5xx
 * detail.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const throttle = new FailureThrottle();
  const log = options.log ?? (() => undefined);
  const max = options.maxBodyBytes ?? 1024 * 1024;
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://kiboko.local');
    const client = req.socket.remoteAddress ?? 'unix';
    try {
      if (url.pathname === '/healthz') {
        if (req.method !== 'GET') return send(res, 405, { error: { code: 405, message: 'only GET supported against this resource' } });
        return send(res, 200, { status: 'ok', version: VERSION, ...(options.health ? await options.health() : {}) });
      }
      if (throttle.blocked(client)) return send(res, 429, { error: { code: 429, message: 'too many failed authentication attempts; try again later' } }, { 'retry-after': '60' });
      if (!tokenMatches(bearerOf(req.headers.authorization), options.token)) {
        if (throttle.fail(client)) log('warn', 'authentication failures throttled', { client });
        log('warn', 'authentication failed', { client, path: url.pathname });
        return send(res, 401, { error: { code: 401, message: 'missing or invalid bearer token' } }, { 'www-authenticate': 'Bearer realm="kiboko"' });
      }
      throttle.succeed(client);
      const body = req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH' ? await readBody(req, max) : undefined;
      if (url.pathname.startsWith('/fleet/v1') || url.pathname.startsWith('/v1-alpha') || url.pathname === '/') {
        const r = await handleFleet({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, contentType: req.headers['content-type'], body }, options.registry);
        return send(res, r.status, r.body, r.headers);
      }
      return send(res, 404, { error: { code: 404, message: 'not found' } });
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 413) return send(res, 413, { error: { code: 413, message: 'request body too large' } });
      const e = err as { code?: string; message?: string; hint?: string };
      const mapped = e.code === 'TARGET_NOT_FOUND' ? 404 : e.code === 'INVALID_ARGUMENT' ? 400 : e.code === 'CONFLICT' ? 409 : e.code === 'ENGINE_UNREACHABLE' ? 503 : 500;
      log(mapped >= 500 ? 'error' : 'warn', 'request failed', { path: url.pathname, error: e.message });
      const r = fleetError(mapped, `${e.message ?? 'error'}${e.hint ? ` — ${e.hint}` : ''}`);
      return send(res, r.status, r.body);
    }
  };
  const make = () => (options.tls ? createHttpsServer({ cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key) }, handler) : createHttpServer(handler));
  const servers: Server[] = [];
  const addresses: string[] = [];
  if (options.socket) {
    rmSync(options.socket, { force: true });
    const s = make();
    await new Promise<void>((resolve, reject) => s.once('error', reject).listen(options.socket, resolve));
    servers.push(s);
    addresses.push(`unix://${options.socket}`);
  }
  if (options.listen) {
    const m = /^(.*):(\d+)$/.exec(options.listen);
    if (!m) throw new Error(`invalid --listen '${options.listen}': expected HOST:PORT`);
    const s = make();
    await new Promise<void>((resolve, reject) => s.once('error', reject).listen(Number(m[2]), m[1] || '127.0.0.1', resolve));
    const a = s.address();
    servers.push(s);
    addresses.push(`${options.tls ? 'https' : 'http'}://${m[1] || '127.0.0.1'}:${typeof a === 'object' && a ? a.port : m[2]}`);
  }
  return {
    servers,
    addresses,
    close: () =>
      Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              (s as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
            }),
        ),
      ).then(() => undefined),
  };
}
