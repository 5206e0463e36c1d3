import fc from 'fast-check';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRegistry } from '../units/index.js';
import { FailureThrottle, loadOrCreateToken, tokenMatches } from './auth.js';
import { startServer, type RunningServer } from './http.js';

const TOKEN = 'test-token-0123456789abcdef';
let server: RunningServer;
let base = '';

beforeAll(async () => {
  server = await startServer({ token: TOKEN, registry: new MemoryRegistry(), listen: '127.0.0.1:0', throttle: new FailureThrottle({ freeFailures: 1000, globalPerSecond: 1000 }) });
  base = server.addresses[0]!;
});
afterAll(() => server.close());

const call = (path: string, init: RequestInit & { token?: string | null } = {}) =>
  fetch(`${base}${path}`, {
    ...init,
    headers: { ...(init.token === null ? {} : { authorization: `Bearer ${init.token ?? TOKEN}` }), ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) },
  });

describe('kiboko serve: HTTP edge', () => {
  it('/healthz answers without a token; every other endpoint needs it (401 with a JSON error)', async () => {
    expect((await call('/healthz', { token: null })).status).toBe(200);
    for (const p of ['/fleet/v1/units', '/fleet/v1/state', '/fleet/v1/machines', '/fleet/v1/discovery', '/v1-alpha/units', '/nope', '/']) {
      const r = await call(p, { token: null });
      expect(r.status, p).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await r.json()).toEqual({ error: { code: 401, message: 'missing or invalid bearer token' } });
    }
    expect((await call('/fleet/v1/units', { token: 'wrong-token-xxxxxxxxxxxx' })).status).toBe(401);
  });

  it('serves the fleet API with the token', async () => {
    const put = await call('/fleet/v1/units/web.service', {
      method: 'PUT',
      body: JSON.stringify({ desiredState: 'launched', options: [{ section: 'Service', name: 'ExecStart', value: '/usr/bin/docker run --name web repo/web:1' }] }),
    });
    expect(put.status).toBe(201);
    const list = (await (await call('/fleet/v1/units')).json()) as { units: { name: string }[] };
    expect(list.units.map((u) => u.name)).toContain('web.service');
  });

  it('fuzzed paths and bodies with a valid token get 4xx JSON errors, never a 5xx (property)', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'PUT', 'DELETE', 'POST'), fc.stringMatching(/^[A-Za-z0-9@:._%-]{0,30}$/), fc.string({ maxLength: 200 }), async (method, name, body) => {
        const r = await call(`/fleet/v1/units/${name}`, { method, ...(method === 'PUT' || method === 'POST' ? { body } : {}) });
        expect(r.status).toBeLessThan(500);
        if (r.status >= 400) expect(((await r.json()) as { error: { code: number } }).error.code).toBe(r.status);
        else await r.arrayBuffer();
      }),
      { numRuns: 150 },
    );
  });
});

describe('auth pieces', () => {
  it('creates the token file owner-only on first start and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiboko-token-'));
    const file = join(dir, 'sub', 'serve.token');
    const a = loadOrCreateToken(file);
    expect(a.created).toBe(true);
    expect(a.token.length).toBeGreaterThanOrEqual(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateToken(file)).toEqual({ token: a.token, created: false });
    rmSync(dir, { recursive: true, force: true });
  });

  it('compares tokens exactly (any difference, any length)', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(tokenMatches(TOKEN.slice(1), TOKEN)).toBe(false);
    expect(tokenMatches(undefined, TOKEN)).toBe(false);
  });

  it('throttles failures by delaying them: per client after free ones, doubling to a ceiling, forgotten after the window', () => {
    let t = 0;
    const th = new FailureThrottle({ freeFailures: 2, baseDelayMs: 100, maxDelayMs: 1000, windowMs: 60_000, globalPerSecond: 1000, now: () => t });
    expect([th.fail('a'), th.fail('a'), th.fail('a'), th.fail('a'), th.fail('a'), th.fail('a'), th.fail('a')]).toEqual([0, 0, 100, 200, 400, 800, 1000]);
    expect(th.fail('b')).toBe(0);
    t += 60_001;
    expect(th.fail('a')).toBe(0); // forgotten
    expect(th.size).toBe(1); // b expired too
  });

  it('bounds guessing across addresses (a global rate) and the size of its table', () => {
    let t = 5_000;
    const th = new FailureThrottle({ globalPerSecond: 10, maxDelayMs: 5000, maxClients: 100, now: () => t });
    const delays = Array.from({ length: 20_000 }, (_, i) => th.fail(`10.0.${i >> 8}.${i & 255}`));
    expect(delays.slice(0, 10).every((d) => d === 0)).toBe(true);
    expect(delays.slice(10).every((d) => d === 5000)).toBe(true);
    expect(th.size).toBe(100);
    t += 1000;
    expect(th.fail('10.9.9.9')).toBe(0); // a new second
  });

  it('refuses at once, rather than hold ever more answers back', async () => {
    const th = new FailureThrottle({ freeFailures: 0, baseDelayMs: 50, maxPending: 2 });
    const held = [th.hold(th.fail('a') as number), th.hold(th.fail('a') as number)];
    expect(th.pending).toBe(2);
    expect(th.fail('a')).toBe('refuse');
    await Promise.all(held);
    expect(th.pending).toBe(0);
  });
});
