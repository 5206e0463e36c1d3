import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { type DockerRunContext, IGNORED_FLAGS, SUPPORTED_FLAGS, parseDockerRun } from './dockerrun.js';
import { DEFAULT_ROLLBACK, DEFAULT_UPDATE, type ServiceSpec } from './model.js';

const ctx: DockerRunContext = { service: 'web', file: 'web.service', line: 7 };
const run = (args: string[], extra: Partial<DockerRunContext> = {}) => parseDockerRun(args, { ...ctx, ...extra });
const svc = (...args: string[]) => run(args).service;

function failure(args: string[], extra: Partial<DockerRunContext> = {}): KibokoError {
  try {
    run(args, extra);
  } catch (err) {
    expect(err).toBeInstanceOf(KibokoError);
    expect((err as KibokoError).code).toBe('INVALID_ARGUMENT');
    expect((err as KibokoError).message).toMatch(/^web\.service:7: /);
    expect((err as KibokoError).hint).toBeTruthy();
    return err as KibokoError;
  }
  throw new Error(`docker run ${args.join(' ')} did not fail`);
}

const dir = mkdtempSync(join(tmpdir(), 'kiboko-dockerrun-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseDockerRun', () => {
  it('translates the fleet example into the compose service, defaults included', () => {
    const r = run(['--name', 'myservice', '-p', '3000:3000', 'myrepo/myservice:58-develop'], { service: 'myservice', file: 'myservice.service', line: 6 });
    const expected: ServiceSpec = {
      name: 'myservice',
      image: 'myrepo/myservice:58-develop',
      environment: {},
      ports: [{ published: 3000, target: 3000, protocol: 'tcp' }],
      volumes: [],
      networks: ['default'],
      labels: {},
      dependsOn: [],
      restart: 'no',
      replicas: 1,
      update: DEFAULT_UPDATE,
      rollback: DEFAULT_ROLLBACK,
      tagPolicy: { kind: 'pinned' },
      origin: { file: 'myservice.service', line: 6 },
    };
    expect(r.service).toStrictEqual(expected);
    expect(r.containerName).toBe('myservice');
    expect(r.restartSet).toBe(false);
  });

  it('takes the first non-flag as the image and the rest, flags included, as the command', () => {
    const s = svc('-d', 'busybox', '/bin/sh', '-c', 'trap "exit 0" TERM; sleep 1000', '--name', 'x');
    expect(s.image).toBe('busybox');
    expect(s.command).toEqual(['/bin/sh', '-c', 'trap "exit 0" TERM; sleep 1000', '--name', 'x']);
    expect(svc('--', 'busybox').image).toBe('busybox');
    expect(svc('busybox').command).toBeUndefined();
  });

  it('accepts --flag=value, --flag value, -fVALUE, -f=VALUE, and grouped short flags', () => {
    const forms = [
      ['--publish=80:80', 'nginx'],
      ['--publish', '80:80', 'nginx'],
      ['-p80:80', 'nginx'],
      ['-p=80:80', 'nginx'],
      ['-dp', '80:80', 'nginx'],
      ['-dip80:80', 'nginx'],
    ];
    for (const f of forms) expect(svc(...f).ports).toEqual([{ published: 80, target: 80, protocol: 'tcp' }]);
    const r = run(['-dit', '--rm', '--sig-proxy=false', 'nginx']);
    expect(r.ignored).toEqual(['-d', '-i', '-t', '--rm', '--sig-proxy']);
    expect(r.service.image).toBe('nginx');
  });

  it.each([
    ['80', [{ target: 80, protocol: 'tcp' }]],
    ['8080:80', [{ published: 8080, target: 80, protocol: 'tcp' }]],
    ['127.0.0.1:8080:80', [{ published: 8080, hostIp: '127.0.0.1', target: 80, protocol: 'tcp' }]],
    ['127.0.0.1::80', [{ hostIp: '127.0.0.1', target: 80, protocol: 'tcp' }]],
    ['53:53/udp', [{ published: 53, target: 53, protocol: 'udp' }]],
    ['53/UDP', [{ target: 53, protocol: 'udp' }]],
    ['80/tcp', [{ target: 80, protocol: 'tcp' }]],
    ['[::1]:8080:80', [{ published: 8080, hostIp: '::1', target: 80, protocol: 'tcp' }]],
    ['::1:8080:80', [{ published: 8080, hostIp: '::1', target: 80, protocol: 'tcp' }]],
    [
      '7000-7001:8000-8001/udp',
      [
        { published: 7000, target: 8000, protocol: 'udp' },
        { published: 7001, target: 8001, protocol: 'udp' },
      ],
    ],
    [
      '9000-9001',
      [
        { target: 9000, protocol: 'tcp' },
        { target: 9001, protocol: 'tcp' },
      ],
    ],
  ])('-p %s', (spec, ports) => {
    expect(svc('-p', spec, 'img').ports).toEqual(ports);
  });

  it.each([
    ['0:80', 'invalid host port'],
    ['80:70000', 'invalid container port'],
    ['8000-8010:80', 'ranges differ in size'],
    ['80/sctp', "unsupported protocol 'sctp'"],
    ['300.1.1.1:80:80', "invalid host IP '300.1.1.1'"],
    ['a:b', 'invalid container port'],
    ['80:', 'missing container port'],
  ])('refuses -p %s', (spec, message) => {
    expect(failure(['-p', spec, 'img']).message).toContain(message);
  });

  it('reads environment from -e, --env-file and the given environment, later ones winning', () => {
    const envFile = join(dir, 'app.env');
    writeFileSync(envFile, '\uFEFF# comment\n\n  A=from file\nB="quoted stays"\nFROM_ENV\nUNSET_IN_FILE\nC=x=y\n');
    const s = run(['--env-file', 'app.env', '-e', 'A=flag', '-e', 'HOME_DIR', '-eD=1', '--env=E=', '-e', 'NOT_SET', 'img'], {
      baseDir: dir,
      env: { FROM_ENV: 'env value', HOME_DIR: '/root' },
    }).service;
    expect(s.environment).toEqual({ A: 'flag', B: '"quoted stays"', FROM_ENV: 'env value', C: 'x=y', HOME_DIR: '/root', D: '1', E: '' });
  });

  it('reads labels from -l and --label-file', () => {
    const labelFile = join(dir, 'labels');
    writeFileSync(labelFile, 'team=core\nflag\n');
    expect(svc('--label-file', labelFile, '-l', 'team=edge', '--label', 'x.y=z', '-l', 'bare', 'img').labels).toEqual({ team: 'edge', flag: '', 'x.y': 'z', bare: '' });
  });

  it('refuses unreadable and malformed env files', () => {
    expect(failure(['--env-file', join(dir, 'missing.env'), 'img']).message).toContain('cannot read --env-file');
    writeFileSync(join(dir, 'bad.env'), 'OK=1\nBAD KEY=2\n');
    expect(failure(['--env-file', join(dir, 'bad.env'), 'img']).message).toContain("bad.env:2: variable 'BAD KEY' contains whitespace");
  });

  it.each([
    ['/data', { target: '/data', type: 'anonymous', readOnly: false }],
    ['/data:ro', { target: '/data', type: 'anonymous', readOnly: true }],
    ['pgdata:/var/lib/postgresql/data', { source: 'pgdata', target: '/var/lib/postgresql/data', type: 'volume', readOnly: false }],
    ['/srv/conf:/etc/app:ro', { source: '/srv/conf', target: '/etc/app', type: 'bind', readOnly: true }],
    ['/srv/conf:/etc/app:rw', { source: '/srv/conf', target: '/etc/app', type: 'bind', readOnly: false }],
  ])('-v %s', (spec, mount) => {
    expect(svc('-v', spec, 'img').volumes).toEqual([mount]);
  });

  it.each([
    ['./conf:/etc/app', "invalid volume source './conf'"],
    ['data:relative', 'is not absolute'],
    ['/a:/b:z', "unsupported volume option 'z'"],
    ['/a:/b:ro:x', 'invalid -v'],
  ])('refuses -v %s', (spec, message) => {
    expect(failure(['-v', spec, 'img']).message).toContain(message);
  });

  it.each([
    ['type=bind,source=/srv,target=/srv,readonly', { source: '/srv', target: '/srv', type: 'bind', readOnly: true }],
    ['type=volume,src=data,dst=/data', { source: 'data', target: '/data', type: 'volume', readOnly: false }],
    ['target=/cache', { target: '/cache', type: 'anonymous', readOnly: false }],
    ['"destination=/a,b",source=vol,ro=false', { source: 'vol', target: '/a,b', type: 'volume', readOnly: false }],
    ['type=bind,source=/x,destination=/y,ro=1', { source: '/x', target: '/y', type: 'bind', readOnly: true }],
  ])('--mount %s', (spec, mount) => {
    expect(svc('--mount', spec, 'img').volumes).toEqual([mount]);
  });

  it.each([
    ['type=tmpfs,target=/t', "unsupported --mount type 'tmpfs'"],
    ['type=bind,target=/t', 'needs an absolute source'],
    ['source=data', 'has no target'],
    ['type=volume,source=/abs,target=/t', 'a volume source is a name'],
    ['target=/t,volume-opt=o=x', "unsupported --mount option 'volume-opt'"],
  ])('refuses --mount %s', (spec, message) => {
    expect(failure(['--mount', spec, 'img']).message).toContain(message);
  });

  it('keeps -v and --mount in command-line order', () => {
    expect(svc('-v', 'aa:/a', '--mount', 'source=bb,target=/b', '-v', '/c', 'img').volumes.map((v) => v.target)).toEqual(['/a', '/b', '/c']);
  });

  it("joins named networks; no --network or bridge is the project's default network, as in compose", () => {
    expect(svc('img').networks).toEqual(['default']);
    expect(svc('--network', 'backend', 'img').networks).toEqual(['backend']);
    expect(svc('--network', 'backend', '--net=frontend', '--network', 'backend', '--net', 'bridge', 'img').networks).toEqual(['backend', 'frontend', 'default']);
  });

  it.each(['host', 'none', 'container:db'])('refuses --network %s', (net) => {
    expect(failure(['--network', net, 'img']).message).toContain(`unsupported --network ${net}`);
  });

  it('maps --restart', () => {
    for (const p of ['no', 'always', 'unless-stopped', 'on-failure'] as const) {
      const r = run(['--restart', p, 'img']);
      expect(r.service.restart).toBe(p);
      expect(r.restartSet).toBe(true);
    }
    expect(failure(['--restart=on-failure:3', 'img']).hint).toContain('--restart on-failure');
    expect(failure(['--restart', 'sometimes', 'img']).message).toContain("invalid --restart 'sometimes'");
  });

  it('maps health checks', () => {
    expect(
      svc('--health-cmd', 'curl -f http://localhost/ || exit 1', '--health-interval', '30s', '--health-timeout=5s', '--health-retries', '3', '--health-start-period', '1m', 'img').healthcheck,
    ).toEqual({ test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], intervalMs: 30_000, timeoutMs: 5000, retries: 3, startPeriodMs: 60_000 });
    expect(svc('--no-healthcheck', 'img').healthcheck).toEqual({ test: ['NONE'] });
    expect(svc('--no-healthcheck=false', 'img').healthcheck).toBeUndefined();
    // Timings alone keep the image's test (an empty test inherits it).
    expect(svc('--health-interval', '10s', 'img').healthcheck).toEqual({ test: [], intervalMs: 10_000 });
    expect(failure(['--no-healthcheck', '--health-cmd', 'true', 'img']).message).toContain('--no-healthcheck conflicts');
    expect(failure(['--health-interval', '10', 'img']).message).toContain('missing unit');
    expect(failure(['--health-retries', '-1', 'img']).message).toContain('--health-retries expects a whole number');
  });

  it('maps entrypoint, user, workdir, stop signal and timeout', () => {
    const s = svc('--entrypoint', '/bin/sh -x', '-u', '1000:1000', '-w', '/app', '--stop-signal', 'quit', '--stop-timeout', '20', 'img', 'arg');
    expect(s).toMatchObject({ entrypoint: ['/bin/sh -x'], user: '1000:1000', workingDir: '/app', stopSignal: 'SIGQUIT', stopGracePeriodMs: 20_000, command: ['arg'] });
    expect(svc('--entrypoint=', 'img').entrypoint).toEqual([]);
    expect(svc('--user=nobody', '--workdir=/srv', 'img')).toMatchObject({ user: 'nobody', workingDir: '/srv' });
    expect(failure(['-w', 'app', 'img']).message).toContain('absolute path');
    expect(failure(['--stop-signal', 'SIGNOPE', 'img']).message).toContain('not a Linux signal');
    expect(failure(['--stop-timeout', '1.5', 'img']).message).toContain('whole seconds');
  });

  it('validates --name', () => {
    expect(run(['--name=web-1', 'img']).containerName).toBe('web-1');
    expect(failure(['--name', '-bad', 'img']).message).toContain("invalid container name '-bad'");
  });

  it.each([
    [['--privileged', 'img'], '--privileged', 'privileged'],
    [['--pid', 'host', 'img'], '--pid', 'namespaces'],
    [['--pid=host', 'img'], '--pid', 'namespaces'],
    [['-P', 'img'], '-P', '-p HOST:CONTAINER'],
    [['-dP', 'img'], '-P', '-p HOST:CONTAINER'],
    [['--init', 'img'], '--init', 'tini'],
    [['--link', 'db:db', 'img'], '--link', 'service name'],
    [['--cap-add', 'NET_ADMIN', 'img'], '--cap-add', 'capabilities'],
    [['-m', '512m', 'img'], '-m', '--name, -p/--publish'],
    [['--memory=512m', 'img'], '--memory', '--name, -p/--publish'],
    [['--frobnicate', 'img'], '--frobnicate', 'remove --frobnicate'],
    [['--constructor', 'img'], '--constructor', 'remove --constructor'],
    [['--__proto__', 'img'], '--__proto__', 'remove --__proto__'],
  ])('refuses %j naming the flag', (args, flag, hint) => {
    const e = failure(args);
    expect(e.message).toBe(`web.service:7: unsupported docker run flag ${flag}`);
    expect(e.hint).toContain(hint);
  });

  it('refuses a missing value or image', () => {
    expect(failure(['--name']).message).toContain('docker run --name needs a value');
    expect(failure(['-d']).message).toContain('docker run has no image');
    expect(failure([]).message).toContain('no image');
    expect(failure(['--rm=maybe', 'img']).message).toContain('--rm expects true or false');
  });

  it('lists what it supports and ignores', () => {
    expect(SUPPORTED_FLAGS).toContain('-p/--publish');
    expect(SUPPORTED_FLAGS).toContain('--health-start-period');
    expect(Object.keys(IGNORED_FLAGS)).toEqual(['-d/--detach', '--rm', '-i/--interactive', '-t/--tty', '--sig-proxy']);
  });
});
