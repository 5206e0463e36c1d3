import { readFileSync } from 'node:fs';
import { invalidArgument, KibokoError } from '../common/errors.js';
import type { ProxyServeOptions } from './proxy-options.js';
import { VERSION } from '../common/version.js';
import { ProxyCollection, startToxiproxyServer, type ProxyConfig } from '../proxy/index.js';
import { transparentProxyApi, validatePort } from '../chaos/index.js';
import { defaultStateDir, Journal } from '../journal/index.js';
import { writeJsonLine } from '../common/ndjson.js';

/** `kiboko proxy serve`: toxiproxy-server's role, on the same port by default. */
export async function runProxyServe(o: ProxyServeOptions): Promise<number> {
  const port = o.port === undefined ? 8474 : o.port === '0' ? 0 : validatePort(o.port, '--port');
  const collection = new ProxyCollection();
  if (o.config) {
    let list: unknown;
    try {
      list = JSON.parse(readFileSync(o.config, 'utf8'));
    } catch (err) {
      throw invalidArgument(`cannot read --config ${o.config}: ${(err as Error).message}`, 'give a JSON array of {"name", "listen", "upstream"} objects, as toxiproxy -config takes');
    }
    if (!Array.isArray(list)) throw invalidArgument(`--config ${o.config}: expected a JSON array of proxies`, 'e.g. [{"name": "redis", "listen": "127.0.0.1:26379", "upstream": "127.0.0.1:6379"}]');
    try {
      await collection.populate(list.map((p: Partial<ProxyConfig>) => ({ name: p.name ?? '', listen: p.listen ?? '', upstream: p.upstream ?? '', enabled: p.enabled ?? true })));
    } catch (err) {
      await collection.close();
      throw invalidArgument(`--config ${o.config}: ${(err as Error).message}`, 'each proxy needs a name and an upstream host:port');
    }
  }
  let server;
  try {
    // `kiboko chaos proxy` faults running from this state directory are listed beside the API's own proxies, their toxics changeable.
    const journal = new Journal(o.stateDir ?? defaultStateDir());
    server = await startToxiproxyServer(collection, { host: o.host ?? 'localhost', port }, { version: `${VERSION} (kiboko)`, ...transparentProxyApi(journal) });
  } catch (err) {
    await collection.close();
    throw new KibokoError('CONFLICT', `cannot listen on ${o.host ?? 'localhost'}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: 'another toxiproxy (or kiboko proxy serve) may be running there; pass --port',
    });
  }
  writeJsonLine('info', 'listening', `toxiproxy API on ${server.url}`, { url: server.url, proxies: collection.list().map((p) => p.toJSON()) });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await server.close();
  return 0;
}
