import { chmodSync, chownSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { invalidArgument, type KibokoError } from '../common/errors.js';
import { VERSION } from '../common/version.js';
import { fleetError, handleFleet, type UnitRegistry } from '../units/index.js';
import { NativeApi, type Credential } from './api.js';
import { bearerOf, FailureThrottle, hubSignatureMatches, kibokoSignatureCheck, tokenMatches } from './auth.js';
import { ByteBudget, drain, readBody } from './body.js';
import type { EventBus } from './bus.js';
import type { ChaosService } from './chaos.js';
import { handleDashboard, SessionStore } from './dashboard/index.js';
import { observeRegistry } from './daemon.js';
import type { DeployService } from './deploys.js';
import type { WatchService } from './watch.js';
import { toHttpError } from './errors.js';
import { handleUnitRoutes } from './journal.js';
import { ListCache } from './list-cache.js';
import { Metrics } from './metrics.js';
import { singleFlight } from './once.js';

export interface ServeOptions {
  token: string;
  registry: UnitRegistry;
  /** The engine units run on: `GET /v1/units/NAME/journal|container` read their containers. */
  engine?: import('../engine/index.js').Engine | undefined;
  /** `host:port` to listen on TCP. */
  listen?: string | undefined;
  /** Unix socket path: plain HTTP, trusted by its file permissions (no token needed). */
  socket?: string | undefined;
  /** A second unix socket serving the same API where fleet clients look (`/var/run/fleet.sock`). */
  fleetSocket?: string | undefined;
  /** The sockets' group (a gid): its members may use the API (mode 0660). Default: owner only (0600). */
  socketGroup?: number | undefined;
  /** HTTPS on TCP; with `clientCa`, a client certificate it signed is a credential equal to the token. */
  tls?: { cert: string; key: string; clientCa?: string | undefined } | undefined;
  /** Structured log lines (auth failures, requests with errors). Never given a secret. */
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
  /** Health details for /healthz (engine status); called at most once per `healthCacheMs`. */
  health?: () => Promise<Record<string, unknown>>;
  healthCacheMs?: number | undefined;
  /** Authenticated request bodies (default 1 MiB). */
  maxBodyBytes?: number;
  limits?: Partial<EdgeLimits> | undefined;
  /** How long collection GETs (/fleet/v1/units, /state, /machines) may be answered from cache (default 1000 ms; 0: never); writes clear it. */
  listCacheMs?: number | undefined;
  /** The native API's services (`/v1/deploys`, `/hooks/deploy`, `/v1/chaos`, `/v1/events`); absent ones answer 503. */
  deploys?: DeployService | undefined;
  chaos?: ChaosService | undefined;
  bus?: EventBus | undefined;
  /** `kiboko serve --watch`: GET /v1/watch/reports, POST /v1/watch/run. */
  watch?: WatchService | undefined;
  /** Shared secret for the deploy hook's `X-Hub-Signature-256` (or `?token=`, for senders that cannot sign). */
  webhookSecret?: string | undefined;
  /** Whether the engine answered the last health check (the kiboko_engine_up metric). */
  engineUp?: (() => boolean) | undefined;
  sse?: { heartbeatMs?: number | undefined; maxStreams?: number | undefined; maxStreamsPerClient?: number | undefined; maxBufferedBytes?: number | undefined } | undefined;
  /** Slows repeated authentication failures (never a valid credential). */
  throttle?: FailureThrottle | undefined;
  /** Dashboard sessions (default: 8 h, at most 1,000). */
  sessions?: SessionStore | undefined;
  /** toxiproxy's API under /toxiproxy/ (issue 15), behind the token like everything else. */
  toxiproxy?: ((req: IncomingMessage, res: ServerResponse, path: string, body: Buffer | undefined) => Promise<void>) | undefined;
}

/** The edge's bounds on what a client may make the daemon hold (see docs/serve-security.md). */
export interface EdgeLimits {
  /** The sign-in form's body (unauthenticated; default 4 KiB). */
  loginBodyBytes: number;
  /** A signed deploy hook's body, read before its signature is checked (default 64 KiB). */
  hookBodyBytes: number;
  /** All unauthenticated bodies together: a slab of this size, one slot (the larger of the two limits above) per body in flight (default 1 MiB: 16 bodies; past it: 503). */
  unauthenticatedBytes: number;
  /** An unauthenticated body must arrive within this (default 10 s; then 408 and the connection is cut). */
  unauthenticatedBodyMs: number;
  /** The request head must arrive within this (default 10 s). */
  headersTimeoutMs: number;
  /** The whole request (head and body) must arrive within this (default 60 s; streams are not limited once answered). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (default 5 s). */
  keepAliveTimeoutMs: number;
  /** Open connections per listener (default 4,000; more are refused at accept). */
  maxConnections: number;
}

export const DEFAULT_LIMITS: EdgeLimits = {
  loginBodyBytes: 4 * 1024,
  hookBodyBytes: 64 * 1024,
  unauthenticatedBytes: 1024 * 1024,
  unauthenticatedBodyMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 4_000,
};

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

type Transport = 'unix' | 'tcp';

/**
 * The request target as a URL: origin-form (`/path?q`), or absolute-form (`http://host/path`,
 * whose path is used); authority-form, `*` and anything the URL parser rejects throw, and the
 * caller answers 400.
 */
export function parseTarget(target: string | undefined): URL {
  const t = target ?? '/';
  if (/^https?:\/\//i.test(t)) {
    const abs = new URL(t);
    return new URL(`http://kiboko.local${abs.pathname}${abs.search}`);
  }
  if (!t.startsWith('/')) throw new Error('not an origin-form request target');
  const url = new URL(`http://kiboko.local${t}`);
  if (url.host !== 'kiboko.local') throw new Error('request target names another host');
  return url;
}

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
  const make = (transport: Transport) => {
    const handler = (req: IncomingMessage, res: ServerResponse) => handlers[transport](req, res);
    const tls = transport === 'tcp' ? options.tls : undefined;
    const s = tls
      ? createHttpsServer(
          {
            cert: readTlsFile(tls.cert, '--tls-cert'),
            key: readTlsFile(tls.key, '--tls-key'),
            // A client certificate is asked for and checked against the CA, but not required:
            // clients without one still authenticate with the token.
            ...(tls.clientCa ? { ca: readTlsFile(tls.clientCa, '--tls-client-ca'), requestCert: true, rejectUnauthorized: false } : {}),
          },
          handler,
        )
      : createHttpServer(handler);
    s.headersTimeout = limits.headersTimeoutMs;
    s.requestTimeout = limits.requestTimeoutMs;
    s.keepAliveTimeout = limits.keepAliveTimeoutMs;
    s.maxHeadersCount = 100;
    s.maxConnections = limits.maxConnections;
    // Bytes the HTTP parser rejects (a bad request line or header, an oversized header block):
    // 400 (431 for headers too large) and close, logged; never an exception.
    s.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') log('warn', 'malformed request', { error: err.code ?? err.message });
      if (!socket.writable) return void socket.destroy();
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      const body = JSON.stringify({ error: { code: Number(status.slice(0, 3)), message: status.slice(4).toLowerCase() } });
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    });
    return s;
  };
  // Errors after a listener is bound (never a bind failure: that one is the caller's error).
  const logErrors = (s: Server) => s.on('error', (err) => log('error', 'server error', { error: err.message }));
  const servers: Server[] = [];
  const addresses: string[] = [];
  const closeAll = () =>
    Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            (s as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
          }),
      ),
    ).then(() => undefined);
  try {
    // TCP first: its address comes first in `addresses` (what clients and scripts read), and a taken
    // port fails before a socket file is touched.
    if (tcp) {
      const s = make('tcp');
      await listenOn(s, { port: tcp.port, host: tcp.host }).catch((err: NodeJS.ErrnoException) => {
        throw listenError(err, `${tcp.display}:${tcp.port}`, '--listen');
      });
      servers.push(logErrors(s));
      const a = s.address();
      addresses.push(`${options.tls ? 'https' : 'http'}://${tcp.display}:${typeof a === 'object' && a ? a.port : tcp.port}`);
    }
    for (const [path, flag] of [[options.socket, '--socket'], [options.fleetSocket, '--fleet-socket']] as const) {
      if (!path) continue;
      // A live socket belongs to another daemon: never take it over (a stale one, left by a crash, is replaced).
      if (await socketAnswers(path)) throw invalidArgument(`another daemon is already listening on ${path}`, `stop it, or give this one its own --state-dir or ${flag}`);
      rmSync(path, { force: true });
      const s = make('unix');
      await listenOn(s, { path }).catch((err: NodeJS.ErrnoException) => {
        throw listenError(err, path, flag);
      });
      servers.push(logErrors(s));
      // The socket is the credential: owner (and --socket-group) only, as dockerd's socket.
      chmodSync(path, options.socketGroup !== undefined ? 0o660 : 0o600);
      if (options.socketGroup !== undefined) chownSync(path, process.getuid?.() ?? 0, options.socketGroup);
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
      const running = serveWith({ ...serve, listen: options.listen, socket: options.socket, fleetSocket: options.fleetSocket, socketGroup: options.socketGroup, tls: options.tls }, limits);
      handlers.unix = running.handlerFor('unix');
      handlers.tcp = running.handlerFor('tcp');
      return {
        servers,
        addresses,
        close: () => {
          running.close();
          return closeAll();
        },
      };
    },
    close: closeAll,
  };
}

/** The daemon's request handling: the error boundary, credentials, routes. */
function serveWith(options: ServeOptions, limits: EdgeLimits) {
  const throttle = options.throttle ?? new FailureThrottle();
  const sessions = options.sessions ?? new SessionStore();
  const log = options.log ?? (() => undefined);
  const max = options.maxBodyBytes ?? 1024 * 1024;
  const unauthenticated = new ByteBudget(limits.unauthenticatedBytes, Math.max(limits.loginBodyBytes, limits.hookBodyBytes));
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
  const api = new NativeApi({ registry, deploys: options.deploys, chaos: options.chaos, bus: options.bus, watch: options.watch, metrics, sse: options.sse, streams, engine: options.engine });
  const lists = new ListCache(options.listCacheMs);
  const cachedRegistry = lists.registry(registry);
  // /healthz is open: it answers from a result at most healthCacheMs old, and concurrent callers share one check.
  const health = options.health ? singleFlight(options.health, options.healthCacheMs ?? 2000) : undefined;

  // The error boundary: everything a request does — parsing its target included — runs inside
  // one try, and whatever escapes it (a bug) is answered 500 and logged, never left unhandled.
  const handlerFor =
    (transport: Transport) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      let url: URL;
      try {
        url = parseTarget(req.url);
      } catch {
        log('warn', 'malformed request target', { client: req.socket.remoteAddress ?? 'unix', target: JSON.stringify((req.url ?? '').slice(0, 80)) });
        drain(req);
        return send(res, 400, { error: { code: 400, message: 'malformed request target' } }, { connection: 'close' });
      }
      handle(req, res, url, transport).catch((err: unknown) => {
        log('error', 'request handler failed', { path: url.pathname.slice(0, 200), method: String(req.method).slice(0, 10), error: (err as Error)?.stack ?? String(err) });
        try {
          if (!res.headersSent) send(res, 500, { error: { code: 500, message: 'internal error; see the daemon log' } }, { connection: 'close' });
          else res.destroy();
        } catch {
          res.destroy();
        }
      });
    };

  /** The credential a request's head carries (no body read), if any. */
  const credentialOf = (req: IncomingMessage, transport: Transport): Credential | undefined => {
    if (transport === 'unix') return 'socket';
    if (options.tls?.clientCa && (req.socket as TLSSocket).authorized === true) return 'certificate';
    if (tokenMatches(bearerOf(req.headers.authorization), options.token)) return 'token';
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL, transport: Transport) => {
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
    /**
     * A failed credential: logged (never what was presented), counted, its body never read, and
     * answered late (the throttle). False when too many failed answers are held already: the
     * caller then refuses at once.
     */
    const penalize = async (reason: 'token' | 'signature'): Promise<boolean> => {
      log('warn', 'authentication failed', { client, path: url.pathname.slice(0, 200), reason });
      metrics.authFailed(reason);
      drain(req);
      const wait = throttle.fail(client);
      if (wait === 'refuse') return false;
      await throttle.hold(wait);
      return true;
    };
    const tooMany = () => fail(429, 'TOO_MANY_REQUESTS', 'too many failed authentication attempts in progress; try again later', undefined, { 'retry-after': '5', connection: 'close' });
    try {
      if (url.pathname === '/healthz') {
        if (req.method !== 'GET') return send(res, 405, { error: { code: 405, message: 'only GET supported against this resource' } });
        return send(res, 200, { status: 'ok', version: VERSION, ...(health ? await health() : {}) });
      }
      let credential = credentialOf(req, transport);
      if (url.pathname === '/dashboard' || url.pathname.startsWith('/dashboard/')) {
        await handleDashboard(req, res, url, {
          sessions,
          authorized: credential !== undefined || sessions.authorizes(req),
          secure: Boolean(options.tls),
          checkToken: async (presented) => {
            if (tokenMatches(presented, options.token)) return true;
            if (!(await penalize('token'))) res.destroy(); // too many held: no answer at all
            return false;
          },
          readBody: async () => (await readBody(req, { max: limits.loginBodyBytes, budget: unauthenticated, timeoutMs: limits.unauthenticatedBodyMs }))?.toString('utf8'),
        });
        return;
      }
      let body: Buffer | undefined;
      let bodyRead = false;
      // A dashboard session authorises read-only requests.
      if (credential === undefined && sessions.authorizes(req)) credential = 'session';
      if (credential === undefined) {
        // The deploy hook also accepts GitHub's HMAC signature of the body (or, for senders that
        // cannot sign or set headers, the webhook secret as ?token=); its body is read under the
        // hook's small limit and the unauthenticated budget before the signature is checked.
        const kibokoSigned = req.headers['x-kiboko-signature-256'] !== undefined;
        const signature = kibokoSigned ? req.headers['x-kiboko-signature-256'] : req.headers['x-hub-signature-256'];
        const hookToken = url.searchParams.get('token');
        let stale = false;
        if (url.pathname === '/hooks/deploy' && method === 'POST' && options.webhookSecret && (signature !== undefined || hookToken !== null)) {
          if (signature !== undefined) {
            body = await readBody(req, { max: limits.hookBodyBytes, budget: unauthenticated, timeoutMs: limits.unauthenticatedBodyMs });
            bodyRead = true;
            if (kibokoSigned) {
              const verdict = kibokoSignatureCheck(body ?? Buffer.alloc(0), req.headers, options.webhookSecret);
              if (verdict === 'ok') credential = 'kiboko-signature';
              stale = verdict === 'stale';
            } else if (hubSignatureMatches(body ?? Buffer.alloc(0), signature, options.webhookSecret)) credential = 'signature';
          } else if (tokenMatches(hookToken ?? undefined, options.webhookSecret)) credential = 'hook-token';
        }
        if (credential === undefined) {
          const reason = signature !== undefined ? 'signature' : 'token';
          if (!(await penalize(reason))) return tooMany();
          if (native) {
            const hint = stale
              ? 'X-Kiboko-Timestamp must be within 5 minutes of the daemon’s clock: sign each delivery when it is sent (and check both clocks)'
              : url.pathname === '/hooks/deploy'
                ? 'send Authorization: Bearer <token>, X-Kiboko-Signature-256 with X-Kiboko-Timestamp and X-Kiboko-Delivery, or X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body with the webhook secret>'
                : 'send Authorization: Bearer <the token in <state-dir>/serve.token>';
            return fail(401, 'UNAUTHENTICATED', stale ? 'stale signature: the signed timestamp is outside the 5-minute window' : reason === 'signature' ? 'invalid signature' : 'missing or invalid bearer token', hint, { 'www-authenticate': 'Bearer realm="kiboko"' });
          }
          return send(res, 401, { error: { code: 401, message: 'missing or invalid bearer token' } }, { 'www-authenticate': 'Bearer realm="kiboko"' });
        }
      }
      if (!bodyRead && (method === 'PUT' || method === 'POST' || method === 'PATCH' || method === 'DELETE')) body = await readBody(req, { max, timeoutMs: limits.requestTimeoutMs });
      // --- toxiproxy API (issue 15): mounted under /toxiproxy/, after authentication ---
      if (options.toxiproxy && url.pathname.startsWith('/toxiproxy/')) return await options.toxiproxy(req, res, url.pathname.slice('/toxiproxy'.length), body);
      // --- end toxiproxy API ---
      const unitRoute = await handleUnitRoutes(req.method ?? 'GET', url, options);
      if (unitRoute) return send(res, unitRoute.status, unitRoute.body);
      if (isFleet) {
        if (lists.covers(method, url.pathname)) return await lists.serve(res, `${url.pathname}${url.search}`, () => handleFleet({ method, path: url.pathname, query: url.searchParams }, cachedRegistry));
        const r = await handleFleet({ method, path: url.pathname, query: url.searchParams, contentType: req.headers['content-type'], body: body?.toString('utf8') }, registry);
        return send(res, r.status, r.body, r.headers);
      }
      if (native) {
        const found = api.resolve(method, url.pathname);
        if (!found) return fail(404, 'NOT_FOUND', `no route ${url.pathname.slice(0, 100)}`, 'see the Daemon API section of the README');
        if ('allowed' in found) return fail(405, 'METHOD_NOT_ALLOWED', `${method.slice(0, 10)} is not supported on ${found.pattern}`, `use ${found.allowed.join(' or ')}`, { allow: found.allowed.join(', ') });
        const reply = await found.route.handler({ req, res, url, params: found.params, body, credential, client });
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
      if (status === 413 || status === 411 || status === 408 || (status === 503 && (err as { code?: string }).code === 'BUSY')) {
        const h = toHttpError(err);
        return fail(h.status, h.body.error.code, h.body.error.message, h.body.error.hint, h.headers);
      }
      if (native) {
        const h = toHttpError(err);
        log(h.status >= 500 ? 'error' : 'warn', 'request failed', { path: url.pathname.slice(0, 200), status: h.status, error: (err as Error).message });
        return send(res, h.status, h.body, h.headers);
      }
      const e = err as { code?: string; message?: string; hint?: string };
      const mapped = e.code === 'TARGET_NOT_FOUND' ? 404 : e.code === 'INVALID_ARGUMENT' ? 400 : e.code === 'CONFLICT' ? 409 : e.code === 'ENGINE_UNREACHABLE' ? 503 : 500;
      log(mapped >= 500 ? 'error' : 'warn', 'request failed', { path: url.pathname.slice(0, 200), error: e.message });
      const r = fleetError(mapped, mapped >= 500 && mapped !== 503 ? 'internal error; see the daemon log' : `${e.message ?? 'error'}${e.hint ? ` — ${e.hint}` : ''}`);
      return send(res, r.status, r.body);
    }
  };

  return {
    handlerFor,
    close: () => {
      // Event streams never end on their own: end them, or close() would wait for them forever.
      for (const r of streams) r.end();
      metrics.close();
    },
  };
}

/** `--listen HOST:PORT` (HOST may be empty for 127.0.0.1, or a bracketed IPv6 address). */
export function parseListen(listen: string): { host: string; port: number; display: string } {
  const m = /^(.*):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535 || /\s|\//.test(m[1]!)) throw invalidArgument(`invalid --listen '${listen.slice(0, 100)}': expected HOST:PORT with a port from 0 to 65535`, 'e.g. --listen 127.0.0.1:8555');
  const raw = m[1] || '127.0.0.1';
  const host = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  return { host, port, display: host.includes(':') ? `[${host}]` : host };
}

const listenOn = (s: Server, where: { path: string } | { port: number; host: string }) =>
  new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(where, () => {
      s.off('error', reject);
      resolve();
    });
  });

function readTlsFile(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw invalidArgument(`cannot read ${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, `give ${flag} a readable PEM file`, err);
  }
}

/** Whether something accepts connections on a unix socket path. */
const socketAnswers = (path: string) =>
  new Promise<boolean>((resolve) => {
    const c = connect(path);
    const done = (v: boolean) => {
      c.destroy();
      resolve(v);
    };
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
    c.setTimeout(1000, () => done(false));
  });

/** A bind failure as the user's error: which address, why, and what to do. */
function listenError(err: NodeJS.ErrnoException, where: string, flag: string): KibokoError {
  const port = /:(\d+)$/.exec(where)?.[1];
  switch (err.code) {
    case 'EADDRINUSE':
      return invalidArgument(`cannot listen on ${where}: the address is already in use`, port ? `stop what listens there (ss -ltnp 'sport = :${port}') or choose another ${flag}` : `stop what listens there or choose another ${flag}`, err);
    case 'EACCES':
      return invalidArgument(`cannot listen on ${where}: permission denied`, port && Number(port) < 1024 ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a port from 1024' : `choose a path you may write to with ${flag}`, err);
    case 'EADDRNOTAVAIL':
      return invalidArgument(`cannot listen on ${where}: not an address of this host`, `give one of this host's addresses with ${flag} (e.g. 127.0.0.1)`, err);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return invalidArgument(`cannot listen on ${where}: unknown host`, `give an IP address or a resolvable name with ${flag}`, err);
    default:
      return invalidArgument(`cannot listen on ${where}: ${err.code ?? err.message}`, `check ${flag}`, err);
  }
}

