import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { docker, startCli, waitFor, type CliProcess } from '../helpers.js';

/** `kiboko serve` against the real engine, driven like fleet users drive fleet: plain HTTP + JSON. */
const stateDir = mkdtempSync(join(tmpdir(), 'kiboko-serve-'));
const APP = `ktserve${Math.random().toString(16).slice(2, 6)}`;
let daemon: CliProcess | undefined;

async function startDaemon(): Promise<{ base: string; token: string }> {
  daemon = startCli(['serve', '--listen', '127.0.0.1:0'], { stateDir });
  await daemon.waitForOutput('"event":"listening"');
  const line = JSON.parse(daemon.stdout().split('\n').find((l) => l.includes('"listening"'))!);
  const { readFileSync } = await import('node:fs');
  return { base: line.addresses[0], token: readFileSync(line.tokenFile, 'utf8').trim() };
}

const unitContainers = async () =>
  (await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['kiboko.units.unit'] }) })).filter((c) => c.Labels['kiboko.units.unit']!.startsWith(APP));

afterAll(async () => {
  if (daemon && daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
  for (const c of await unitContainers()) await docker.getContainer(c.Id).remove({ force: true });
  rmSync(stateDir, { recursive: true, force: true });
});

const options = (version: string) => [
  { section: 'Unit', name: 'Description', value: `${APP} %i` },
  { section: 'Service', name: 'ExecStartPre', value: '-/usr/bin/docker kill %p-%i' },
  { section: 'Service', name: 'ExecStartPre', value: '-/usr/bin/docker rm %p-%i' },
  // PID 1 leaves on SIGTERM, so the ExecStop docker stop is quick.
  { section: 'Service', name: 'ExecStart', value: `/usr/bin/docker run --name %p-%i -e VERSION=${version} kiboko/busybox:local sh -c "trap 'exit 0' TERM; while true; do sleep 0.2; done"` },
  { section: 'Service', name: 'ExecStop', value: '/usr/bin/docker stop %p-%i' },
];

describe('kiboko serve: fleet v1 API on the real engine', () => {
  it('runs the classic fleet flow, answers 401 without the token, and survives kill -9 without duplicating anything', async () => {
    let { base, token } = await startDaemon();
    const api = (path: string, init: RequestInit = {}, auth = true) =>
      fetch(`${base}${path}`, { ...init, headers: { ...(auth ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) } });

    expect((await api('/healthz', {}, false)).status).toBe(200);
    expect((await api('/fleet/v1/units', {}, false)).status).toBe(401);

    for (const i of [1, 2]) {
      const r = await api(`/fleet/v1/units/${APP}:1.0.0@${i}.service`, { method: 'PUT', body: JSON.stringify({ desiredState: 'launched', options: options('1.0.0') }) });
      expect(r.status, await r.text()).toBe(201);
    }
    const list = (await (await api('/fleet/v1/units')).json()) as { units: { name: string; currentState: string }[] };
    expect(list.units.filter((u) => u.name.startsWith(APP)).map((u) => [u.name, u.currentState])).toEqual([
      [`${APP}:1.0.0@1.service`, 'launched'],
      [`${APP}:1.0.0@2.service`, 'launched'],
    ]);
    expect((await unitContainers()).filter((c) => c.State === 'running')).toHaveLength(2);

    // Scale a new version by adding its instances, then delete every unit of the old version by prefix.
    for (const i of [1, 2]) {
      expect((await api(`/fleet/v1/units/${APP}:2.0.0@${i}.service`, { method: 'PUT', body: JSON.stringify({ desiredState: 'launched', options: options('2.0.0') }) })).status).toBe(201);
    }
    const all = (await (await api('/fleet/v1/units')).json()) as { units: { name: string }[] };
    for (const u of all.units.filter((x) => x.name.startsWith(`${APP}:1.0.0`))) {
      expect((await api(`/fleet/v1/units/${encodeURIComponent(u.name)}`, { method: 'DELETE' })).status).toBe(204);
    }
    // DELETE is answered once recorded (as fleet); the containers go right after.
    const running = await waitFor(async () => {
      const cs = await unitContainers();
      return cs.length === 2 && cs;
    });
    expect(running.map((c) => c.Labels['kiboko.units.unit']).sort()).toEqual([`${APP}:2.0.0@1.service`, `${APP}:2.0.0@2.service`]);
    expect(running.every((c) => c.State === 'running')).toBe(true);
    const ids = running.map((c) => c.Id).sort();

    // kill -9 the daemon and start it again: still launched, nothing duplicated or restarted.
    daemon!.child.kill('SIGKILL');
    await daemon!.done;
    ({ base, token } = await startDaemon());
    const after = await unitContainers();
    expect(after.map((c) => c.Id).sort()).toEqual(ids);
    const again = (await (await api('/fleet/v1/units')).json()) as { units: { name: string; currentState: string }[] };
    expect(again.units.filter((u) => u.name.startsWith(APP)).map((u) => u.currentState)).toEqual(['launched', 'launched']);

    // A unit whose ExecStart is not docker run is refused with a clear 400.
    const bad = await api(`/fleet/v1/units/${APP}-py.service`, {
      method: 'PUT',
      body: JSON.stringify({ desiredState: 'launched', options: [{ section: 'Service', name: 'ExecStart', value: '/usr/bin/python3 -m http.server' }] }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/docker run/);

    daemon!.child.kill('SIGTERM');
    expect((await daemon!.done).code).toBe(0);
  });
});
