import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { Toxiproxy } from 'toxiproxy-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createHttpServer } from 'node:http';
import type { RunningToxiproxyServer } from './api.js';
import { ProxyApiError, ProxyCollection, startToxiproxyServer, toxiproxyHandler, type Toxic } from './index.js';

let api: RunningToxiproxyServer;
let echo: Server;
let echoPort = 0;

beforeAll(async () => {
  api = await startToxiproxyServer(new ProxyCollection(), { host: '127.0.0.1', port: 0 }, { version: 'test' });
  echo = createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as AddressInfo).port;
});
afterAll(async () => {
  await api.close();
  await new Promise((r) => echo.close(r));
});

/** Median round trip of a line through host:port, over `n` fresh connections. */
async function medianRtt(listen: string, n = 5): Promise<number> {
  const [host, port] = [listen.slice(0, listen.lastIndexOf(':')), Number(listen.slice(listen.lastIndexOf(':') + 1))];
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    times.push(
      await new Promise<number>((resolve, reject) => {
        const s = connect({ host: host === 'localhost' ? '127.0.0.1' : host, port }, () => {
          const t = performance.now();
          s.write('ping');
          s.once('data', () => {
            resolve(performance.now() - t);
            s.destroy();
          });
        });
        s.on('error', reject);
      }),
    );
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
}

describe('toxiproxy-compatible API, driven by the toxiproxy-node-client package', () => {
  it('create proxy, add a latency toxic (measured), remove it, reset', async () => {
    const client = new Toxiproxy(api.url);
    expect(await client.getVersion()).toContain('test');
    const proxy = await client.createProxy({ name: 'echo', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}` });
    expect(proxy.enabled).toBe(true);
    expect(proxy.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    const base = await medianRtt(proxy.listen);

    const toxic = await proxy.addToxic({ name: 'latency_downstream', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 200, jitter: 0 } });
    expect(toxic.name).toBe('latency_downstream');
    const slow = await medianRtt(proxy.listen);
    console.log(`toxiproxy-node-client: median RTT ${base.toFixed(1)} ms without toxic, ${slow.toFixed(1)} ms with latency 200 ms`);
    expect(slow - base).toBeGreaterThanOrEqual(190);
    expect(slow).toBeLessThan(1000); // generous: a loaded CI machine

    await toxic.remove();
    expect(await medianRtt(proxy.listen)).toBeLessThan(base + 30);

    await proxy.addToxic({ name: 'up', type: 'latency', stream: 'upstream', toxicity: 1, attributes: { latency: 100, jitter: 0 } });
    const toxicsOf = async () => ((await (await fetch(`${api.url}/proxies/echo/toxics`)).json()) as unknown[]).length;
    expect(await toxicsOf()).toBe(1);
    await client.reset();
    expect(await toxicsOf()).toBe(0);
    expect(await medianRtt(proxy.listen)).toBeLessThan(base + 30);

    const disabled = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    expect(disabled.enabled).toBe(false);
    await client.reset(); // enables every proxy again
    expect((await client.get('echo')).enabled).toBe(true);
    await proxy.remove();
    expect(Object.keys(await client.getAll())).not.toContain('echo');
  });

  it("answers with toxiproxy's status codes and error bodies", async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${api.url}${path}`, { method, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : undefined };
    };
    expect(await call('POST', '/proxies', { name: 'a', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}` })).toMatchObject({ status: 201, body: { name: 'a', enabled: true, toxics: [] } });
    expect(await call('POST', '/proxies', { name: 'a', listen: '127.0.0.1:0', upstream: 'x:1' })).toEqual({ status: 409, body: { error: 'proxy already exists', status: 409 } });
    expect(await call('POST', '/proxies', { listen: '127.0.0.1:0', upstream: 'x:1' })).toEqual({ status: 400, body: { error: 'missing required field: name', status: 400 } });
    expect((await call('POST', '/proxies', '{nope')).status).toBe(400);
    expect(await call('GET', '/proxies/zzz')).toEqual({ status: 404, body: { error: 'proxy not found', status: 404 } });
    expect(await call('POST', '/proxies/a/toxics', { type: 'latency', stream: 'sideways' })).toEqual({
      status: 400,
      body: { error: 'stream was invalid, can be either upstream or downstream', status: 400 },
    });
    expect(await call('POST', '/proxies/a/toxics', { type: 'nope' })).toEqual({ status: 400, body: { error: 'invalid toxic type', status: 400 } });
    expect(await call('POST', '/proxies/a/toxics', { type: 'bandwidth', attributes: { rate: 10 } })).toMatchObject({ status: 200, body: { name: 'bandwidth_downstream', toxicity: 1 } });
    expect((await call('POST', '/proxies/a/toxics', { type: 'bandwidth' })).status).toBe(409);
    expect(await call('PATCH', '/proxies/a/toxics/bandwidth_downstream', { attributes: { rate: 20 }, toxicity: 0.5 })).toMatchObject({ status: 200, body: { attributes: { rate: 20 }, toxicity: 0.5 } });
    expect((await call('GET', '/proxies/a/toxics')).body).toHaveLength(1);
    expect(await call('DELETE', '/proxies/a/toxics/bandwidth_downstream')).toEqual({ status: 204, body: undefined });
    expect((await call('DELETE', '/proxies/a/toxics/bandwidth_downstream')).status).toBe(404);
    const populated = await call('POST', '/populate', [
      { name: 'a', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}` },
      { name: 'b', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}`, enabled: false },
    ]);
    expect(populated.status).toBe(201);
    expect(populated.body.proxies.map((p: { name: string; enabled: boolean }) => [p.name, p.enabled])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    const browser = await fetch(`${api.url}/proxies`, { headers: { 'User-Agent': 'Mozilla/5.0' } });
    expect(browser.status).toBe(403);
    expect((await call('DELETE', '/proxies/a')).status).toBe(204);
    expect((await call('DELETE', '/proxies/b')).status).toBe(204);
  });
});

describe('hostile request targets', () => {
  it('answers a malformed target (GET http://[, a bad %-escape) with 400 and keeps serving', async () => {
    const port = Number(new URL(api.url).port);
    for (const target of ['http://[', '/proxies/%E0%A4%A']) {
      const head = await new Promise<string>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port }, () => s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
        let got = '';
        s.on('data', (d) => (got += d.toString('latin1')));
        s.on('end', () => resolve(got));
        s.on('error', reject);
      });
      expect(head.split('\r\n')[0], target).toMatch(/^HTTP\/1\.1 400 /);
    }
    expect((await fetch(`${api.url}/version`)).status).toBe(200);
  });
});

describe('mounted under a prefix by a host server that reads the body itself (kiboko serve)', () => {
  it('serves /toxiproxy/proxies with the pre-read body', async () => {
    const collection = new ProxyCollection();
    const handle = toxiproxyHandler(collection);
    const host = createHttpServer(async (req, res) => {
      const parts: Buffer[] = [];
      for await (const c of req) parts.push(c as Buffer);
      const url = new URL(req.url ?? '/', 'http://x');
      if (!url.pathname.startsWith('/toxiproxy/')) return void res.writeHead(404).end();
      await handle(req, res, url.pathname.slice('/toxiproxy'.length), parts.length ? Buffer.concat(parts) : undefined);
    });
    await new Promise<void>((r) => host.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(host.address() as AddressInfo).port}/toxiproxy`;
    try {
      const client = new Toxiproxy(base);
      const proxy = await client.createProxy({ name: 'm', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}` });
      await proxy.addToxic({ name: 'l', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 100, jitter: 0 } });
      expect(await medianRtt(proxy.listen, 3)).toBeGreaterThanOrEqual(95);
      const bad = await fetch(`${base}/proxies`, { method: 'POST' });
      expect([bad.status, await bad.json()]).toEqual([400, { error: 'bad request body: EOF', status: 400 }]);
    } finally {
      await collection.close();
      await new Promise((r) => host.close(r));
    }
  });
});

describe('extra (read-only) proxies: kiboko chaos proxy faults', () => {
  it('are listed and read like the others, and changes to them are refused with 409', async () => {
    const extra = { name: 'kiboko:web:in:80', listen: 'web:80', upstream: '127.0.0.1:80', enabled: true, toxics: [{ name: 'lat', type: 'latency' as const, stream: 'downstream' as const, toxicity: 1, attributes: { latency: 200, jitter: 0 } }] };
    const own = new ProxyCollection();
    const server = await startToxiproxyServer(own, { host: '127.0.0.1', port: 0 }, { extra: () => [extra] });
    try {
      const client = new Toxiproxy(server.url);
      await client.createProxy({ name: 'mine', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}` });
      expect(Object.keys(await client.getAll()).sort()).toEqual(['kiboko:web:in:80', 'mine']);
      const { toxics: _, ...shape } = extra;
      expect((await client.get('kiboko:web:in:80')).toJson()).toMatchObject(shape);
      const path = `${server.url}/proxies/${encodeURIComponent(extra.name)}`;
      expect(await (await fetch(path)).json()).toEqual(extra);
      expect(await (await fetch(`${path}/toxics`)).json()).toEqual(extra.toxics);
      expect(await (await fetch(`${path}/toxics/lat`)).json()).toEqual(extra.toxics[0]);
      expect((await fetch(`${path}/toxics/none`)).status).toBe(404);
      for (const [method, sub, body] of [['DELETE', '', undefined], ['POST', '', '{"enabled":false}'], ['POST', '/toxics', '{"type":"latency"}'], ['DELETE', '/toxics/lat', undefined]] as const) {
        const r = await fetch(`${path}${sub}`, { method, ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}) });
        expect(r.status, `${method} ${sub}`).toBe(409);
        expect(((await r.json()) as { error: string }).error).toMatch(/kiboko chaos proxy fault/);
      }
      // the API's own proxy of the same name wins (a user's proxy is never hidden)
      await client.createProxy({ name: 'kiboko:web:in:80', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}` });
      expect((await client.get('kiboko:web:in:80')).toJson().upstream).toBe(`127.0.0.1:${echoPort}`);
    } finally {
      await server.close();
      await own.close();
    }
  });
});

describe('extra proxies with a toxics setter (a running kiboko chaos proxy fault)', () => {
  it('takes toxic add/update/remove with toxiproxy’s checks and answers, handing the new list to the setter; the proxy itself stays 409', async () => {
    const lat = { name: 'lat', type: 'latency' as const, stream: 'downstream' as const, toxicity: 1, attributes: { latency: 200, jitter: 0 } };
    const extra = { name: 'kiboko:web:in:80', listen: 'web:80', upstream: '127.0.0.1:80', enabled: true, toxics: [lat] as Toxic[] };
    const calls: [string, Toxic[]][] = [];
    const own = new ProxyCollection();
    const server = await startToxiproxyServer(own, { host: '127.0.0.1', port: 0 }, {
      extra: () => [extra],
      setExtraToxics: async (name, toxics) => {
        calls.push([name, toxics]);
        extra.toxics = toxics;
      },
    });
    try {
      const client = new Toxiproxy(server.url);
      const proxy = await client.get(extra.name);
      const bw = await proxy.addToxic({ name: 'bw', type: 'bandwidth', stream: 'upstream', toxicity: 0.5, attributes: { rate: 100 } });
      expect(bw.toJson()).toMatchObject({ name: 'bw', type: 'bandwidth', stream: 'upstream', toxicity: 0.5, attributes: { rate: 100 } });
      expect(calls.at(-1)).toEqual([extra.name, [lat, { name: 'bw', type: 'bandwidth', stream: 'upstream', toxicity: 0.5, attributes: { rate: 100 } }]]);
      const path = `${server.url}/proxies/${encodeURIComponent(extra.name)}/toxics`;
      const post = (sub: string, body: unknown, method = 'POST') => fetch(`${path}${sub}`, { method, body: JSON.stringify(body) });
      expect((await post('', lat)).status).toBe(409); // same name
      expect((await post('', { type: 'nonsense' })).status).toBe(400);
      expect((await post('/none', { toxicity: 1 })).status).toBe(404);
      expect(calls).toHaveLength(1); // refused changes never reach the setter
      const updated = (await (await post('/lat', { attributes: { latency: 900 } })).json()) as Toxic;
      expect(updated.attributes).toEqual({ latency: 900, jitter: 0 });
      expect(extra.toxics.map((t) => t.name)).toEqual(['lat', 'bw']);
      expect((await fetch(`${path}/bw`, { method: 'DELETE' })).status).toBe(204);
      expect(extra.toxics).toEqual([{ ...lat, attributes: { latency: 900, jitter: 0 } }]);
      expect((await fetch(`${path}/lat`, { method: 'PUT' })).status).toBe(405);
      for (const [method, body] of [['DELETE', undefined], ['POST', '{"enabled":false}']] as const) {
        const r = await fetch(`${server.url}/proxies/${encodeURIComponent(extra.name)}`, { method, ...(body ? { body } : {}) });
        expect(r.status, method).toBe(409);
      }
      expect(calls).toHaveLength(3);
    } finally {
      await server.close();
      await own.close();
    }
  });

  it('a setter that fails answers with its status and message', async () => {
    const own = new ProxyCollection();
    const extra = { name: 'kiboko:web:out', listen: '127.0.0.1:1', upstream: '*:*', enabled: true, toxics: [] as Toxic[] };
    const server = await startToxiproxyServer(own, { host: '127.0.0.1', port: 0 }, {
      extra: () => [extra],
      setExtraToxics: async () => {
        throw new ProxyApiError('the chaos run holding this fault does not answer', 409);
      },
    });
    try {
      const r = await fetch(`${server.url}/proxies/${encodeURIComponent(extra.name)}/toxics`, { method: 'POST', body: '{"type":"latency"}' });
      expect(r.status).toBe(409);
      expect(await r.json()).toEqual({ error: 'the chaos run holding this fault does not answer', status: 409 });
    } finally {
      await server.close();
      await own.close();
    }
  });
});

describe('extra proxies with an enabled setter', () => {
  it('POST {enabled} toggles a transparent proxy (toxiproxy’s down); changing its listen or upstream stays 409', async () => {
    const extra = { name: 'kiboko:web:in:80', listen: 'web:80', upstream: '127.0.0.1:80', enabled: true, toxics: [] as Toxic[] };
    const calls: [string, boolean][] = [];
    const own = new ProxyCollection();
    const server = await startToxiproxyServer(own, { host: '127.0.0.1', port: 0 }, {
      extra: () => [extra],
      setExtraEnabled: async (name, enabled) => {
        calls.push([name, enabled]);
        extra.enabled = enabled;
      },
    });
    try {
      const path = `${server.url}/proxies/${encodeURIComponent(extra.name)}`;
      const post = (body: unknown) => fetch(path, { method: 'POST', body: JSON.stringify(body) });
      const down = await post({ enabled: false });
      expect(down.status).toBe(200);
      expect(await down.json()).toMatchObject({ name: extra.name, enabled: false });
      expect(calls).toEqual([[extra.name, false]]);
      expect((await post({ enabled: false })).status).toBe(200); // no change, no call
      expect(calls).toHaveLength(1);
      const client = new Toxiproxy(server.url);
      const proxy = await client.get(extra.name);
      expect(proxy.toJson().enabled).toBe(false);
      expect((await post({ enabled: true, listen: '0.0.0.0:81' })).status).toBe(409);
      expect((await post({ upstream: 'elsewhere:1' })).status).toBe(409);
      expect((await post({ enabled: 'yes' })).status).toBe(400);
      expect(calls).toHaveLength(1);
      expect((await post({ enabled: true })).status).toBe(200);
      expect(calls).toEqual([
        [extra.name, false],
        [extra.name, true],
      ]);
    } finally {
      await server.close();
      await own.close();
    }
  });
});

