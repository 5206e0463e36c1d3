import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { FakeEngine } from '../engine/index.js';
import { startServer, type RunningServer } from '../server/index.js';
import { httpError, parseEndpoint, UnitsClient } from './client.js';
import { MemoryRegistry } from './memory.js';

/** The client against the real HTTP server (in process), the in-memory registry, on a unix socket. */
const TOKEN = 'client-test-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'kiboko-client-'));
const socket = join(dir, 'kiboko.sock');
const engine = new FakeEngine();
const registry = new MemoryRegistry();
let server: RunningServer;
const client = new UnitsClient({ endpoint: `unix://${socket}`, token: TOKEN });

const exec = (name: string) => [
  { section: 'Unit', name: 'Description', value: `unit ${name}` },
  { section: 'Service', name: 'ExecStart', value: `/usr/bin/docker run --name ${name} repo/app:1` },
];

async function caught(p: Promise<unknown>): Promise<KibokoError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(KibokoError);
    return err as KibokoError;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  server = await startServer({ token: TOKEN, registry, engine, socket, listen: '127.0.0.1:0' });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('parseEndpoint', () => {
  it('reads http, https and unix endpoints', () => {
    expect(parseEndpoint('http://127.0.0.1:8555')).toEqual({ kind: 'http', host: '127.0.0.1', port: 8555, basePath: '', url: 'http://127.0.0.1:8555' });
    expect(parseEndpoint('https://fleet.example/api/')).toMatchObject({ kind: 'https', host: 'fleet.example', port: 443, basePath: '/api' });
    expect(parseEndpoint('http://[::1]:9')).toMatchObject({ host: '::1', port: 9 });
    expect(parseEndpoint('unix:///run/kiboko/kiboko.sock')).toEqual({ kind: 'unix', socketPath: '/run/kiboko/kiboko.sock', url: 'unix:///run/kiboko/kiboko.sock' });
  });

  it('refuses what it cannot reach, saying what it expected', () => {
    for (const [text, msg] of [
      ['unix://run/kiboko.sock', /third slash|unix:\/\/\/run/],
      ['tcp://127.0.0.1:1', /expected the scheme http, https or unix, got 'tcp'/],
      ['127.0.0.1:8555', /expected|scheme/],
      ['not a url', /expected a URL/],
      ['http://h:1/?x=1', /no query/],
    ] as const) {
      let err: unknown;
      try {
        parseEndpoint(text);
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(KibokoError);
      expect((err as KibokoError).code).toBe('INVALID_ARGUMENT');
      expect((err as KibokoError).message, text).toMatch(msg);
    }
  });
});

describe('UnitsClient over a unix socket', () => {
  it('creates, reads, changes the state of and deletes a unit (201, 204, 404)', async () => {
    expect(await client.createUnit({ name: 'web.service', options: exec('web'), desiredState: 'inactive' })).toBe('created');
    expect(await client.getUnit('web.service')).toMatchObject({ name: 'web.service', desiredState: 'inactive', options: exec('web') });
    // The same contents again: a plain state change (fleet answers 204).
    expect(await client.createUnit({ name: 'web.service', options: exec('web'), desiredState: 'loaded' })).toBe('state-changed');
    await client.setDesiredState('web.service', 'launched');
    expect(await client.getUnit('web.service')).toMatchObject({ desiredState: 'launched', currentState: 'launched', machineID: 'local' });
    expect(await client.listStates({ unitName: 'web.service' })).toEqual([
      expect.objectContaining({ name: 'web.service', systemdActiveState: 'active', systemdSubState: 'running', machineID: 'local' }),
    ]);
    expect(await client.deleteUnit('web.service')).toBe(true);
    expect(await client.deleteUnit('web.service')).toBe(false);
    expect(await client.getUnit('web.service')).toBeUndefined();
  });

  it('follows nextPageToken through every page of units and states', async () => {
    const names = Array.from({ length: 250 }, (_, i) => `page-${String(i).padStart(3, '0')}.service`);
    for (const n of names) await registry.put({ name: n, options: exec(n.split('.')[0]!), desiredState: 'launched' });
    const first = await client.listUnitsPage();
    expect(first.units).toHaveLength(100);
    expect(first.nextPageToken).toBeTruthy();
    const all = await client.listUnits();
    expect(all.map((u) => u.name).filter((n) => n.startsWith('page-'))).toEqual(names);
    expect((await client.listStates()).filter((s) => s.name.startsWith('page-'))).toHaveLength(250);
    expect(await client.listStates({ machineID: 'nope' })).toEqual([]);
    for (const n of names) await registry.remove(n);
  });

  it('lists machines and answers /healthz', async () => {
    expect(await client.listMachines()).toEqual([{ id: 'local', primaryIP: '127.0.0.1', metadata: {} }]);
    expect(await client.health()).toMatchObject({ status: 'ok' });
  });

  it("maps the server's errors to KibokoErrors with its message, the HTTP status and a hint", async () => {
    const badName = await caught(client.createUnit({ name: 'no-suffix', options: exec('x'), desiredState: 'inactive' }));
    expect(badName.code).toBe('INVALID_ARGUMENT');
    expect(badName.message).toMatch(/invalid unit type suffix/);
    expect(badName.details).toMatchObject({ status: 400 });

    const missing = await caught(client.setDesiredState('ghost.service', 'launched'));
    expect(missing.code).toBe('CONFLICT');
    expect(missing.message).toMatch(/unit does not exist and options field empty/);

    const template = await caught(client.createUnit({ name: 'tpl@.service', options: exec('tpl'), desiredState: 'launched' }));
    expect(template.message).toMatch(/cannot activate template/);

    const noUnit = await caught(client.journal('ghost.service'));
    expect(noUnit.code).toBe('TARGET_NOT_FOUND');
    expect(noUnit.message).toMatch(/unit ghost.service does not exist/);
    expect(noUnit.details).toMatchObject({ status: 404, serverCode: 'TARGET_NOT_FOUND' });

    // The unix socket trusts its file permissions (no token needed); over TCP a wrong token is refused.
    expect(await new UnitsClient({ endpoint: `unix://${socket}`, token: 'wrong-token-wrong-token' }).listUnits()).toBeDefined();
    const wrong = new UnitsClient({ endpoint: server.addresses.find((a) => a.startsWith('http'))!, token: 'wrong-token-wrong-token' });
    const auth = await caught(wrong.listUnits());
    expect(auth.code).toBe('INVALID_ARGUMENT');
    expect(auth.message).toMatch(/missing or invalid bearer token/);
    expect(auth.hint).toMatch(/--token-file|KIBOKO_TOKEN/);
  });

  it('says when the daemon cannot be reached, and cancels requests', async () => {
    const gone = new UnitsClient({ endpoint: `unix://${join(dir, 'nothing.sock')}`, token: TOKEN });
    const e = await caught(gone.listUnits());
    expect(e.code).toBe('ENGINE_UNREACHABLE');
    expect(e.hint).toMatch(/kiboko serve/);

    const ac = new AbortController();
    ac.abort();
    expect((await caught(new UnitsClient({ endpoint: `unix://${socket}`, token: TOKEN, signal: ac.signal }).listUnits())).code).toBe('CANCELLED');
  });

  it('refuses an answer that is not the fleet API', () => {
    const e = httpError(502, '<html>bad gateway</html>', 'GET /fleet/v1/units', 'http://x');
    expect(e.code).toBe('ENGINE_ERROR');
    expect(e.message).toMatch(/bad gateway/);
    const h = httpError(404, { error: { code: 404, message: 'unit x has no container — start it with `kiboko units start x`' } }, 'GET /v1/units/x/journal', 'http://x');
    expect(h.message).toBe('GET /v1/units/x/journal: unit x has no container');
    expect(h.hint).toBe('start it with `kiboko units start x`');
  });
});

describe('journal and container routes (/v1/units/NAME/…)', () => {
  it("reads the unit container's last lines and its record; a unit without one is a clear 404", async () => {
    await client.createUnit({ name: 'logs.service', options: exec('logs'), desiredState: 'inactive' });
    const none = await caught(client.journal('logs.service'));
    expect(none.code).toBe('TARGET_NOT_FOUND');
    expect(none.message).toMatch(/has no container \(current state inactive\)/);
    expect(none.hint).toMatch(/kiboko units start logs.service/);
    expect((await client.container('logs.service')).container).toBeUndefined();

    await client.setDesiredState('logs.service', 'launched');
    const c = engine.add({ name: 'logs', image: 'repo/app:1', labels: { 'kiboko.units.unit': 'logs.service' }, status: 'running' });
    engine.setLogs(c.id, 'one\ntwo\nthree\nfour\n');
    expect(await client.journal('logs.service', { lines: 2 })).toEqual({ unit: 'logs.service', container: { id: c.id, name: 'logs', status: 'running' }, lines: ['three', 'four'] });
    expect((await client.journal('logs.service')).lines).toEqual(['one', 'two', 'three', 'four']);
    expect(await client.container('logs.service')).toMatchObject({
      unit: 'logs.service',
      desiredState: 'launched',
      currentState: 'launched',
      container: { id: c.id, name: 'logs', image: 'repo/app:1', status: 'running', exitCode: 0, restartCount: 0, health: 'none' },
    });
    const bad = await caught(client.journal('logs.service', { lines: -1 as unknown as number }));
    expect(bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).toMatch(/expected a whole number/);
    await client.deleteUnit('logs.service');
  });
});
