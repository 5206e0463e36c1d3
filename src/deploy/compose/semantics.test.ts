import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KibokoError } from '../../common/errors.js';
import { secretValue } from '../model.js';
import { loadCompose, renderConfig, type ComposeWarning } from './index.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function project(files: Record<string, string>, folder = 'shop'): string {
  const base = mkdtempSync(path.join(tmpdir(), 'kiboko-compose-sem-'));
  made.push(base);
  const dir = path.join(base, folder);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KibokoError);
    return (err as KibokoError).message;
  }
  throw new Error('expected a refusal');
}

describe('project name: -p > COMPOSE_PROJECT_NAME > name: > folder', () => {
  const text = 'name: prod\nservices: {web: {image: nginx}}\n';
  it('ranks -p first, even over name:', () => {
    const dir = project({ 'compose.yaml': text });
    expect(loadCompose([], { cwd: dir, env: {}, projectName: 'staging' }).project).toBe('staging');
  });
  it('then COMPOSE_PROJECT_NAME, from the environment or .env', () => {
    expect(loadCompose([], { cwd: project({ 'compose.yaml': text }), env: { COMPOSE_PROJECT_NAME: 'fromenv' } }).project).toBe('fromenv');
    expect(loadCompose([], { cwd: project({ 'compose.yaml': text, '.env': 'COMPOSE_PROJECT_NAME=fromdotenv\n' }), env: {} }).project).toBe('fromdotenv');
  });
  it('then name:, then the folder', () => {
    expect(loadCompose([], { cwd: project({ 'compose.yaml': text }), env: {} }).project).toBe('prod');
    expect(loadCompose([], { cwd: project({ 'compose.yaml': 'services: {web: {image: nginx}}\n' }, 'My_App'), env: {} }).project).toBe('my_app');
  });
});

describe('variables', () => {
  it('warns about each unset variable, and a type error names the variable', () => {
    const warnings: ComposeWarning[] = [];
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx:${TAG}\n    deploy: {replicas: "${REPLICAS}"}\n' });
    const message = refusal(() => loadCompose([], { cwd: dir, env: {}, onWarning: (w) => warnings.push(w) }));
    expect(message).toContain('expected a whole number ≥ 0, got "" (from ${REPLICAS})');
    expect(warnings.map((w) => [w.line, w.message.split(';')[0]])).toEqual([
      [3, 'variable TAG is not set'],
      [4, 'variable REPLICAS is not set'],
    ]);
  });
  it('reads --env-file instead of .env, and COMPOSE_FILE / COMPOSE_PROFILES from it', () => {
    const dir = project({
      'base.yaml': 'services:\n  web: {image: "nginx:${TAG}"}\n  debug: {image: busybox, profiles: [dev]}\n',
      'prod.env': 'TAG=1.27\nCOMPOSE_FILE=base.yaml\nCOMPOSE_PROFILES=dev\n',
      '.env': 'TAG=ignored\n',
    });
    const c = loadCompose([], { cwd: dir, env: {}, envFiles: ['prod.env'] });
    expect(c.services.map((s) => [s.name, s.image])).toEqual([['web', 'nginx:1.27'], ['debug', 'busybox']]);
  });
});

describe('extends and include', () => {
  it('extends a service of the same file and of another folder\'s file, with compose\'s merge rules and rebased paths', () => {
    const dir = project({
      'common/base.yaml': 'services:\n  base:\n    image: app:1\n    environment: {A: base, B: base}\n    env_file: base.env\n    volumes: [./data:/data]\n    command: [serve]\n',
      'common/base.env': 'FROM_FILE=1\n',
      'compose.yaml': 'services:\n  web:\n    extends: {file: common/base.yaml, service: base}\n    environment: {B: web}\n    command: [serve, --web]\n  worker:\n    extends: web\n    command: !reset null\n',
    });
    const c = loadCompose([], { cwd: dir, env: {} });
    const web = c.services.find((s) => s.name === 'web')!;
    expect(web.image).toBe('app:1');
    expect(web.environment).toEqual({ FROM_FILE: '1', A: 'base', B: 'web' });
    expect(web.command).toEqual(['serve', '--web']);
    expect(web.volumes[0]!.source).toBe(path.join(dir, 'common/data'));
    const worker = c.services.find((s) => s.name === 'worker')!;
    expect(worker.command).toBeUndefined();
    expect(worker.environment.B).toBe('web');
  });
  it('refuses an extends cycle and a remote source', () => {
    expect(refusal(() => loadCompose([], { cwd: project({ 'compose.yaml': 'services:\n  a: {extends: b, image: x}\n  b: {extends: a}\n' }), env: {} }))).toContain('extends cycle');
    expect(refusal(() => loadCompose([], { cwd: project({ 'compose.yaml': 'services:\n  a: {extends: {file: "https://example.com/c.yaml", service: b}, image: x}\n' }), env: {} }))).toContain('remote source');
  });
  it('includes another project with its own folder and env file, and refuses a conflicting definition', () => {
    const dir = project({
      'db/compose.yaml': 'services:\n  db:\n    image: "postgres:${PG}"\n    volumes: [./init:/docker-entrypoint-initdb.d]\nvolumes: {data: {}}\n',
      'db/.env': 'PG=16\n',
      'compose.yaml': 'include: [db/compose.yaml]\nservices:\n  web: {image: nginx, depends_on: [db]}\n',
    });
    const c = loadCompose([], { cwd: dir, env: {} });
    expect(c.services.map((s) => [s.name, s.image])).toEqual([['web', 'nginx'], ['db', 'postgres:16']]);
    expect(c.services[1]!.volumes[0]!.source).toBe(path.join(dir, 'db/init'));
    expect(c.volumes).toEqual(['data']);
    writeFileSync(path.join(dir, 'compose.yaml'), 'include: [db/compose.yaml]\nservices:\n  db: {image: mysql}\n');
    expect(refusal(() => loadCompose([], { cwd: dir, env: {} }))).toContain('also defined by an included file');
  });
});

describe('Compose keys one engine honours', () => {
  it('reads build, secrets, capabilities, network settings, resources and deploy settings', () => {
    const dir = project({
      'compose.yaml': `services:
  web:
    build: {context: ./web, args: [A=1], target: prod}
    container_name: shop-web
    cap_add: [NET_ADMIN]
    sysctls: {net.core.somaxconn: 1024}
    ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 512}
    mem_limit: 512m
    develop: {watch: []}
    secrets: [token, {source: cfg, target: app.conf, mode: 0440}]
    networks:
      back: {aliases: [api], ipv4_address: 172.28.0.10}
    deploy:
      mode: global
      resources: {limits: {cpus: "0.5", memory: 1g}}
      placement: {constraints: [node.role == manager]}
secrets:
  token: {environment: TOKEN}
  cfg: {file: ./cfg.txt}
networks:
  back:
    ipam: {config: [{subnet: 172.28.0.0/16}]}
`,
      'cfg.txt': 'x',
    });
    const warnings: ComposeWarning[] = [];
    const c = loadCompose([], { cwd: dir, env: { TOKEN: 's3cret' }, onWarning: (w) => warnings.push(w) });
    const web = c.services[0]!;
    expect(web).toMatchObject({
      image: 'shop-web',
      build: { context: path.join(dir, 'web'), args: { A: '1' }, target: 'prod' },
      containerName: 'shop-web',
      capAdd: ['NET_ADMIN'],
      sysctls: { 'net.core.somaxconn': '1024' },
      ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: { soft: 512, hard: 512 } },
      resources: { memoryBytes: 512 * 2 ** 20 },
      secrets: [{ source: 'token', target: '/run/secrets/token' }, { source: 'cfg', target: '/run/secrets/app.conf', mode: 0o440 }],
      networks: ['back'],
      networkSettings: { back: { aliases: ['api'], ipv4Address: '172.28.0.10' } },
      deploy: { mode: 'global', resources: { limits: { cpus: 0.5, memoryBytes: 2 ** 30 } }, placement: { constraints: ['node.role == manager'] } },
    });
    expect(c.networkDefinitions!.back).toEqual({ name: 'shop_back', ipam: { config: [{ subnet: '172.28.0.0/16' }] } });
    expect(secretValue(c.secrets!.token!)).toBe('s3cret');
    expect(JSON.stringify(c)).not.toContain('s3cret');
    expect(JSON.stringify(renderConfig(c))).not.toContain('s3cret');
    expect(warnings.map((w) => w.message)).toEqual([expect.stringContaining('develop')]);
  });
  it('reads the boolean network options (internal, attachable, enable_ipv4/6) and refuses unknown ones', () => {
    const c = loadCompose([], {
      cwd: project({ 'compose.yaml': 'services:\n  a: {image: x, networks: [back]}\nnetworks:\n  back: {internal: true, attachable: "false", enable_ipv4: true, enable_ipv6: false}\n' }),
      env: {},
    });
    expect(c.networkDefinitions!.back).toEqual({ name: 'shop_back', internal: true, attachable: false, enableIpv4: true, enableIpv6: false });
    expect(() => loadCompose([], { cwd: project({ 'compose.yaml': 'services:\n  a: {image: x}\nnetworks:\n  back: {constructor: true}\n' }), env: {} })).toThrow(/constructor/);
  });
  it('joins only the networks a service lists; default only when it lists none', () => {
    const c = loadCompose([], { cwd: project({ 'compose.yaml': 'services:\n  a: {image: x, networks: [back]}\n  b: {image: x}\nnetworks: {back: {}}\n' }), env: {} });
    expect(c.services.map((s) => s.networks)).toEqual([['back'], ['default']]);
  });
});

describe('deploy config rendering and smaller rules', () => {
  it('interpolates ${COMPOSE_PROJECT_NAME} as compose sets it', () => {
    const dir = project({ 'compose.yaml': 'name: shop\nservices:\n  web: {image: nginx, labels: {p: "${COMPOSE_PROJECT_NAME}"}}\n' });
    expect(loadCompose([], { cwd: dir, env: {} }).services[0]!.labels).toEqual({ p: 'shop' });
    expect(loadCompose([], { cwd: dir, env: {}, projectName: 'other' }).services[0]!.labels).toEqual({ p: 'other' });
  });

  it('renders the model in compose\'s vocabulary, with engine names and without secret values', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: nginx\n    restart: "no"\n    mem_limit: 1g\n    secrets: [s]\n    networks: {back: {aliases: [w]}}\nnetworks: {back: {}}\nvolumes: {data: {external: true}}\nsecrets: {s: {environment: S}}\n',
    });
    const r = renderConfig(loadCompose([], { cwd: dir, env: { S: 'hidden' } })) as Record<string, Record<string, Record<string, unknown>>>;
    expect(r.name).toBe('shop');
    expect(r.services!.web).toMatchObject({ image: 'nginx', restart: 'no', mem_limit: 2 ** 30, networks: { back: { aliases: ['w'] } }, secrets: [{ source: 's', target: '/run/secrets/s' }] });
    expect(r.networks).toEqual({ back: { name: 'shop_back' } });
    expect(r.volumes).toEqual({ data: { name: 'data', external: true } });
    expect(r.secrets).toEqual({ s: { name: 'shop_s', environment: 'S' } });
    expect(JSON.stringify(r)).not.toContain('hidden');
  });

  it('warns that version is obsolete, refuses models, and keeps unknown keys apart from typos', () => {
    const warnings: ComposeWarning[] = [];
    loadCompose([], { cwd: project({ 'compose.yaml': 'version: "3.8"\nservices: {web: {image: nginx}}\n' }), env: {}, onWarning: (w) => warnings.push(w) });
    expect(warnings[0]!.message).toContain('version is obsolete');
    expect(refusal(() => loadCompose([], { cwd: project({ 'compose.yaml': 'services: {web: {image: nginx}}\nmodels: {m: {model: ai/x}}\n' }), env: {} }))).toContain('Docker Model Runner');
    expect(refusal(() => loadCompose([], { cwd: project({ 'compose.yaml': 'services: {web: {image: nginx, cap_ad: [X]}}\n' }), env: {} }))).toContain('did you mean cap_add?');
  });
});
