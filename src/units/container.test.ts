import { describe, expect, it } from 'vitest';
import type { UnitOption } from './api.js';
import { tryUnitRuntime, unitRuntime } from './container.js';

const svc = (name: string, value: string): UnitOption => ({ section: 'Service', name, value });
const fleetUnit = (run = '/usr/bin/docker run --name %p-%i -e UNIT=%n -e ID=%N kiboko/busybox:local sleep 3600'): UnitOption[] => [
  { section: 'Unit', name: 'Description', value: 'app %i' },
  svc('ExecStartPre', '-/usr/bin/docker kill %p-%i'),
  svc('ExecStartPre', '-/usr/bin/docker rm %p-%i'),
  svc('ExecStart', run),
  svc('ExecStop', '/usr/bin/docker stop %p-%i'),
];

describe('a unit as a container', () => {
  it('expands specifiers against the real unit name; only Docker names are made Docker-safe', () => {
    const rt = unitRuntime('app:2.0.0@1.service', fleetUnit());
    expect(rt.containerName).toBe('app-2.0.0-1');
    expect(rt.spec.env).toEqual(['UNIT=app:2.0.0@1.service', 'ID=app:2.0.0@1']);
    expect(rt.spec.labels).toMatchObject({ 'kiboko.units.unit': 'app:2.0.0@1.service', 'kiboko.managed': 'true' });
    expect(rt.spec.cmd).toEqual(['sleep', '3600']);
    expect(rt.commands.ExecStartPre.map((c) => c.action)).toEqual([
      { op: 'kill', containers: ['app-2.0.0-1'], signal: 'SIGKILL' },
      { op: 'rm', containers: ['app-2.0.0-1'], force: false, volumes: false },
    ]);
    expect(rt.commands.ExecStop.map((c) => c.action)).toEqual([{ op: 'stop', containers: ['app-2.0.0-1'], timeoutSeconds: undefined }]);
  });

  it('gives distinct, stable names to versions and instances', () => {
    const names = ['app:1.0.0@1.service', 'app:1.0.0@2.service', 'app:2.0.0@1.service', 'app:2.0.0@2.service'].map((n) => unitRuntime(n, fleetUnit()).containerName);
    expect(names).toEqual(['app-1.0.0-1', 'app-1.0.0-2', 'app-2.0.0-1', 'app-2.0.0-2']);
    expect(unitRuntime('app:2.0.0@1.service', fleetUnit())).toEqual(unitRuntime('app:2.0.0@1.service', fleetUnit()));
    expect(unitRuntime('app:2.0.0@1.service', fleetUnit('/usr/bin/docker run kiboko/busybox:local')).containerName).toBe('kiboko-unit-app-2.0.0-1.service');
  });

  it('leaves a --name that is a command argument (after the image) alone', () => {
    const rt = unitRuntime('x:1@1.service', fleetUnit('/usr/bin/docker run --name=%p-%i img echo --name %p'));
    expect(rt.containerName).toBe('x-1-1');
    expect(rt.spec.cmd).toEqual(['echo', '--name', 'x:1']);
  });

  it('maps Restart= to the restart policy, Environment= to $VAR, --stop-timeout to the stop wait', () => {
    const rt = unitRuntime('web.service', [svc('Environment', 'TAG=7'), svc('Restart', 'always'), svc('ExecStart', '/usr/bin/docker run --stop-timeout 3 repo/web:${TAG}')]);
    expect(rt.spec.restartPolicy).toEqual({ name: 'always' });
    expect(rt.spec.image).toBe('repo/web:7');
    expect(rt.stopTimeoutSeconds).toBe(3);
  });

  it('refuses what cannot run as a container, saying why', () => {
    const err = (name: string, options: UnitOption[]) => {
      const r = tryUnitRuntime(name, options);
      return 'error' in r ? r.error : 'runs';
    };
    expect(err('py.service', [svc('ExecStart', '/usr/bin/python3 -m http.server')])).toMatch(/ExecStart is not a docker run line .*--allow-any-exec-start/);
    expect(err('a.service', [svc('Description', 'x')])).toMatch(/has no ExecStart/);
    expect(err('a.socket', [svc('ExecStart', '/usr/bin/docker run x')])).toMatch(/\.socket unit/);
    expect(err('a.service', [svc('ExecStart', '/usr/bin/docker run x'), svc('ExecCondition', '/bin/true')])).toMatch(/ExecCondition= is not supported/);
    expect(err('a.service', [svc('ExecStart', '/usr/bin/docker run x'), svc('ExecStartPost', '/usr/bin/etcdctl set /a 1')])).toMatch(/ExecStartPost=\/usr\/bin\/etcdctl set \/a 1: runs \/usr\/bin\/etcdctl, not docker/);
    expect(err('a.service', [svc('ExecStart', '/usr/bin/docker run --privileged x')])).toMatch(/--privileged/);
    // A template is checked as its instances would be (its own %i is empty).
    expect(err('web@.service', [svc('ExecStart', '/usr/bin/docker run --name %i repo/web')])).toBe('runs');
    expect(err('web@.service', [svc('ExecStart', '/usr/bin/python3')])).toMatch(/^web@\.service: ExecStart is not a docker run line/);
  });
});
