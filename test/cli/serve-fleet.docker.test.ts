import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { docker, IMAGE, startCli, waitFor, type CliProcess } from '../helpers.js';

/**
 * The acceptance flow, driven as fleet users drive fleet (curl-like requests, here fetch):
 * units with ExecStartPre/ExecStart/ExecStop using %p/%i, a new version scaled by instances, the
 * old version deleted by name prefix; then a failed start, Conflicts, and a template instance.
 */
const stateDir = mkdtempSync(join(tmpdir(), 'kiboko-serve-fleet-'));
const APP = `ktfleet${Math.random().toString(16).slice(2, 6)}`;
let daemon: CliProcess | undefined;

async function startDaemon(): Promise<{ base: string; token: string }> {
  daemon = startCli(['serve', '--listen', '127.0.0.1:0', '--metadata', 'role=test'], { stateDir });
  await daemon.waitForOutput('"event":"listening"');
  const line = JSON.parse(daemon.stdout().split('\n').find((l) => l.includes('"listening"'))!);
  return { base: line.addresses[0], token: readFileSync(line.tokenFile, 'utf8').trim() };
}

/** Unit containers of this file, by the unit label kiboko puts on them. */
const unitContainers = async () =>
  (await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['kiboko.units.unit'] }) })).filter((c) => c.Labels['kiboko.units.unit']!.startsWith(APP));

afterAll(async () => {
  if (daemon && daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
  for (const c of await unitContainers()) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  rmSync(stateDir, { recursive: true, force: true });
});

// PID 1 leaves on SIGTERM at once, so docker stop is quick.
const RUN = `${IMAGE} sh -c "trap 'exit 0' TERM; while true; do sleep 0.2; done"`;
const versioned = (version: string) => [
  { section: 'Unit', name: 'Description', value: `${APP} %i` },
  { section: 'Service', name: 'ExecStartPre', value: '-/usr/bin/docker kill %p-%i' },
  { section: 'Service', name: 'ExecStartPre', value: '-/usr/bin/docker rm %p-%i' },
  { section: 'Service', name: 'ExecStart', value: `/usr/bin/docker run --name %p-%i -e VERSION=${version} -e UNIT=%n ${RUN}` },
  { section: 'Service', name: 'ExecStop', value: '/usr/bin/docker stop %p-%i' },
];

describe('kiboko serve: the classic fleet flow on the real engine', () => {
  it('PUT (201) → launched; scale a new version by instances; DELETE the old by prefix (204); failed start and Conflicts visible', async () => {
    const { base, token } = await startDaemon();
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
    const put = (name: string, body: unknown) => api(`/fleet/v1/units/${encodeURIComponent(name)}`, { method: 'PUT', body: JSON.stringify(body) });
    const units = async () => ((await (await api('/fleet/v1/units')).json()) as { units: { name: string; currentState?: string; message?: string }[] }).units.filter((u) => u.name.startsWith(APP));
    const states = async () => ((await (await api('/fleet/v1/state')).json()) as { states: { name: string; systemdActiveState: string; message?: string }[] }).states;

    for (const i of [1, 2]) {
      const r = await put(`${APP}:1.0.0@${i}.service`, { desiredState: 'launched', options: versioned('1.0.0') });
      expect(r.status, await r.text()).toBe(201);
    }
    expect((await units()).map((u) => [u.name, u.currentState])).toEqual([
      [`${APP}:1.0.0@1.service`, 'launched'],
      [`${APP}:1.0.0@2.service`, 'launched'],
    ]);
    const v1 = await unitContainers();
    expect(v1.map((c) => [c.Names[0], c.State]).sort()).toEqual([
      [`/${APP}-1.0.0-1`, 'running'],
      [`/${APP}-1.0.0-2`, 'running'],
    ]);
    // %n is the real unit name (':' and '@' included); only the container name is made Docker-safe.
    const env = (await docker.getContainer(v1[0]!.Id).inspect()).Config.Env;
    expect(env).toEqual(expect.arrayContaining(['VERSION=1.0.0', expect.stringMatching(new RegExp(`^UNIT=${APP}:1\\.0\\.0@[12]\\.service$`))]));

    for (const i of [1, 2]) expect((await put(`${APP}:2.0.0@${i}.service`, { desiredState: 'launched', options: versioned('2.0.0') })).status).toBe(201);
    for (const u of (await units()).filter((x) => x.name.startsWith(`${APP}:1.0.0`))) {
      expect((await api(`/fleet/v1/units/${encodeURIComponent(u.name)}`, { method: 'DELETE' })).status).toBe(204);
    }
    // DELETE is answered once recorded (as fleet); the containers go right after.
    const now = await waitFor(async () => {
      const cs = await unitContainers();
      return cs.length === 2 && cs;
    });
    expect(now.map((c) => [c.Labels['kiboko.units.unit'], c.Names[0], c.State]).sort()).toEqual([
      [`${APP}:2.0.0@1.service`, `/${APP}-2.0.0-1`, 'running'],
      [`${APP}:2.0.0@2.service`, `/${APP}-2.0.0-2`, 'running'],
    ]);
    expect((await units()).map((u) => u.currentState)).toEqual(['launched', 'launched']);

    // A failed ExecStartPre (no `-`) fails the start: visible in the unit and in /state.
    const failing = `${APP}-fail.service`;
    expect(
      (
        await put(failing, {
          desiredState: 'launched',
          options: [
            { section: 'Service', name: 'ExecStartPre', value: `/usr/bin/docker rm ${APP}-not-there` },
            { section: 'Service', name: 'ExecStart', value: `/usr/bin/docker run --name ${APP}-fail ${RUN}` },
          ],
        })
      ).status,
    ).toBe(201);
    const f = (await units()).find((u) => u.name === failing)!;
    expect(f.currentState).toBe('loaded');
    expect(f.message).toMatch(new RegExp(`start failed: ExecStartPre=/usr/bin/docker rm ${APP}-not-there failed`));
    expect((await states()).find((s) => s.name === failing)).toMatchObject({ systemdActiveState: 'failed', systemdSubState: 'failed' });

    // Conflicts: refused to launch while a matching unit is launched; reported, the unit stays loaded.
    const conflicting = `${APP}-solo.service`;
    expect(
      (
        await put(conflicting, {
          desiredState: 'launched',
          options: [
            { section: 'Service', name: 'ExecStart', value: `/usr/bin/docker run --name ${APP}-solo ${RUN}` },
            { section: 'X-Fleet', name: 'Conflicts', value: `${APP}:2.0.0@*` },
          ],
        })
      ).status,
    ).toBe(201);
    const c = (await units()).find((u) => u.name === conflicting)!;
    expect(c).toMatchObject({ currentState: 'loaded', message: `Conflicts=${APP}:2.0.0@* matches launched unit ${APP}:2.0.0@1.service` });
    expect((await unitContainers()).some((x) => x.Labels['kiboko.units.unit'] === conflicting)).toBe(false);

    // A template and an instance made from it (no options of its own, as `fleetctl start app@1.service`).
    expect((await put(`${APP}-t@.service`, { desiredState: 'inactive', options: versioned('t') })).status).toBe(201);
    expect((await put(`${APP}-t@1.service`, { desiredState: 'launched' })).status).toBe(201);
    expect((await unitContainers()).find((x) => x.Labels['kiboko.units.unit'] === `${APP}-t@1.service`)).toMatchObject({ Names: [`/${APP}-t-1`], State: 'running' });

    const machines = (await (await api('/fleet/v1/machines')).json()) as { machines: { metadata: Record<string, string> }[] };
    expect(machines.machines[0]!.metadata).toEqual({ role: 'test' });

    daemon!.child.kill('SIGTERM');
    expect((await daemon!.done).code).toBe(0);
  });
});
