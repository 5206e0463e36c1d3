import { connect, createServer, type Server, type Socket } from 'node:net';
import { HttpGate, type HttpFault, type HttpFaultStats } from './http.js';
import { Link } from './link.js';
import { ProxyApiError, parseToxic, updateToxic, type Stream, type Toxic } from './toxics.js';

export interface ProxyConfig {
  name: string;
  /** host:port to listen on (port 0: any free port; the real one is reported after start). */
  listen: string;
  /** host:port to connect to. Transparent proxies compute it per connection instead. */
  upstream: string;
  enabled: boolean;
}

export interface HostPort {
  host: string;
  port: number;
}

export interface ProxyOptions {
  /** Per connection: where to connect (transparent proxies: the connection's original destination). */
  resolveUpstream?: ((client: Socket) => HostPort | Promise<HostPort>) | undefined;
  random?: (() => number) | undefined;
}

/** toxiproxy's JSON view of a proxy. */
export interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: Toxic[];
}

export function splitHostPort(value: string, field: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ProxyApiError(`bad request body: ${field} must be host:port, got '${value}'`, 400);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host === 'localhost' ? '127.0.0.1' : host, port };
}

const joinHostPort = (h: HostPort) => (h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`);

/**
 * A TCP fault proxy with toxiproxy's semantics: listens, connects each client to the upstream,
 * and applies the toxics of each stream; toxics and HTTP faults change while connections are open.
 */
export class FaultProxy {
  name: string;
  listen: string;
  upstream: string;
  enabled = false;
  private toxicList: Toxic[] = [];
  private httpFaultList: HttpFault[] = [];
  readonly httpStats: HttpFaultStats = { matched: 0, aborted: 0, delayed: 0, passed: 0, tlsPassedThrough: 0, counters: {} };
  private server: Server | undefined;
  private readonly links = new Set<Link>();
  private readonly sockets = new Set<Socket>();
  private readonly random: () => number;
  connections = 0;

  constructor(
    config: Omit<ProxyConfig, 'enabled'>,
    private readonly options: ProxyOptions = {},
  ) {
    this.name = config.name;
    this.listen = config.listen || '127.0.0.1:0';
    this.upstream = config.upstream;
    this.random = options.random ?? Math.random;
    splitHostPort(this.listen, 'listen');
    if (!options.resolveUpstream) splitHostPort(this.upstream, 'upstream');
  }

  /** The toxics of one stream, in the order they were added (the order they apply). */
  chain(stream: Stream): readonly Toxic[] {
    return this.toxicList.filter((t) => t.stream === stream);
  }

  get toxics(): readonly Toxic[] {
    return [...this.chain('upstream'), ...this.chain('downstream')];
  }

  toxic(name: string): Toxic {
    const t = this.toxicList.find((x) => x.name === name);
    if (!t) throw new ProxyApiError('toxic not found', 404);
    return t;
  }

  addToxic(body: unknown): Toxic {
    const toxic = parseToxic(body);
    if (this.toxicList.some((t) => t.name === toxic.name)) throw new ProxyApiError('toxic already exists', 409);
    this.toxicList.push(toxic);
    this.syncLinks();
    return toxic;
  }

  updateToxic(name: string, body: unknown): Toxic {
    const updated = updateToxic(this.toxic(name), body);
    this.toxicList = this.toxicList.map((t) => (t.name === name ? updated : t));
    this.syncLinks();
    return updated;
  }

  removeToxic(name: string): void {
    this.toxic(name);
    this.toxicList = this.toxicList.filter((t) => t.name !== name);
    this.syncLinks();
  }

  resetToxics(): void {
    this.toxicList = [];
    this.syncLinks();
  }

  get httpFaults(): readonly HttpFault[] {
    return this.httpFaultList;
  }

  /** Replaces the HTTP faults; their first-N counters start again. */
  setHttpFaults(faults: readonly HttpFault[]): void {
    this.httpFaultList = [...faults];
    this.httpStats.counters = {};
  }

  private syncLinks() {
    for (const l of this.links) l.sync();
  }

  /** Starts listening; resolves once bound (the real port is then in `listen`). */
  async start(): Promise<void> {
    if (this.enabled) return;
    const at = splitHostPort(this.listen, 'listen');
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new ProxyApiError(`listen tcp ${this.listen}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, 500)));
      server.listen(at.port, at.host, () => resolve());
    });
    server.on('error', () => undefined);
    const addr = server.address();
    if (addr && typeof addr === 'object') this.listen = joinHostPort({ host: at.host === '0.0.0.0' && addr.address === '0.0.0.0' ? at.host : addr.address, port: addr.port });
    this.server = server;
    this.enabled = true;
  }

  /** Stops listening and drops every connection (toxiproxy's `down`: enabled=false). */
  async stop(): Promise<void> {
    this.enabled = false;
    const server = this.server;
    this.server = undefined;
    for (const l of [...this.links]) l.destroy();
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /** toxiproxy's `POST /proxies/{name}`: listen, upstream and enabled may change. */
  async update(body: Partial<ProxyConfig>): Promise<void> {
    const listen = body.listen ?? this.listen;
    const upstream = body.upstream ?? this.upstream;
    splitHostPort(listen, 'listen');
    if (!this.options.resolveUpstream) splitHostPort(upstream, 'upstream');
    const enabled = body.enabled ?? this.enabled;
    const restart = listen !== this.listen || upstream !== this.upstream;
    if (restart || !enabled) await this.stop();
    this.listen = listen;
    this.upstream = upstream;
    if (enabled) await this.start();
  }

  private accept(client: Socket) {
    if (!this.enabled) return client.destroy();
    this.connections++;
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    void this.connectUpstream(client);
  }

  private async connectUpstream(client: Socket) {
    let target: HostPort;
    try {
      target = this.options.resolveUpstream ? await this.options.resolveUpstream(client) : splitHostPort(this.upstream, 'upstream');
    } catch {
      client.destroy();
      return;
    }
    const server = connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
    this.sockets.add(server);
    server.once('close', () => this.sockets.delete(server));
    let connected = false;
    server.once('error', () => {
      if (!connected) client.destroy();
    });
    server.once('connect', () => {
      connected = true;
      if (client.destroyed || !this.enabled) {
        server.destroy();
        return;
      }
      const gate = this.httpFaultList.length ? new HttpGate(this.httpFaultList, this.httpStats, this.random) : undefined;
      const link = new Link(this, client, server, (l) => this.links.delete(l), this.random, gate);
      this.links.add(link);
      client.resume();
    });
  }

  toJSON(): ProxyJson {
    return { name: this.name, listen: this.listen, upstream: this.upstream, enabled: this.enabled, toxics: [...this.toxics] };
  }
}

/** The named proxies of one server (toxiproxy's ProxyCollection). */
export class ProxyCollection {
  private readonly proxies = new Map<string, FaultProxy>();

  list(): FaultProxy[] {
    return [...this.proxies.values()];
  }

  get(name: string): FaultProxy {
    const p = this.proxies.get(name);
    if (!p) throw new ProxyApiError('proxy not found', 404);
    return p;
  }

  has(name: string): boolean {
    return this.proxies.has(name);
  }

  async add(config: ProxyConfig, options?: ProxyOptions): Promise<FaultProxy> {
    if (!config.name) throw new ProxyApiError('missing required field: name', 400);
    if (!config.upstream && !options?.resolveUpstream) throw new ProxyApiError('missing required field: upstream', 400);
    if (this.proxies.has(config.name)) throw new ProxyApiError('proxy already exists', 409);
    const proxy = new FaultProxy(config, options);
    if (config.enabled) await proxy.start();
    this.proxies.set(config.name, proxy);
    return proxy;
  }

  async remove(name: string): Promise<void> {
    const p = this.get(name);
    this.proxies.delete(name);
    await p.stop();
  }

  /** `POST /reset`: every proxy enabled again, every toxic removed. */
  async reset(): Promise<void> {
    for (const p of this.proxies.values()) {
      await p.start();
      p.resetToxics();
    }
  }

  /** `POST /populate`: creates the listed proxies, replacing same-named ones whose config differs. */
  async populate(configs: readonly ProxyConfig[]): Promise<FaultProxy[]> {
    for (const c of configs) {
      if (!c.name) throw new ProxyApiError('missing required field: name', 400);
      if (!c.upstream) throw new ProxyApiError('missing required field: upstream', 400);
    }
    const out: FaultProxy[] = [];
    for (const c of configs) {
      const existing = this.proxies.get(c.name);
      if (existing && existing.upstream === c.upstream && (!c.listen || existing.listen === c.listen)) {
        await existing.update({ enabled: c.enabled });
        out.push(existing);
        continue;
      }
      if (existing) await this.remove(c.name);
      out.push(await this.add(c));
    }
    return out;
  }

  async close(): Promise<void> {
    for (const name of [...this.proxies.keys()]) await this.remove(name);
  }
}
