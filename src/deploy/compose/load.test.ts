import path from 'node:path';
import { loadCompose, normalizeProjectName, parseCompose, type ComposeProblem } from './index.js';
import { DEFAULT_ROLLBACK, type SystemConfig } from '../model.js';
import { describe, expect, it } from 'vitest';
import { DOCS, project, load, failure, problemsOf, lineOf, service, only } from './fixtures.test-support.js';

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
