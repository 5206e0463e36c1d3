import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import * as z from 'zod/mini';
import { boundedRequest } from '../common/bounded-request.js';
import { KibokoError, type ErrorCode } from '../common/errors.js';
import type { DesiredState, FleetUnit, Machine, UnitOption, UnitStateRecord } from './api.js';

/**
 * A typed client of the daemon's fleet v1 API (and of its few kiboko additions: a unit's
 * container and journal), over TCP, TLS or a unix socket — what `kiboko units` and scripts use.
 * Every failure is a KibokoError carrying the server's own message, its HTTP status and a hint.
 */

export type Endpoint =
  | { kind: 'unix'; socketPath: string; url: string }
  | { kind: 'http' | 'https'; host: string; port: number; basePath: string; url: string };

const ENDPOINT_HINT = 'use http://HOST:PORT, https://HOST:PORT or unix:///path/to/kiboko.sock (--endpoint or KIBOKO_ENDPOINT)';

/** `http://host:port[/prefix]`, `https://…` or `unix:///abs/path.sock`. */
export function parseEndpoint(text: string): Endpoint {
  const bad = (why: string) => new KibokoError('INVALID_ARGUMENT', `invalid endpoint '${text}': ${why}`, { hint: ENDPOINT_HINT });
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw bad('expected a URL such as http://127.0.0.1:8555 or unix:///run/kiboko.sock');
  }
  if (u.protocol === 'unix:' || u.protocol === 'file:') {
    // `unix://run/x.sock` parses as host "run": the user missed the third slash (fleetctl's check).
    if (u.host) throw bad(`expected an absolute socket path after unix://, got host '${u.host}' (write unix:///${u.host}${u.pathname})`);
    const socketPath = decodeURIComponent(u.pathname);
    if (!socketPath.startsWith('/') || socketPath === '/') throw bad('expected an absolute socket path, e.g. unix:///run/kiboko.sock');
    return { kind: 'unix', socketPath, url: `unix://${socketPath}` };
  }
  if (u.protocol === 'http:' || u.protocol === 'https:') {
    if (!u.hostname) throw bad('expected a host');
    if (u.search || u.hash) throw bad('expected no query or fragment');
    const kind = u.protocol === 'https:' ? 'https' : 'http';
    const port = u.port ? Number(u.port) : kind === 'https' ? 443 : 80;
    const basePath = u.pathname.replace(/\/+$/, '');
    return { kind, host: u.hostname.replace(/^\[|\]$/g, ''), port, basePath, url: `${kind}://${u.host}${basePath}` };
  }
  throw bad(`expected the scheme http, https or unix, got '${u.protocol.replace(/:$/, '')}'`);
}

export interface UnitsClientOptions {
  endpoint: string | Endpoint;
  /** The daemon's bearer token (its serve.token). */
  token?: string | undefined;
  /** CA certificate(s) (PEM) to trust for an https endpoint with a private certificate. */
  ca?: string | Buffer | undefined;
  /** Per-request time limit (default 30 s). */
  timeoutMs?: number | undefined;
  /** Cancels every request of this client. */
  signal?: AbortSignal | undefined;
}

/** The container that runs a unit, as the daemon sees it (`GET /v1/units/NAME/container`). */
export interface UnitContainerInfo {
  unit: string;
  desiredState: DesiredState;
  currentState: DesiredState;
  /** The daemon's last error reaching the desired state (e.g. the engine refused the start). */
  error?: string | undefined;
  container?:
    | {
        id: string;
        name: string;
        image: string;
        status: string;
        startedAt: string;
        finishedAt: string;
        exitCode: number;
        restartCount: number;
        health: string;
      }
    | undefined;
}

export interface JournalOptions {
  /** The last N lines (default: all). */
  lines?: number | undefined;
  /** Only lines after this Unix time (seconds, fractions allowed). */
  since?: number | undefined;
  /** Prefix each line with the engine's RFC 3339 timestamp. */
  timestamps?: boolean | undefined;
}

export interface JournalResult {
  unit: string;
  container: { id: string; name: string; status: string };
  lines: string[];
}

// Response shapes, checked so that pointing the client at something else fails clearly. fleet
// itself omits empty fields (Go's omitempty: an empty page has no `units`, a machine without
// metadata no `metadata`), so those default to empty.
const str = z._default(z.string(), '');
const option = z.object({ section: z.string(), name: z.string(), value: str });
const state = z.enum(['inactive', 'loaded', 'launched']);
const unit = z.object({ name: z.string(), options: z._default(z.array(option), []), desiredState: state, currentState: z.optional(state), machineID: z.optional(z.string()) });
const unitPage = z.object({ units: z._default(z.array(unit), []), nextPageToken: z.optional(z.string()) });
const unitState = z.object({ name: z.string(), hash: str, machineID: str, systemdLoadState: str, systemdActiveState: str, systemdSubState: str });
const statePage = z.object({ states: z._default(z.array(unitState), []), nextPageToken: z.optional(z.string()) });
const machine = z.object({ id: z.string(), primaryIP: str, metadata: z._default(z.record(z.string(), z.string()), {}) });
const machinePage = z.object({ machines: z._default(z.array(machine), []), nextPageToken: z.optional(z.string()) });
const journal = z.object({ unit: z.string(), container: z.object({ id: z.string(), name: z.string(), status: z.string() }), lines: z.array(z.string()) });
const containerInfo = z.object({
  unit: z.string(),
  desiredState: state,
  currentState: state,
  error: z.optional(z.string()),
  container: z.optional(
    z.object({
      id: z.string(),
      name: z.string(),
      image: z.string(),
      status: z.string(),
      startedAt: z.string(),
      finishedAt: z.string(),
      exitCode: z.number(),
      restartCount: z.number(),
      health: z.string(),
    }),
  ),
});

/** Most pages a list follows before it calls the server's tokens a loop. */
const MAX_PAGES = 10_000;
const MAX_BODY = 64 * 1024 * 1024;

interface Reply {
  status: number;
  body: unknown;
}

export class UnitsClient {
  readonly endpoint: Endpoint;
  private readonly token: string | undefined;
  private readonly ca: string | Buffer | undefined;
  private readonly timeoutMs: number;
  private readonly signal: AbortSignal | undefined;

  constructor(options: UnitsClientOptions) {
    this.endpoint = typeof options.endpoint === 'string' ? parseEndpoint(options.endpoint) : options.endpoint;
    this.token = options.token;
    this.ca = options.ca;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.signal = options.signal;
  }

  /** One page of units (fleet's 100 per page); pass the previous page's token for the next. */
  async listUnitsPage(pageToken?: string): Promise<{ units: FleetUnit[]; nextPageToken?: string | undefined }> {
    const r = await this.call('GET', '/fleet/v1/units', { query: pageToken ? { nextPageToken: pageToken } : {} });
    return this.shape(unitPage, r.body, 'a fleet UnitPage', 'GET /fleet/v1/units');
  }

  /** Every unit, following `nextPageToken` to the last page. */
  async listUnits(): Promise<FleetUnit[]> {
    return this.all((token) => this.listUnitsPage(token), (p) => p.units, '/fleet/v1/units');
  }

  /** The unit, or undefined when the daemon has none by that name. */
  async getUnit(name: string): Promise<FleetUnit | undefined> {
    const r = await this.call('GET', `/fleet/v1/units/${encodeURIComponent(name)}`, { allow404: true });
    return r.status === 404 ? undefined : this.shape(unit, r.body, 'a fleet Unit', `GET /fleet/v1/units/${name}`);
  }

  /**
   * Creates the unit (fleet: 201), or — when one with the same contents exists — sets its desired
   * state (204). A unit with different contents is replaced (201).
   */
  async createUnit(u: { name: string; options: readonly UnitOption[]; desiredState: DesiredState }): Promise<'created' | 'state-changed'> {
    const r = await this.call('PUT', `/fleet/v1/units/${encodeURIComponent(u.name)}`, { body: { name: u.name, options: u.options, desiredState: u.desiredState } });
    return r.status === 201 ? 'created' : 'state-changed';
  }

  /** fleet's desired-state change (`fleetctl load/start/stop/unload`). */
  async setDesiredState(name: string, desiredState: DesiredState): Promise<void> {
    await this.call('PUT', `/fleet/v1/units/${encodeURIComponent(name)}`, { body: { desiredState } });
  }

  /** Removes the unit (and its container); false when there was none. */
  async deleteUnit(name: string): Promise<boolean> {
    const r = await this.call('DELETE', `/fleet/v1/units/${encodeURIComponent(name)}`, { allow404: true });
    return r.status !== 404;
  }

  /** The systemd-style states of units placed on a machine (`fleetctl list-units`). */
  async listStates(filter: { machineID?: string | undefined; unitName?: string | undefined } = {}): Promise<UnitStateRecord[]> {
    const query: Record<string, string> = {};
    if (filter.machineID) query.machineID = filter.machineID;
    if (filter.unitName) query.unitName = filter.unitName;
    return this.all(
      async (token) => this.shape(statePage, (await this.call('GET', '/fleet/v1/state', { query: { ...query, ...(token ? { nextPageToken: token } : {}) } })).body, 'a fleet UnitStatePage', 'GET /fleet/v1/state'),
      (p) => p.states,
      '/fleet/v1/state',
    );
  }

  async listMachines(): Promise<Machine[]> {
    return this.all(
      async (token) => this.shape(machinePage, (await this.call('GET', '/fleet/v1/machines', { query: token ? { nextPageToken: token } : {} })).body, 'a fleet MachinePage', 'GET /fleet/v1/machines'),
      (p) => p.machines,
      '/fleet/v1/machines',
    );
  }

  /** The unit's container logs (stdout and stderr), the last `lines` of them. */
  async journal(name: string, options: JournalOptions = {}): Promise<JournalResult> {
    const query: Record<string, string> = {};
    if (options.lines !== undefined) query.lines = String(options.lines);
    if (options.since !== undefined) query.since = String(options.since);
    if (options.timestamps) query.timestamps = '1';
    const path = `/v1/units/${encodeURIComponent(name)}/journal`;
    return this.shape(journal, (await this.call('GET', path, { query })).body, 'a unit journal', `GET ${path}`);
  }

  /** The unit's states and its container, as the daemon's engine reports it. */
  async container(name: string): Promise<UnitContainerInfo> {
    const path = `/v1/units/${encodeURIComponent(name)}/container`;
    return this.shape(containerInfo, (await this.call('GET', path)).body, 'a unit container record', `GET ${path}`);
  }

  /** `/healthz` (no token needed): the daemon's version and engine status. */
  async health(): Promise<Record<string, unknown>> {
    const r = await this.call('GET', '/healthz');
    return (r.body && typeof r.body === 'object' ? r.body : {}) as Record<string, unknown>;
  }

  private async all<P extends { nextPageToken?: string | undefined }, T>(fetchPage: (token?: string) => Promise<P>, items: (p: P) => T[], what: string): Promise<T[]> {
    const out: T[] = [];
    const seen = new Set<string>();
    let token: string | undefined;
    for (let n = 0; n < MAX_PAGES; n++) {
      const p = await fetchPage(token);
      out.push(...items(p));
      if (!p.nextPageToken) return out;
      if (seen.has(p.nextPageToken)) break;
      seen.add(p.nextPageToken);
      token = p.nextPageToken;
    }
    throw new KibokoError('ENGINE_ERROR', `listing ${what} at ${this.endpoint.url}: the page tokens do not end`, { hint: 'the server repeats nextPageToken; check that the endpoint is a fleet v1 API' });
  }

  private shape<T>(schema: z.ZodMiniType<T>, body: unknown, what: string, request: string): T {
    const r = schema.safeParse(body);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    const got = body === undefined ? 'an empty body' : JSON.stringify(body).slice(0, 120);
    throw new KibokoError('ENGINE_ERROR', `${request} at ${this.endpoint.url}: expected ${what}, got ${got}${issue ? ` (${issue.path.join('.') || 'body'}: ${issue.message})` : ''}`, {
      hint: 'is the endpoint a kiboko serve (or fleet) API? check --endpoint / KIBOKO_ENDPOINT',
    });
  }

  /** One request: JSON in and out; statuses ≥ 400 become KibokoErrors (404 may be allowed). */
  private call(method: string, path: string, o: { query?: Record<string, string>; body?: unknown; allow404?: boolean } = {}): Promise<Reply> {
    const ep = this.endpoint;
    const qs = new URLSearchParams(o.query ?? {}).toString();
    const fullPath = `${ep.kind === 'unix' ? '' : ep.basePath}${path}${qs ? `?${qs}` : ''}`;
    const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    const headers: Record<string, string | number> = { accept: 'application/json', host: ep.kind === 'unix' ? 'kiboko' : `${ep.host}:${ep.port}` };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': payload.length });
    const options: RequestOptions & { ca?: string | Buffer } =
      ep.kind === 'unix' ? { socketPath: ep.socketPath, path: fullPath, method, headers } : { host: ep.host, port: ep.port, path: fullPath, method, headers, ...(this.ca ? { ca: this.ca } : {}) };
    const what = `${method} ${path}`;
    const replied = boundedRequest((onResponse) => (ep.kind === 'https' ? httpsRequest : httpRequest)(options, onResponse), { maxBytes: MAX_BODY, timeoutMs: this.timeoutMs, signal: this.signal, body: payload }, {
      tooBig: () => new KibokoError('ENGINE_ERROR', `${what} at ${ep.url}: the response exceeds ${MAX_BODY / 1024 / 1024} MiB`),
      timedOut: () => new KibokoError('TIMEOUT', `${what} at ${ep.url} timed out after ${this.timeoutMs / 1000} s`, { hint: 'raise --request-timeout, or check the daemon with `kiboko units status`' }),
      aborted: () => new KibokoError('CANCELLED', `${what}: cancelled`),
      failed: (err) => this.unreachable(what, err),
    });
    return replied.then(({ status, body: bytes }) => {
      const text = bytes.toString('utf8');
      let body: unknown;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      if (status >= 400 && !(status === 404 && o.allow404)) throw httpError(status, body, what, ep.url);
      return { status, body };
    });
  }

  private unreachable(what: string, err: Error): KibokoError {
    const code = (err as NodeJS.ErrnoException).code;
    const ep = this.endpoint;
    let hint = 'is `kiboko serve` running there? point --endpoint / KIBOKO_ENDPOINT at it';
    if (ep.kind === 'unix' && code === 'ENOENT') hint = `no socket at ${ep.socketPath}: start the daemon with \`kiboko serve\` (it listens on <state-dir>/kiboko.sock), or set --endpoint / KIBOKO_ENDPOINT`;
    else if (code === 'EACCES') hint = `permission denied on ${ep.kind === 'unix' ? ep.socketPath : ep.url}: run as the daemon's user or give access to the socket`;
    else if (/certificate|self.signed|CERT_/i.test(`${code} ${err.message}`)) hint = 'the server certificate is not trusted: pass its CA with --ca-file';
    return new KibokoError('ENGINE_UNREACHABLE', `cannot reach the kiboko daemon at ${ep.url} (${what}): ${err.message}`, { hint, cause: err, details: { endpoint: ep.url } });
  }
}

const DEFAULT_HINTS: Record<number, string> = {
  401: 'pass the daemon token: --token-file FILE, KIBOKO_TOKEN, or <state-dir>/serve.token of the daemon',
  404: 'list what exists with `kiboko units list-unit-files`',
  409: 'see `kiboko units list-unit-files` for the unit and its state',
  429: 'too many failed logins from this client: wait a minute, then retry with the right token',
};

/** fleet's `{"error":{"code","message"}}` (kiboko appends ` — hint` to the message) → KibokoError. */
export function httpError(status: number, body: unknown, what: string, url: string): KibokoError {
  // fleet: {"error":{"code":404,"message":"…"}}; kiboko's native API: {"error":{"code":"TARGET_NOT_FOUND","message","hint"}}.
  const e = (body as { error?: { code?: unknown; message?: unknown; hint?: unknown } } | undefined)?.error;
  const raw = typeof e?.message === 'string' && e.message ? e.message : typeof body === 'string' && body.trim() ? body.trim().slice(0, 300) : '';
  const at = raw.indexOf(' — ');
  const message = at < 0 ? raw : raw.slice(0, at);
  const serverHint = typeof e?.hint === 'string' && e.hint ? e.hint : at < 0 ? undefined : raw.slice(at + 3);
  const code: ErrorCode =
    status === 404 ? 'TARGET_NOT_FOUND'
    : status === 409 ? 'CONFLICT'
    : status === 429 ? 'ACTION_FAILED'
    : status === 503 ? 'ENGINE_UNREACHABLE'
    : status >= 500 ? 'ENGINE_ERROR'
    : 'INVALID_ARGUMENT';
  const text = message || (status >= 500 ? `the daemon failed (HTTP ${status}; details are in its log)` : `HTTP ${status}`);
  return new KibokoError(code, `${what}: ${text}`, {
    hint: serverHint ?? DEFAULT_HINTS[status] ?? (status >= 500 ? 'see the daemon log (stderr of `kiboko serve`)' : undefined),
    details: { status, endpoint: url, request: what, ...(typeof e?.code === 'string' ? { serverCode: e.code } : {}) },
  });
}
