import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, configHash, containerConfig, describeChanges } from './hash.js';
import { DEFAULT_ROLLBACK, DEFAULT_UPDATE, newService, type ServiceSpec } from './model.js';

function svc(over: Partial<ServiceSpec> = {}): ServiceSpec {
  return newService('web', 'repo/web:1', { environment: { A: '1', B: '2' }, ports: [{ target: 80, protocol: 'tcp' }], ...over });
}

/** The same object with its keys in reverse order, recursively (arrays keep their order). */
function reversedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversedKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversedKeys(x)]));
  return v;
}

describe('configHash', () => {
  const base = configHash(svc());

  it('is a sha256 hex digest', () => {
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores replicas, rollout settings, tag policy, origin and depends_on', () => {
    expect(configHash(svc({ replicas: 7 }))).toBe(base);
    expect(configHash(svc({ update: { ...DEFAULT_UPDATE, parallelism: 3, order: 'stop-first' } }))).toBe(base);
    expect(configHash(svc({ rollback: { ...DEFAULT_ROLLBACK, delayMs: 999 } }))).toBe(base);
    expect(configHash(svc({ tagPolicy: { kind: 'follow-branch', branch: 'develop' } }))).toBe(base);
    expect(configHash(svc({ origin: { file: 'compose.yaml', line: 12 } }))).toBe(base);
    expect(configHash(svc({ dependsOn: [{ service: 'db', condition: 'service_healthy' }] }))).toBe(base);
  });

  it('ignores key order, at every depth', () => {
    const s = svc({ environment: { Z: 'z', A: 'a' }, healthcheck: { test: ['CMD', 'true'], intervalMs: 1000, retries: 2 } });
    expect(configHash(reversedKeys(s) as ServiceSpec)).toBe(configHash(s));
  });

  it('is unchanged for a spec that uses none of the Compose keys added later (existing deployments are not recreated)', () => {
    // Computed by the hash of fff78a1, before build/secrets/capabilities/… joined the model.
    const s = newService('web', 'repo/web:1', {
      environment: { A: '1', B: '2' },
      ports: [{ target: 80, protocol: 'tcp' }],
      volumes: [{ source: 'data', target: '/data', type: 'volume', readOnly: false }],
      networks: ['default', 'back'],
      labels: { tier: 'web' },
      healthcheck: { test: ['CMD', 'true'], intervalMs: 1000 },
      restart: 'always',
      user: '1000',
    });
    expect(configHash(s)).toBe('4347846d23bcf16eb48abacb08561ed1e6e5147f75b0e370b7f0ff27d60203e5');
    expect(configHash({ ...s, capAdd: undefined, networkSettings: undefined, deploy: undefined })).toBe(configHash(s));
  });

  it('changes when a newer Compose key is set, but not for build or pull_policy (compose leaves them out too)', () => {
    expect(configHash(svc({ capAdd: ['NET_ADMIN'] }))).not.toBe(base);
    expect(configHash(svc({ networkSettings: { back: { aliases: ['api'] } } }))).not.toBe(base);
    expect(configHash(svc({ build: { context: '/src/web' }, pullPolicy: 'build' }))).toBe(base);
  });

  it('is the same for the service and its container config', () => {
    expect(configHash(containerConfig(svc()))).toBe(base);
  });

  it('treats an undefined optional field like a missing one', () => {
    expect(configHash(svc({ command: undefined, user: undefined }))).toBe(base);
  });

  it('changes with image, env, ports and command', () => {
    const hashes = [
      base,
      configHash(svc({ image: 'repo/web:2' })),
      configHash(svc({ environment: { A: '1', B: '3' } })),
      configHash(svc({ environment: { A: '1', B: '2', C: '' } })),
      configHash(svc({ ports: [{ target: 81, protocol: 'tcp' }] })),
      configHash(svc({ ports: [{ target: 80, protocol: 'tcp', published: 8080 }] })),
      configHash(svc({ command: ['serve'] })),
      configHash(svc({ command: ['serve', '--verbose'] })),
    ];
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it('is sensitive to array order (command arguments are positional)', () => {
    expect(configHash(svc({ command: ['a', 'b'] }))).not.toBe(configHash(svc({ command: ['b', 'a'] })));
  });
});

describe('containerConfig', () => {
  it('drops exactly the rollout fields', () => {
    const cfg = containerConfig(svc({ origin: { file: 'x' } }));
    expect(Object.keys(cfg).sort()).toEqual(['environment', 'image', 'labels', 'name', 'networks', 'ports', 'restart', 'volumes']);
  });
});

describe('describeChanges', () => {
  const from = containerConfig(svc({ environment: { KEEP: 'same', GONE: 'secret-old', CHANGED: 'secret-a' } }));

  it('names added, removed and changed env keys without their values', () => {
    const to = containerConfig(svc({ environment: { KEEP: 'same', NEW: 'secret-new', CHANGED: 'secret-b' } }));
    const causes = describeChanges(from, to);
    expect(causes).toEqual(['environment changed (+NEW -GONE ~CHANGED)']);
    expect(causes.join(' ')).not.toMatch(/secret/);
  });

  it('lists several keys of one kind comma-separated', () => {
    const to = containerConfig(svc({ environment: { KEEP: 'same', GONE: 'secret-old', CHANGED: 'secret-a', X: '1', Y: '2' } }));
    expect(describeChanges(from, to)).toEqual(['environment changed (+X,Y)']);
  });

  it('puts the image change first, then other keys in sorted order', () => {
    const to = containerConfig(svc({ image: 'repo/web:2', environment: { KEEP: 'same' }, ports: [], command: ['x'] }));
    expect(describeChanges(from, to)).toEqual(['image repo/web:1 → repo/web:2', 'command changed', 'environment changed (-GONE,CHANGED)', 'ports changed']);
  });

  it('describes labels like env, by key', () => {
    const a = containerConfig(svc({ labels: { team: 'a' } }));
    const b = containerConfig(svc({ labels: { team: 'b', tier: 'front' } }));
    expect(describeChanges(a, b)).toEqual(['labels changed (+tier ~team)']);
  });

  it('is empty for equal configs, whatever their key order', () => {
    expect(describeChanges(from, reversedKeys(from) as typeof from)).toEqual([]);
  });

  it('never reports the service name', () => {
    expect(describeChanges(containerConfig(svc({ name: 'a' })), containerConfig(svc({ name: 'b' })))).toEqual([]);
  });

  it('notices a field that appears or disappears', () => {
    const a = containerConfig(svc());
    const b = containerConfig(svc({ user: '1000' }));
    expect(describeChanges(a, b)).toEqual(['user changed']);
    expect(describeChanges(b, a)).toEqual(['user changed']);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('drops undefined values at every depth', () => {
    expect(canonicalJson({ a: undefined, b: { c: undefined, d: 1 } })).toBe('{"b":{"d":1}}');
  });

  it('parses back to an equal value', () => {
    const v = { s: 'quote " and \\ and ☃', n: -1.5, t: true, f: false, nil: null, arr: [], obj: {} };
    expect(JSON.parse(canonicalJson(v))).toEqual(v);
  });

  it('is the same string for objects that differ only in key order', () => {
    const v = { x: { b: [1, 2], a: 'a' }, w: 'w' };
    expect(canonicalJson(reversedKeys(v))).toBe(canonicalJson(v));
  });

  it('is exactly the plain map/filter/sort form (the hashes in running replicas\' labels stay valid)', () => {
    const plain = (value: unknown): string => {
      if (value === undefined) return 'null';
      if (Array.isArray(value)) return `[${value.map(plain).join(',')}]`;
      if (value && typeof value === 'object') {
        const entries = Object.entries(value as Record<string, unknown>)
          .filter(([, v]) => v !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${plain(v)}`).join(',')}}`;
      }
      return JSON.stringify(value);
    };
    const leaf = fc.oneof(fc.string({ unit: 'binary' }), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined));
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node')), fc.dictionary(fc.string({ unit: 'binary' }), tie('node'))),
    })).node;
    fc.assert(fc.property(tree, (v) => canonicalJson(v) === plain(v)), { numRuns: 2000 });
    // ~4 s alone (2,000 random trees); the default 5 s was hit once on a loaded machine
  }, 30_000);
});
