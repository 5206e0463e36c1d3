import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../common/clock.js';
import { KibokoError } from '../common/errors.js';
import { parseChallenge, nextLink, retryAfterMs, type Challenge } from './challenge.js';
import { describeCredentials, findCredentials, type CredentialOptions, type RegistryCredentials } from './credentials.js';
import { apiHost, formatReference, isLoopbackHost, parseReference, type ImageReference } from './reference.js';
import { Agents, send, tlsFilesFor, TLS_ERROR, TransportError, type RawResponse } from './transport.js';

export const MANIFEST_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerV2: 'application/vnd.docker.distribution.manifest.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
} as const;
const ACCEPT = Object.values(MANIFEST_TYPES).join(', ');

export interface Platform {
  os: string;
  architecture: string;
  variant?: string | undefined;
}

/** Where the client finds the CAs it trusts, and which registries may be spoken to without TLS. */
export interface RegistryTlsOptions {
  /** Further CA files trusted for every registry (`--registry-ca`), besides /etc/docker/certs.d/<host>/*.crt. */
  caFiles?: readonly string[] | undefined;
  certsDir?: string | undefined;
  /** Registries that may be spoken to over plain HTTP when they do not speak TLS (loopback always may). */
  insecureRegistries?: readonly string[] | undefined;
}

/** How long a request may take, and how a failed one is retried. */
export interface RegistryRetryOptions {
  /** Per request, from connecting to the last byte (default 15 s). */
  timeoutMs?: number | undefined;
  /** Retries after the first attempt on 5xx, timeouts and resets (default 3). */
  retries?: number | undefined;
  /** First backoff step; doubles per retry, with full jitter (default 250 ms, at most 8 s). */
  backoffMs?: number | undefined;
  /** A 429 whose Retry-After asks for longer than this fails as rate limited instead of waiting (default 60 s). */
  maxRetryAfterMs?: number | undefined;
}

export interface RegistryClientOptions extends RegistryTlsOptions, RegistryRetryOptions {
  credentials?: CredentialOptions | undefined;
  /** The platform whose image counts in a multi-arch index (default linux/amd64). */
  platform?: Platform | undefined;
  clock?: Clock | undefined;
  random?: (() => number) | undefined;
  userAgent?: string | undefined;
}

/** Counts of one client's work, for reports and the bench. */
export interface RegistryStats {
  /** HTTP requests sent (attempts, token requests included). */
  requests: number;
  /** Attempts that failed (5xx, 429, timeouts, resets) — retried or not. */
  failed: number;
  retries: number;
  /** Tokens fetched from a token service. */
  tokens: number;
}

/** One manifest (or index) as the registry names it. */
export interface ManifestInfo {
  digest: string;
  mediaType: string;
}

interface HostAuth {
  challenge: Challenge;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

const MANIFEST_MAX = 4 * 1024 * 1024;
const TAGS_MAX = 16 * 1024 * 1024;
const RETRIABLE_STATUS = new Set([500, 502, 503, 504]);
const RETRIABLE_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);

/**
 * A small typed client of the Docker Registry HTTP API v2 / OCI distribution spec: tags
 * (paginated), manifest digests by HEAD (indexes included), image config (created time), with
 * the token flow (Bearer realm/service/scope, tokens reused per repository scope) and Basic auth,
 * credentials from the Docker config and its helpers, private CAs, plain HTTP for loopback, and
 * retries with backoff and jitter. Every failure is one KibokoError naming its cause.
 */
export class RegistryClient {
  readonly stats: RegistryStats = { requests: 0, failed: 0, retries: 0, tokens: 0 };
  private readonly agents: Agents;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly retry: Required<RegistryRetryOptions>;
  private readonly insecure: Set<string>;
  private readonly scheme = new Map<string, 'https:' | 'http:'>();
  private readonly hostAuth = new Map<string, HostAuth>();
  private readonly tokens = new Map<string, Promise<CachedToken>>();
  private readonly creds = new Map<string, Promise<RegistryCredentials | undefined>>();
  private readonly tls: (host: string) => { caFiles: string[] };
  readonly platform: Platform;

  constructor(private readonly options: RegistryClientOptions = {}) {
    const certsDir = options.certsDir ?? '/etc/docker/certs.d';
    this.tls = (host) => tlsFilesFor(host, certsDir, options.caFiles ?? []);
    this.agents = new Agents(this.tls);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.retry = { timeoutMs: options.timeoutMs ?? 15_000, retries: options.retries ?? 3, backoffMs: options.backoffMs ?? 250, maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000 };
    this.insecure = new Set(options.insecureRegistries ?? []);
    this.platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
  }

  close(): void {
    this.agents.close();
  }

  /** The credentials used for a registry (looked up once per client). */
  credentialsFor(registry: string): Promise<RegistryCredentials | undefined> {
    let c = this.creds.get(registry);
    if (!c) {
      c = findCredentials(registry, this.options.credentials ?? {});
      this.creds.set(registry, c);
    }
    return c;
  }

  /** All tags of a repository, following `Link: rel="next"` pages. */
  async listTags(image: string | ImageReference, signal?: AbortSignal): Promise<string[]> {
    const ref = typeof image === 'string' ? parseReference(image) : image;
    const tags: string[] = [];
    let path: string | undefined = `/v2/${ref.repository}/tags/list?n=1000`;
    for (let page = 0; path && page < 1000; page++) {
      const res = await this.request(ref, 'GET', path, {}, TAGS_MAX, signal);
      if (res.status === 404) throw notFound(ref, 'repository', res);
      if (res.status !== 200) throw unexpected(ref, `GET ${path}`, res);
      const body = parseJson(res.body, ref, 'tag list') as { tags?: unknown };
      if (body.tags !== null && body.tags !== undefined && !Array.isArray(body.tags)) throw new KibokoError('ACTION_FAILED', `registry ${ref.registry} answered a tag list without a tags array for ${ref.repository}`);
      for (const t of (body.tags as unknown[] | null | undefined) ?? []) if (typeof t === 'string') tags.push(t);
      const next = nextLink(res.headers.link);
      path = next ? (next.startsWith('/') ? next : new URL(next).pathname + new URL(next).search) : undefined;
    }
    return tags;
  }

  /**
   * The digest a tag names now (of the index for a multi-arch image, as the engine records it
   * in RepoDigests), by HEAD with every manifest type accepted; a GET when HEAD gives no digest.
   */
  async resolve(image: string | ImageReference, tag?: string, signal?: AbortSignal): Promise<ManifestInfo> {
    const ref = typeof image === 'string' ? parseReference(image) : image;
    const reference = tag ?? ref.digest ?? ref.tag;
    const path = `/v2/${ref.repository}/manifests/${reference}`;
    const head = await this.request(ref, 'HEAD', path, { accept: ACCEPT }, 0, signal);
    if (head.status === 404) throw notFound({ ...ref, tag: reference }, 'tag', head);
    if (head.status !== 200) throw unexpected(ref, `HEAD ${path}`, head);
    const digest = header(head.headers['docker-content-digest']);
    const mediaType = header(head.headers['content-type'])?.split(';')[0] ?? '';
    if (digest) return { digest, mediaType };
    const got = await this.getManifest(ref, reference, signal);
    return { digest: got.digest, mediaType: got.mediaType };
  }

  /** A manifest or index, parsed, with the digest of its exact bytes. */
  async getManifest(ref: ImageReference, reference: string, signal?: AbortSignal): Promise<ManifestInfo & { body: Record<string, unknown> }> {
    const path = `/v2/${ref.repository}/manifests/${reference}`;
    const res = await this.request(ref, 'GET', path, { accept: ACCEPT }, MANIFEST_MAX, signal);
    if (res.status === 404) throw notFound({ ...ref, tag: reference }, 'tag', res);
    if (res.status !== 200) throw unexpected(ref, `GET ${path}`, res);
    const digest = `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
    const body = parseJson(res.body, ref, 'manifest') as Record<string, unknown>;
    const mediaType = header(res.headers['content-type'])?.split(';')[0] || String(body.mediaType ?? '');
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new KibokoError('ACTION_FAILED', `registry ${ref.registry} served a manifest for ${ref.repository}@${reference} whose bytes hash to ${digest}`, { hint: 'the registry (or a proxy in between) altered the manifest; do not trust it' });
    }
    return { digest, mediaType, body };
  }

  /**
   * When an image was built (its config's `created`), for minimum-age checks: for an index, the
   * image of this client's platform (else the first one).
   */
  async created(image: string | ImageReference, reference: string, signal?: AbortSignal): Promise<Date | undefined> {
    const ref = typeof image === 'string' ? parseReference(image) : image;
    let m = await this.getManifest(ref, reference, signal);
    const list = m.body.manifests;
    if (Array.isArray(list)) {
      const entries = list as { digest?: string; platform?: Partial<Platform> }[];
      const p = this.platform;
      const pick =
        entries.find((e) => e.platform?.os === p.os && e.platform?.architecture === p.architecture && (!p.variant || e.platform?.variant === p.variant)) ??
        entries.find((e) => e.platform?.os !== 'unknown') ??
        entries[0];
      if (!pick?.digest) return undefined;
      m = await this.getManifest(ref, pick.digest, signal);
    }
    const config = m.body.config as { digest?: unknown } | undefined;
    if (typeof config?.digest !== 'string') return undefined;
    const path = `/v2/${ref.repository}/blobs/${config.digest}`;
    const res = await this.request(ref, 'GET', path, {}, MANIFEST_MAX, signal);
    if (res.status === 404) throw notFound(ref, 'blob', res);
    if (res.status !== 200) throw unexpected(ref, `GET ${path}`, res);
    const created = (parseJson(res.body, ref, 'image config') as { created?: unknown }).created;
    if (typeof created !== 'string') return undefined;
    const d = new Date(created);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }

  /** One registry request with auth, scheme fallback, redirects and retries. */
  private async request(ref: ImageReference, method: 'GET' | 'HEAD', path: string, headers: Record<string, string>, maxBytes: number, signal?: AbortSignal): Promise<RawResponse> {
    const host = apiHost(ref.registry);
    const scope = `repository:${ref.repository}:pull`;
    let authTried = false;
    for (let redirects = 0; ; ) {
      const auth = await this.authorization(ref, host, scope, signal);
      const res = await this.exchange(host, method, path, { ...headers, ...(auth ? { authorization: auth } : {}) }, maxBytes, ref, signal);
      if (res.status === 401) {
        const challenge = parseChallenge(res.headers['www-authenticate']);
        if (!challenge || authTried) throw await this.unauthorized(ref, res, challenge);
        authTried = true;
        this.hostAuth.set(host, { challenge });
        // A scope the registry names (e.g. with push) is not what a pull needs; a token of ours is dropped and fetched again.
        for (const k of [...this.tokens.keys()]) if (k.endsWith(`|${scope}`) && k.startsWith(`${host}|`)) this.tokens.delete(k);
        continue;
      }
      if ((res.status === 307 || res.status === 302 || res.status === 301 || res.status === 308) && redirects < 5 && method === 'GET') {
        // Blob storage redirects (S3, CDN): followed without our credentials.
        const location = header(res.headers.location);
        if (!location) return res;
        redirects++;
        const url = new URL(location, `${this.scheme.get(host) ?? 'https:'}//${host}`);
        return this.fetchUrl(url, ref, maxBytes, signal);
      }
      return res;
    }
  }

  /** The Authorization header for a request to `host`, once the host has told us how it authenticates. */
  private async authorization(ref: ImageReference, host: string, scope: string, signal?: AbortSignal): Promise<string | undefined> {
    const known = this.hostAuth.get(host);
    if (!known) return undefined;
    const creds = await this.credentialsFor(ref.registry);
    if (known.challenge.scheme === 'basic') {
      if (!creds || creds.identityToken) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    const { realm, service } = known.challenge.params;
    if (!realm) return undefined;
    const key = `${host}|${realm}|${service ?? ''}|${scope}`;
    let pending = this.tokens.get(key);
    const cached = pending ? await pending.catch(() => undefined) : undefined;
    if (!cached || cached.expiresAt <= this.clock.now() + 5000) {
      // Concurrent requests for one repository share one token request.
      if (!pending || this.tokens.get(key) === pending) {
        const fresh = this.fetchToken(ref, realm, service, scope, creds, signal);
        this.tokens.set(key, fresh);
        fresh.catch(() => this.tokens.get(key) === fresh && this.tokens.delete(key));
        pending = fresh;
      } else pending = this.tokens.get(key)!;
      return `Bearer ${(await pending).token}`;
    }
    return `Bearer ${cached.token}`;
  }

  private async fetchToken(ref: ImageReference, realm: string, service: string | undefined, scope: string, creds: RegistryCredentials | undefined, signal?: AbortSignal): Promise<CachedToken> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new KibokoError('ACTION_FAILED', `registry ${ref.registry} names an invalid token realm '${realm.slice(0, 120)}'`);
    }
    if (service) url.searchParams.set('service', service);
    url.searchParams.set('scope', scope);
    const headers: Record<string, string> = {};
    if (creds?.identityToken) url.searchParams.set('offline_token', 'true');
    if (creds && !creds.identityToken) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    this.stats.tokens++;
    const res = await this.fetchUrl(url, ref, 1024 * 1024, signal, headers);
    if (res.status === 401 || res.status === 403) {
      throw new KibokoError('REGISTRY_UNAUTHORIZED', `registry ${ref.registry} refused a token for ${ref.repository} (${res.status} from ${url.host}); tried ${describeCredentials(creds)}`, {
        hint: creds ? `check the password (docker login ${ref.registry}), or pass --registry-user/--registry-password` : `log in first: docker login ${ref.registry}`,
        details: { registry: ref.registry, repository: ref.repository, credentials: creds?.source ?? null },
      });
    }
    if (res.status !== 200) throw unexpected(ref, `GET token ${url.host}${url.pathname}`, res);
    const body = parseJson(res.body, ref, 'token answer') as { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    const token = typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined;
    if (!token) throw new KibokoError('ACTION_FAILED', `the token service of ${ref.registry} answered without a token`);
    const ttl = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    return { token, expiresAt: this.clock.now() + ttl * 1000 };
  }

  private async fetchUrl(url: URL, ref: ImageReference, maxBytes: number, signal?: AbortSignal, headers: Record<string, string> = {}): Promise<RawResponse> {
    return this.attempts(url.host, ref, `GET ${url.host}${url.pathname}`, signal, () => this.once(url, 'GET', headers, maxBytes, signal));
  }

  /** Sends to a registry host, picking its scheme: HTTPS, or plain HTTP for loopback/insecure hosts that do not speak TLS. */
  private exchange(host: string, method: 'GET' | 'HEAD', path: string, headers: Record<string, string>, maxBytes: number, ref: ImageReference, signal?: AbortSignal): Promise<RawResponse> {
    return this.attempts(host, ref, `${method} ${path}`, signal, async () => {
      const scheme = this.scheme.get(host) ?? 'https:';
      try {
        return await this.once(new URL(`${scheme}//${host}${path}`), method, headers, maxBytes, signal);
      } catch (err) {
        // Another request may have found meanwhile that this host speaks plain HTTP.
        const mayFallBack = scheme === 'https:' && (this.scheme.get(host) === 'http:' || (!this.scheme.has(host) && (isLoopbackHost(host) || this.insecure.has(host))));
        if (mayFallBack && err instanceof TransportError && (err.code === 'EPROTO' || /wrong version number|packet length|ssl3_get_record/i.test(err.message))) {
          this.scheme.set(host, 'http:');
          return this.once(new URL(`http://${host}${path}`), method, headers, maxBytes, signal);
        }
        throw err;
      }
    }).then((res) => {
      if (!this.scheme.has(host)) this.scheme.set(host, 'https:');
      return res;
    });
  }

  private once(url: URL, method: 'GET' | 'HEAD', headers: Record<string, string>, maxBytes: number, signal?: AbortSignal): Promise<RawResponse> {
    this.stats.requests++;
    return send({ url, method, headers: { 'user-agent': this.options.userAgent ?? 'kiboko-registry-client', ...headers }, timeoutMs: this.retry.timeoutMs, maxBytes: maxBytes || 1, signal }, this.agents);
  }

  /** Retries transient failures: 5xx, resets, timeouts with backoff and full jitter; 429 after Retry-After. */
  private async attempts(host: string, ref: ImageReference, what: string, signal: AbortSignal | undefined, fn: () => Promise<RawResponse>): Promise<RawResponse> {
    let last: RawResponse | TransportError | undefined;
    for (let attempt = 0; ; attempt++) {
      let wait: number | undefined;
      try {
        const res = await fn();
        if (res.status === 429) {
          this.stats.failed++;
          last = res;
          const after = retryAfterMs(res.headers['retry-after'], this.clock.now());
          if (after !== undefined && after > this.retry.maxRetryAfterMs) throw rateLimited(ref, host, after, this.clock.now());
          wait = after ?? this.backoff(attempt);
        } else if (RETRIABLE_STATUS.has(res.status)) {
          this.stats.failed++;
          last = res;
          wait = this.backoff(attempt);
        } else return res;
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        this.stats.failed++;
        if (TLS_ERROR.test(err.code)) throw this.tlsError(ref, host, err);
        if (!RETRIABLE_CODES.has(err.code)) throw unreachableError(ref, host, what, err, attempt + 1);
        last = err;
        wait = this.backoff(attempt);
      }
      if (attempt >= this.retry.retries) break;
      this.stats.retries++;
      await this.clock.sleep(wait, signal);
    }
    if (last instanceof TransportError) {
      if (last.code === 'ETIMEDOUT') {
        throw new KibokoError('TIMEOUT', `registry ${host} did not answer ${what} within ${this.retry.timeoutMs / 1000}s (${this.retry.retries + 1} attempts)`, {
          cause: last,
          hint: 'the registry (or a proxy or firewall on the way) accepts connections but does not answer; check it, or raise --registry-timeout',
          details: { registry: ref.registry, repository: ref.repository },
        });
      }
      throw unreachableError(ref, host, what, last, this.retry.retries + 1);
    }
    if (last?.status === 429) throw rateLimited(ref, host, retryAfterMs(last.headers['retry-after'], this.clock.now()), this.clock.now());
    throw new KibokoError('REGISTRY_UNREACHABLE', `registry ${host} answered ${last?.status ?? '?'} to ${what} ${this.retry.retries + 1} times`, {
      hint: 'the registry is failing; try again later',
      details: { registry: ref.registry, repository: ref.repository, status: last?.status },
    });
  }

  private backoff(attempt: number): number {
    const cap = Math.min(8000, this.retry.backoffMs * 2 ** attempt);
    return Math.round(cap / 2 + (this.random() * cap) / 2);
  }

  private tlsError(ref: ImageReference, host: string, err: TransportError): KibokoError {
    const files = this.tls(host).caFiles;
    const trusted = files.length ? `the system CAs and ${files.join(', ')}` : `the system CAs only (no ${this.options.certsDir ?? '/etc/docker/certs.d'}/${host}/ca.crt, no --registry-ca)`;
    return new KibokoError('REGISTRY_TLS', `TLS with registry ${host} failed: ${err.code} (${err.message}); trusted: ${trusted}`, {
      cause: err,
      hint: `put the CA that signed the registry's certificate in /etc/docker/certs.d/${host}/ca.crt (the engine reads it too) or pass --registry-ca FILE`,
      details: { registry: ref.registry, code: err.code, caFiles: files },
    });
  }

  private async unauthorized(ref: ImageReference, res: RawResponse, challenge: Challenge | undefined): Promise<KibokoError> {
    const creds = await this.credentialsFor(ref.registry);
    const how = challenge ? `${challenge.scheme} auth` : 'auth';
    return new KibokoError('REGISTRY_UNAUTHORIZED', `registry ${ref.registry} refused access to ${ref.repository} (${res.status}, ${how}); tried ${describeCredentials(creds)}`, {
      hint: creds ? `check the user and password (docker login ${ref.registry}), or pass --registry-user/--registry-password` : `log in first (docker login ${ref.registry}) or pass --registry-user/--registry-password`,
      details: { registry: ref.registry, repository: ref.repository, credentials: creds?.source ?? null, registryError: registryErrors(res) },
    });
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function parseJson(body: Buffer, ref: ImageReference, what: string): unknown {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    if (!v || typeof v !== 'object') throw new Error('not an object');
    return v;
  } catch (cause) {
    throw new KibokoError('ACTION_FAILED', `registry ${ref.registry} sent a ${what} for ${ref.repository} that is not JSON`, { cause, hint: 'is this a Docker registry (API v2)?' });
  }
}

/** The registry's own error codes (MANIFEST_UNKNOWN, NAME_UNKNOWN, UNAUTHORIZED …), when it sent any. */
function registryErrors(res: RawResponse): string[] {
  try {
    const b = JSON.parse(res.body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    return (b.errors ?? []).map((e) => `${e.code ?? '?'}: ${e.message ?? ''}`.slice(0, 200));
  } catch {
    return [];
  }
}

function notFound(ref: ImageReference, what: 'repository' | 'tag' | 'blob', res: RawResponse): KibokoError {
  const codes = registryErrors(res).join('; ');
  const repoMissing = what === 'repository' || /NAME_UNKNOWN/.test(codes);
  const msg = repoMissing
    ? `repository ${ref.repository} not found on registry ${ref.registry}`
    : what === 'blob'
      ? `an image blob of ${ref.repository} is missing on registry ${ref.registry}`
      : `tag ${ref.tag} of ${ref.repository} not found on registry ${ref.registry}`;
  return new KibokoError('TARGET_NOT_FOUND', msg, {
    hint: repoMissing ? 'check the repository name (and that your credentials may see it)' : `list the tags: kiboko registry tags ${formatReference(ref)}`,
    details: { registry: ref.registry, repository: ref.repository, tag: ref.tag, registryError: codes || undefined },
  });
}

function unexpected(ref: ImageReference, what: string, res: RawResponse): KibokoError {
  if (res.status === 403) {
    return new KibokoError('REGISTRY_UNAUTHORIZED', `registry ${ref.registry} denied ${what} for ${ref.repository} (403)`, {
      hint: 'the credentials are valid but may not pull this repository',
      details: { registry: ref.registry, repository: ref.repository, registryError: registryErrors(res) },
    });
  }
  return new KibokoError('ACTION_FAILED', `registry ${ref.registry} answered ${res.status} to ${what}`, {
    hint: 'is this a Docker registry (API v2)?',
    details: { registry: ref.registry, status: res.status, registryError: registryErrors(res) },
  });
}

function rateLimited(ref: ImageReference, host: string, afterMs: number | undefined, now: number): KibokoError {
  const until = afterMs !== undefined ? new Date(now + afterMs).toISOString() : undefined;
  return new KibokoError('REGISTRY_RATE_LIMITED', `registry ${host} rate-limits requests for ${ref.repository}${until ? ` until ${until}` : ''}`, {
    hint: until ? `try again after ${until}, or log in for a higher limit` : 'try again later, or log in for a higher limit',
    details: { registry: ref.registry, until },
  });
}

function unreachableError(ref: ImageReference, host: string, what: string, err: TransportError, attempts: number): KibokoError {
  return new KibokoError('REGISTRY_UNREACHABLE', `cannot reach registry ${host} (${err.code}: ${err.message}) for ${what} after ${attempts} attempt(s)`, {
    cause: err,
    hint: 'check the registry address and that it is running and reachable from here',
    details: { registry: ref.registry, repository: ref.repository, code: err.code },
  });
}
