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
  server = await startServer({ token: TOKEN, registry: new MemoryRegistry(), listen: '127.0.0.1:0' });
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

  it('fuzzed paths and bodies with a valid token get 4xx JSON errors, never a 5xx (property)', async () => {
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

  it('throttles a client after repeated failures, for a while', () => {
    let t = 0;
    const th = new FailureThrottle(3, 60_000, 30_000, () => t);
    expect(th.fail('a')).toBe(false);
    expect(th.fail('a')).toBe(false);
    expect(th.fail('a')).toBe(true);
    expect(th.blocked('a')).toBe(true);
    expect(th.blocked('b')).toBe(false);
    t += 30_001;
    expect(th.blocked('a')).toBe(false);
  });
});
