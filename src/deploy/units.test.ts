import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { DEFAULT_ROLLBACK, DEFAULT_UPDATE, type ServiceSpec } from './model.js';
import { fromOptions } from './unitfile.js';
import { type LoadUnitsOptions, loadUnitFolder, translateUnits } from './units.js';

const root = mkdtempSync(join(tmpdir(), 'kiboko-units-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh folder holding the given unit files (a string value starting with '->' is a symlink). */
function folder(files: Record<string, string>, name = `units${n++}`): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [file, text] of Object.entries(files)) {
    if (text.startsWith('->')) symlinkSync(text.slice(2), join(dir, file));
    else writeFileSync(join(dir, file), text);
  }
  return dir;
}

function failure(files: Record<string, string>, options: LoadUnitsOptions = { env: {} }): KibokoError {
  const dir = folder(files);
  try {
    loadUnitFolder(dir, options);
  } catch (err) {
    expect(err).toBeInstanceOf(KibokoError);
    expect((err as KibokoError).code).toBe('INVALID_ARGUMENT');
    expect((err as KibokoError).hint).toBeTruthy();
    return err as KibokoError;
  }
  throw new Error('expected the folder to be refused');
}

const EXAMPLE = `[Unit]
Description=My service
After=docker.service
[Service]
ExecStartPre=-/usr/bin/docker kill myservice
ExecStartPre=-/usr/bin/docker rm myservice
ExecStart=/usr/bin/docker run --name myservice -p 3000:3000 myrepo/myservice:58-develop
ExecStop=/usr/bin/docker stop myservice
[X-Fleet]
Conflicts=myservice@*.service
`;

const unit = (execStart: string, extra = '', unitSection = '') => `[Unit]\nDescription=x\n${unitSection}\n[Service]\n${extra}\nExecStart=${execStart}\n`;

describe('loadUnitFolder', () => {
  it('refuses a housekeeping line running `docker constructor` (an object property) with the usual message, not a crash', () => {
    const e = failure({ 'a.service': unit('/usr/bin/docker run img', 'ExecStartPre=/usr/bin/docker constructor a') });
    expect(e.message).toMatch(/kiboko runs only the container/);
  });

  it('deploys the fleet example exactly like the compose service', () => {
    const dir = folder({ 'myservice.service': EXAMPLE, 'README.md': 'not a unit' }, 'My Fleet.units');
    const config = loadUnitFolder(dir, { env: {} });
    // What compose `services: { myservice: { image: myrepo/myservice:58-develop, ports: ["3000:3000"] } }` gives.
    const compose: ServiceSpec = {
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
    };
    const [service] = config.services;
    const { origin, ...withoutOrigin } = service!;
    expect(withoutOrigin).toStrictEqual(compose);
    expect(origin).toEqual({ file: join(dir, 'myservice.service'), line: 7 });
    expect(config.project).toBe('myfleetunits');
    expect(config.networks).toEqual([]);
    expect(config.volumes).toEqual([]);
    expect(config.sources).toEqual([join(dir, 'myservice.service')]);
    expect(config.placement).toEqual({ myservice: [{ unit: 'myservice.service', options: [{ name: 'Conflicts', value: 'myservice@*.service', line: 10 }] }] });
  });

  it('uses the given project name and validates it', () => {
    const dir = folder({ 'a.service': unit('/usr/bin/docker run img') });
    expect(loadUnitFolder(dir, { projectName: 'shop', env: {} }).project).toBe('shop');
    expect(() => loadUnitFolder(dir, { projectName: 'Shop!' })).toThrow("invalid project name 'Shop!'");
  });

  it('accepts docker, /usr/bin/env docker and docker container run', () => {
    const dir = folder({
      'a.service': unit('docker run img-a'),
      'b.service': unit('/usr/bin/env docker run img-b'),
      'c.service': unit('/usr/local/bin/docker container run img-c'),
      'd.service': unit('-@/usr/bin/docker docker run img-d'),
    });
    expect(loadUnitFolder(dir, { env: {} }).services.map((s) => [s.name, s.image])).toEqual([
      ['a', 'img-a'],
      ['b', 'img-b'],
      ['c', 'img-c'],
      ['d', 'img-d'],
    ]);
  });

  it('reads a docker run line spread over continuation lines, with quoting and specifiers', () => {
    const dir = folder({
      'api.service': `[Service]
ExecStart=/usr/bin/docker run \\
  --name %n-container \\
  -e "GREETING=hello world" \\
  # a comment between continuation lines
  -l unit=%N \\
  -v /srv/%p:/data:ro \\
  myrepo/api:1 \\
  sh -c 'echo "$$HOME" ; sleep 1'
`,
    });
    const [s] = loadUnitFolder(dir, { env: {} }).services;
    expect(s).toMatchObject({
      name: 'api',
      environment: { GREETING: 'hello world' },
      labels: { unit: 'api' },
      volumes: [{ source: '/srv/api', target: '/data', type: 'bind', readOnly: true }],
      image: 'myrepo/api:1',
      command: ['sh', '-c', 'echo "$HOME" ; sleep 1'],
      origin: { line: 2 },
    });
  });

  it('turns template instances into replicas of one service', () => {
    const template = `[Unit]
Description=web %i
[Service]
ExecStartPre=-/usr/bin/docker rm -f web-%i
ExecStart=/usr/bin/docker run --rm --name web-%i -p 8080 nginx:1.27
ExecStop=/usr/bin/docker stop -t 10 web-%i
[X-Fleet]
Conflicts=web@*.service
MachineOf=%p-data@%i.service
`;
    const dir = folder({ 'web@.service': template, 'web@1.service': '->web@.service', 'web@2.service': '->web@.service', 'web@3.service': template });
    const config = loadUnitFolder(dir, { env: {} });
    expect(config.services).toHaveLength(1);
    expect(config.services[0]).toMatchObject({ name: 'web', image: 'nginx:1.27', replicas: 3, ports: [{ target: 8080, protocol: 'tcp' }] });
    expect(config.sources).toEqual(['web@1.service', 'web@2.service', 'web@3.service'].map((f) => join(dir, f)));
    expect(config.placement.web!.map((p) => [p.unit, p.options.map((o) => `${o.name}=${o.value}`)])).toEqual([
      ['web@1.service', ['Conflicts=web@*.service', 'MachineOf=web-data@1.service']],
      ['web@2.service', ['Conflicts=web@*.service', 'MachineOf=web-data@2.service']],
      ['web@3.service', ['Conflicts=web@*.service', 'MachineOf=web-data@3.service']],
    ]);
  });

  it('refuses instances that differ in anything but names using %i', () => {
    const t = (port: string) => unit(`/usr/bin/docker run --name w-%i -p ${port}:80 nginx`);
    const e = failure({ 'w@1.service': t('8081'), 'w@2.service': t('8082') });
    expect(e.message).toBe('w@1.service and w@2.service differ in ports: instances of a template become replicas of one service and must run the same container');
    expect(failure({ 'w@1.service': unit('/usr/bin/docker run -p 80%i:80 nginx'), 'w@2.service': '->w@1.service' }).message).toContain('differ in ports');
  });

  it('refuses a template without instances, and a plain unit that clashes with a template', () => {
    expect(failure({ 'web@.service': unit('/usr/bin/docker run nginx') }).message).toContain('web@.service is a template without instances');
    expect(failure({ 'web.service': unit('/usr/bin/docker run nginx'), 'web@1.service': unit('/usr/bin/docker run nginx') }).message).toContain(
      "both web.service and web@1.service would be service 'web'",
    );
  });

  it('turns Requires=/After=/Wants= on units of the folder into depends_on', () => {
    const dir = folder({
      'db.service': unit('/usr/bin/docker run postgres:16'),
      'cache@1.service': unit('/usr/bin/docker run redis'),
      'api.service': unit('/usr/bin/docker run api', '', 'Requires=docker.service db.service\nAfter=docker.service db.service cache@7.service etcd.service\nWants=api.service'),
    });
    const api = loadUnitFolder(dir, { env: {} }).services.find((s) => s.name === 'api')!;
    expect(api.dependsOn).toEqual([
      { service: 'db', condition: 'service_started' },
      { service: 'cache', condition: 'service_started' },
    ]);
  });

  it('expands $VAR from Environment= and the given environment (the unit wins), and -e KEY likewise', () => {
    const dir = folder({
      'app.service': unit('/usr/bin/docker run -e TOKEN -e MODE -p ${PORT}:80 $IMAGE $ARGS', 'Environment=PORT=8080 "ARGS=serve --verbose"\nEnvironment=MODE=unit'),
    });
    const [s] = loadUnitFolder(dir, { env: { IMAGE: 'app:2', TOKEN: 't0k', MODE: 'shell', PORT: '1' } }).services;
    expect(s).toMatchObject({ image: 'app:2', command: ['serve', '--verbose'], environment: { TOKEN: 't0k', MODE: 'unit' }, ports: [{ published: 8080, target: 80 }] });
  });

  it('refuses unset variables, naming them', () => {
    const e = failure({ 'app.service': unit('/usr/bin/docker run -p ${COREOS_PUBLIC_IPV4}:80:80 app', 'EnvironmentFile=/etc/environment') });
    expect(e.message).toMatch(/app\.service:6: ExecStart uses \$COREOS_PUBLIC_IPV4, which is not set$/);
    expect(e.hint).toContain('EnvironmentFile');
  });

  it("':' turns off variable substitution", () => {
    const [s] = loadUnitFolder(folder({ 'a.service': unit(':/usr/bin/docker run img echo $HOME') }), { env: {} }).services;
    expect(s!.command).toEqual(['echo', '$HOME']);
  });

  it('maps systemd Restart= to the restart policy unless docker run sets one', () => {
    const dir = folder({
      'a.service': unit('/usr/bin/docker run img', 'Restart=always\nRestartSec=5'),
      'b.service': unit('/usr/bin/docker run img', 'Restart=on-abnormal'),
      'c.service': unit('/usr/bin/docker run --restart unless-stopped img', 'Restart=always'),
    });
    expect(loadUnitFolder(dir, { env: {} }).services.map((s) => s.restart)).toEqual(['always', 'on-failure', 'unless-stopped']);
    expect(failure({ 'a.service': unit('/usr/bin/docker run img', 'Restart=on-success') }).message).toContain('Restart=on-success has no container equivalent');
  });

  it('collects named networks and volumes', () => {
    const dir = folder({
      'a.service': unit('/usr/bin/docker run --network back -v data:/d -v /srv:/srv img'),
      'b.service': unit('/usr/bin/docker run --net front --net back --mount source=cache,target=/c img'),
      'c.service': unit('/usr/bin/docker run img'),
    });
    const config = loadUnitFolder(dir, { env: {} });
    expect(config.networks).toEqual(['back', 'front']);
    expect(config.volumes).toEqual(['cache', 'data']);
  });

  it('an empty ExecStartPre= clears earlier ones, as in systemd', () => {
    const dir = folder({ 'a.service': unit('/usr/bin/docker run img', 'ExecStartPre=/usr/bin/etcdctl set /x 1\nExecStartPre=') });
    expect(loadUnitFolder(dir, { env: {} }).services).toHaveLength(1);
  });

  it('accepts the usual housekeeping: kill, rm, stop of its container and pull of its image', () => {
    const dir = folder({
      'a.service': unit(
        '/usr/bin/docker run --name app myrepo/app:58-develop',
        'ExecStartPre=-/usr/bin/docker kill -s KILL app\nExecStartPre=-/usr/bin/docker rm -fv app\nExecStartPre=/usr/bin/docker pull myrepo/app:58-develop\nExecStartPre=-docker container rm --force app ; -/usr/bin/docker pull myrepo/app\nExecStop=/usr/bin/docker stop -t10 app\nExecStopPost=-/usr/bin/docker rm app',
      ),
    });
    expect(loadUnitFolder(dir, { env: {} }).services[0]!.image).toBe('myrepo/app:58-develop');
  });

  it.each([
    ['ExecStartPre=/usr/bin/etcdctl set /services/app up', "ExecStartPre of a.service runs '/usr/bin/etcdctl set /services/app up'"],
    ['ExecStartPost=/bin/sh -c "curl http://x"', 'ExecStartPost of a.service runs'],
    ['ExecStartPre=/usr/bin/docker network create x', 'ExecStartPre of a.service runs'],
    ['ExecStartPre=-/usr/bin/docker rm other', 'docker rm on other, not on the unit\'s container app'],
    ['ExecStop=/usr/bin/docker stop', 'docker stop names no container'],
    ['ExecStartPre=/usr/bin/docker pull otherrepo/app:1', "pulls 'otherrepo/app:1', not the unit's image"],
  ])('refuses other Exec commands: %s', (line, message) => {
    const e = failure({ 'a.service': unit('/usr/bin/docker run --name app myrepo/app:1', line) });
    expect(e.message).toContain(message);
    expect(e.message).toMatch(/a\.service:\d+: /);
  });

  it('refuses housekeeping on a container when docker run has no --name', () => {
    expect(failure({ 'a.service': unit('/usr/bin/docker run img', 'ExecStartPre=-/usr/bin/docker rm a') }).hint).toContain('add --name a');
  });

  it.each([
    ['/usr/bin/node server.js', "ExecStart of a.service is not a docker run line — kiboko deploys containers; got '/usr/bin/node server.js'"],
    ['/bin/sh -c "docker run img"', 'is not a docker run line'],
    ['/usr/bin/docker start -a app', 'is not a docker run line'],
    ['/usr/bin/docker -H tcp://x:2375 run img', 'is not a docker run line'],
    ['/usr/bin/docker', 'is not a docker run line'],
  ])('refuses ExecStart=%s', (execStart, message) => {
    expect(failure({ 'a.service': unit(execStart) }).message).toContain(message);
  });

  it('refuses a unit without ExecStart, with two, or with Type=oneshot', () => {
    expect(failure({ 'a.service': '[Service]\nType=simple\n' }).message).toContain('a.service has no ExecStart');
    expect(failure({ 'a.service': unit('/usr/bin/docker run img', 'ExecStart=/usr/bin/docker run img2') }).message).toContain('more than one ExecStart');
    expect(failure({ 'a.service': unit('/usr/bin/docker run img ; /usr/bin/docker run img2') }).message).toContain('more than one ExecStart');
    expect(failure({ 'a.service': unit('/usr/bin/docker run img', 'Type=oneshot') }).message).toContain('Type=oneshot is not a long-running container');
  });

  it('refuses an unsupported docker run flag naming the unit file, the line and the flag', () => {
    const e = failure({ 'a.service': '[Unit]\nDescription=x\n[Service]\nExecStart=/usr/bin/docker run --privileged \\\n  img\n' });
    expect(e.message).toMatch(/\/a\.service:4: unsupported docker run flag --privileged$/);
    expect(e.hint).toContain('privileged');
  });

  it('refuses syntax errors, bad unit names and unsupported specifiers', () => {
    expect(failure({ 'a.service': '[Service]\nExecStart /usr/bin/docker run img\n' }).message).toMatch(/a\.service:2: expected Key=Value/);
    expect(failure({ 'a b.service': unit('/usr/bin/docker run img') }).message).toContain("invalid unit name 'a b.service'");
    expect(failure({ 'a.service': unit('/usr/bin/docker run -e HOST=%H img') }).message).toContain('unsupported specifier %H');
    expect(failure({ 'a.service': unit('/usr/bin/docker run "img') }).message).toContain('unbalanced " quote');
  });

  it('refuses a missing folder, a folder without units and a dangling symlink', () => {
    expect(() => loadUnitFolder(join(root, 'nope'))).toThrow(/cannot read unit folder/);
    expect(failure({ 'x.txt': 'hello' }).message).toContain('no *.service unit files');
    expect(failure({ 'web@1.service': '->web@.service' }).message).toContain('cannot read');
  });
});

describe('translateUnits', () => {
  it('translates units given as fleet options (the units API path)', () => {
    const config = translateUnits(
      [
        {
          name: 'hello.service',
          file: 'hello.service',
          unit: fromOptions([
            { section: 'Service', name: 'ExecStart', value: '/usr/bin/docker run --name hello busybox echo hi' },
            { section: 'X-Fleet', name: 'Global', value: 'true' },
          ]),
        },
      ],
      { projectName: 'api', env: {} },
    );
    expect(config.services[0]).toMatchObject({ name: 'hello', image: 'busybox', command: ['echo', 'hi'], replicas: 1 });
    expect(config.placement).toEqual({ hello: [{ unit: 'hello.service', options: [{ name: 'Global', value: 'true', line: 0 }] }] });
  });
});
