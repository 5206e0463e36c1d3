import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { parseUnitName } from '../deploy/index.js';
import { FakeEngine } from '../engine/index.js';
import { dockerSafe, parseUnitCommands, runSequence, type HousekeepingKey } from './commands.js';

const unitName = parseUnitName('app:2.0.0@1.service');
const parse = (value: string, key: HousekeepingKey = 'ExecStartPre', env: Record<string, string> = {}) => parseUnitCommands(key, value, { unitName, env });

describe('unit housekeeping commands', () => {
  it('parses the docker lines fleet units use, specifiers expanded and container names made Docker-safe', () => {
    expect(parse('-/usr/bin/docker kill %p-%i')).toEqual([
      { key: 'ExecStartPre', line: 'ExecStartPre=-/usr/bin/docker kill %p-%i', ignoreFailure: true, action: { op: 'kill', containers: ['app-2.0.0-1'], signal: 'SIGKILL' } },
    ]);
    expect(parse('-/usr/bin/docker rm -fv %p-%i')[0]!.action).toEqual({ op: 'rm', containers: ['app-2.0.0-1'], force: true, volumes: true });
    expect(parse('docker container rm --force=false web')[0]!.action).toEqual({ op: 'rm', containers: ['web'], force: false, volumes: false });
    expect(parse('/usr/bin/docker stop -t 5 %p-%i', 'ExecStop')[0]!.action).toEqual({ op: 'stop', containers: ['app-2.0.0-1'], timeoutSeconds: 5 });
    expect(parse('/usr/bin/docker stop --time=7 a b', 'ExecStop')[0]!.action).toEqual({ op: 'stop', containers: ['a', 'b'], timeoutSeconds: 7 });
    expect(parse('/usr/bin/docker kill -s HUP a')[0]!.action).toEqual({ op: 'kill', containers: ['a'], signal: 'SIGHUP' });
    expect(parse('/usr/bin/docker kill -sTERM a')[0]!.action).toEqual({ op: 'kill', containers: ['a'], signal: 'SIGTERM' });
    expect(parse('/usr/bin/env docker pull -q repo/app:%i')[0]!.action).toEqual({ op: 'pull', image: 'repo/app:1' });
    expect(parse('docker image pull repo/app:2')[0]!.action).toEqual({ op: 'pull', image: 'repo/app:2' });
    expect(parse('-/usr/bin/docker network create -d overlay --attachable backend')[0]!.action).toEqual({ op: 'network-create', name: 'backend', driver: 'overlay', labels: {} });
    expect(parse('/usr/bin/docker network create --label a=b backend')[0]!.action).toEqual({ op: 'network-create', name: 'backend', driver: 'bridge', labels: { a: 'b' } });
    expect(parse('/usr/bin/docker volume create data-%i')[0]!.action).toEqual({ op: 'volume-create', name: 'data-1', labels: {} });
    expect(parse('/usr/bin/docker volume create --name=data')[0]!.action).toEqual({ op: 'volume-create', name: 'data', labels: {} });
    expect(parse('/usr/bin/docker network rm a b', 'ExecStopPost')[0]!.action).toEqual({ op: 'network-rm', names: ['a', 'b'] });
    expect(parse('/usr/bin/docker volume rm -f data', 'ExecStopPost')[0]!.action).toEqual({ op: 'volume-rm', names: ['data'] });
  });

  it('expands $VAR from the unit environment and splits ` ; ` into several commands', () => {
    const cmds = parse('/usr/bin/docker rm -f ${NAME} ; /usr/bin/docker volume create $VOL', 'ExecStartPre', { NAME: 'web', VOL: 'data' });
    expect(cmds.map((c) => c.action.op)).toEqual(['rm', 'volume-create']);
    expect(() => parse('/usr/bin/docker rm $MISSING')).toThrow(/\$MISSING/);
  });

  it('refuses, naming the line, anything that is not a docker command kiboko runs', () => {
    for (const [line, why] of [
      ['/usr/bin/etcdctl set /services/web 1', /ExecStartPre=\/usr\/bin\/etcdctl set \/services\/web 1: runs \/usr\/bin\/etcdctl, not docker/],
      ['/usr/bin/docker exec web true', /docker exec is not supported/],
      ['/usr/bin/docker run busybox', /docker run is not supported/],
      ['/usr/bin/docker rm --bogus web', /unknown flag --bogus/],
      ['/usr/bin/docker rm', /names no container/],
      ['/usr/bin/docker network create --subnet 10.0.0.0/24 n', /--subnet is not supported/],
      ['/usr/bin/docker stop -t soon web', /whole seconds/],
      ['/usr/bin/docker kill -s NOPE web', /NOPE/],
      ['/usr/bin/docker pull a b', /one image/],
    ] as const) {
      let err: unknown;
      try {
        parse(line);
      } catch (e) {
        err = e;
      }
      expect(err, line).toBeInstanceOf(KibokoError);
      expect((err as KibokoError).code).toBe('INVALID_ARGUMENT');
      expect((err as KibokoError).message, line).toMatch(why);
      expect((err as KibokoError).message).toContain('app:2.0.0@1.service');
    }
  });

  it('never fails with anything but a clear INVALID_ARGUMENT on arbitrary lines', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom('docker', '/usr/bin/docker', '-', 'rm', 'kill', 'stop', 'pull', 'network', 'volume', 'create', '-f', '-t', '-s', '--', '%p', '%i', '"', "'", ';', '\\'), fc.string()), { maxLength: 8 }), (words) => {
        try {
          parse(words.join(' '));
        } catch (err) {
          expect(err).toBeInstanceOf(KibokoError);
          expect((err as KibokoError).code).toBe('INVALID_ARGUMENT');
        }
      }),
    );
  });

  it('makes names Docker-safe', () => {
    expect(dockerSafe('app:2.0.0-1')).toBe('app-2.0.0-1');
    expect(dockerSafe('@x@y')).toBe('x-y');
  });
});

describe('running a sequence', () => {
  const ctx = (owners: Record<string, string> = {}) => ({ unit: 'app@1.service', ownerOf: async (c: string) => owners[c] });

  it('goes on after a failure of a `-` line, stops at a real failure and names its line', async () => {
    const engine = new FakeEngine();
    engine.add({ name: 'web', status: 'exited' });
    const cmds = [...parse('-/usr/bin/docker kill web'), ...parse('/usr/bin/docker rm web'), ...parse('/usr/bin/docker rm web'), ...parse('/usr/bin/docker volume create never')];
    await expect(runSequence(engine, cmds, ctx())).rejects.toThrow(/ExecStartPre=\/usr\/bin\/docker rm web failed: .*No such container: web/);
    expect(engine.calls.filter((c) => ['kill', 'remove', 'ensureVolume'].includes(c.op)).map((c) => c.op)).toEqual(['kill', 'remove', 'remove']);
    expect(await engine.volumeExists('never')).toBe(false);
  });

  it('returns the ignored failures, and refuses to touch a container of another unit', async () => {
    const engine = new FakeEngine();
    engine.add({ name: 'shared', status: 'running' });
    const ignored = await runSequence(engine, parse('-/usr/bin/docker rm -f shared'), ctx({ shared: 'other@1.service' }));
    expect(ignored).toEqual([expect.stringMatching(/container shared runs unit other@1.service/)]);
    expect((await engine.list()).map((c) => c.name)).toEqual(['shared']);
  });

  it('runs network and volume commands and pulls', async () => {
    const engine = new FakeEngine();
    engine.addImage({ tags: ['repo/app:1'] });
    await runSequence(engine, [...parse('/usr/bin/docker network create backend'), ...parse('/usr/bin/docker volume create data'), ...parse('/usr/bin/docker pull repo/app:%i')], ctx());
    expect((await engine.listNetworks()).map((n) => n.name)).toEqual(['backend']);
    expect(await engine.volumeExists('data')).toBe(true);
    expect(engine.calls.some((c) => c.op === 'pull' && c.id === 'repo/app:1')).toBe(true);
  });

  it('on Swarm, container commands are no-ops (the service owns its tasks)', async () => {
    const engine = new FakeEngine();
    await runSequence(engine, [...parse('/usr/bin/docker rm -f x'), ...parse('/usr/bin/docker pull nope')], { ...ctx(), swarm: true });
    expect(engine.calls.filter((c) => c.op === 'remove' || c.op === 'pull')).toEqual([]);
  });
});
