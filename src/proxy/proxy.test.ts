import { createServer as createHttpServer, request, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyCollection } from './index.js';
import type { FaultProxy } from './proxy.js';

const servers: (Server | HttpServer)[] = [];
const collection = new ProxyCollection();
afterEach(async () => {
  await collection.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function listen<T extends Server | HttpServer>(s: T): Promise<number> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as AddressInfo).port;
}

/** Echoes; or, when the first line is `blob N`, sends N bytes and closes. */
const echoServer = () =>
  listen(
    createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => undefined);
      s.once('data', (d) => {
        const m = /^blob (\d+)/.exec(d.toString());
        if (m) s.end(Buffer.alloc(Number(m[1]), 120));
        else {
          s.write(d);
          s.pipe(s);
        }
      });
    }),
  );

async function proxyTo(port: number, name = 'p'): Promise<FaultProxy> {
  return collection.add({ name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${port}`, enabled: true });
}
const portOf = (p: FaultProxy) => Number(p.listen.split(':').pop());

interface Exchange {
  data: Buffer;
  chunks: number;
  ms: number;
  firstByteMs: number;
  error?: string | undefined;
}
/** Sends `send`, reads until the server closes (or error); measures. */
function exchange(port: number, send: string, opts: { endAfterSend?: boolean } = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    const started = performance.now();
    const parts: Buffer[] = [];
    let firstByteMs = -1;
    const s: Socket = connect({ port, host: '127.0.0.1' }, () => {
      s.write(send);
      if (opts.endAfterSend) s.end();
    });
    s.on('data', (d) => {
      if (firstByteMs < 0) firstByteMs = performance.now() - started;
      parts.push(d);
    });
    const done = (error?: string) => resolve({ data: Buffer.concat(parts), chunks: parts.length, ms: performance.now() - started, firstByteMs, error });
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code));
    s.on('close', () => done());
  });
}

/** Round trip of one line through an echo connection. */
function echoOnce(port: number, line = 'ping\n'): Promise<{ ms: number; data: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => {
      const t = performance.now();
      s.write(line);
      s.once('data', (d) => {
        resolve({ ms: performance.now() - t, data: d.toString() });
        s.destroy();
      });
    });
    s.on('error', reject);
  });
}

describe('fault proxy (loopback)', () => {
  it('passes data both ways unchanged with no toxics', async () => {
    const p = await proxyTo(await echoServer());
    const r = await exchange(portOf(p), 'blob 300000');
    expect(r.data.length).toBe(300000);
    expect((await echoOnce(portOf(p), 'hello\n')).data).toBe('hello\n');
  });

  it('latency delays each direction by latency ± jitter', async () => {
    const p = await proxyTo(await echoServer());
    const base = await echoOnce(portOf(p));
    p.addToxic({ type: 'latency', attributes: { latency: 150 } });
    expect(p.toxics[0]).toEqual({ name: 'latency_downstream', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 150, jitter: 0 } });
    const down = await echoOnce(portOf(p));
    expect(down.ms).toBeGreaterThanOrEqual(145);
    p.addToxic({ type: 'latency', stream: 'upstream', attributes: { latency: 100, jitter: 20 } });
    const both = await echoOnce(portOf(p));
    expect(both.ms).toBeGreaterThanOrEqual(225);
    expect(both.ms).toBeLessThan(1500);
    p.resetToxics();
    expect((await echoOnce(portOf(p))).ms).toBeLessThan(base.ms + 50);
  });

  it('toxics change on a connection that is already open', async () => {
    const p = await proxyTo(await echoServer());
    const s = connect({ port: portOf(p), host: '127.0.0.1' });
    await new Promise((r) => s.once('connect', r));
    const rtt = async () => {
      const t = performance.now();
      s.write('x');
      await new Promise((r) => s.once('data', r));
      return performance.now() - t;
    };
    expect(await rtt()).toBeLessThan(100);
    p.addToxic({ name: 'slow', type: 'latency', attributes: { latency: 120 } });
    expect(await rtt()).toBeGreaterThanOrEqual(115);
    p.updateToxic('slow', { attributes: { latency: 10 } });
    expect(await rtt()).toBeLessThan(100);
    p.removeToxic('slow');
    expect(await rtt()).toBeLessThan(100);
    s.destroy();
  });

  it('bandwidth paces the stream at rate KB/s', async () => {
    const p = await proxyTo(await echoServer());
    p.addToxic({ type: 'bandwidth', attributes: { rate: 100 } });
    const r = await exchange(portOf(p), 'blob 60000');
    expect(r.data.length).toBe(60000);
    // 60 000 bytes at 100 KB/s: 600 ms
    expect(r.ms).toBeGreaterThanOrEqual(550);
    expect(r.ms).toBeLessThan(3000);
  });

  it('limit_data closes the connection after exactly that many bytes', async () => {
    const p = await proxyTo(await echoServer());
    p.addToxic({ type: 'limit_data', attributes: { bytes: 1000 } });
    const r = await exchange(portOf(p), 'blob 5000');
    expect(r.data.length).toBe(1000);
    expect(r.error).toBeUndefined();
  });

  it('reset_peer resets the connection (ECONNRESET) after its timeout', async () => {
    const p = await proxyTo(await echoServer());
    p.addToxic({ type: 'reset_peer', stream: 'upstream', attributes: { timeout: 200 } });
    const r = await exchange(portOf(p), 'hello');
    expect(r.error).toBe('ECONNRESET');
    expect(r.data.length).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(190);
  });

  it('timeout lets no data through and closes after the timeout', async () => {
    const p = await proxyTo(await echoServer());
    p.addToxic({ type: 'timeout', attributes: { timeout: 300 } });
    const r = await exchange(portOf(p), 'blob 100');
    expect(r.data.length).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(290);
    expect(r.ms).toBeLessThan(3000);
  });

  it('slicer cuts the stream into small pieces, data intact', async () => {
    const p = await proxyTo(await echoServer());
    p.addToxic({ type: 'slicer', attributes: { average_size: 100, size_variation: 20, delay: 2000 } });
    const r = await exchange(portOf(p), 'blob 3000');
    expect(r.data.length).toBe(3000);
    expect(r.chunks).toBeGreaterThanOrEqual(20);
  });

  it('slow_close delays the close after the data', async () => {
    const p = await proxyTo(await echoServer());
    p.addToxic({ type: 'slow_close', attributes: { delay: 300 } });
    const r = await exchange(portOf(p), 'blob 10');
    expect(r.data.length).toBe(10);
    expect(r.firstByteMs).toBeLessThan(250);
    expect(r.ms).toBeGreaterThanOrEqual(290);
  });

  it('toxicity 0 never applies; toxicity decides per connection', async () => {
    let roll = 0.7;
    const up = await echoServer();
    const p = await collection.add({ name: 'r', listen: '127.0.0.1:0', upstream: `127.0.0.1:${up}`, enabled: true }, { random: () => roll });
    p.addToxic({ type: 'limit_data', toxicity: 0.5, attributes: { bytes: 10 } });
    expect((await exchange(portOf(p), 'blob 100')).data.length).toBe(100); // 0.7 ≥ 0.5: not applied
    roll = 0.2;
    expect((await exchange(portOf(p), 'blob 100')).data.length).toBe(10);
  });

  it('down (enabled=false) refuses connections; enabling listens again on the same address', async () => {
    const p = await proxyTo(await echoServer());
    const listen = p.listen;
    await p.update({ enabled: false });
    expect((await exchange(portOf(p), 'x')).error).toBe('ECONNREFUSED');
    await p.update({ enabled: true });
    expect(p.listen).toBe(listen);
    expect((await echoOnce(portOf(p))).data).toBe('ping\n');
  });
});

describe('HTTP faults', () => {
  const httpGet = (port: number, path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string; ms: number; headers: Record<string, unknown> }>((resolve, reject) => {
      const t = performance.now();
      const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - t, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });
  const backend = () => listen(createHttpServer((req, res) => res.end(`ok ${req.url}`)));

  it('without an HTTP fault nothing is parsed: requests pass the plain path and no request is counted', async () => {
    const p = await proxyTo(await backend());
    for (let i = 0; i < 3; i++) expect((await httpGet(portOf(p), `/x${i}`)).status).toBe(200);
    expect(p.httpStats).toMatchObject({ matched: 0, aborted: 0, delayed: 0, passed: 0 });
    // The counter is real: with a fault set (matching nothing here), the gate reads each request.
    p.setHttpFaults([{ match: { path: '/never' }, action: { abort: { status: 500 } } }]);
    for (let i = 0; i < 3; i++) expect((await httpGet(portOf(p), `/y${i}`)).status).toBe(200);
    expect(p.httpStats.passed).toBe(3);
  });

  it('503 for the first 3 requests to /api/*, then 200; other paths untouched', async () => {
    const p = await proxyTo(await backend());
    p.setHttpFaults([{ match: { path: '/api/*' }, action: { abort: { status: 503 } }, first: 3 }]);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      expect((await httpGet(portOf(p), '/other')).status).toBe(200);
      statuses.push((await httpGet(portOf(p), `/api/v1/items?i=${i}`)).status);
    }
    expect(statuses).toEqual([503, 503, 503, 200, 200]);
    expect(p.httpStats.aborted).toBe(3);
  });

  it('matches method, header and re2 paths; delays; custom body and headers; keep-alive order kept', async () => {
    const p = await proxyTo(await backend());
    p.setHttpFaults([
      { match: { method: 'GET', path: 're2:^/slow/\\d+$' }, action: { delayMs: 200 } },
      { match: { headers: { 'x-canary': 'yes*' } }, action: { abort: { status: 418, body: 'teapot', headers: { 'Retry-After': '5' } } } },
    ]);
    const slow = await httpGet(portOf(p), '/slow/12');
    expect(slow.status).toBe(200);
    expect(slow.ms).toBeGreaterThanOrEqual(195);
    expect((await httpGet(portOf(p), '/slow/x')).ms).toBeLessThan(190);
    const tea = await httpGet(portOf(p), '/', { 'X-Canary': 'yes-please' });
    expect([tea.status, tea.body, tea.headers['retry-after']]).toEqual([418, 'teapot', '5']);
    expect((await httpGet(portOf(p), '/', { 'X-Canary': 'no' })).status).toBe(200);

    // Two pipelined requests on one connection: the second is aborted after the first's answer.
    const raw = await exchange(portOf(p), 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nX-Canary: yes\r\n\r\n');
    const text = raw.data.toString();
    expect(text.indexOf('ok /a')).toBeGreaterThan(0);
    expect(text.indexOf('418')).toBeGreaterThan(text.indexOf('ok /a'));
  });

  it('percentage picks that share of matching requests', async () => {
    const rolls = [0.1, 0.9, 0.3, 0.8];
    let i = 0;
    const up = await backend();
    const p = await collection.add({ name: 'pct', listen: '127.0.0.1:0', upstream: `127.0.0.1:${up}`, enabled: true }, { random: () => rolls[i++ % rolls.length]! });
    p.setHttpFaults([{ match: {}, action: { abort: { status: 500 } }, percent: 50 }]);
    const got = [];
    for (let k = 0; k < 4; k++) got.push((await httpGet(portOf(p), '/')).status);
    expect(got).toEqual([500, 200, 500, 200]);
  });

  it('passes TLS through untouched', async () => {
    const p = await proxyTo(await echoServer());
    p.setHttpFaults([{ match: {}, action: { abort: { status: 503 } } }]);
    const hello = '\x16\x03\x01 pretend client hello';
    expect((await echoOnce(portOf(p), hello)).data).toBe(hello);
    expect(p.httpStats.tlsPassedThrough).toBe(1);
  });
});
