import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTar } from '../common/tar.js';
import { FakeEngine } from '../engine/index.js';
import { replicaSpec, serviceNetworks } from './containers.js';
import { containerConfig } from './hash.js';
import { newService, withSecretValue, type SystemConfig } from './model.js';
import { observeProject } from './observe.js';
import { projectFiles, withFileDigests } from './objects.js';
import { planDeploy } from './plan.js';
import { downProject, stopWaves } from './project.js';

const config = (over: Partial<SystemConfig> = {}): SystemConfig => ({ project: 'shop', services: [], networks: [], volumes: [], sources: ['/srv/shop/compose.yaml'], projectDir: '/srv/shop', ...over });

describe('replicaSpec: compose semantics on one engine', () => {
  it('joins only the networks a service lists (the default one only when it lists none), with aliases and fixed addresses', () => {
    const p = config({ networks: ['front', 'back'], networkDefinitions: { back: { name: 'custom_back' } } });
    const api = newService('api', 'repo/api:1', { networks: ['back'], networkSettings: { back: { aliases: ['db-api'], ipv4Address: '10.5.0.9' } } });
    expect(replicaSpec(p, 'api', 1, containerConfig(api), 1).networks).toEqual([{ name: 'custom_back', aliases: ['api', 'db-api'], ipv4Address: '10.5.0.9', ipv6Address: undefined, linkLocalIps: undefined, macAddress: undefined }]);
    expect(serviceNetworks(newService('web', 'x'))).toEqual(['default']);
    expect(serviceNetworks(newService('web', 'x', { networkMode: 'host' }))).toEqual([]);
  });

  it("names replicas as compose v2 does and carries compose's labels", () => {
    const spec = replicaSpec(config(), 'web', 2, containerConfig(newService('web', 'repo/web:1')), 7);
    expect(spec.name).toBe('shop-web-2');
    expect(spec.labels).toMatchObject({
      'com.docker.compose.project': 'shop',
      'com.docker.compose.service': 'web',
      'com.docker.compose.container-number': '2',
      'com.docker.compose.oneoff': 'False',
      'com.docker.compose.project.working_dir': '/srv/shop',
      'com.docker.compose.project.config_files': '/srv/shop/compose.yaml',
      'kiboko.deploy.revision': '7',
    });
    expect(replicaSpec(config(), 'db', 1, containerConfig(newService('db', 'x', { containerName: 'postgres' })), 1).name).toBe('postgres');
  });

  it('maps the container keys to the engine: namespaces of other services, resources with deploy limits over them, restart policy, devices', () => {
    const p = config({ services: [newService('vpn', 'x', { containerName: 'wg' })] });
    const s = newService('app', 'x', {
      networkMode: 'service:vpn',
      ports: [{ target: 80, published: 8080, protocol: 'tcp' }],
      volumesFrom: ['service:vpn:ro', 'container:other'],
      links: ['vpn:tunnel'],
      resources: { cpus: 2, memoryBytes: 1024, pidsLimit: 10 },
      deploy: { resources: { limits: { cpus: 0.5 }, reservations: { memoryBytes: 512 } }, restartPolicy: { condition: 'on-failure', maxAttempts: 4 } },
      devices: [{ source: '/dev/fuse' }, { source: 'vendor.com/gpu=0' }],
      ulimits: { nofile: { soft: 10, hard: 20 } },
      capAdd: ['NET_ADMIN'],
      readOnly: true,
      stdinOpen: true,
    });
    const spec = replicaSpec(p, 'app', 1, containerConfig(s), 1);
    expect(spec).toMatchObject({
      networkMode: 'container:wg',
      ports: [],
      networks: [],
      volumesFrom: ['wg:ro', 'other'],
      links: ['wg:tunnel'],
      nanoCpus: 500_000_000,
      memory: 1024,
      memoryReservation: 512,
      pidsLimit: 10,
      restartPolicy: { name: 'on-failure', maximumRetryCount: 4 },
      devices: [{ pathOnHost: '/dev/fuse', pathInContainer: '/dev/fuse', cgroupPermissions: 'rwm' }],
      deviceRequests: [{ driver: 'cdi', capabilities: [], deviceIds: ['vendor.com/gpu=0'] }],
      ulimits: [{ name: 'nofile', soft: 10, hard: 20 }],
      capAdd: ['NET_ADMIN'],
      readonlyRootfs: true,
      openStdin: true,
    });
  });
});

describe('secrets and configs', () => {
  it('are one archive at their compose paths with uid, gid and mode (0444 by default)', async () => {
    const p = config({ secrets: { pw: withSecretValue({ name: 'shop_pw', environment: 'PW' }, 'hunter2') }, configs: { conf: { name: 'shop_conf', content: 'a=1\n' } } });
    const tar = await projectFiles(p, { secrets: [{ source: 'pw', target: '/run/secrets/pw' }], configs: [{ source: 'conf', target: '/etc/app.conf', uid: '1000', gid: '2000', mode: 0o440 }] });
    const entries = (await readTar(tar!)).map((e) => ({ name: e.name, mode: e.mode & 0o7777, uid: e.uid, text: e.data.toString() }));
    expect(entries).toEqual([
      { name: 'run/secrets/pw', mode: 0o444, uid: 0, text: 'hunter2' },
      { name: 'etc/app.conf', mode: 0o440, uid: 1000, text: 'a=1\n' },
    ]);
  });

  it('an environment secret whose variable is unset is a clear error', async () => {
    const p = config({ secrets: { pw: { name: 'shop_pw', environment: 'PW' } } });
    await expect(projectFiles(p, { secrets: [{ source: 'pw', target: '/run/secrets/pw' }] })).rejects.toThrow(/environment variable PW is not set/);
  });
});

describe('adoption and down', () => {
  it('plans the replacement of containers docker compose started, naming them; one-offs and unnumbered ones are left alone', async () => {
    const e = new FakeEngine();
    const compose = (name: string, extra: Record<string, string> = {}) =>
      e.add({ name, status: 'running', labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web', 'com.docker.compose.container-number': '1', 'com.docker.compose.oneoff': 'False', ...extra } });
    compose('shop_web_1');
    compose('shop_web_run_1', { 'com.docker.compose.oneoff': 'True' });
    e.add({ name: 'sweet_hawking', status: 'exited', labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' } });
    const plan = planDeploy(config({ services: [newService('web', 'repo/web:1')] }), await observeProject(e, 'shop'));
    expect(plan.steps).toEqual([expect.objectContaining({ service: 'web', action: 'update', causes: ['adopt 1 container(s) started by docker compose (shop_web_1): replaced by kiboko replicas'] })]);
  });

  it('container_name with several replicas is refused with a hint', () => {
    expect(() => planDeploy(config({ services: [newService('db', 'x', { containerName: 'pg', replicas: 2 })] }), [])).toThrow(/container_name pg and 2 replicas/);
  });

  it('down removes the project containers and networks (volumes only with --volumes) and leaves orphans without --remove-orphans', async () => {
    const e = new FakeEngine();
    e.add({ name: 'shop-web-1', status: 'running', labels: { 'kiboko.deploy.project': 'shop', 'kiboko.deploy.service': 'web' } });
    e.add({ name: 'shop-old-1', status: 'running', labels: { 'kiboko.deploy.project': 'shop', 'kiboko.deploy.service': 'old' } });
    e.add({ name: 'other-web-1', status: 'running', labels: { 'kiboko.deploy.project': 'other', 'kiboko.deploy.service': 'web' } });
    await e.ensureNetwork('shop_default', { 'kiboko.deploy.project': 'shop' });
    await e.ensureVolume('shop_data', { 'com.docker.compose.project': 'shop' });
    const withOrphan = await downProject(e, undefined, 'shop', { config: config({ services: [newService('web', 'x')] }) });
    expect(withOrphan).toMatchObject({ removed: { containers: ['shop-web-1'], networks: [], volumes: [] }, orphans: ['shop-old-1'] });
    const all = await downProject(e, undefined, 'shop', { volumes: true });
    expect(all.removed).toMatchObject({ containers: ['shop-old-1'], networks: ['shop_default'], volumes: ['shop_data'] });
    expect((await e.list({ all: true })).map((c) => c.name)).toEqual(['other-web-1']);
  });
  it('observes a project with one list call, telling kiboko replicas from containers docker compose started', async () => {
    const e = new FakeEngine();
    const spec = replicaSpec(config(), 'web', 1, containerConfig(newService('web', 'repo/web:1')), 1);
    e.add({ name: spec.name, status: 'running', labels: spec.labels });
    e.add({ name: 'shop_db_1', status: 'running', labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'db', 'com.docker.compose.container-number': '1' } });
    e.add({ name: 'other-web-1', status: 'running', labels: replicaSpec(config({ project: 'other' }), 'web', 1, containerConfig(newService('web', 'repo/web:1')), 1).labels });
    const before = e.calls.length;
    const observed = await observeProject(e, 'shop');
    expect(e.calls.slice(before).filter((c) => c.op === 'list')).toHaveLength(1);
    expect(observed.map((r) => [r.name, r.service, Boolean(r.adopted)])).toEqual([
      ['shop-web-1', 'web', false],
      ['shop_db_1', 'db', true],
    ]);
  });

  it('down stops dependents before their dependencies, in parallel within a wave, each with its stop_grace_period', async () => {
    const e = new FakeEngine();
    const services = [
      newService('db', 'x', { stopGracePeriodMs: 30_000 }),
      newService('api', 'x', { dependsOn: [{ service: 'db', condition: 'service_started' }], stopGracePeriodMs: 1_000 }),
      newService('web', 'x', { dependsOn: [{ service: 'api', condition: 'service_started' }] }),
      newService('worker', 'x', { dependsOn: [{ service: 'db', condition: 'service_started' }], replicas: 2 }),
    ];
    const p = config({ services });
    const add = (s: (typeof services)[number], slot: number) => e.add({ name: `shop-${s.name}-${slot}`, status: 'running', labels: replicaSpec(p, s.name, slot, containerConfig(s), 1).labels });
    for (const s of services) for (let slot = 1; slot <= s.replicas; slot++) add(s, slot);
    const waves = stopWaves(await e.list({ all: true }), p).map((w) => w.map((c) => c.name).sort());
    expect(waves).toEqual([['shop-web-1', 'shop-worker-1', 'shop-worker-2'], ['shop-api-1'], ['shop-db-1']]);

    const names = new Map((await e.list({ all: true })).map((c) => [c.id, c.name]));
    const r = await downProject(e, undefined, 'shop', { config: p });
    expect(r.removed.containers.sort()).toEqual(['shop-api-1', 'shop-db-1', 'shop-web-1', 'shop-worker-1', 'shop-worker-2']);
    const stops = e.calls.filter((c) => c.op === 'stop').map((c) => [names.get(c.id), c.args]);
    expect(stops.slice(0, 3).sort()).toEqual([['shop-web-1', 10], ['shop-worker-1', 10], ['shop-worker-2', 10]]);
    expect(stops.slice(3)).toEqual([['shop-api-1', 1], ['shop-db-1', 30]]);
    expect(await e.list({ all: true })).toEqual([]);
  });
  it('an edited secret or config file recreates the containers that mount it, and only those (compose hashes the content too)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-digest-'));
    try {
      writeFileSync(join(dir, 'pw.txt'), 'hunter2');
      const p = config({ secrets: { pw: { name: 'shop_pw', file: join(dir, 'pw.txt') } }, configs: { conf: { name: 'shop_conf', content: 'a=1\n' } } });
      const db = newService('db', 'x', { secrets: [{ source: 'pw', target: '/run/secrets/pw' }] });
      const web = newService('web', 'x', { configs: [{ source: 'conf', target: '/etc/app.conf' }] });
      const plain = newService('cache', 'x');
      const first = withFileDigests({ ...p, services: [db, web, plain] });
      expect(first.services.find((s) => s.name === 'cache')).toBe(plain);
      expect(Object.keys(first.services.find((s) => s.name === 'db')!.fileDigests!)).toEqual(['secret:pw']);
      expect(JSON.stringify(first)).not.toContain('hunter2');
      const e = new FakeEngine();
      for (const s of first.services) e.add({ name: `shop-${s.name}-1`, status: 'running', labels: replicaSpec(first, s.name, 1, containerConfig(s), 1).labels });
      const observed = await observeProject(e, 'shop');
      expect(planDeploy(withFileDigests({ ...p, services: [db, web, plain] }), observed).changes).toBe(false);

      writeFileSync(join(dir, 'pw.txt'), 'correct horse');
      const plan = planDeploy(withFileDigests({ ...p, services: [db, web, plain] }), observed);
      expect(plan.steps.filter((s) => s.action !== 'unchanged')).toEqual([expect.objectContaining({ service: 'db', action: 'update', causes: ['content of secret pw changed'] })]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
