import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProxyApiError, parseToxic, updateToxic, type Toxic } from './toxics.js';
import type { ProxyCollection, ProxyConfig, ProxyJson } from './proxy.js';

/** toxiproxy's API version this API follows (its JSON shapes and status codes). */
export const TOXIPROXY_API_VERSION = '2.12.0';
const BODY_LIMIT = 1 << 20;

export interface ToxiproxyApiOptions {
  /** Reported by GET /version (toxiproxy clients only display it). */
  version?: string | undefined;
  /** Extra proxies listed by GET /proxies (kiboko's transparent container proxies). */
  extra?: (() => Promise<ProxyJson[]> | ProxyJson[]) | undefined;
  /**
   * Replaces the toxics of an extra proxy while it runs; without it, extra proxies are read-only.
   * The API checks each change as for its own proxies (same errors) before calling it.
   */
  setExtraToxics?: ((name: string, toxics: Toxic[]) => Promise<void>) | undefined;
  /** Sets `enabled` of an extra proxy (toxiproxy's `down` when false); without it, a 409. */
  setExtraEnabled?: ((name: string, enabled: boolean) => Promise<void>) | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function send(res: ServerResponse, status: number, body?: unknown) {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

async function readJson(req: IncomingMessage, preread?: Buffer): Promise<unknown> {
  if (preread !== undefined) return parseJson(preread.toString('utf8').trim());
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > BODY_LIMIT) throw new ProxyApiError('bad request body: larger than 1 MiB', 413);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new ProxyApiError('bad request body: larger than 1 MiB', 413);
    parts.push(chunk);
  }
  return parseJson(Buffer.concat(parts).toString('utf8').trim());
}

function parseJson(text: string): unknown {
  if (text === '') throw new ProxyApiError('bad request body: EOF', 400);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ProxyApiError(`bad request body: ${(err as Error).message}`, 400);
  }
}

function proxyConfig(body: unknown, base?: ProxyConfig): ProxyConfig {
  if (!isObject(body)) throw new ProxyApiError('bad request body: expected a JSON object', 400);
  const str = (k: string, fallback: string) => {
    const v = body[k];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') throw new ProxyApiError(`bad request body: ${k} must be a string`, 400);
    return v;
  };
  const enabled = body.enabled;
  if (enabled !== undefined && typeof enabled !== 'boolean') throw new ProxyApiError('bad request body: enabled must be true or false', 400);
  return {
    name: str('name', base?.name ?? ''),
    listen: str('listen', base?.listen ?? ''),
    upstream: str('upstream', base?.upstream ?? ''),
    enabled: enabled ?? base?.enabled ?? true,
  };
}

/** The path part this API answers (for mounting it under another server's routes). */
export const isToxiproxyPath = (path: string): boolean => path === '/proxies' || path.startsWith('/proxies/') || path === '/reset' || path === '/populate' || path === '/version';

/**
 * A request handler speaking toxiproxy's HTTP API over a proxy collection, so toxiproxy clients
 * work unchanged: same routes, JSON shapes (`{"error": …, "status": …}` on errors) and statuses.
 * Requests from browsers are refused (403), as toxiproxy does, so a web page cannot drive it.
 */
export function toxiproxyHandler(collection: ProxyCollection, options: ToxiproxyApiOptions = {}) {
  /** `path` and `body` let a host server mount it under a prefix after reading the body itself. */
  return async (req: IncomingMessage, res: ServerResponse, mountedPath?: string, body?: Buffer): Promise<void> => {
    try {
      if (String(req.headers['user-agent'] ?? '').startsWith('Mozilla/')) throw new ProxyApiError('User agent not allowed', 403);
      // Parsing the target is inside the boundary: `GET http://[` or a bad %-escape is a 400, never a crash.
      let path: string;
      try {
        path = mountedPath ?? new URL(req.url ?? '/', 'http://x').pathname;
        decodeURIComponent(path);
      } catch {
        throw new ProxyApiError('malformed request target', 400);
      }
      await route(collection, options, req, res, path, (r) => readJson(r, body ?? (req.readableEnded ? Buffer.alloc(0) : undefined)));
    } catch (err) {
      if (err instanceof ProxyApiError) send(res, err.status, { error: err.message, status: err.status });
      else send(res, 500, { error: (err as Error).message, status: 500 });
    }
  };
}

async function route(collection: ProxyCollection, options: ToxiproxyApiOptions, req: IncomingMessage, res: ServerResponse, path: string, readJson: (req: IncomingMessage) => Promise<unknown>) {
  const method = req.method ?? 'GET';
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const notAllowed = () => {
    throw new ProxyApiError('method not allowed', 405);
  };
  if (parts.length === 1 && parts[0] === 'version') {
    if (method !== 'GET') notAllowed();
    return send(res, 200, { version: options.version ?? TOXIPROXY_API_VERSION });
  }
  if (parts.length === 1 && parts[0] === 'reset') {
    if (method !== 'POST') notAllowed();
    await collection.reset();
    return send(res, 204);
  }
  if (parts.length === 1 && parts[0] === 'populate') {
    if (method !== 'POST') notAllowed();
    const body = await readJson(req);
    const list = Array.isArray(body) ? body : isObject(body) && Array.isArray(body.proxies) ? body.proxies : undefined;
    if (!list) throw new ProxyApiError('bad request body: expected a JSON array of proxies', 400);
    const proxies = await collection.populate(list.map((p) => proxyConfig(p)));
    return send(res, 201, { proxies: proxies.map((p) => p.toJSON()) });
  }
  if (parts[0] !== 'proxies') throw new ProxyApiError('not found', 404);
  if (parts.length === 1) {
    if (method === 'GET') {
      const out: Record<string, ProxyJson> = {};
      for (const p of collection.list()) out[p.name] = p.toJSON();
      for (const p of (await options.extra?.()) ?? []) out[p.name] ??= p;
      return send(res, 200, out);
    }
    if (method !== 'POST') notAllowed();
    const proxy = await collection.add(proxyConfig(await readJson(req)));
    return send(res, 201, proxy.toJSON());
  }
  const extra = collection.list().some((p) => p.name === parts[1]) ? undefined : ((await options.extra?.()) ?? []).find((p) => p.name === parts[1]);
  if (extra) return transparentProxy({ res, method, proxy: extra, parts, body: () => readJson(req), setToxics: options.setExtraToxics, setEnabled: options.setExtraEnabled });
  const proxy = collection.get(parts[1]!);
  if (parts.length === 2) {
    if (method === 'GET') return send(res, 200, proxy.toJSON());
    if (method === 'POST' || method === 'PATCH') {
      const cfg = proxyConfig(await readJson(req), { name: proxy.name, listen: proxy.listen, upstream: proxy.upstream, enabled: proxy.enabled });
      await proxy.update(cfg);
      return send(res, 200, proxy.toJSON());
    }
    if (method === 'DELETE') {
      await collection.remove(proxy.name);
      return send(res, 204);
    }
    notAllowed();
  }
  if (parts[2] !== 'toxics' || parts.length > 4) throw new ProxyApiError('not found', 404);
  if (parts.length === 3) {
    if (method === 'GET') return send(res, 200, proxy.toxics);
    if (method !== 'POST') notAllowed();
    return send(res, 200, proxy.addToxic(await readJson(req)));
  }
  const name = parts[3]!;
  if (method === 'GET') return send(res, 200, proxy.toxic(name));
  if (method === 'POST' || method === 'PATCH') return send(res, 200, proxy.updateToxic(name, await readJson(req)));
  if (method === 'DELETE') {
    proxy.removeToxic(name);
    return send(res, 204);
  }
  notAllowed();
}

interface TransparentRequest {
  res: ServerResponse;
  method: string;
  proxy: ProxyJson;
  parts: string[];
  body: () => Promise<unknown>;
  setToxics: ((name: string, toxics: Toxic[]) => Promise<void>) | undefined;
  setEnabled: ((name: string, enabled: boolean) => Promise<void>) | undefined;
}

/**
 * A transparent container proxy (`kiboko chaos proxy`): read like the others, its toxics added,
 * updated and removed like theirs (same checks and answers) through `setToxics`, and `enabled`
 * toggled through `setEnabled`; its listen and upstream are the container's and it lives and ends
 * with its chaos run, so changing them or deleting it is refused (409).
 */
async function transparentProxy({ res, method, proxy, parts, body, setToxics, setEnabled }: TransparentRequest): Promise<void> {
  const endsWithRun = `proxy ${proxy.name} is a kiboko chaos proxy fault: it ends with its chaos run (Ctrl-C, --duration, POST /v1/chaos/runs/RUN/stop or kiboko chaos recover), not through this API`;
  if (parts.length === 2) {
    if (method === 'GET') return send(res, 200, proxy);
    if ((method === 'POST' || method === 'PATCH') && setEnabled) {
      const cfg = proxyConfig(await body(), proxy);
      if (cfg.name === proxy.name && cfg.listen === proxy.listen && cfg.upstream === proxy.upstream) {
        if (cfg.enabled !== proxy.enabled) await setEnabled(proxy.name, cfg.enabled);
        return send(res, 200, { ...proxy, enabled: cfg.enabled });
      }
    }
    throw new ProxyApiError(endsWithRun, 409);
  }
  if (parts[2] !== 'toxics' || parts.length > 4) throw new ProxyApiError('not found', 404);
  if (method !== 'GET' && !setToxics) throw new ProxyApiError(endsWithRun, 409);
  const toxics = proxy.toxics;
  if (parts.length === 3) {
    if (method === 'GET') return send(res, 200, toxics);
    if (method !== 'POST') throw new ProxyApiError('method not allowed', 405);
    const added = parseToxic(await body());
    if (toxics.some((t) => t.name === added.name)) throw new ProxyApiError('toxic already exists', 409);
    await setToxics!(proxy.name, [...toxics, added]);
    return send(res, 200, added);
  }
  const existing = toxics.find((t) => t.name === parts[3]);
  if (!existing) throw new ProxyApiError('toxic not found', 404);
  if (method === 'GET') return send(res, 200, existing);
  if (method === 'POST' || method === 'PATCH') {
    const updated = updateToxic(existing, await body());
    await setToxics!(proxy.name, toxics.map((t) => (t.name === existing.name ? updated : t)));
    return send(res, 200, updated);
  }
  if (method !== 'DELETE') throw new ProxyApiError('method not allowed', 405);
  await setToxics!(proxy.name, toxics.filter((t) => t.name !== existing.name));
  return send(res, 204);
}

export interface RunningToxiproxyServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** `kiboko proxy serve`: the API on host:port (default localhost:8474, toxiproxy's). */
export async function startToxiproxyServer(collection: ProxyCollection, at: { host?: string; port?: number } = {}, options: ToxiproxyApiOptions = {}): Promise<RunningToxiproxyServer> {
  const handle = toxiproxyHandler(collection, options);
  const server = createServer({ requestTimeout: 25_000, headersTimeout: 10_000 }, (req, res) => void handle(req, res));
  server.maxHeadersCount = 100;
  const host = at.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port ?? 8474, host === 'localhost' ? '127.0.0.1' : host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await collection.close();
    },
  };
}
