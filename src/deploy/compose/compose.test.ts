import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { KibokoError } from '../../common/errors.js';
import {
  type ComposeProblem,
  loadCompose,
  normalizeProjectName,
  parseCompose,
  parsePortSpec,
} from './index.js';
import { DEFAULT_ROLLBACK, DEFAULT_UPDATE, type ServiceSpec, type SystemConfig } from '../model.js';

const DOCS = 'https://docs.docker.com/reference/compose-file';

// ——— fixtures: each test writes a project folder under os.tmpdir() ——

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes `files` (paths relative to the project folder) and returns the folder. */
function project(files: Record<string, string>, folder = 'shop'): string {
  const base = mkdtempSync(path.join(tmpdir(), 'kiboko-compose-'));
  made.push(base);
  const dir = path.join(base, folder);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Loads compose.yaml (or the given files) from a fresh project, with only `env` as the environment. */
function load(files: Record<string, string>, env: Record<string, string> = {}, names = ['compose.yaml']): SystemConfig {
  const dir = project(files);
  return loadCompose(names, { cwd: dir, env });
}

function failure(fn: () => unknown): KibokoError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KibokoError);
    return err as KibokoError;
  }
  throw new Error('expected a KibokoError, nothing was thrown');
}

function problemsOf(fn: () => unknown): ComposeProblem[] {
  const e = failure(fn);
  expect(e.code).toBe('INVALID_ARGUMENT');
  return e.details?.errors as ComposeProblem[];
}

/** 1-based line of the first line containing `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`fixture has no line with ${needle}`);
  return i + 1;
}

/** A minimal service spec with compose's defaults, for expectations. */
function service(name: string, image: string, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name,
    image,
    environment: {},
    ports: [],
    volumes: [],
    networks: ['default'],
    labels: {},
    dependsOn: [],
    restart: 'no',
    replicas: 1,
    update: DEFAULT_UPDATE,
    rollback: DEFAULT_ROLLBACK,
    tagPolicy: { kind: 'pinned' },
    ...extra,
  };
}

const only = (config: SystemConfig, name: string): ServiceSpec => {
  const s = config.services.find((x) => x.name === name);
  if (!s) throw new Error(`no service ${name}`);
  return s;
};

// ——— a realistic file ——

const SHOP = `# Shop: a web front, an API and a database.
name: shop

x-kiboko:
  tag-policy:
    follow: develop        # every service follows develop unless it says otherwise

x-defaults: &defaults      # shared settings, merged in with <<
  restart: unless-stopped
  labels:
    com.example.team: shop

services:
  web:
    <<: *defaults
    image: registry.example.com/shop/web:41-develop
    ports:
      - "8080:80"          # public HTTP
      - 127.0.0.1:9090:9090/tcp
    depends_on:
      api:
        condition: service_healthy
    networks: [front]
    deploy:
      replicas: 2
      update_config:
        parallelism: 1
        delay: 10s
        order: stop-first
        failure_action: pause
        monitor: 30s
        max_failure_ratio: 0.25
      rollback_config:
        parallelism: 0
        failure_action: continue

  api:
    <<: *defaults
    image: registry.example.com/shop/api:58-develop
    command: ["node", "server.js", "--port", 3000]
    entrypoint: /sbin/tini -- "with space"
    env_file: api.env
    environment:
      - NODE_ENV=production
      - DB_HOST=db
      - LOG_LEVEL=\${LOG_LEVEL:-info}
      - HOME_DIR             # taken from the environment kiboko runs in
      - NOT_SET_ANYWHERE     # left out
    labels:
      - "traefik.enable=true"
      - com.example.team=api
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://localhost:3000/health"]
      interval: 15s
      timeout: 2s
      retries: 5
      start_period: 1m30s
    user: "1000:1000"
    working_dir: /app
    stop_signal: int
    stop_grace_period: 45s
    networks:
      front:
      back:
    depends_on: [db]

  db:
    image: postgres:16.4
    x-kiboko:
      tag-policy: pinned
    restart: on-failure:5
    environment:
      POSTGRES_PASSWORD: \${DB_PASSWORD:?set DB_PASSWORD}
      PGDATA: /var/lib/postgresql/data/pg
      UMASK: 0077
    volumes:
      - dbdata:/var/lib/postgresql/data
      - ./initdb:/docker-entrypoint-initdb.d:ro
      - type: bind
        source: ./conf/postgres.conf
        target: /etc/postgresql/postgresql.conf
        read_only: true
    healthcheck:
      test: pg_isready -U postgres
      interval: 5s
    networks: [back]
    expose: ["5432"]       # accepted and ignored
    pull_policy: always    # accepted and ignored

networks:
  front:
  back:
    external: true

volumes:
  dbdata: {}
`;

describe('loadCompose: a realistic project', () => {
  it('translates every supported key into the model', () => {
    const dir = project({
      'compose.yaml': SHOP,
      'api.env': '# API settings\nDB_USER=shop\nDB_HOST=overridden-by-environment\nSECRET_KEY=\'s3cr3t$\'\n',
      '.env': 'LOG_LEVEL=debug\nDB_PASSWORD=from-dotenv\n',
    });
    const config = loadCompose(['compose.yaml'], { cwd: dir, env: { DB_PASSWORD: 'from-process', HOME_DIR: '/home/shop' } });
    const follow = { kind: 'follow-branch', branch: 'develop' } as const;
    const origin = (name: string) => ({ file: 'compose.yaml', line: SHOP.split('\n').indexOf(`  ${name}:`) + 1 });

    expect(config).toStrictEqual<SystemConfig>({
      project: 'shop',
      services: [
        service('web', 'registry.example.com/shop/web:41-develop', {
          ports: [
            { published: 8080, target: 80, protocol: 'tcp' },
            { published: 9090, hostIp: '127.0.0.1', target: 9090, protocol: 'tcp' },
          ],
          networks: ['front'],
          labels: { 'com.example.team': 'shop' },
          dependsOn: [{ service: 'api', condition: 'service_healthy' }],
          restart: 'unless-stopped',
          replicas: 2,
          update: { parallelism: 1, delayMs: 10_000, failureAction: 'pause', monitorMs: 30_000, maxFailureRatio: 0.25, order: 'stop-first' },
          rollback: { ...DEFAULT_ROLLBACK, parallelism: 0, failureAction: 'continue' },
          tagPolicy: follow,
          origin: origin('web'),
        }),
        service('api', 'registry.example.com/shop/api:58-develop', {
          command: ['node', 'server.js', '--port', '3000'],
          entrypoint: ['/sbin/tini', '--', 'with space'],
          environment: {
            DB_USER: 'shop',
            DB_HOST: 'db',
            SECRET_KEY: 's3cr3t$',
            NODE_ENV: 'production',
            LOG_LEVEL: 'debug',
            HOME_DIR: '/home/shop',
          },
          networks: ['front', 'back'],
          labels: { 'com.example.team': 'api', 'traefik.enable': 'true' },
          healthcheck: {
            test: ['CMD', 'wget', '-qO-', 'http://localhost:3000/health'],
            intervalMs: 15_000,
            timeoutMs: 2_000,
            retries: 5,
            startPeriodMs: 90_000,
          },
          dependsOn: [{ service: 'db', condition: 'service_started' }],
          restart: 'unless-stopped',
          user: '1000:1000',
          workingDir: '/app',
          stopSignal: 'SIGINT',
          stopGracePeriodMs: 45_000,
          tagPolicy: follow,
          origin: origin('api'),
        }),
        service('db', 'postgres:16.4', {
          environment: { POSTGRES_PASSWORD: 'from-process', PGDATA: '/var/lib/postgresql/data/pg', UMASK: '0077' },
          volumes: [
            { source: 'dbdata', type: 'volume', target: '/var/lib/postgresql/data', readOnly: false },
            { source: path.join(dir, 'initdb'), type: 'bind', target: '/docker-entrypoint-initdb.d', readOnly: true },
            { source: path.join(dir, 'conf/postgres.conf'), type: 'bind', target: '/etc/postgresql/postgresql.conf', readOnly: true },
          ],
          networks: ['back'],
          healthcheck: { test: ['CMD-SHELL', 'pg_isready -U postgres'], intervalMs: 5_000 },
          restart: 'on-failure',
          restartMaxRetries: 5,
          expose: ['5432'],
          pullPolicy: 'always',
          origin: origin('db'),
        }),
      ],
      networks: ['front', 'back'],
      volumes: ['dbdata'],
      sources: [path.join(dir, 'compose.yaml'), path.join(dir, '.env'), path.join(dir, 'api.env')],
      projectDir: dir,
      networkDefinitions: { front: { name: 'shop_front' }, back: { name: 'back', external: true } },
      volumeDefinitions: { dbdata: { name: 'shop_dbdata' } },
    });
  });

  it('parses the same text in memory with parseCompose', () => {
    const dir = project({ 'api.env': 'DB_USER=shop\n' });
    const config = parseCompose(SHOP, path.join(dir, 'compose.yaml'), { env: { DB_PASSWORD: 'pw' }, cwd: dir });
    expect(config.services.map((s) => s.name)).toEqual(['web', 'api', 'db']);
    expect(only(config, 'api').environment.LOG_LEVEL).toBe('info');
  });

  it('takes the project name from name:, then the option, then the folder (normalized like compose)', () => {
    const body = 'services:\n  web:\n    image: nginx\n';
    expect(load({ 'compose.yaml': `name: from-file\n${body}` }).project).toBe('from-file');
    const dir = project({ 'compose.yaml': body }, 'My Shop.App');
    expect(loadCompose([], { cwd: dir, env: {} }).project).toBe('myshopapp');
    expect(loadCompose([], { cwd: dir, env: {}, projectName: 'explicit_1' }).project).toBe('explicit_1');
    expect(normalizeProjectName('__Hello World-2')).toBe('helloworld-2');
  });

  it('refuses an invalid project name', () => {
    const [p] = problemsOf(() => load({ 'compose.yaml': 'name: My App\nservices:\n  web:\n    image: nginx\n' }));
    expect(p).toMatchObject({ file: 'compose.yaml', line: 1, path: 'name' });
    expect(p!.message).toContain('"myapp"');
    expect(() => parseCompose('services: {web: {image: nginx}}', 'compose.yaml', { projectName: 'Bad Name', readFile: () => undefined })).toThrow(/invalid project name/);
  });
});

// ——— errors ——

const BROKEN = `services:
  web:
    image: nginx
    ports:
      - abc
    container_name: web 1
    secrets: [token]
    enviroment:
      A: 1
    networks: [missing]
    healthcheck:
      interval: 30
    restart: sometimes
    deploy:
      rollback_config:
        failure_action: rollback
    depends_on: [ghost]
  builder:
    build: {context: ., ssh: [default]}
  nothing:
    command: echo
`;

describe('validation errors', () => {
  it('collects every error into one INVALID_ARGUMENT with file, line and key path', () => {
    const e = failure(() => load({ 'compose.yaml': BROKEN }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    const problems = e.details?.errors as ComposeProblem[];
    const at = (needle: string) => lineOf(BROKEN, needle);
    expect(problems.map(({ line, path: p }) => [line, p])).toEqual([
      [at('- abc'), 'services.web.ports[0]'],
      [at('container_name'), 'services.web.container_name'],
      [at('secrets'), 'services.web.secrets[0]'],
      [at('enviroment'), 'services.web.enviroment'],
      [at('[missing]'), 'services.web.networks[0]'],
      [at('interval: 30'), 'services.web.healthcheck.interval'],
      [at('sometimes'), 'services.web.restart'],
      [at('failure_action'), 'services.web.deploy.rollback_config.failure_action'],
      [at('[ghost]'), 'services.web.depends_on[0]'],
      [at('build: {'), 'services.builder.build.ssh'],
      [at('nothing:'), 'services.nothing'],
    ]);
    expect(problems.every((p) => p.file === 'compose.yaml')).toBe(true);

    const lines = e.message.split('\n');
    expect(lines[0]).toBe('compose.yaml: 11 errors');
    expect(lines[1]).toBe(
      `compose.yaml:5 services.web.ports[0]: expected "HOST:CONTAINER[/PROTO]" or a port number, got "abc" — see ${DOCS}/services/#ports`,
    );
    expect(lines).toHaveLength(12);
    expect(e.hint).toContain('nothing was changed');

    const message = (p: string) => problems.find((x) => x.path === p)!.message;
    expect(message('services.web.container_name')).toContain('expected a container name of letters, digits');
    expect(message('services.web.secrets[0]')).toContain('undefined secret "token"');
    expect(message('services.web.enviroment')).toContain('did you mean environment?');
    expect(message('services.web.networks[0]')).toContain('undefined network "missing"');
    expect(message('services.web.healthcheck.interval')).toContain('expected a duration like 30s or 1m30s, got 30 — add a unit');
    expect(message('services.web.restart')).toContain('expected no, always, on-failure[:N] or unless-stopped, got "sometimes"');
    expect(message('services.web.deploy.rollback_config.failure_action')).toContain('expected pause or continue, got "rollback"');
    expect(message('services.web.depends_on[0]')).toContain('depends on undefined service "ghost"');
    expect(message('services.builder.build.ssh')).toMatch(/needs a BuildKit session; build with docker buildx/);
    expect(message('services.nothing')).toContain('needs image: or build:');
  });

  it('says "1 error" for one', () => {
    const e = failure(() => load({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    tty: maybe\n' }));
    expect(e.message.split('\n')[0]).toBe('compose.yaml: 1 error');
    expect(e.message).toContain('compose.yaml:4 services.web.tty: expected true or false, got "maybe"');
  });

  it('refuses what one engine cannot do, saying why and what to write instead', () => {
    const [p] = problemsOf(() => load({ 'compose.yaml': 'services:\n  web:\n    image: app:1\n    credential_spec: {file: x.json}\n' }));
    expect(p).toMatchObject({ line: 4, path: 'services.web.credential_spec' });
    expect(p!.message).toContain('Windows containers');
  });

  it.each([
    ['a YAML syntax error', 'services:\n  web:\n    image: nginx: bad\n', 3],
    ['a misaligned key', 'services:\n  web:\n    image: nginx\n   ports: []\n', 4],
    ['a duplicate key', 'services:\n  web:\n    image: nginx\n    image: redis\n', 4],
    ['a tab-indented line', 'services:\n  web:\n\timage: nginx\n', 3],
  ])('reports %s with its line', (_what, text, line) => {
    const [p] = problemsOf(() => load({ 'compose.yaml': text }));
    expect(p).toMatchObject({ file: 'compose.yaml', line });
  });

  it.each([
    ['an empty file', '', 'the file is empty'],
    ['no services', 'networks: {a: {}}\n', 'at least one service'],
    ['a list at the top', '- a\n', 'expected a mapping of top-level keys'],
    ['an unknown top-level key', 'servces:\n  web: {image: nginx}\nservices: {web: {image: nginx}}\n', 'did you mean services?'],
    ['a secret with two sources', 'services: {web: {image: nginx}}\nsecrets: {a: {file: ./a, environment: A}}\n', 'has several sources'],
    ['an invalid image', 'services:\n  web:\n    image: Nginx:latest\n', 'expected an image reference'],
    ['an unknown x-kiboko key', 'services:\n  web:\n    image: nginx\n    x-kiboko: {tag_policy: pinned}\n', 'did you mean tag-policy?'],
    ['a branch with a slash', 'services:\n  web:\n    image: nginx\n    x-kiboko: {tag-policy: {follow: feature/x}}\n', 'tags hold only letters'],
    ['a digest with a branch', 'x-kiboko: {tag-policy: {follow: main}}\nservices:\n  web:\n    image: nginx@sha256:' + 'a'.repeat(64) + '\n', 'pinned by digest'],
    ['a reserved label', 'services:\n  web:\n    image: nginx\n    labels: {kiboko.deploy.project: x}\n', 'reserved'],
    ['a relative working_dir', 'services:\n  web:\n    image: nginx\n    working_dir: app\n', 'absolute path'],
    ['an unknown signal', 'services:\n  web:\n    image: nginx\n    stop_signal: SIGFOO\n', 'not a Linux signal'],
    ['a bad deploy.resources memory', 'services:\n  web:\n    image: nginx\n    deploy: {resources: {limits: {memory: lots}}}\n', 'expected a size like 512m'],
    ['deploy.mode global with replicas', 'services:\n  web:\n    image: nginx\n    deploy: {mode: global, replicas: 2}\n', 'runs one task per node'],
    ['a bad ipv4_address', 'services:\n  web:\n    image: nginx\n    networks: {default: {ipv4_address: 10.0.0}}\n', 'expected an IPv4 address'],
    ['networks next to network_mode', 'services:\n  web:\n    image: nginx\n    network_mode: host\n    networks: [default]\n', 'cannot be combined with network_mode'],
    ['an unquoted && in command', 'services:\n  web:\n    image: nginx\n    command: a && b\n', 'unquoted shell operator'],
    ['a negative max_failure_ratio', 'services:\n  web:\n    image: nginx\n    deploy: {update_config: {max_failure_ratio: -1}}\n', 'ratio between 0 and 1'],
  ])('reports %s', (_what, text, fragment) => {
    const problems = problemsOf(() => load({ 'compose.yaml': text }));
    expect(problems.map((p) => p.message).join('\n')).toContain(fragment);
    for (const p of problems) expect(p.line).toBeGreaterThan(0);
  });

  it('reports a missing file without reading anything', () => {
    const dir = project({ 'compose.yaml': 'services: {web: {image: nginx}}\n' });
    const e = failure(() => loadCompose(['compose.yaml', 'nope.yaml'], { cwd: dir, env: {} }));
    expect(e.details?.errors).toEqual([{ file: 'nope.yaml', line: 0, path: '', message: 'file not found' }]);
    expect(e.message).toBe('nope.yaml: 1 error\nnope.yaml: file not found');
  });
});

// ——— interpolation ——

describe('interpolation', () => {
  const file = (body: string) => ({ 'compose.yaml': `services:\n  web:\n    image: nginx\n${body}` });

  it('substitutes $VAR, ${VAR}, defaults, alternatives and $$ before validation', () => {
    const config = load(
      {
        'compose.yaml': `services:
  web:
    image: \${REGISTRY:-docker.io}/library/nginx:\${TAG}
    command: ["sh", "-c", "echo $$HOME \${GREETING-hi} \${EMPTY:-fallback} \${EMPTY-kept} \${TAG:+tagged}"]
    ports: ["\${PORT:-8080}:80"]
    environment:
      PRICE: "$$5"
      NESTED: \${NOPE:-\${ALSO_NOPE:-deep}}
      PLAIN: $TAG
    deploy:
      replicas: \${REPLICAS}
`,
      },
      { TAG: '1.27', EMPTY: '', REPLICAS: '3' },
    );
    const web = only(config, 'web');
    expect(web.image).toBe('docker.io/library/nginx:1.27');
    expect(web.command).toEqual(['sh', '-c', 'echo $HOME hi fallback  tagged']);
    expect(web.ports).toEqual([{ published: 8080, target: 80, protocol: 'tcp' }]);
    expect(web.environment).toEqual({ PRICE: '$5', NESTED: 'deep', PLAIN: '1.27' });
    expect(web.replicas).toBe(3);
  });

  it('reads .env in the project folder; the process environment wins', () => {
    const config = load(
      { 'compose.yaml': 'services:\n  web:\n    image: nginx:${TAG}\n    environment: [A=$A, B=$B, C]\n', '.env': 'TAG=from-dotenv\nA=dotenv\nB=dotenv\nC=dotenv\n' },
      { A: 'process' },
    );
    const web = only(config, 'web');
    expect(web.image).toBe('nginx:from-dotenv');
    expect(web.environment).toEqual({ A: 'process', B: 'dotenv', C: 'dotenv' });
  });

  it('makes a missing required variable an error at its location', () => {
    const text = 'services:\n  db:\n    image: postgres\n    environment:\n      POSTGRES_PASSWORD: ${DB_PASSWORD:?set it in .env}\n      USER: ${DB_USER?}\n';
    const problems = problemsOf(() => load({ 'compose.yaml': text }));
    expect(problems).toEqual([
      {
        file: 'compose.yaml',
        line: 5,
        path: 'services.db.environment.POSTGRES_PASSWORD',
        message: expect.stringContaining('required variable DB_PASSWORD is missing a value: set it in .env'),
      },
      { file: 'compose.yaml', line: 6, path: 'services.db.environment.USER', message: expect.stringContaining('required variable DB_USER') },
    ]);
  });

  it('refuses a lone $ like compose, and hints at $$', () => {
    const [p] = problemsOf(() => load(file('    command: echo $1\n')));
    expect(p).toMatchObject({ line: 4, path: 'services.web.command' });
    expect(p!.message).toContain('invalid interpolation format');
    expect(p!.message).toContain('$$');
  });

  it('reports a bad .env line in the .env file', () => {
    const [p] = problemsOf(() => load({ ...file(''), '.env': 'OK=1\nNOT OK\n' }));
    expect(p).toMatchObject({ file: '.env', line: 2 });
  });

  it('reports an interpolation error in a shared anchor once', () => {
    const text = 'x-env: &env\n  KEY: ${MISSING:?}\nservices:\n  a: {image: nginx, environment: *env}\n  b: {image: nginx, environment: *env}\n';
    const problems = problemsOf(() => load({ 'compose.yaml': text }));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.line).toBe(2);
  });
});

// ——— env_file ——

describe('env_file', () => {
  it('reads dotenv files relative to the project folder, in order, under environment:', () => {
    const config = load({
      'compose.yaml': 'services:\n  web:\n    image: nginx\n    env_file: [env/common.env, {path: env/local.env, required: false}, env/web.env]\n    environment: {FROM: environment, C: null}\n',
      'env/common.env': '# shared\nexport FROM=common\nA="double \\"quoted\\""\nB=\'single $x\'\nC=plain # comment\n',
      'env/web.env': 'A=web\nD=${A}-d\n',
    });
    expect(only(config, 'web').environment).toEqual({ FROM: 'environment', A: 'web', B: 'single $x', C: 'plain', D: 'web-d' });
  });

  it('reports a missing env file at the env_file entry, and a bad line in the env file', () => {
    const text = 'services:\n  web:\n    image: nginx\n    env_file:\n      - missing.env\n      - bad.env\n';
    const problems = problemsOf(() => load({ 'compose.yaml': text, 'bad.env': 'GOOD=1\n\nQ="open\n' }));
    expect(problems).toEqual([
      { file: 'compose.yaml', line: 5, path: 'services.web.env_file[0]', message: expect.stringContaining('env file "missing.env" not found') },
      { file: 'bad.env', line: 3, path: '', message: expect.stringContaining('unterminated double-quoted value of Q') },
    ]);
  });
});

// ——— several files ——

const BASE = `services:
  web:
    image: app:1
    command: ["serve", "--base"]
    environment:
      A: base
      B: base
    labels: [one=1, two=2]
    ports: ["8080:80", "9090:90"]
    volumes:
      - ./data:/data
      - logs:/logs
    depends_on: [db]
    networks: [front]
  db:
    image: postgres:16
    build: .
networks:
  front:
volumes:
  logs:
`;

const PROD = `name: shop-prod
services:
  web:
    image: app:2
    command: serve --prod
    environment:
      - B=override
      - C=new
    labels:
      two: "22"
    ports: ["8080:80", "443:443"]
    volumes:
      - /srv/data:/data:ro
    depends_on:
      db:
        condition: service_healthy
    networks:
      back:
    deploy: {replicas: 3}
  db:
    build: !reset null
    healthcheck: {test: pg_isready}
  cache:
    image: redis:7
networks:
  back:
`;

describe('several files (-f base -f override)', () => {
  it('merges like compose: maps merge, scalars and commands replace, lists append, volumes by target', () => {
    const dir = project({ 'compose.yaml': BASE, 'compose.prod.yaml': PROD });
    const config = loadCompose(['compose.yaml', 'compose.prod.yaml'], { cwd: dir, env: {} });
    expect(config.project).toBe('shop-prod');
    expect(config.services.map((s) => s.name)).toEqual(['web', 'db', 'cache']);
    const web = only(config, 'web');
    expect(web).toMatchObject({
      image: 'app:2',
      command: ['serve', '--prod'],
      environment: { A: 'base', B: 'override', C: 'new' },
      labels: { one: '1', two: '22' },
      ports: [
        { published: 8080, target: 80, protocol: 'tcp' },
        { published: 9090, target: 90, protocol: 'tcp' },
        { published: 443, target: 443, protocol: 'tcp' },
      ],
      volumes: [
        { source: '/srv/data', type: 'bind', target: '/data', readOnly: true },
        { source: 'logs', type: 'volume', target: '/logs', readOnly: false },
      ],
      dependsOn: [{ service: 'db', condition: 'service_healthy' }],
      networks: ['front', 'back'],
      replicas: 3,
      origin: { file: 'compose.yaml', line: 2 },
    });
    expect(only(config, 'db').healthcheck).toEqual({ test: ['CMD-SHELL', 'pg_isready'] });
    expect(only(config, 'cache').origin).toEqual({ file: 'compose.prod.yaml', line: lineOf(PROD, 'cache:') });
    expect(config.networks).toEqual(['front', 'back']);
    expect(config.sources).toEqual([path.join(dir, 'compose.yaml'), path.join(dir, 'compose.prod.yaml')]);
  });

  it('honours !override and !reset', () => {
    const over = 'services:\n  web:\n    ports: !override ["1:1"]\n    environment: !reset {}\n    command: !reset null\n';
    const config = load({ 'compose.yaml': BASE.replace('    build: .\n', ''), 'over.yaml': over }, {}, ['compose.yaml', 'over.yaml']);
    const web = only(config, 'web');
    expect(web.ports).toEqual([{ published: 1, target: 1, protocol: 'tcp' }]);
    expect(web.environment).toEqual({});
    expect(web.command).toBeUndefined();
  });

  it('reports an error in the override file at its own line', () => {
    const over = 'services:\n  web:\n    ports: ["99999:80"]\n';
    const problems = problemsOf(() => load({ 'compose.yaml': BASE.replace('    build: .\n', ''), 'over.yaml': over }, {}, ['compose.yaml', 'over.yaml']));
    expect(problems).toEqual([{ file: 'over.yaml', line: 3, path: 'services.web.ports[0]', message: expect.stringContaining('between 1 and 65535') }]);
  });

  it('keeps build: (image + build tags the built image) unless the override resets it', () => {
    const dir = project({ 'compose.yaml': BASE });
    expect(only(loadCompose(['compose.yaml'], { cwd: dir, env: {} }), 'db').build).toEqual({ context: dir });
  });

  it('resolves relative paths in every file against the project folder (the first file\'s), as compose does', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n', 'deploy/prod.yaml': 'services:\n  web:\n    volumes: [./data:/data]\n' });
    const config = loadCompose(['compose.yaml', 'deploy/prod.yaml'], { cwd: dir, env: {} });
    expect(only(config, 'web').volumes).toEqual([{ source: path.join(dir, 'data'), type: 'bind', target: '/data', readOnly: false }]);
  });

  it('finds compose.yaml and its override file in a parent folder when no file is given', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: nginx:1\n',
      'compose.override.yaml': 'services:\n  web:\n    image: nginx:2\n',
      'sub/dir/.keep': '',
    });
    const config = loadCompose([], { cwd: path.join(dir, 'sub/dir'), env: {} });
    expect(only(config, 'web').image).toBe('nginx:2');
    expect(config.project).toBe('shop');
    expect(config.sources).toEqual([path.join(dir, 'compose.yaml'), path.join(dir, 'compose.override.yaml')]);
  });
});

// ——— depends_on ——

describe('depends_on', () => {
  it('names a dependency cycle once, at its first edge', () => {
    const text = `services:
  a: {image: nginx, depends_on: [b]}
  b: {image: nginx, depends_on: {c: {condition: service_healthy}}}
  c: {image: nginx, depends_on: [a]}
  d: {image: nginx, depends_on: [a]}
`;
    const problems = problemsOf(() => load({ 'compose.yaml': text }));
    expect(problems).toEqual([{ file: 'compose.yaml', line: 2, path: 'services.a.depends_on[0]', message: 'depends_on cycle: a → b → c → a — remove one of these dependencies' }]);
  });

  it('refuses a service depending on itself', () => {
    const [p] = problemsOf(() => load({ 'compose.yaml': 'services:\n  a:\n    image: nginx\n    depends_on: [a]\n' }));
    expect(p).toMatchObject({ line: 4, path: 'services.a.depends_on[0]', message: expect.stringContaining('depends on itself') });
  });

  it('skips an optional dependency on an undefined service, and suggests a name for a typo', () => {
    const config = load({ 'compose.yaml': 'services:\n  api: {image: nginx}\n  web:\n    image: nginx\n    depends_on: {metrics: {required: false, condition: service_started}, api: {restart: true}}\n' });
    expect(only(config, 'web').dependsOn).toEqual([{ service: 'api', condition: 'service_started' }]);
    const [p] = problemsOf(() => load({ 'compose.yaml': 'services:\n  api: {image: nginx}\n  web: {image: nginx, depends_on: [apj]}\n' }));
    expect(p!.message).toContain('did you mean api?');
  });

  it('refuses an unknown condition', () => {
    const [p] = problemsOf(() => load({ 'compose.yaml': 'services:\n  a: {image: nginx}\n  b:\n    image: nginx\n    depends_on:\n      a: {condition: healthy}\n' }));
    expect(p).toMatchObject({ line: 6, path: 'services.b.depends_on.a.condition' });
    expect(p!.message).toContain('expected service_started, service_healthy or service_completed_successfully, got "healthy"');
  });
});

// ——— ports ——

describe('ports', () => {
  it('parses "P:T/proto" back to {published P, target T, protocol} for any ports', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }), fc.constantFrom('tcp', 'udp'), (p, t, proto) => {
        expect(parsePortSpec(`${p}:${t}/${proto}`)).toEqual([{ published: p, target: t, protocol: proto }]);
        const config = parseCompose(`services:\n  web:\n    image: nginx\n    ports: ["${p}:${t}/${proto}"]\n`, 'compose.yaml', { env: {}, readFile: () => undefined });
        expect(config.services[0]!.ports).toEqual([{ published: p, target: t, protocol: proto }]);
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['80', [{ target: 80, protocol: 'tcp' }]],
    ['8080:80/UDP', [{ published: 8080, target: 80, protocol: 'udp' }]],
    ['127.0.0.1::80', [{ hostIp: '127.0.0.1', target: 80, protocol: 'tcp' }]],
    ['[::1]:8080:80', [{ published: 8080, hostIp: '::1', target: 80, protocol: 'tcp' }]],
    ['8000-8001:80-81', [{ published: 8000, target: 80, protocol: 'tcp' }, { published: 8001, target: 81, protocol: 'tcp' }]],
    ['3000-3001', [{ target: 3000, protocol: 'tcp' }, { target: 3001, protocol: 'tcp' }]],
  ])('parses %j', (spec, expected) => {
    expect(parsePortSpec(spec)).toEqual(expected);
  });

  it.each([
    ['abc', 'expected "HOST:CONTAINER[/PROTO]" or a port number'],
    ['0:80', 'between 1 and 65535'],
    ['80:70000', 'between 1 and 65535'],
    ['127.0.0.1:80', 'expected "HOST:CONTAINER[/PROTO]"'],
    ['999.0.0.1:80:80', 'expected an IP address'],
    ['8000-8001:80', 'host port range for one container port'],
    ['8000-8002:80-81', 'differ in length'],
    ['80/sctp', 'sctp ports are not supported'],
    ['80/http', 'expected protocol tcp or udp'],
    ['90-80', 'between 1 and 65535'],
  ])('refuses %j', (spec, fragment) => {
    const e = failure(() => parsePortSpec(spec));
    expect(e.message).toContain(fragment);
    expect(e.hint).toBeTruthy();
  });

  it('reads numbers and the long syntax, and drops duplicates', () => {
    const config = load({
      'compose.yaml': `services:
  web:
    image: nginx
    ports:
      - 80
      - target: 53
        published: "5353"
        host_ip: 10.0.0.1
        protocol: udp
        mode: host
        name: dns
      - {target: 9000}
      - "80"
`,
    });
    expect(only(config, 'web').ports).toEqual([
      { target: 80, protocol: 'tcp' },
      { published: 5353, hostIp: '10.0.0.1', target: 53, protocol: 'udp' },
      { target: 9000, protocol: 'tcp' },
    ]);
  });

  it('names the key of a bad long-syntax port', () => {
    const [p] = problemsOf(() => load({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    ports:\n      - target: 80\n        publish: 8080\n' }));
    expect(p).toMatchObject({ line: 6, path: 'services.web.ports[0].publish', message: expect.stringContaining('unknown port key "publish"') });
  });
});

// ——— volumes ——

describe('volumes', () => {
  it('reads short and long syntax: named, bind (., /, ~), anonymous', () => {
    const config = load(
      {
        'compose.yaml': `services:
  web:
    image: nginx
    volumes:
      - data:/data:rw
      - .:/src:ro,cached
      - ~/cache:/cache
      - /var/run/docker.sock:/var/run/docker.sock:ro
      - /scratch
      - {type: volume, target: /anon}
      - {type: volume, source: data, target: /more, read_only: "true"}
      - {type: bind, source: ../shared, target: /shared, bind: {create_host_path: true}}
volumes:
  data:
`,
      },
      { HOME: '/home/me' },
    );
    const dir = path.dirname(config.sources[0]!);
    expect(only(config, 'web').volumes).toEqual([
      { source: 'data', type: 'volume', target: '/data', readOnly: false },
      { source: dir, type: 'bind', target: '/src', readOnly: true },
      { source: '/home/me/cache', type: 'bind', target: '/cache', readOnly: false },
      { source: '/var/run/docker.sock', type: 'bind', target: '/var/run/docker.sock', readOnly: true },
      { type: 'anonymous', target: '/scratch', readOnly: false },
      { type: 'anonymous', target: '/anon', readOnly: false },
      { source: 'data', type: 'volume', target: '/more', readOnly: true },
      { source: path.resolve(dir, '../shared'), type: 'bind', target: '/shared', readOnly: false, createHostPath: true },
    ]);
  });

  it.each([
    ['an undeclared named volume', 'cache:/cache', 'undefined volume "cache"'],
    ['a relative target', 'data:cache', 'absolute container path'],
    ['nocopy on a bind mount', './x:/x:nocopy', 'nocopy applies to named volumes only'],
    ['an invalid option', './x:/x:rx', 'expected volume options like ro, rw'],
    ['a name with a slash', 'data/sub:/x', 'write ./data/sub'],
    ['a relative anonymous volume', 'scratch', 'expected "SOURCE:TARGET[:ro]"'],
  ])('refuses %s', (_what, spec, fragment) => {
    const [p] = problemsOf(() => load({ 'compose.yaml': `services:\n  web:\n    image: nginx\n    volumes: ["${spec}"]\n` }));
    expect(p).toMatchObject({ line: 4, path: 'services.web.volumes[0]' });
    expect(p!.message).toContain(fragment);
  });

  it('takes tmpfs mounts into the tmpfs map, and refuses a bind without source', () => {
    const ok = load({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    tmpfs: /run\n    volumes:\n      - {type: tmpfs, target: /tmp, tmpfs: {size: 64m, mode: 01777}}\n' });
    expect(ok.services[0]!.tmpfs).toEqual({ '/run': '', '/tmp': `size=${64 * 2 ** 20},mode=1777` });
    const problems = problemsOf(() => load({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    volumes:\n      - {type: bind, target: /b}\n' }));
    expect(problems.map((p) => [p.line, p.message.split(' — ')[0]])).toEqual([[5, 'a bind mount needs source: (the host path)']]);
  });
});

// ——— the rest of a service ——

describe('healthcheck, deploy, profiles, tag policy', () => {
  it.each([
    ['{disable: true}', { test: ['NONE'] }],
    ['{test: ["NONE"]}', { test: ['NONE'] }],
    ['{test: ["CMD-SHELL", "curl -f localhost || exit 1"], retries: "3"}', { test: ['CMD-SHELL', 'curl -f localhost || exit 1'], retries: 3 }],
    ['{interval: 1m, start_interval: 1s}', { test: [], intervalMs: 60_000 }],
  ])('reads healthcheck %s', (hc, expected) => {
    expect(only(load({ 'compose.yaml': `services:\n  web:\n    image: nginx\n    healthcheck: ${hc}\n` }), 'web').healthcheck).toEqual(expected);
  });

  it('refuses a healthcheck list that does not start with CMD, CMD-SHELL or NONE', () => {
    const [p] = problemsOf(() => load({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    healthcheck:\n      test: [curl, -f, localhost]\n' }));
    expect(p).toMatchObject({ line: 5, path: 'services.web.healthcheck.test' });
  });

  it('takes scale as replicas, and refuses a disagreement', () => {
    expect(only(load({ 'compose.yaml': 'services:\n  w: {image: nginx, scale: 4}\n' }), 'w').replicas).toBe(4);
    expect(only(load({ 'compose.yaml': 'services:\n  w: {image: nginx, scale: 0}\n' }), 'w').replicas).toBe(0);
    expect(only(load({ 'compose.yaml': 'services:\n  w: {image: nginx, scale: 2, deploy: {replicas: 2}}\n' }), 'w').replicas).toBe(2);
    const [p] = problemsOf(() => load({ 'compose.yaml': 'services:\n  w:\n    image: nginx\n    scale: 2\n    deploy:\n      replicas: 3\n' }));
    expect(p).toMatchObject({ line: 6, path: 'services.w.deploy.replicas', message: expect.stringContaining('disagree') });
  });

  it('runs services with profiles only when COMPOSE_PROFILES activates one', () => {
    const text = 'services:\n  web: {image: nginx}\n  debug: {image: busybox, profiles: [dev]}\n  tools: {image: busybox, profiles: [ops, dev], depends_on: [debug]}\n';
    expect(load({ 'compose.yaml': text }).services.map((s) => s.name)).toEqual(['web']);
    expect(load({ 'compose.yaml': text }, { COMPOSE_PROFILES: 'dev' }).services.map((s) => s.name)).toEqual(['web', 'debug', 'tools']);
    const [p] = problemsOf(() => load({ 'compose.yaml': text }, { COMPOSE_PROFILES: 'ops' }));
    expect(p).toMatchObject({ path: 'services.tools.depends_on[0]', message: expect.stringContaining('which its profiles disable') });
  });

  it('lets a service override the project tag policy', () => {
    const text = 'x-kiboko: {tag-policy: {follow: main}}\nservices:\n  a: {image: app:1-main}\n  b: {image: app:1-main, x-kiboko: {tag-policy: pinned}}\n  c: {image: app:1-main, x-kiboko: {tag-policy: {follow: develop}}}\n  d: {image: app:1, x-other: ignored}\n';
    const config = load({ 'compose.yaml': text });
    expect(config.services.map((s) => s.tagPolicy)).toEqual([
      { kind: 'follow-branch', branch: 'main' },
      { kind: 'pinned' },
      { kind: 'follow-branch', branch: 'develop' },
      { kind: 'follow-branch', branch: 'main' },
    ]);
  });

  it('treats a key with no value as absent', () => {
    const text = 'services:\n  w:\n    image: nginx\n    networks:\n    depends_on:\n    healthcheck:\n    environment:\n    env_file:\n    ports:\n    profiles:\n    x-kiboko:\n';
    expect(only(load({ 'compose.yaml': text }), 'w')).toStrictEqual({ ...service('w', 'nginx'), origin: { file: 'compose.yaml', line: 2 } });
    const [p] = problemsOf(() => load({ 'compose.yaml': 'services:\n  w:\n    image:\n' }));
    expect(p).toMatchObject({ line: 2, path: 'services.w', message: expect.stringContaining('needs image: or build:') });
  });

  it('accepts on-failure:N and YAML merge keys from several anchors', () => {
    const text = 'x-a: &a {restart: "on-failure:3", labels: {from: a}}\nx-b: &b {labels: {from: b}, user: "1"}\nservices:\n  w:\n    <<: [*a, *b]\n    image: nginx\n';
    const w = only(load({ 'compose.yaml': text }), 'w');
    expect(w).toMatchObject({ restart: 'on-failure', labels: { from: 'a' }, user: '1' });
  });
});

describe('deploy gate label', () => {
  it('kiboko.deploy.gate is configuration, not a reserved bookkeeping label', () => {
    const c = load({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    labels: {kiboko.deploy.gate: validate}\n' });
    expect(c.services[0]!.labels).toEqual({ 'kiboko.deploy.gate': 'validate' });
  });
});

describe('x-kiboko: gate and post_deploy_tests', () => {
  const svcText = (xk: string) => `services:\n  web:\n    image: nginx\n    x-kiboko: ${xk}\n`;

  it('reads a service gate, as a word or with a timeout; it does not change the service otherwise', () => {
    expect(only(load({ 'compose.yaml': svcText('{gate: validate}') }), 'web').gate).toEqual({ method: 'validate' });
    expect(only(load({ 'compose.yaml': svcText('{gate: {method: smoke.check, timeout: 1m30s}}') }), 'web').gate).toEqual({ method: 'smoke.check', timeoutMs: 90_000 });
    const plain = only(load({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n' }), 'web');
    expect(plain).not.toHaveProperty('gate');
    expect({ ...only(load({ 'compose.yaml': svcText('{gate: validate}') }), 'web'), gate: undefined, origin: undefined }).toEqual({ ...plain, origin: undefined });
  });

  it('accepts the same gate as a kiboko.deploy.gate label', () => {
    const text = 'services:\n  web:\n    image: nginx\n    labels: {kiboko.deploy.gate: validate}\n    x-kiboko: {gate: {method: validate, timeout: 20s}}\n';
    expect(only(load({ 'compose.yaml': text }), 'web')).toMatchObject({ labels: { 'kiboko.deploy.gate': 'validate' }, gate: { method: 'validate', timeoutMs: 20_000 } });
  });

  it('reads top-level post_deploy_tests (type defaults to integration), also merged from an override file', () => {
    const base = 'services:\n  web: {image: nginx}\n';
    expect(load({ 'compose.yaml': `x-kiboko:\n  post_deploy_tests: {type: integration, timeout: 5m}\n${base}` }).postDeployTests).toEqual({ type: 'integration', timeoutMs: 300_000 });
    expect(load({ 'compose.yaml': `x-kiboko: {post_deploy_tests: {}}\n${base}` }).postDeployTests).toEqual({ type: 'integration' });
    expect(load({ 'compose.yaml': `x-kiboko: {post_deploy_tests: smoke}\n${base}` }).postDeployTests).toEqual({ type: 'smoke' });
    expect(load({ 'compose.yaml': base })).not.toHaveProperty('postDeployTests');
    const merged = load(
      { 'compose.yaml': `x-kiboko:\n  tag-policy: pinned\n${base}`, 'compose.override.yaml': 'x-kiboko:\n  post_deploy_tests:\n    type: e2e\n' },
      {},
      ['compose.yaml', 'compose.override.yaml'],
    );
    expect(merged.postDeployTests).toEqual({ type: 'e2e' });
  });

  it.each([
    ['a gate that is not a method name', svcText('{gate: "validate; rm -rf /"}'), 'services.web.x-kiboko.gate', 'expected a lifecycle method name like validate, got "validate; rm -rf /"'],
    ['a gate that is a list', svcText('{gate: [validate]}'), 'services.web.x-kiboko.gate', 'expected a lifecycle method name like validate, got'],
    ['a gate without method', svcText('{gate: {timeout: 5s}}'), 'services.web.x-kiboko.gate', 'x-kiboko.gate needs method'],
    ['an unknown gate key', svcText('{gate: {method: validate, timout: 5s}}'), 'services.web.x-kiboko.gate.timout', 'did you mean timeout?'],
    ['a bad gate timeout', svcText('{gate: {method: validate, timeout: soon}}'), 'services.web.x-kiboko.gate.timeout', 'expected a duration like 30s'],
    ['a zero gate timeout', svcText('{gate: {method: validate, timeout: 0s}}'), 'services.web.x-kiboko.gate.timeout', 'expected a timeout above zero'],
    ['a gate at the top level', 'x-kiboko: {gate: validate}\nservices:\n  web: {image: nginx}\n', 'x-kiboko.gate', 'set per service'],
    ['post_deploy_tests on a service', svcText('{post_deploy_tests: {type: integration}}'), 'services.web.x-kiboko.post_deploy_tests', 'applies to the whole project'],
    ['a bad test type', 'x-kiboko: {post_deploy_tests: {type: "a b"}}\nservices:\n  web: {image: nginx}\n', 'x-kiboko.post_deploy_tests.type', 'expected a test type like integration'],
    ['a bad tests timeout', 'x-kiboko: {post_deploy_tests: {timeout: 5}}\nservices:\n  web: {image: nginx}\n', 'x-kiboko.post_deploy_tests.timeout', 'expected a duration'],
    ['an unknown tests key', 'x-kiboko: {post_deploy_tests: {types: integration}}\nservices:\n  web: {image: nginx}\n', 'x-kiboko.post_deploy_tests.types', 'did you mean type?'],
    ['a misspelt x-kiboko key', svcText('{gates: validate}'), 'services.web.x-kiboko.gates', 'did you mean gate?'],
    [
      'a gate that disagrees with the label',
      'services:\n  web:\n    image: nginx\n    labels: {kiboko.deploy.gate: check}\n    x-kiboko: {gate: validate}\n',
      'services.web.x-kiboko.gate',
      'x-kiboko.gate says "validate" but the label kiboko.deploy.gate says "check"',
    ],
  ])('reports %s with its line and key', (_what, text, key, fragment) => {
    const problems = problemsOf(() => load({ 'compose.yaml': text }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'compose.yaml', path: key, message: expect.stringContaining(fragment) });
    expect(problems[0]!.line).toBeGreaterThan(0);
  });

  it('gives the fix with the problem', () => {
    const e = failure(() => load({ 'compose.yaml': 'x-kiboko: {gate: validate}\nservices:\n  web: {image: nginx}\n' }));
    expect(e.message).toContain('write x-kiboko: { gate: validate }');
  });
});
