import fc from 'fast-check';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRegistry } from '../units/index.js';
import { parseTarget, startServer, type RunningServer } from './http.js';

/**
 * The daemon attacked on loopback, in process: every loop is bounded and ends by itself. (The
 * attacks that measure memory run against a spawned daemon: test/cli/serve-attack.docker.test.ts.)
 */

const TOKEN = 'attack-token-0123456789abcdef';
let server: RunningServer;
let port = 0;
const logs: string[] = [];

beforeAll(async () => {
  server = await startServer({ token: TOKEN, registry: new MemoryRegistry(), listen: '127.0.0.1:0', log: (level, msg, data) => void logs.push(JSON.stringify({ level, msg, ...data })) });
  port = Number(new URL(server.addresses[0]!).port);
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
