import path from 'node:path';
import fc from 'fast-check';
import { parseCompose, parsePortSpec } from './index.js';
import { describe, expect, it } from 'vitest';
import { load, failure, problemsOf, only } from './fixtures.test-support.js';

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
