import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { fromOptions, serializeUnit } from '../deploy/index.js';
import { fleetUnitBytes, handleFleet, optionsError, type FleetRequest, type UnitOption } from './api.js';
import { MemoryRegistry } from './memory.js';
import { decodePageToken, encodePageToken } from './pagination.js';

const req = (method: string, path: string, body?: unknown, contentType = 'application/json'): FleetRequest => {
  const [p, q] = path.split('?');
  return { method, path: p!, query: new URLSearchParams(q ?? ''), contentType, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) };
};

const dockerUnit = (image: string): UnitOption[] => [
  { section: 'Unit', name: 'Description', value: 'app %i' },
  { section: 'Service', name: 'ExecStartPre', value: '-/usr/bin/docker kill %p-%i' },
  { section: 'Service', name: 'ExecStartPre', value: '-/usr/bin/docker rm %p-%i' },
  { section: 'Service', name: 'ExecStart', value: `/usr/bin/docker run --name %p-%i ${image}` },
  { section: 'Service', name: 'ExecStop', value: '/usr/bin/docker stop %p-%i' },
];

describe('fleet v1 units API semantics', () => {
  it('runs the classic fleet flow: create launched (201), list, scale a new version by instances, delete the old by prefix (204)', async () => {
    const r = new MemoryRegistry();
    for (const n of ['app:1.0.0@1.service', 'app:1.0.0@2.service']) {
      expect((await handleFleet(req('PUT', `/fleet/v1/units/${n}`, { desiredState: 'launched', options: dockerUnit('repo/app:1.0.0') }), r)).status).toBe(201);
    }
    const list = await handleFleet(req('GET', '/fleet/v1/units'), r);
    expect(list.status).toBe(200);
    expect((list.body as { units: { name: string; currentState: string }[] }).units.map((u) => [u.name, u.currentState])).toEqual([
      ['app:1.0.0@1.service', 'launched'],
      ['app:1.0.0@2.service', 'launched'],
    ]);
    for (const n of ['app:2.0.0@1.service', 'app:2.0.0@2.service']) {
      expect((await handleFleet(req('PUT', `/fleet/v1/units/${n}`, { desiredState: 'launched', options: dockerUnit('repo/app:2.0.0') }), r)).status).toBe(201);
    }
    const old = (await r.list()).filter((u) => u.name.startsWith('app:1.0.0'));
    for (const u of old) expect((await handleFleet(req('DELETE', `/fleet/v1/units/${u.name}`), r)).status).toBe(204);
    expect((await r.list()).map((u) => u.name)).toEqual(['app:2.0.0@1.service', 'app:2.0.0@2.service']);
  });

  it('PUT with only desiredState is a state change (204); same options are not a replacement; new options replace (201)', async () => {
    const r = new MemoryRegistry();
    await handleFleet(req('PUT', '/fleet/v1/units/web.service', { desiredState: 'loaded', options: dockerUnit('a:1') }), r);
    expect((await handleFleet(req('PUT', '/fleet/v1/units/web.service', { desiredState: 'launched' }), r)).status).toBe(204);
    expect((await r.get('web.service'))!.desiredState).toBe('launched');
    expect((await handleFleet(req('PUT', '/fleet/v1/units/web.service', { desiredState: 'launched', options: dockerUnit('a:1') }), r)).status).toBe(204);
    expect((await handleFleet(req('PUT', '/fleet/v1/units/web.service', { desiredState: 'launched', options: dockerUnit('a:2') }), r)).status).toBe(201);
  });

  it('answers with fleet’s status codes and error body', async () => {
    const r = new MemoryRegistry();
    const cases: [FleetRequest, number, RegExp][] = [
      [req('PUT', '/fleet/v1/units/new.service', { desiredState: 'launched' }), 409, /unit does not exist and options field empty/],
      [req('PUT', '/fleet/v1/units/x.service', { desiredState: 'launched', options: dockerUnit('a:1') }, 'text/plain'), 415, /application\/json/],
      [req('PUT', '/fleet/v1/units/x.service', '{not json'), 400, /unable to decode body/],
      [req('PUT', '/fleet/v1/units/x.service', { name: 'y.service', desiredState: 'launched', options: dockerUnit('a:1') }), 400, /differs from unit name in request body/],
      [req('PUT', '/fleet/v1/units/x.bogus', { desiredState: 'launched', options: dockerUnit('a:1') }), 400, /invalid unit type suffix/],
      [req('PUT', '/fleet/v1/units/@x.service', { desiredState: 'launched', options: dockerUnit('a:1') }), 400, /starts with @/],
      [req('PUT', '/fleet/v1/units/x.service', { desiredState: 'running', options: dockerUnit('a:1') }), 400, /invalid desiredState/],
      [req('PUT', '/fleet/v1/units/tpl@.service', { desiredState: 'launched', options: dockerUnit('a:1') }), 400, /cannot activate template/],
      [
        req('PUT', '/fleet/v1/units/x.service', { desiredState: 'launched', options: [...dockerUnit('a:1'), { section: 'X-Fleet', name: 'Global', value: 'true' }, { section: 'X-Fleet', name: 'MachineOf', value: 'y.service' }] }),
        400,
        /Global cannot be combined/,
      ],
      [req('GET', '/fleet/v1/units/none.service'), 404, /unit does not exist/],
      [req('DELETE', '/fleet/v1/units/none.service'), 404, /unit does not exist/],
      [req('POST', '/fleet/v1/units/x.service'), 405, /only GET, PUT and DELETE/],
      [req('GET', '/fleet/v1/units?nextPageToken=zzz'), 400, /nextPageToken/],
      [req('GET', '/fleet/v1/nothing'), 404, /not found/],
      [req('GET', '/fleet/v1/units/%zz.service'), 400, /percent-encoding/],
    ];
    for (const [request, status, message] of cases) {
      const res = await handleFleet(request, r);
      expect(res.status, `${request.method} ${request.path}`).toBe(status);
      const err = (res.body as { error: { code: number; message: string } }).error;
      expect(err.code).toBe(status);
      expect(err.message).toMatch(message);
    }
  });

  it('a template may be submitted inactive; its instances launch', async () => {
    const r = new MemoryRegistry();
    expect((await handleFleet(req('PUT', '/fleet/v1/units/hello@.service', { desiredState: 'inactive', options: dockerUnit('a:1') }), r)).status).toBe(201);
    expect((await handleFleet(req('PUT', '/fleet/v1/units/hello@1.service', { desiredState: 'launched', options: dockerUnit('a:1') }), r)).status).toBe(201);
  });

  it('refuses units the backend cannot run, with the backend’s message', async () => {
    const r = new MemoryRegistry(undefined, (_n, options) => (options.some((o) => o.name === 'ExecStart' && !o.value.includes('docker run')) ? 'ExecStart is not a docker run line' : undefined));
    const res = await handleFleet(req('PUT', '/fleet/v1/units/py.service', { desiredState: 'launched', options: [{ section: 'Service', name: 'ExecStart', value: '/usr/bin/python3 -m http.server' }] }), r);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toMatch(/not a docker run line/);
  });

  it('paginates 250 units 100 at a time with fleet’s token; /state and /machines answer; /v1-alpha works too', async () => {
    const r = new MemoryRegistry();
    for (let i = 0; i < 250; i++) await r.put({ name: `u${String(i).padStart(3, '0')}.service`, options: dockerUnit('a:1'), desiredState: 'launched' });
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const res = await handleFleet(req('GET', `/fleet/v1/units${token ? `?nextPageToken=${encodeURIComponent(token)}` : ''}`), r);
      const b = res.body as { units: { name: string }[]; nextPageToken?: string };
      seen.push(...b.units.map((u) => u.name));
      token = b.nextPageToken;
    } while (token);
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
    const states = await handleFleet(req('GET', '/fleet/v1/state?unitName=u007.service'), r);
    expect((states.body as { states: { name: string; systemdSubState: string }[] }).states).toEqual([expect.objectContaining({ name: 'u007.service', systemdSubState: 'running' })]);
    expect(((await handleFleet(req('GET', '/fleet/v1/machines'), r)).body as { machines: unknown[] }).machines).toHaveLength(1);
    expect((await handleFleet(req('GET', '/v1-alpha/units/u001.service'), r)).status).toBe(200);
    expect((await handleFleet(req('GET', '/fleet/v1/discovery'), r)).status).toBe(200);
  });

  it('page tokens are fleet’s: padded base64url of little-endian {limit 100, page}; the first token names page 2', async () => {
    // Go: base64.URLEncoding.EncodeToString([]byte{100, 0, 2, 0}) == "ZAACAA=="
    expect(encodePageToken(2)).toBe('ZAACAA==');
    expect(decodePageToken('ZAACAA==')).toEqual({ page: 2 });
    expect(decodePageToken(encodePageToken(3))).toEqual({ page: 3 });
    expect(decodePageToken('ZAACAA')).toEqual({ error: 'invalid value of nextPageToken query parameter' }); // Go's decoder wants the padding
    expect(decodePageToken(encodePageToken(3, 50))).toEqual({ error: 'token limit must be 100' });
    expect(decodePageToken(encodePageToken(0))).toEqual({ error: 'token page must be greater than zero' });
    const r = new MemoryRegistry();
    for (let i = 0; i < 100; i++) await r.put({ name: `u${String(i).padStart(3, '0')}.service`, options: dockerUnit('a:1'), desiredState: 'inactive' });
    const first = (await handleFleet(req('GET', '/fleet/v1/units'), r)).body as { units: unknown[]; nextPageToken?: string };
    expect(first.units).toHaveLength(100);
    expect(first.nextPageToken).toBe('ZAACAA=='); // fleet's arithmetic: a full page always has a next token…
    const second = (await handleFleet(req('GET', `/fleet/v1/units?nextPageToken=${encodeURIComponent(first.nextPageToken!)}`), r)).body as { units: unknown[]; nextPageToken?: string };
    expect(second).toEqual({ units: [] }); // …whose page is empty and has none
    expect((await handleFleet(req('GET', '/fleet/v1/units?nextPageToken=ZAACAA%3D%3D&nextPageToken=ZAACAA%3D%3D'), r)).status).toBe(400);
  });

  it('a PUT creating a unit with options only (fleetctl’s body) stores it inactive: 201; an existing unit needs desiredState: 409', async () => {
    const r = new MemoryRegistry();
    expect((await handleFleet(req('PUT', '/fleet/v1/units/x.service', { name: 'x.service', options: dockerUnit('a:1') }), r)).status).toBe(201);
    expect((await r.get('x.service'))!.desiredState).toBe('inactive');
    const again = await handleFleet(req('PUT', '/fleet/v1/units/x.service', { options: dockerUnit('a:1') }), r);
    expect(again.status).toBe(409);
    expect(JSON.stringify(again.body)).toMatch(/must provide DesiredState to update existing unit/);
    expect((await handleFleet(req('PUT', '/fleet/v1/units/x.service', { desiredState: 'launched' }), r)).status).toBe(204);
    // New contents under the same name are a new unit (fleetctl --replace): inactive unless said otherwise.
    expect((await handleFleet(req('PUT', '/fleet/v1/units/x.service', { options: dockerUnit('a:2') }), r)).status).toBe(201);
    expect((await r.get('x.service'))!.desiredState).toBe('inactive');
  });

  it('never answers 5xx or throws for arbitrary names, methods and bodies (property)', async () => {
    const r = new MemoryRegistry();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'PUT', 'DELETE', 'POST', 'PATCH'),
        fc.string({ maxLength: 40 }),
        fc.oneof(fc.json(), fc.string(), fc.record({ desiredState: fc.string(), options: fc.anything() }, { requiredKeys: [] })),
        async (method, name, body) => {
          const res = await handleFleet(req(method, `/fleet/v1/units/${encodeURIComponent(name)}`, typeof body === 'string' ? body : JSON.stringify(body)), r);
          expect(res.status).toBeLessThan(500);
          if (res.status >= 400) expect((res.body as { error: { code: number } }).error.code).toBe(res.status);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('fleet hash bytes', () => {
  it('a value ending in a backslash (fleet accepts it) is stored, hashed as fleet hashes it, and /state still lists every unit', async () => {
    const registry = new MemoryRegistry();
    const odd: UnitOption[] = [
      { section: 'Unit', name: 'Description', value: 'ends in \\' },
      { section: 'Service', name: 'ExecStart', value: '/bin/true' },
    ];
    const put = await handleFleet(req('PUT', '/fleet/v1/units/odd.service', { desiredState: 'launched', options: odd }), registry);
    expect(put.status).toBe(201);
    const other = await handleFleet(req('PUT', '/fleet/v1/units/plain.service', { desiredState: 'launched', options: dockerUnit('busybox') }), registry);
    expect(other.status).toBe(201);
    const state = await handleFleet(req('GET', '/fleet/v1/state'), registry);
    expect(state.status).toBe(200);
    const states = (state.body as { states: { name: string; hash: string }[] }).states;
    expect(states.map((s) => s.name)).toEqual(['odd.service', 'plain.service']);
    const bytes = '[Unit]\nDescription=ends in \\\n\n[Service]\nExecStart=/bin/true\n';
    expect(fleetUnitBytes(odd)).toBe(bytes);
    expect(states[0]!.hash).toBe(createHash('sha1').update(bytes).digest('hex'));
  });

  it('for every unit the unit-file writer can express, the same bytes as that writer', () => {
    const word = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,8}$/);
    const value = fc.stringMatching(/^[^\r\n\\]{0,12}$/).map((v) => v.trim());
    fc.assert(
      fc.property(fc.array(fc.record({ section: fc.constantFrom('Unit', 'Service', 'X-Fleet'), name: word, value }), { maxLength: 8 }), (options) => {
        expect(fleetUnitBytes(options)).toBe(serializeUnit(fromOptions(options)));
      }),
    );
  });
});

describe('optionsError', () => {
  it('names an [X-Fleet] option that is an object property as unrecognized, as fleet does for any unknown name', () => {
    for (const name of ['constructor', '__proto__', 'toString']) {
      expect(optionsError([{ section: 'X-Fleet', name, value: 'x' }])).toBe(`unrecognized requirement in [X-Fleet] section: "${name}"`);
    }
    expect(optionsError([{ section: 'X-Fleet', name: 'Conflicts', value: 'x.service' }])).toBeUndefined();
  });
});

