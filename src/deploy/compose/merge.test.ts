import path from 'node:path';
import { loadCompose } from './index.js';
import { withoutResets } from './merge.js';
import type { MapNode, Node, ScalarNode, SeqNode } from './yaml.js';
import { describe, expect, it } from 'vitest';
import { project, load, problemsOf, lineOf, only } from './fixtures.test-support.js';

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

describe('withoutResets', () => {
  const loc = { file: 'f', line: 1, path: '' };
  const scalar = (value: string, tag?: string): ScalarNode => ({ kind: 'scalar', value, loc, tag });
  const map = (entries: Record<string, Node>, tag?: string): MapNode => ({ kind: 'map', entries: new Map(Object.entries(entries).map(([key, value]) => [key, { key, keyLoc: loc, value }])), loc, tag });

  it('returns a tree without tags as it is (the first file is merged into nothing, uncopied)', () => {
    const tree = map({ a: scalar('1'), b: { kind: 'seq', items: [scalar('x'), map({ c: scalar('2') })], loc }, d: map({}) });
    expect(withoutResets(tree)).toBe(tree);
  });

  it('drops !reset entries and items and clears !override tags, in order, leaving the input as it was', () => {
    const inner = map({ keep: scalar('k') });
    const tree = map({ a: scalar('1'), gone: scalar('x', '!reset'), b: scalar('2', '!override'), c: inner, d: { kind: 'seq', items: [scalar('i'), scalar('r', '!reset'), scalar('j')], loc } });
    const before = structuredClone(tree);
    const out = withoutResets(tree) as MapNode;
    expect([...out.entries.keys()]).toEqual(['a', 'b', 'c', 'd']);
    expect(out.entries.get('b')!.value).toEqual(scalar('2'));
    expect(out.entries.get('c')!.value).toBe(inner);
    expect((out.entries.get('d')!.value as SeqNode).items.map((i) => (i as ScalarNode).value)).toEqual(['i', 'j']);
    expect(tree).toEqual(before);
    expect(withoutResets(map({}, '!override'))).toEqual(map({}));
  });
});
