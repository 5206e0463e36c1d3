import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync, rmSync } from 'node:fs';
import { VERSION } from '../common/version.js';
import { fleetError, handleFleet, type UnitRegistry } from '../units/index.js';
import { NativeApi } from './api.js';
import { handleDashboard, sessionAuthorized } from './dashboard/index.js';
import { bearerOf, FailureThrottle, hubSignatureMatches, tokenMatches } from './auth.js';
import type { EventBus } from './bus.js';
import type { ChaosService } from './chaos.js';
import { observeRegistry } from './daemon.js';
import type { DeployService } from './deploys.js';
import { toHttpError } from './errors.js';
import { Metrics } from './metrics.js';
import { handleUnitRoutes } from './journal.js';
import { ListCache } from './list-cache.js';

export interface ServeOptions {
  token: string;
  registry: UnitRegistry;
  /** The engine units run on: `GET /v1/units/NAME/journal|container` read their containers. */
  engine?: import('../engine/index.js').Engine | undefined;
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
  /** How long collection GETs (/fleet/v1/units, /state, /machines) may be answered from cache (default 1000 ms; 0: never); writes clear it. */
  listCacheMs?: number | undefined;
  /** The native API's services (`/v1/deploys`, `/hooks/deploy`, `/v1/chaos`, `/v1/events`); absent ones answer 503. */
  deploys?: DeployService | undefined;
  chaos?: ChaosService | undefined;
  bus?: EventBus | undefined;
  /** Shared secret for the deploy hook's `X-Hub-Signature-256` (or `?token=`, for senders that cannot sign). */
  webhookSecret?: string | undefined;
  /** Whether the engine answered the last health check (the kiboko_engine_up metric). */
  engineUp?: (() => boolean) | undefined;
  sse?: { heartbeatMs?: number | undefined } | undefined;
  /** Throttling of repeated authentication failures (default: 10 a minute block a client for a minute). */
  throttle?: FailureThrottle | undefined;
  /** toxiproxy's API under /toxiproxy/ (issue 15), behind the token like everything else. */
  toxiproxy?: ((req: IncomingMessage, res: ServerResponse, path: string, body: Buffer | undefined) => Promise<void>) | undefined;
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

function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
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
    req.on('end', () => resolve(chunks.length ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

/**
 * `kiboko serve`'s HTTP edge: every endpoint but /healthz needs the bearer token (compared in
 * constant time; repeated failures are throttled and logged) — the deploy hook also takes an
 * HMAC signature instead; fleet's v1 API under /fleet/v1 and /v1-alpha with fleet's error body;
 * kiboko's native API under /v1, /hooks/deploy and /metrics with `{"error": {"code", "message",
 * "hint"}}`. Kiboko errors map to HTTP statuses; nothing leaks a 5xx detail.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const throttle = options.throttle ?? new FailureThrottle();
  const log = options.log ?? (() => undefined);
  const max = options.maxBodyBytes ?? 1024 * 1024;
  const registry = options.bus ? observeRegistry(options.registry, options.bus) : options.registry;
  const streams = new Set<ServerResponse>();
  const metrics = new Metrics({
    registry: options.registry,
    bus: options.bus,
    engineUp: options.engineUp,
    activeJobs: options.deploys ? () => options.deploys!.counts() : undefined,
    chaosRunning: options.chaos ? () => options.chaos!.running : undefined,
    sseClients: () => streams.size,
  });
  const api = new NativeApi({ registry, deploys: options.deploys, chaos: options.chaos, bus: options.bus, metrics, sse: options.sse, streams });
  const lists = new ListCache(options.listCacheMs);
  const cachedRegistry = lists.registry(registry);
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://kiboko.local');
    const client = req.socket.remoteAddress ?? 'unix';
    const method = req.method ?? 'GET';
    const native = api.owns(url.pathname);
    const isFleet = url.pathname.startsWith('/fleet/v1') || url.pathname.startsWith('/v1-alpha') || url.pathname === '/';
    const route = url.pathname === '/healthz' ? '/healthz' : url.pathname.startsWith('/dashboard') ? '/dashboard' : isFleet ? '/fleet/v1/*' : (api.label(url.pathname) ?? (url.pathname.startsWith('/v1/units/') ? '/v1/units/:name/*' : 'unmatched'));
    const started = process.hrtime.bigint();
    let observed = false;
    const observe = () => {
      if (observed) return;
      observed = true;
      metrics.observeRequest(method, route, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
    };
    res.once('finish', observe);
    res.once('close', observe);
    if (method !== 'GET' && method !== 'HEAD') lists.invalidateAfter(res);
    const fail = (status: number, code: string, message: string, hint?: string, headers: Record<string, string> = {}) =>
      native ? send(res, status, { error: { code, message, ...(hint ? { hint } : {}) } }, headers) : send(res, status, { error: { code: status, message } }, headers);
    try {
      if (url.pathname === '/healthz') {
        if (req.method !== 'GET') return send(res, 405, { error: { code: 405, message: 'only GET supported against this resource' } });
        return send(res, 200, { status: 'ok', version: VERSION, ...(options.health ? await options.health() : {}) });
      }
      if (throttle.blocked(client)) return fail(429, 'TOO_MANY_REQUESTS', 'too many failed authentication attempts; try again later', undefined, { 'retry-after': '60' });
      if (url.pathname === '/dashboard' || url.pathname.startsWith('/dashboard/')) {
        await handleDashboard(req, res, url, {
          token: options.token,
          authorized: tokenMatches(bearerOf(req.headers.authorization), options.token) || sessionAuthorized(req, options.token),
          secure: Boolean(options.tls),
          checkToken: (presented) => {
            if (tokenMatches(presented, options.token)) {
              throttle.succeed(client);
              return true;
            }
            if (throttle.fail(client)) log('warn', 'authentication failures throttled', { client });
            log('warn', 'authentication failed', { client, path: url.pathname });
            metrics.authFailed('token');
            return false;
          },
          readBody: async () => (await readBody(req, max))?.toString('utf8'),
        });
        return;
      }
      let body: Buffer | undefined;
      let bodyRead = false;
      // A dashboard session (a cookie derived from the token) authorises read-only requests.
      if (!tokenMatches(bearerOf(req.headers.authorization), options.token) && !sessionAuthorized(req, options.token)) {
        // The deploy hook also accepts GitHub's HMAC signature of the body (or, for senders that
        // cannot sign or set headers, the webhook secret as ?token=).
        const signature = req.headers['x-hub-signature-256'];
        const hookToken = url.searchParams.get('token');
        let hookOk = false;
        if (url.pathname === '/hooks/deploy' && method === 'POST' && options.webhookSecret && (signature !== undefined || hookToken !== null)) {
          body = await readBody(req, max);
          bodyRead = true;
          hookOk = signature !== undefined ? hubSignatureMatches(body ?? Buffer.alloc(0), signature, options.webhookSecret) : tokenMatches(hookToken ?? undefined, options.webhookSecret);
        }
        if (!hookOk) {
          if (throttle.fail(client)) log('warn', 'authentication failures throttled', { client });
          log('warn', 'authentication failed', { client, path: url.pathname });
          metrics.authFailed(signature !== undefined ? 'signature' : 'token');
          if (native) {
            const hint = url.pathname === '/hooks/deploy' ? 'send Authorization: Bearer <token>, or X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body with the webhook secret>' : 'send Authorization: Bearer <the token in <state-dir>/serve.token>';
            return fail(401, 'UNAUTHENTICATED', signature !== undefined ? 'invalid signature' : 'missing or invalid bearer token', hint, { 'www-authenticate': 'Bearer realm="kiboko"' });
          }
          return send(res, 401, { error: { code: 401, message: 'missing or invalid bearer token' } }, { 'www-authenticate': 'Bearer realm="kiboko"' });
        }
      }
      throttle.succeed(client);
      if (!bodyRead && (method === 'PUT' || method === 'POST' || method === 'PATCH' || method === 'DELETE')) body = await readBody(req, max);
      // --- toxiproxy API (issue 15): mounted under /toxiproxy/, after authentication ---
      if (options.toxiproxy && url.pathname.startsWith('/toxiproxy/')) return await options.toxiproxy(req, res, url.pathname.slice('/toxiproxy'.length), body);
      // --- end toxiproxy API ---
      const unitRoute = await handleUnitRoutes(req.method ?? 'GET', url, options);
      if (unitRoute) return send(res, unitRoute.status, unitRoute.body);
      if (url.pathname.startsWith('/fleet/v1') || url.pathname.startsWith('/v1-alpha') || url.pathname === '/') {
        if (lists.covers(method, url.pathname)) return await lists.serve(res, `${url.pathname}${url.search}`, () => handleFleet({ method, path: url.pathname, query: url.searchParams }, cachedRegistry));
        const r = await handleFleet({ method, path: url.pathname, query: url.searchParams, contentType: req.headers['content-type'], body: body?.toString('utf8') }, registry);
        return send(res, r.status, r.body, r.headers);
      }
      if (native) {
        const found = api.resolve(method, url.pathname);
        if (!found) return fail(404, 'NOT_FOUND', `no route ${url.pathname.slice(0, 100)}`, 'see the Daemon API section of the README');
        if ('allowed' in found) return fail(405, 'METHOD_NOT_ALLOWED', `${method.slice(0, 10)} is not supported on ${found.pattern}`, `use ${found.allowed.join(' or ')}`, { allow: found.allowed.join(', ') });
        const reply = await found.route.handler({ req, res, url, params: found.params, body });
        if (reply === 'streamed') return;
        if (typeof reply.body === 'string') {
          res.writeHead(reply.status, { server: `kiboko/${VERSION}`, ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
          return res.end(reply.body);
        }
        return send(res, reply.status, reply.body, reply.headers);
      }
      return send(res, 404, { error: { code: 404, message: 'not found' } });
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = (err as { status?: number }).status;
      if (status === 413) return fail(413, 'PAYLOAD_TOO_LARGE', 'request body too large', `send at most ${max} bytes`);
      if (native) {
        const h = toHttpError(err);
        log(h.status >= 500 ? 'error' : 'warn', 'request failed', { path: url.pathname, status: h.status, error: (err as Error).message });
        return send(res, h.status, h.body, h.headers);
      }
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
    close: () => {
      // Event streams never end on their own: end them, or close() would wait for them forever.
      for (const r of streams) r.end();
      metrics.close();
      return Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              (s as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
            }),
        ),
      ).then(() => undefined);
    },
  };
}
