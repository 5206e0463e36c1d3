import { describe, expect, it } from 'vitest';
import { load, failure, problemsOf, service, only } from './fixtures.test-support.js';

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

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('refuses a build key named like an object property (%s) as unknown', (key) => {
    const [p] = problemsOf(() => load({ 'compose.yaml': `services:\n  w:\n    build:\n      context: .\n      ${key}: x\n` }));
    expect(p).toMatchObject({ line: 5, message: expect.stringMatching(new RegExp(`^unknown build key "${key}"`)) });
  });

  it.each(['constructor', '__proto__', 'toString'])('refuses a service key named like an object property (%s) as unknown, without a crash', (key) => {
    const [p] = problemsOf(() => load({ 'compose.yaml': `services:\n  w:\n    image: busybox\n    ${key}: x\n` }));
    expect(p).toMatchObject({ line: 4, message: expect.stringMatching(new RegExp(`^unknown key "${key}"`)) });
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
