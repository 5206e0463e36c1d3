import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventBus, typeMatcher } from './bus.js';
import { parseChaosSpec } from './chaos-spec.js';
import { loadDeployConfig, parseProjectFlag } from './projects.js';

const dir = mkdtempSync(join(tmpdir(), 'kiboko-projects-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('daemon projects', () => {
  it('--project NAME=PATH', () => {
    mkdirSync(join(dir, 'shop'));
    writeFileSync(join(dir, 'shop', 'compose.yaml'), 'services: {}\n');
    expect(parseProjectFlag(`shop=${join(dir, 'shop')}`)).toEqual({ name: 'shop', paths: [join(dir, 'shop')], engine: 'auto', tagPolicies: {} });
    expect(parseProjectFlag('shop=compose.yaml', join(dir, 'shop')).paths).toEqual([join(dir, 'shop', 'compose.yaml')]);
    for (const bad of ['shop', '=x', 'Shop=x', 'shop=']) expect(() => parseProjectFlag(bad)).toThrow(/expected NAME=PATH/);
    expect(() => parseProjectFlag(`shop=${join(dir, 'missing.yaml')}`)).toThrow(/does not exist/);
  });

  it('--deploy-config: projects with files, engine and tag policies; the webhook secret from a file', () => {
    writeFileSync(join(dir, 'hook.secret'), 'a-long-shared-secret\n', { mode: 0o644 });
    chmodSync(join(dir, 'hook.secret'), 0o644);
    writeFileSync(
      join(dir, 'deploy.yaml'),
      'webhook: {secret_file: hook.secret}\nprojects:\n  shop:\n    file: shop/compose.yaml\n    engine: docker\n    services:\n      web: {tag_policy: semver-major-locked}\n      api: {tag-policy: "regex:^v[0-9]+$"}\n',
    );
    // a secret others can read is refused, with the fix
    expect(() => loadDeployConfig(join(dir, 'deploy.yaml'))).toThrow(/accessible by others \(mode 0644\)/);
    chmodSync(join(dir, 'hook.secret'), 0o600);
    expect(loadDeployConfig(join(dir, 'deploy.yaml'))).toEqual({
      webhook: { secret: 'a-long-shared-secret' },
      projects: [{ name: 'shop', paths: [join(dir, 'shop', 'compose.yaml')], engine: 'docker', tagPolicies: { web: { kind: 'semver', lock: 'major' }, api: { kind: 'regex', pattern: '^v[0-9]+$' } } }],
    });
    const bad = (text: string) => {
      writeFileSync(join(dir, 'bad.yaml'), text);
      return () => loadDeployConfig(join(dir, 'bad.yaml'));
    };
    expect(bad('projects:\n  shop: {file: shop/compose.yaml, engine: podman}\n')).toThrow(/projects\.shop\.engine: expected one of auto, docker, swarm, got "podman"/);
    expect(bad('projects:\n  shop: {file: shop/compose.yaml, services: {web: {tag_policy: newest}}}\n')).toThrow(/invalid tag policy 'newest'/);
    expect(bad('projects:\n  shop: {}\n')).toThrow(/expected file: or files:/);
    expect(bad('projects:\n  Shop: {file: shop/compose.yaml}\n')).toThrow(/invalid project name/);
    expect(bad('projects: [1, 2\n')).toThrow(/not valid YAML/);
    expect(bad('projects:\n  shop: {file: shop/compose.yaml, extra: 1}\n')).toThrow(/projects.shop: unknown field "extra"/);
  });
});

describe('event bus', () => {
  it('numbers events, keeps the newest in a ring, and replays after an id or since a time', () => {
    let t = Date.parse('2030-01-01T00:00:00Z');
    const bus = new EventBus(3, () => t);
    const seen: number[] = [];
    const off = bus.subscribe((e) => seen.push(e.id));
    for (let i = 0; i < 5; i++) {
      bus.publish('deploy.job.queued', { i });
      t += 1000;
    }
    off();
    bus.publish('chaos.x', {});
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(bus.replay({ afterId: 0 }).map((e) => e.id)).toEqual([4, 5, 6]);
    expect(bus.replay({ afterId: 4 }).map((e) => e.id)).toEqual([5, 6]);
    expect(bus.replay({ sinceMs: Date.parse('2030-01-01T00:00:04Z') }).map((e) => e.id)).toEqual([5, 6]);
  });

  it('filters by type prefix on dot boundaries', () => {
    const m = typeMatcher(['deploy', 'engine.container']);
    expect(['deploy.job.queued', 'deploy', 'engine.container.start', 'engine.network.create', 'deployx.y'].map(m)).toEqual([true, true, true, false, false]);
    expect(typeMatcher([])('anything')).toBe(true);
  });
});

describe('chaos experiment specs', () => {
  it('maps the JSON spec onto the chaos library’s options, as the CLI maps its flags', () => {
    const { options } = parseChaosSpec({ action: 'stop', targets: ['web-1', 're2:^api'], labels: ['tier=front'], duration: '20s', interval: '1m', cycles: 3, seed: 7, options: { time: 2, restart: true } });
    expect(options.action).toEqual({ kind: 'stop', timeSeconds: 2, restart: { durationMs: 20_000 } });
    expect(options.targets.names).toEqual(['web-1']);
    expect(options.targets.patterns.map((p) => p.source)).toEqual(['^api']);
    expect(options.targets.labels).toEqual(['tier=front']);
    expect(options).toMatchObject({ intervalMs: 60_000, maxCycles: 3, seed: 7 });
    expect(parseChaosSpec({ action: 'netem:delay', targets: ['a'], duration: 5000, options: { time: 200, jitter: 20, target: ['10.0.0.0/24'] } }).options.action).toMatchObject({
      kind: 'netem',
      durationMs: 5000,
      iface: 'eth0',
      effects: { delay: { timeMs: 200, jitterMs: 20, correlation: 20 } },
      scope: { targets: ['10.0.0.0/24'], egressPorts: [], ingressPorts: [] },
    });
    expect(parseChaosSpec({ action: 'iptables loss', targets: ['a'], duration: '5s', options: { protocol: 'tcp', dstPort: 80, probability: 0.5 } }).options.action).toMatchObject({ kind: 'iptables', dstPorts: [80], loss: { mode: 'random', probability: 0.5 } });
    expect(parseChaosSpec({ action: 'partition', targets: ['a'], duration: '5s', options: { peer: ['db-1', '10.1.0.0/16'] } }).options.action).toMatchObject({ kind: 'partition', peers: ['db-1', '10.1.0.0/16'] });
    expect(() => parseChaosSpec({ action: 'rate', targets: ['a'], duration: '5s' })).toThrow(/options.rate is required/);
    expect(() => parseChaosSpec({ action: 'stop', targets: ['a'], duration: '5s' })).toThrow(/needs options.restart/);
    expect(() => parseChaosSpec({ action: 'pause', targets: ['a'], duration: '5s', limit: -1 })).toThrow(/limit: expected at least 0, got -1/);
  });
});
