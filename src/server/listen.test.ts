import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { MemoryRegistry } from '../units/index.js';
import { bindServer, parseListen, startServer } from './http.js';

/** Binding comes first and fails as the user's error, naming the address, with nothing left open. */
const dir = mkdtempSync(join(tmpdir(), 'kiboko-listen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const errorOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err as KibokoError;
  }
  throw new Error('expected a rejection');
};

describe('bindServer', () => {
  it('--listen: HOST:PORT, an empty host is loopback, IPv6 in brackets; anything else is INVALID_ARGUMENT', () => {
    expect(parseListen('127.0.0.1:8555')).toEqual({ host: '127.0.0.1', port: 8555, display: '127.0.0.1' });
    expect(parseListen(':0')).toEqual({ host: '127.0.0.1', port: 0, display: '127.0.0.1' });
    expect(parseListen('[::1]:8555')).toEqual({ host: '::1', port: 8555, display: '[::1]' });
    for (const bad of ['nonsense', '127.0.0.1', '127.0.0.1:99999', '127.0.0.1:-1', 'a b:80', 'http://x:80', '']) {
      expect(() => parseListen(bad), bad).toThrow(KibokoError);
      expect(() => parseListen(bad)).toThrow(/expected HOST:PORT/);
    }
  });

  it('a taken port: INVALID_ARGUMENT naming the address, and the unix socket bound before it is closed again', async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const socket = join(dir, 'a.sock');
    try {
      const err = await errorOf(bindServer({ listen: `127.0.0.1:${port}`, socket }));
      expect(err).toBeInstanceOf(KibokoError);
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toBe(`cannot listen on 127.0.0.1:${port}: the address is already in use`);
      expect(err.hint).toContain(`sport = :${port}`);
      // the socket it had bound is closed: a second bind of it works
      const again = await bindServer({ socket });
      await again.close();
    } finally {
      taken.close();
    }
  });

  it('another daemon’s live socket is never taken over; a stale socket file is replaced', async () => {
    const socket = join(dir, 'b.sock');
    const first = await startServer({ token: 't'.repeat(32), registry: new MemoryRegistry(), socket });
    try {
      const err = await errorOf(bindServer({ socket }));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toBe(`another daemon is already listening on ${socket}`);
    } finally {
      await first.close();
    }
    const stale = join(dir, 'c.sock');
    writeFileSync(stale, '');
    const b = await bindServer({ socket: stale });
    expect(b.addresses).toEqual([`unix://${stale}`]);
    await b.close();
  });

  it('until started, a bound listener answers 503 (and then serves)', async () => {
    const b = await bindServer({ listen: '127.0.0.1:0' });
    try {
      const r = await fetch(`${b.addresses[0]}/healthz`);
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
      const running = b.start({ token: 't'.repeat(32), registry: new MemoryRegistry() });
      expect((await fetch(`${running.addresses[0]}/healthz`)).status).toBe(200);
    } finally {
      await b.close();
    }
  });

  it('an unreadable --tls-cert is a user error, not a crash', async () => {
    const err = await errorOf(bindServer({ listen: '127.0.0.1:0', tls: { cert: join(dir, 'none.pem'), key: join(dir, 'none.key') } }));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/^cannot read --tls-cert .*none\.pem: ENOENT$/);
  });
});
