import fc from 'fast-check';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRegistry } from '../units/index.js';
import { FailureThrottle, hubSignature } from './auth.js';
import { EventBus } from './bus.js';
import { parseTarget, startServer, type RunningServer } from './http.js';

/**
 * The daemon attacked on loopback, in process: every loop is bounded and ends by itself. (The
 * attacks that measure memory run against a spawned daemon: test/cli/serve-attack.docker.test.ts.)
 */

const TOKEN = 'attack-token-0123456789abcdef';
const SECRET = 'attack-webhook-secret';
let server: RunningServer;
let port = 0;
let base = '';
const logs: string[] = [];
const bus = new EventBus();
// The default throttle, with a lower ceiling so the suite stays quick.
const throttle = new FailureThrottle({ maxDelayMs: 800 });

beforeAll(async () => {
  server = await startServer({
    token: TOKEN,
    registry: new MemoryRegistry(),
    listen: '127.0.0.1:0',
    bus,
    webhookSecret: SECRET,
    throttle,
    sse: { heartbeatMs: 60_000, maxStreamsPerClient: 1000 },
    log: (level, msg, data) => void logs.push(JSON.stringify({ level, msg, ...data })),
  });
  base = server.addresses[0]!;
  port = Number(new URL(base).port);
});
afterAll(() => server.close());

/** Writes raw bytes on a fresh connection; resolves with what came back before close (or 3 s). */
export function raw(p: number, bytes: string | Buffer, options: { waitMs?: number; endAfterWrite?: boolean } = {}): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(p, '127.0.0.1');
    let out = '';
    const done = () => {
      clearTimeout(t);
      clearTimeout(settle);
      s.destroy();
      resolve(out);
    };
    const t = setTimeout(done, options.waitMs ?? 3000);
    let settle: NodeJS.Timeout | undefined;
    s.on('data', (d) => {
      out += d.toString('latin1');
      // a complete head: give the body a moment, then stop waiting (keep-alive leaves the socket open)
      if (out.includes('\r\n\r\n') && !settle) settle = setTimeout(done, 100);
    });
    s.on('close', done);
    s.on('error', done);
    s.write(bytes, () => {
      if (options.endAfterWrite) s.end();
    });
  });
}

const statusOf = (response: string) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(response)?.[1] ?? 0);

async function healthy(): Promise<boolean> {
  const r = await fetch(`http://127.0.0.1:${port}/healthz`);
  return r.status === 200 && ((await r.json()) as { status: string }).status === 'ok';
}

describe('item 1: no request can crash the daemon', () => {
  it('`GET http://[ HTTP/1.1` (the crash of issue 13) gets 400 and the daemon keeps serving', async () => {
    const r = await raw(port, 'GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(statusOf(r)).toBe(400);
    expect(await healthy()).toBe(true);
    // the same over every target shape the URL parser rejects
    for (const target of ['http://[', 'https://[::1', 'http://a:99999/', '*', 'x', '//', 'http://%zz/']) {
      const s = statusOf(await raw(port, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`));
      expect(s, target).toBeGreaterThanOrEqual(400);
      expect(s, target).toBeLessThan(500);
    }
    expect(await healthy()).toBe(true);
  });

  it('parses request targets: origin-form and absolute-form; the rest throws', () => {
    expect(parseTarget('/fleet/v1/units?alt=json').pathname).toBe('/fleet/v1/units');
    expect(parseTarget('http://example.com/healthz?x=1').pathname).toBe('/healthz');
    expect(parseTarget('//evil.example/x').host).toBe('kiboko.local');
    for (const bad of ['http://[', '*', 'example.com:80', '']) expect(() => parseTarget(bad), bad).toThrow();
  });

  it('fuzzed request lines and headers (raw socket) get a 4xx or a closed connection, never a 5xx, and the daemon keeps serving (property)', async () => {
    const methods = fc.oneof(fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'), fc.stringMatching(/^[A-Za-z!#$%&'*+.^_`|~-]{1,12}$/));
    const targetChars = fc.constantFrom(...'/[]:@?#%&=.+*\\ \t"<>{}|^`~!$\'(),;azAZ09-_'.split(''), '%zz', '%00', '%ff', 'http://', 'https://', '\u00e9', '..');
    const target = fc.oneof(
      fc.array(targetChars, { maxLength: 40 }).map((a) => a.join('')),
      fc.constantFrom('/', '/healthz', '/fleet/v1/units', '/v1/events', '/hooks/deploy', '/dashboard/login', '/metrics'),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
    );
    const version = fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', '', 'HTTP/9');
    const headerName = fc.oneof(fc.constantFrom('Host', 'Content-Length', 'Transfer-Encoding', 'Authorization', 'Cookie', 'Last-Event-ID', 'X-Hub-Signature-256', 'Content-Type', 'Expect', 'Connection'), fc.stringMatching(/^[\x21-\x7e]{0,20}$/));
    const headerValue = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.constantFrom('chunked', '-1', '99999999999999999999', 'Bearer ', `Bearer ${TOKEN}`, 'kiboko_session=x', '100-continue', 'sha256=zz', 'application/json', '1e3', 'gzip, chunked'),
    );
    const header = fc.tuple(headerName, headerValue).map(([n, v]) => `${n}: ${v}`);
    const body = fc.string({ maxLength: 80 });
    await fc.assert(
      fc.asyncProperty(methods, target, version, fc.array(header, { maxLength: 6 }), body, async (m, t, v, hs, b) => {
        const request = `${m} ${t} ${v}\r\n${hs.join('\r\n')}${hs.length ? '\r\n' : ''}\r\n${b}`;
        const s = statusOf(await raw(port, request, { waitMs: 400, endAfterWrite: true }));
        // 0: the connection closed (or the request waits for more body); anything else must not be a 5xx
        expect(s === 0 || s < 500, JSON.stringify(request)).toBe(true);
      }),
      { numRuns: 200, seed: 1313 },
    );
    expect(await healthy()).toBe(true);
    expect(logs.some((l) => l.includes('request handler failed'))).toBe(false);
  }, 60_000);
});

describe('item 2: throttling slows guessing but never refuses a valid credential', () => {
  it('after 20 bad tokens from 127.0.0.1 the right token works at once; the bad ones are answered 401, late', async () => {
    const started = Date.now();
    const bad = Array.from({ length: 20 }, (_, i) => fetch(`${base}/fleet/v1/units`, { headers: { authorization: `Bearer wrong-token-${i}-xxxxxxxxxx` } }).then(async (r) => ({ status: r.status, ms: Date.now() - started, body: await r.text() })));
    await new Promise((r) => setTimeout(r, 50)); // the failures are in
    const t0 = Date.now();
    const good = await fetch(`${base}/fleet/v1/units`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const goodMs = Date.now() - t0;
    expect(good.status).toBe(200);
    expect(goodMs).toBeLessThan(300);
    const answers = await Promise.all(bad);
    expect(answers.every((a) => a.status === 401)).toBe(true);
    expect(Math.max(...answers.map((a) => a.ms))).toBeGreaterThanOrEqual(700); // the later failures waited
    // and still, after all of them, at once
    const t1 = Date.now();
    expect((await fetch(`${base}/fleet/v1/units`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect(Date.now() - t1).toBeLessThan(300);
    expect(logs.join('\n')).not.toContain('wrong-token-');
  });
});

describe('item 3: credentials before bodies; small limits; 413 delivered', () => {
  const big = Buffer.alloc(2 * 1024 * 1024, 'a');

  it('a 2 MiB body with the token gets 413 (a response, not a reset), and the connection stays usable', async () => {
    const r = await fetch(`${base}/fleet/v1/units/x.service`, { method: 'PUT', body: big, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } });
    expect(r.status).toBe(413);
    expect(await r.json()).toEqual({ error: { code: 413, message: 'request body too large' } });
    // the same sent chunked (no Content-Length): counted as it streams
    const chunked = await fetch(`${base}/v1/deploys`, {
      method: 'POST',
      duplex: 'half',
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 32; i++) c.enqueue(big.subarray(0, 64 * 1024));
          c.close();
        },
      }),
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('without a credential, a 2 MiB body is never read: 401 for the API, 413 for the small unauthenticated forms', async () => {
    expect((await fetch(`${base}/fleet/v1/units/x.service`, { method: 'PUT', body: big, headers: { 'content-type': 'application/json' } })).status).toBe(401);
    const hook = await fetch(`${base}/hooks/deploy`, { method: 'POST', body: big, headers: { 'content-type': 'application/json', 'x-hub-signature-256': hubSignature(big, SECRET) } });
    expect(hook.status).toBe(413);
    const login = await fetch(`${base}/dashboard/login`, { method: 'POST', body: big, headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
    expect(login.status).toBe(413);
  });

  it('unauthenticated bodies reserve their declared length: past the 1 MiB budget the next is refused (503) unread; chunked ones get 411', async () => {
    const head = (len: number) => `POST /hooks/deploy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256=${'0'.repeat(64)}\r\nContent-Length: ${len}\r\n\r\n`;
    const holders: import('node:net').Socket[] = [];
    try {
      // 16 × 64 KiB declared (and never sent) reserve the whole budget
      await Promise.all(
        Array.from({ length: 16 }, () => new Promise<void>((resolve) => {
          const s = connect(port, '127.0.0.1', () => s.write(head(64 * 1024), () => resolve()));
          s.on('error', () => undefined);
          holders.push(s);
        })),
      );
      await new Promise((r) => setTimeout(r, 200));
      const refused = await raw(port, head(1024) + 'x'.repeat(1024), { waitMs: 2000 });
      expect(statusOf(refused)).toBe(503);
      expect(refused).toMatch(/retry-after: 5/i);
      expect(refused).toMatch(/"BUSY"/);
    } finally {
      for (const s of holders) s.destroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    // their reservations are given back when they go away
    const body = '{"service":"x"}';
    expect(statusOf(await raw(port, head(body.length) + body))).toBe(401);
    const chunked = await raw(port, `POST /hooks/deploy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256=${'0'.repeat(64)}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`);
    expect(statusOf(chunked)).toBe(411);
    expect(chunked).toMatch(/"LENGTH_REQUIRED"/);
  });

  it('a slow unauthenticated body is cut off; a raw 413 arrives before the sender finishes', async () => {
    const r = await raw(port, `POST /hooks/deploy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256=${'0'.repeat(64)}\r\nContent-Length: 2097152\r\n\r\n{"service":`, { waitMs: 1500 });
    expect(statusOf(r)).toBe(413);
  });
});

describe('item 4: event streams are capped and bounded', () => {
  it('one client may hold 1,000 streams; the 1,001st is refused with 429; a closed one frees its place', async () => {
    const sockets: import('node:net').Socket[] = [];
    const idle = bus.subscribers; // the metrics' own subscription
    try {
      const open = () =>
        new Promise<{ status: number; socket: import('node:net').Socket }>((resolve) => {
          const s = connect(port, '127.0.0.1');
          let out = '';
          s.on('data', (d) => {
            out += d.toString();
            if (out.includes('\r\n\r\n')) resolve({ status: statusOf(out), socket: s });
          });
          s.on('error', () => resolve({ status: 0, socket: s }));
          s.write(`GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
        });
      for (let i = 0; i < 10; i++) {
        const batch = await Promise.all(Array.from({ length: 100 }, open));
        for (const b of batch) sockets.push(b.socket);
        expect(batch.every((b) => b.status === 200)).toBe(true);
      }
      expect(bus.subscribers - idle).toBe(1000);
      const extra = await open();
      sockets.push(extra.socket);
      expect(extra.status).toBe(429);
      sockets.shift()!.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const again = await open();
      sockets.push(again.socket);
      expect(again.status).toBe(200);
    } finally {
      for (const s of sockets) s.destroy();
    }
    for (let i = 0; i < 50 && bus.subscribers > idle; i++) await new Promise((r) => setTimeout(r, 20));
    expect(bus.subscribers).toBe(idle);
  }, 60_000);

  it('a reader that does not read is dropped once its unsent output passes the per-stream bound', async () => {
    const s = connect(port, '127.0.0.1');
    const idle = bus.subscribers;
    try {
      await new Promise<void>((resolve) => {
        s.once('data', () => resolve());
        s.write(`GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
      });
      s.pause(); // never reads again
      const before = bus.subscribers;
      expect(before).toBe(idle + 1);
      const filler = 'x'.repeat(16 * 1024);
      // bounded: at most 64 MiB offered; the socket buffers of loopback hold a few MiB
      for (let i = 0; i < 4096 && bus.subscribers === before; i++) {
        bus.publish('test.filler', { filler, i });
        if (i % 64 === 0) await new Promise((r) => setImmediate(r));
      }
      expect(bus.subscribers).toBe(idle);
    } finally {
      s.destroy();
    }
  }, 30_000);
});
