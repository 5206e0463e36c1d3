import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { VERSION } from '../common/version.js';
import { fleetError, handleFleet, type UnitRegistry } from '../units/index.js';
import { NativeApi, type Credential } from './api.js';
import { bearerOf, FailureThrottle, hubSignatureMatches, kibokoSignatureCheck, tokenMatches } from './auth.js';
import { ByteBudget, drain, readBody } from './body.js';
import { handleDashboard, SessionStore } from './dashboard/index.js';
import { observeRegistry } from './daemon.js';
import { toHttpError } from './errors.js';
import { handleUnitRoutes } from './journal.js';
import { ListCache } from './list-cache.js';
import { Metrics } from './metrics.js';
import { singleFlight } from './once.js';
import type { EdgeLimits, ServeOptions, Transport } from './serve-options.js';

export const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', server: `kiboko/${VERSION}`, ...headers, ...(text ? { 'content-length': Buffer.byteLength(text) } : {}) });
  res.end(text);
};

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

/** One request as the edge handles it: who sent it, which API it is for, and how that API answers errors. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  client: string;
  method: string;
  /** kiboko's native API (its error body), rather than fleet's. */
  native: boolean;
  isFleet: boolean;
  fail(status: number, code: string, message: string, hint?: string, headers?: Record<string, string>): void;
  /**
   * A failed credential: logged (never what was presented), counted, its body never read, and
   * answered late (the throttle). False when too many failed answers are held already: the
   * caller then refuses at once.
   */
  penalize(reason: 'token' | 'signature'): Promise<boolean>;
}

/** What authentication left: the credential, and the body when it had to be read to check a signature. */
type Authenticated = { credential: Credential; body: Buffer | undefined; bodyRead: boolean };

/** The daemon's request handling: the error boundary, credentials, routes. */
export class Edge {
  private readonly throttle: FailureThrottle;
  private readonly sessions: SessionStore;
  private readonly log: NonNullable<ServeOptions['log']>;
  private readonly max: number;
  private readonly unauthenticated: ByteBudget;
  private readonly registry: UnitRegistry;
  private readonly streams = new Set<ServerResponse>();
  private readonly metrics: Metrics;
  private readonly api: NativeApi;
  private readonly lists: ListCache;
  private readonly cachedRegistry: UnitRegistry;
  private readonly health: (() => Promise<Record<string, unknown>>) | undefined;

  constructor(
    private readonly options: ServeOptions,
    private readonly limits: EdgeLimits,
  ) {
    this.throttle = options.throttle ?? new FailureThrottle();
    this.sessions = options.sessions ?? new SessionStore();
    this.log = options.log ?? (() => undefined);
    this.max = options.maxBodyBytes ?? 1024 * 1024;
    this.unauthenticated = new ByteBudget(limits.unauthenticatedBytes, Math.max(limits.loginBodyBytes, limits.hookBodyBytes));
    this.registry = options.bus ? observeRegistry(options.registry, options.bus) : options.registry;
    this.metrics = new Metrics({
      registry: options.registry,
      bus: options.bus,
      engineUp: options.engineUp,
      activeJobs: options.deploys ? () => options.deploys!.counts() : undefined,
      chaosRunning: options.chaos ? () => options.chaos!.running : undefined,
      sseClients: () => this.streams.size,
    });
    this.api = new NativeApi({ registry: this.registry, deploys: options.deploys, chaos: options.chaos, bus: options.bus, watch: options.watch, metrics: this.metrics, sse: options.sse, streams: this.streams, engine: options.engine });
    this.lists = new ListCache(options.listCacheMs);
    this.cachedRegistry = this.lists.registry(this.registry);
    // /healthz is open: it answers from a result at most healthCacheMs old, and concurrent callers share one check.
    this.health = options.health ? singleFlight(options.health, options.healthCacheMs ?? 2000) : undefined;
  }

  /**
   * The error boundary: everything a request does — parsing its target included — runs inside
   * one try, and whatever escapes it (a bug) is answered 500 and logged, never left unhandled.
   */
  handlerFor(transport: Transport): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      let url: URL;
      try {
        url = parseTarget(req.url);
      } catch {
        this.log('warn', 'malformed request target', { client: req.socket.remoteAddress ?? 'unix', target: JSON.stringify((req.url ?? '').slice(0, 80)) });
        drain(req);
        return send(res, 400, { error: { code: 400, message: 'malformed request target' } }, { connection: 'close' });
      }
      this.handle(req, res, url, transport).catch((err: unknown) => {
        this.log('error', 'request handler failed', { path: url.pathname.slice(0, 200), method: String(req.method).slice(0, 10), error: (err as Error)?.stack ?? String(err) });
        try {
          if (!res.headersSent) send(res, 500, { error: { code: 500, message: 'internal error; see the daemon log' } }, { connection: 'close' });
          else res.destroy();
        } catch {
          res.destroy();
        }
      });
    };
  }

  close(): void {
    // Event streams never end on their own: end them, or close() would wait for them forever.
    for (const r of this.streams) r.end();
    this.metrics.close();
  }

  /** The credential a request's head carries (no body read), if any. */
  private credentialOf(req: IncomingMessage, transport: Transport): Credential | undefined {
    if (transport === 'unix') return 'socket';
    if (this.options.tls?.clientCa && (req.socket as TLSSocket).authorized === true) return 'certificate';
    if (tokenMatches(bearerOf(req.headers.authorization), this.options.token)) return 'token';
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, url: URL, transport: Transport): Promise<void> {
    const x = this.exchange(req, res, url);
    try {
      if (url.pathname === '/healthz') {
        if (req.method !== 'GET') return send(res, 405, { error: { code: 405, message: 'only GET supported against this resource' } });
        return send(res, 200, { status: 'ok', version: VERSION, ...(this.health ? await this.health() : {}) });
      }
      const credential = this.credentialOf(req, transport);
      if (url.pathname === '/dashboard' || url.pathname.startsWith('/dashboard/')) return await this.dashboard(x, credential);
      const auth = await this.authenticate(x, credential);
      if (!auth) return;
      let body = auth.body;
      if (!auth.bodyRead && (x.method === 'PUT' || x.method === 'POST' || x.method === 'PATCH' || x.method === 'DELETE')) body = await readBody(req, { max: this.max, timeoutMs: this.limits.requestTimeoutMs });
      return await this.route(x, auth.credential, body);
    } catch (err) {
      return this.answerError(x, err);
    }
  }

  /** The request's exchange, its duration and status observed for /metrics when the answer is done. */
  private exchange(req: IncomingMessage, res: ServerResponse, url: URL): Exchange {
    const client = req.socket.remoteAddress ?? 'unix';
    const method = req.method ?? 'GET';
    const native = this.api.owns(url.pathname);
    const isFleet = url.pathname.startsWith('/fleet/v1') || url.pathname.startsWith('/v1-alpha') || url.pathname === '/';
    const route = url.pathname === '/healthz' ? '/healthz' : url.pathname.startsWith('/dashboard') ? '/dashboard' : isFleet ? '/fleet/v1/*' : (this.api.label(url.pathname) ?? (url.pathname.startsWith('/v1/units/') ? '/v1/units/:name/*' : 'unmatched'));
    const started = process.hrtime.bigint();
    let observed = false;
    const observe = () => {
      if (observed) return;
      observed = true;
      this.metrics.observeRequest(method, route, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
    };
    res.once('finish', observe);
    res.once('close', observe);
    if (method !== 'GET' && method !== 'HEAD') this.lists.invalidateAfter(res);
    return {
      req,
      res,
      url,
      client,
      method,
      native,
      isFleet,
      fail: (status, code, message, hint, headers = {}) =>
        native ? send(res, status, { error: { code, message, ...(hint ? { hint } : {}) } }, headers) : send(res, status, { error: { code: status, message } }, headers),
      penalize: async (reason) => {
        this.log('warn', 'authentication failed', { client, path: url.pathname.slice(0, 200), reason });
        this.metrics.authFailed(reason);
        drain(req);
        const wait = this.throttle.fail(client);
        if (wait === 'refuse') return false;
        await this.throttle.hold(wait);
        return true;
      },
    };
  }

  private tooMany(x: Exchange): void {
    return x.fail(429, 'TOO_MANY_REQUESTS', 'too many failed authentication attempts in progress; try again later', undefined, { 'retry-after': '5', connection: 'close' });
  }

  private async dashboard(x: Exchange, credential: Credential | undefined): Promise<void> {
    const { req, res } = x;
    await handleDashboard(req, res, x.url, {
      sessions: this.sessions,
      authorized: credential !== undefined || this.sessions.authorizes(req),
      secure: Boolean(this.options.tls),
      checkToken: async (presented) => {
        if (tokenMatches(presented, this.options.token)) return true;
        if (!(await x.penalize('token'))) res.destroy(); // too many held: no answer at all
        return false;
      },
      readBody: async () => (await readBody(req, { max: this.limits.loginBodyBytes, budget: this.unauthenticated, timeoutMs: this.limits.unauthenticatedBodyMs }))?.toString('utf8'),
    });
  }

  /** The request's credential, or undefined once a refusal has been answered. */
  private async authenticate(x: Exchange, headCredential: Credential | undefined): Promise<Authenticated | undefined> {
    const { req, res, url, method, native } = x;
    const options = this.options;
    let credential = headCredential;
    let body: Buffer | undefined;
    let bodyRead = false;
    // A dashboard session authorises read-only requests.
    if (credential === undefined && this.sessions.authorizes(req)) credential = 'session';
    if (credential !== undefined) return { credential, body, bodyRead };
    // The deploy hook also accepts GitHub's HMAC signature of the body (or, for senders that
    // cannot sign or set headers, the webhook secret as ?token=); its body is read under the
    // hook's small limit and the unauthenticated budget before the signature is checked.
    const kibokoSigned = req.headers['x-kiboko-signature-256'] !== undefined;
    const signature = kibokoSigned ? req.headers['x-kiboko-signature-256'] : req.headers['x-hub-signature-256'];
    const hookToken = url.searchParams.get('token');
    let stale = false;
    if (url.pathname === '/hooks/deploy' && method === 'POST' && options.webhookSecret && (signature !== undefined || hookToken !== null)) {
      if (signature !== undefined) {
        body = await readBody(req, { max: this.limits.hookBodyBytes, budget: this.unauthenticated, timeoutMs: this.limits.unauthenticatedBodyMs });
        bodyRead = true;
        if (kibokoSigned) {
          const verdict = kibokoSignatureCheck(body ?? Buffer.alloc(0), req.headers, options.webhookSecret);
          if (verdict === 'ok') credential = 'kiboko-signature';
          stale = verdict === 'stale';
        } else if (hubSignatureMatches(body ?? Buffer.alloc(0), signature, options.webhookSecret)) credential = 'signature';
      } else if (tokenMatches(hookToken ?? undefined, options.webhookSecret)) credential = 'hook-token';
    }
    if (credential !== undefined) return { credential, body, bodyRead };
    const reason = signature !== undefined ? 'signature' : 'token';
    if (!(await x.penalize(reason))) return void this.tooMany(x);
    if (native) {
      const hint = stale
        ? 'X-Kiboko-Timestamp must be within 5 minutes of the daemon’s clock: sign each delivery when it is sent (and check both clocks)'
        : url.pathname === '/hooks/deploy'
          ? 'send Authorization: Bearer <token>, X-Kiboko-Signature-256 with X-Kiboko-Timestamp and X-Kiboko-Delivery, or X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body with the webhook secret>'
          : 'send Authorization: Bearer <the token in <state-dir>/serve.token>';
      return void x.fail(401, 'UNAUTHENTICATED', stale ? 'stale signature: the signed timestamp is outside the 5-minute window' : reason === 'signature' ? 'invalid signature' : 'missing or invalid bearer token', hint, { 'www-authenticate': 'Bearer realm="kiboko"' });
    }
    return void send(res, 401, { error: { code: 401, message: 'missing or invalid bearer token' } }, { 'www-authenticate': 'Bearer realm="kiboko"' });
  }

  /** An authenticated request to its API: toxiproxy's, the units' extras, fleet's, or kiboko's native one. */
  private async route(x: Exchange, credential: Credential, body: Buffer | undefined): Promise<void> {
    const { req, res, url, method, client } = x;
    const options = this.options;
    // --- toxiproxy API (issue 15): mounted under /toxiproxy/, after authentication ---
    if (options.toxiproxy && url.pathname.startsWith('/toxiproxy/')) return await options.toxiproxy(req, res, url.pathname.slice('/toxiproxy'.length), body);
    // --- end toxiproxy API ---
    const unitRoute = await handleUnitRoutes(req.method ?? 'GET', url, options);
    if (unitRoute) return send(res, unitRoute.status, unitRoute.body);
    if (x.isFleet) {
      if (this.lists.covers(method, url.pathname)) return await this.lists.serve(res, `${url.pathname}${url.search}`, () => handleFleet({ method, path: url.pathname, query: url.searchParams }, this.cachedRegistry));
      const r = await handleFleet({ method, path: url.pathname, query: url.searchParams, contentType: req.headers['content-type'], body: body?.toString('utf8') }, this.registry);
      return send(res, r.status, r.body, r.headers);
    }
    if (x.native) {
      const found = this.api.resolve(method, url.pathname);
      if (!found) return x.fail(404, 'NOT_FOUND', `no route ${url.pathname.slice(0, 100)}`, 'see the Daemon API section of the README');
      if ('allowed' in found) return x.fail(405, 'METHOD_NOT_ALLOWED', `${method.slice(0, 10)} is not supported on ${found.pattern}`, `use ${found.allowed.join(' or ')}`, { allow: found.allowed.join(', ') });
      const reply = await found.route.handler({ req, res, url, params: found.params, body, credential, client });
      if (reply === 'streamed') return;
      if (typeof reply.body === 'string') {
        res.writeHead(reply.status, { server: `kiboko/${VERSION}`, ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
        return void res.end(reply.body);
      }
      return send(res, reply.status, reply.body, reply.headers);
    }
    return send(res, 404, { error: { code: 404, message: 'not found' } });
  }

  /** A failed request in its API's error shape; nothing leaks a 5xx detail. */
  private answerError(x: Exchange, err: unknown): void {
    const { res, url } = x;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const status = (err as { status?: number }).status;
    if (status === 413 || status === 411 || status === 408 || (status === 503 && (err as { code?: string }).code === 'BUSY')) {
      const h = toHttpError(err);
      return x.fail(h.status, h.body.error.code, h.body.error.message, h.body.error.hint, h.headers);
    }
    if (x.native) {
      const h = toHttpError(err);
      this.log(h.status >= 500 ? 'error' : 'warn', 'request failed', { path: url.pathname.slice(0, 200), status: h.status, error: (err as Error).message });
      return send(res, h.status, h.body, h.headers);
    }
    const e = err as { code?: string; message?: string; hint?: string };
    const mapped = e.code === 'TARGET_NOT_FOUND' ? 404 : e.code === 'INVALID_ARGUMENT' ? 400 : e.code === 'CONFLICT' ? 409 : e.code === 'ENGINE_UNREACHABLE' ? 503 : 500;
    this.log(mapped >= 500 ? 'error' : 'warn', 'request failed', { path: url.pathname.slice(0, 200), error: e.message });
    const r = fleetError(mapped, mapped >= 500 && mapped !== 503 ? 'internal error; see the daemon log' : `${e.message ?? 'error'}${e.hint ? ` — ${e.hint}` : ''}`);
    return send(res, r.status, r.body);
  }
}
