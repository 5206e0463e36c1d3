import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../common/clock.js';
import { LABELS } from '../../common/labels.js';
import { configHash, dependencyValues, deployBackend, deployProject, DeployStore, liveReplicas, loadCompose, newService, syncDependents, type ServiceSpec, type SystemConfig } from '../../deploy/index.js';
import { FakeEngine } from '../../engine/index.js';
import { startDependencyReactor, type DependencyReactorEvent } from './reactor.js';

class FakeClock implements Clock {
  t = 1_700_000_000_000;
  now() {
    return this.t;
  }
  async sleep(ms: number) {
    this.t += ms;
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function confdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiboko-deps-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'conf.d'));
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'conf.d', 'web.toml'), '[template]\nsrc = "web.conf.tmpl"\ndest = "/etc/web/web.conf"\nkeys = ["/deps/db", "/self"]\n');
  writeFileSync(join(dir, 'templates', 'web.conf.tmpl'), 'upstream {{getv "/deps/db/address"}}:{{getv "/deps/db/port"}} host={{getv "/deps/db/host"}} for={{getv "/self/service"}}\n');
  return dir;
}

function project(db: Partial<ServiceSpec> = {}): SystemConfig {
  const web = newService('web', 'web:1', { dependsOn: [{ service: 'db', condition: 'service_started' }], templates: { confdir: confdir(), reload: ['reload-web'] } });
  return { project: 'shop', services: [newService('db', 'db:1', { ports: [{ target: 5432, protocol: 'tcp' }], ...db }), web], networks: [], volumes: [], sources: [] };
}

function setup() {
  const engine = new FakeEngine();
  const reloads: string[] = [];
  engine.execHandler = (id, cmd) => {
    if (cmd[0] === 'reload-web') reloads.push(id);
    return { exitCode: 0, stdout: '', stderr: '' };
  };
  const stateDir = mkdtempSync(join(tmpdir(), 'kiboko-deps-state-'));
  dirs.push(stateDir);
  const store = new DeployStore(stateDir);
  const clock = new FakeClock();
  const images = Promise.all(['db:1', 'web:1'].map((tag) => engine.buildImage({ contextDir: '.', tag })));
  const deploy = async (config: SystemConfig) => (await images, deployProject(engine, store, config, { trigger: 'apply', source: 'test', clock, engineMode: 'docker' }));
  const byService = async (service: string) => (await engine.list({ labels: [`${LABELS.deployService}=${service}`] }))[0]!;
  const addressOf = async (service: string) => (await engine.inspect((await byService(service)).id)).networks.shop_default!.ipAddress;
  return { engine, reloads, store, deploy, byService, addressOf };
}

describe('service dependencies', () => {
  it('renders a dependent’s config with its dependency’s address when both are deployed', async () => {
    const s = setup();
    const run = await s.deploy(project());
    expect(run.result.outcome).toBe('ok');
    const web = await s.byService('web');
    expect(s.engine.readFile(web.id, '/etc/web/web.conf')).toBe(`upstream ${await s.addressOf('db')}:5432 host=db for=web\n`);
    expect(s.reloads).toEqual([web.id]);
    s.store.close();
  });

  it('re-renders and reloads the dependent when its dependency is replaced, without replacing it', async () => {
    const s = setup();
    await s.deploy(project());
    const web = await s.byService('web');
    const oldDb = await s.byService('db');
    const run = await s.deploy(project({ environment: { VERSION: '2' } }));
    expect(run.plan.steps.map((p) => `${p.service}:${p.action}`)).toEqual(['db:update', 'web:unchanged']);
    const newDb = await s.byService('db');
    expect(newDb.id).not.toBe(oldDb.id);
    expect((await s.byService('web')).id).toBe(web.id);
    const address = await s.addressOf('db');
    expect(s.engine.readFile(web.id, '/etc/web/web.conf')).toBe(`upstream ${address}:5432 host=db for=web\n`);
    expect(s.reloads).toEqual([web.id, web.id]);
    // Nothing changed: a further pass writes and reloads nothing.
    const again = await syncDependents(s.engine, project({ environment: { VERSION: '2' } }));
    expect(again).toMatchObject([{ service: 'web', changed: 0, reloaded: [] }]);
    expect(s.reloads).toHaveLength(2);
    s.store.close();
  });

  it('keeps the current config when a dependency has no running replica', async () => {
    const s = setup();
    const config = project();
    await s.deploy(config);
    const web = await s.byService('web');
    const before = s.engine.readFile(web.id, '/etc/web/web.conf');
    await s.engine.stop((await s.byService('db')).id, 0);
    const [r] = await syncDependents(s.engine, config);
    expect(r!.failures.join()).toMatch(/deps\/db\/address/);
    expect(s.engine.readFile(web.id, '/etc/web/web.conf')).toBe(before);
    s.store.close();
  });

  it('describes dependencies as keys, preferring the newest replica of a slot and never a retiring one', async () => {
    const engine = new FakeEngine();
    const config = project();
    const observed = [
      { id: 'old', name: 'shop-db-1-a', service: 'db', slot: 1, hash: 'a', config: undefined, status: 'running' as const, revision: 1 },
      { id: 'new', name: 'shop-db-1-b', service: 'db', slot: 1, hash: 'b', config: undefined, status: 'running' as const, revision: 2 },
      { id: 'two', name: 'shop-db-2-b', service: 'db', slot: 2, hash: 'b', config: undefined, status: 'running' as const, revision: 2 },
      { id: 'gone', name: 'shop-db-3-b', service: 'db', slot: 3, hash: 'b', config: undefined, status: 'exited' as const, revision: 2 },
    ];
    expect(liveReplicas(observed, 'db').map((r) => r.id)).toEqual(['new', 'two']);
    expect(liveReplicas(observed, 'db', new Set(['new'])).map((r) => r.id)).toEqual(['old', 'two']);
    for (const [id, ip] of [['old', '10.0.0.2'], ['new', '10.0.0.3'], ['two', '10.0.0.4']]) engine.add({ id: id!, name: `c-${id}`, networks: { shop_default: { ipAddress: ip! } } });
    const values = await dependencyValues(engine, config, config.services[1]!, { observed, retiring: new Set(['old']) });
    expect(Object.fromEntries(values)).toEqual({
      '/self/project': 'shop',
      '/self/service': 'web',
      '/deps/db/host': 'db',
      '/deps/db/port': '5432',
      '/deps/db/address': '10.0.0.3',
      '/deps/db/addresses': '10.0.0.3,10.0.0.4',
      '/deps/db/container_id': 'new',
      '/deps/db/container_name': 'shop-db-1-b',
      '/deps/db/replicas/1/address': '10.0.0.3',
      '/deps/db/replicas/1/container_id': 'new',
      '/deps/db/replicas/2/address': '10.0.0.4',
      '/deps/db/replicas/2/container_id': 'two',
    });
    const backend = deployBackend(values);
    expect([...(await backend.getValues(['/deps/db/replicas/1'])).keys()]).toEqual(['/deps/db/replicas/1/address', '/deps/db/replicas/1/container_id']);
    expect((await backend.getValues(['/deps/d'])).size).toBe(0);
  });

  it('as a reactor: a new container of a dependency (started behind the deploy’s back) re-renders the dependents', async () => {
    const s = setup();
    const config = project();
    await s.deploy(config);
    const web = await s.byService('web');
    const seen: DependencyReactorEvent[] = [];
    const reactor = startDependencyReactor(s.engine, 'shop', { load: async () => config, settleMs: 0, onEvent: (e) => seen.push(e) });
    // File reads happen in each pass: wait on the wall clock (bounded), not a number of ticks.
    const until = async (cond: () => boolean) => {
      for (const end = Date.now() + 10_000; !cond() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 5));
    };
    await until(() => seen.some((e) => e.type === 'pass'));
    expect(seen.find((e) => e.type === 'pass')).toMatchObject({ reason: 'start', results: [{ service: 'web', changed: 0 }] });
    // Someone replaces db by hand: a new container with the deploy's labels, the old one removed.
    const old = await s.engine.inspect((await s.byService('db')).id);
    await s.engine.remove(old.id, { force: true });
    const ref = await s.engine.create({ image: 'db:1', name: 'shop-db-1-manual', labels: old.labels, networks: [{ name: 'shop_default', aliases: ['db'] }] });
    await s.engine.start(ref.id);
    await until(() => seen.filter((e) => e.type === 'pass').length >= 2);
    await reactor.stop();
    expect(seen.filter((e) => e.type === 'pass')[1]).toMatchObject({ reason: 'containers-started', services: ['web'], results: [{ service: 'web', changed: 1, reloaded: [web.name] }] });
    expect(s.engine.readFile(web.id, '/etc/web/web.conf')).toBe(`upstream ${(await s.engine.inspect(ref.id)).networks.shop_default!.ipAddress}:5432 host=db for=web\n`);
    s.store.close();
  });

  it('reads x-kiboko.config from a compose file, relative to it, outside the config hash', () => {
    const dir = confdir();
    const compose = join(dir, 'compose.yaml');
    const text = (cfg: string) => `name: shop\nservices:\n  db:\n    image: db:1\n  web:\n    image: web:1\n    depends_on: [db]\n    x-kiboko:\n${cfg}`;
    writeFileSync(compose, text('      tag-policy: pinned\n      config:\n        confdir: .\n        reload: ["nginx", "-s", "reload"]\n'));
    const web = loadCompose([compose]).services.find((x) => x.name === 'web')!;
    expect(web.templates).toEqual({ confdir: dir, reload: ['nginx', '-s', 'reload'] });
    expect(configHash(web)).toBe(configHash({ ...web, templates: undefined }));
    writeFileSync(compose, text('      config:\n        confdir: ./nowhere\n        relaod: x\n'));
    let message = '';
    try {
      loadCompose([compose]);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/compose\.yaml:10 .*config folder \.\/nowhere does not exist/);
    expect(message).toMatch(/compose\.yaml:11 .*unknown x-kiboko\.config key "relaod" — did you mean reload\?/);
  });
});
