import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { Toxiproxy } from 'toxiproxy-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dexec, docker, IMAGE, ipOf, iptablesSave, journalFiles, removeLabelled, runCli, scope, startCli } from '../helpers.js';

/**
 * Transparent proxy faults on a real engine (this kernel has no netem): httpd containers, the
 * fault proxy in the target's namespace, requests timed from another container.
 */
const s = scope('proxy');
/**
 * These containers carry their own label, not kiboko.test: other developers' test runs on the
 * shared engine remove every kiboko.test container at start, which would kill these mid-test.
 */
const OWN_LABEL = 'kiboko.proxy-test';
async function create(name: string, cmd: string[]): Promise<string> {
  const c = await docker.createContainer({ Image: IMAGE, name: `${s.prefix}${name}`, Cmd: cmd, Labels: { [OWN_LABEL]: s.id, 'kiboko.managed': 'true' } });
  await c.start();
  return c.id;
}
const WEB = [
  'sh',
  '-c',
  'mkdir -p /www/api && echo hi > /www/index.html && echo api > /www/api/x && echo other > /www/other && dd if=/dev/zero of=/www/blob bs=1k count=1024 2>/dev/null && httpd -p 80 -h /www && httpd -p 5432 -h /www && while true; do sleep 1; done',
];
const CLIENT = ['sh', '-c', 'while true; do sleep 1; done'];

let web = '';
let db = '';
let app = '';
let ipWeb = '';
let ipDb = '';
beforeAll(async () => {
  [web, db, app] = await Promise.all([create('web', WEB), create('db', WEB), create('app', CLIENT)]);
  [ipWeb, ipDb] = await Promise.all([ipOf(web), ipOf(db)]);
  for (const ip of [ipWeb, ipDb]) for (let i = 0; i < 50 && (await dexec(app, ['wget', '-q', '-O', '/dev/null', `http://${ip}/`])).code !== 0; i++);
});
afterAll(async () => {
  await removeLabelled(`${OWN_LABEL}=${s.id}`);
  await s.cleanup();
});

/** Request times (ms) measured inside `from` with busybox `time`, n sequential requests. */
async function times(from: string, url: string, n = 5): Promise<number[]> {
  const r = await dexec(from, ['sh', '-c', `for i in $(seq ${n}); do time wget -q -O /dev/null ${url}; done 2>&1`]);
  return [...r.out.matchAll(/real\s+(\d+)m\s*([\d.]+)s/g)].map((m) => Number(m[1]) * 60_000 + Number(m[2]) * 1000);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** A raw HTTP/1.0 request with busybox nc: the bytes the client got, its status line, how long it took. */
const raw = async (from: string, ip: string, path: string, port = 80) => {
  const r = await dexec(from, ['sh', '-c', `printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' | nc ${ip} ${port} > /tmp/out 2>/dev/null; echo "BYTES=$(wc -c < /tmp/out)"; echo "STATUS=$(head -1 /tmp/out)"`]);
  // dexec's output carries the engine's stream framing: read only the marked lines.
  const bytes = Number(/BYTES=\s*(\d+)/.exec(r.out)?.[1] ?? NaN);
  const status = /STATUS=(HTTP\/1\.\d \d{3})?/.exec(r.out)?.[1] ?? '';
  return { bytes, status, ms: r.ms };
};
const agents = () => {
  try {
    return execFileSync('pgrep', ['-f', 'proxy-agent.mjs'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
};
const inspectConfig = async (id: string) => {
  const i = await docker.getContainer(id).inspect();
  return JSON.stringify({ config: i.Config, host: i.HostConfig });
};

const fault = (args: string[]) => startCli(['chaos', '--json', 'proxy', ...args], { stateDir: s.stateDir });

describe('chaos proxy on incoming traffic', () => {
  it('200 ms latency on port 80: the median rises by ≥ 180 ms, falls back after; nothing of kiboko remains', async () => {
    const before = { save: await iptablesSave(web), config: await inspectConfig(web), agents: agents() };
    const base = median(await times(app, `http://${ipWeb}/`));
    const p = fault(['-d', '8s', '--port', '80', '--toxic', 'latency:latency=200,jitter=0', `${s.prefix}web`]);
    await p.waitForOutput('"fault-held"');
    expect(await iptablesSave(web)).toMatch(/-A PREROUTING -p tcp -m tcp --dport 80 -m comment --comment "?kiboko:[0-9a-f-]+"? -j REDIRECT --to-ports \d+/);
    const slow = median(await times(app, `http://${ipWeb}/`));
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    const after = median(await times(app, `http://${ipWeb}/`));
    console.log(`latency 200 ms on incoming :80 — median request ${base} ms before, ${slow} ms during, ${after} ms after`);
    expect(slow - base).toBeGreaterThanOrEqual(180);
    expect(after).toBeLessThan(base + 60);
    expect(await iptablesSave(web)).toBe(before.save);
    expect(await inspectConfig(web)).toBe(before.config);
    expect(agents()).toBe(before.agents);
    expect(journalFiles(s.stateDir)).toHaveLength(0);
  });

  it('bandwidth 100 KB/s: a 1 MiB transfer takes ≥ 9 s', async () => {
    const p = fault(['-d', '40s', '--port', '80', '--toxic', 'bandwidth:rate=100', `${s.prefix}web`]);
    await p.waitForOutput('"fault-held"');
    const [ms] = await times(app, `http://${ipWeb}/blob`, 1);
    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(0);
    console.log(`bandwidth 100 KB/s: 1048576 bytes in ${ms} ms (ideal ${(1048576 / 100).toFixed(0)} ms)`);
    expect(ms).toBeGreaterThanOrEqual(9000);
    expect(median(await times(app, `http://${ipWeb}/blob`, 3))).toBeLessThan(1000);
  });

  it('reset_peer: the client sees a reset; limit_data 1000: the connection closes after 1000 bytes; timeout: no data until the timeout', async () => {
    let p = fault(['-d', '20s', '--port', '80', '--toxic', 'reset_peer:timeout=0,stream=upstream', `${s.prefix}web`]);
    await p.waitForOutput('"fault-held"');
    const reset = await dexec(app, ['wget', '-q', '-O', '/dev/null', `http://${ipWeb}/`]);
    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(0);
    expect(reset.code).not.toBe(0);
    expect(reset.out).toMatch(/reset/i);

    p = fault(['-d', '20s', '--port', '80', '--toxic', 'limit_data:bytes=1000', `${s.prefix}web`]);
    await p.waitForOutput('"fault-held"');
    const limited = await raw(app, ipWeb, '/blob');
    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(0);
    expect(limited.bytes).toBe(1000);

    p = fault(['-d', '20s', '--port', '80', '--toxic', 'timeout:timeout=2000', `${s.prefix}web`]);
    await p.waitForOutput('"fault-held"');
    const held = await raw(app, ipWeb, '/');
    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(0);
    console.log(`reset_peer: ${reset.out.trim()}; limit_data: ${limited.bytes} bytes; timeout 2000: ${held.bytes} bytes after ${held.ms} ms`);
    expect(held.bytes).toBe(0);
    expect(held.ms).toBeGreaterThanOrEqual(1900);
    expect((await raw(app, ipWeb, '/blob')).bytes).toBeGreaterThan(1024 * 1024);
  });

  it('HTTP: 503 for the first 3 requests to /api/*, then 200s; other paths untouched', async () => {
    const p = fault(['-d', '30s', '--port', '80', '--http-abort', '503', '--http-path', '/api/*', '--http-first', '3', `${s.prefix}web`]);
    await p.waitForOutput('"fault-held"');
    const api: string[] = [];
    const other: string[] = [];
    for (let i = 0; i < 5; i++) {
      api.push((await raw(app, ipWeb, '/api/x')).status);
      other.push((await raw(app, ipWeb, '/other')).status);
    }
    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(0);
    console.log(`HTTP fault: /api/x → ${api.join(' | ')}`);
    expect(api.map((l) => l.split(' ')[1])).toEqual(['503', '503', '503', '200', '200']);
    expect(other).toEqual(Array(5).fill('HTTP/1.1 200'));
  });
});

describe('chaos proxy on outgoing traffic', () => {
  it('300 ms on app → db:5432 only; app → other destinations and ports unaffected', async () => {
    const base = { db5432: median(await times(app, `http://${ipDb}:5432/`)), db80: median(await times(app, `http://${ipDb}/`)), web: median(await times(app, `http://${ipWeb}/`)) };
    const p = fault(['-d', '30s', '--to', `${s.prefix}db:5432`, '--toxic', 'latency:latency=300,stream=upstream', `${s.prefix}app`]);
    await p.waitForOutput('"fault-held"');
    const during = { db5432: median(await times(app, `http://${ipDb}:5432/`)), db80: median(await times(app, `http://${ipDb}/`)), web: median(await times(app, `http://${ipWeb}/`)) };
    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(0);
    console.log(`outgoing 300 ms to db:5432 — before ${JSON.stringify(base)}, during ${JSON.stringify(during)} (ms)`);
    expect(during.db5432 - base.db5432).toBeGreaterThanOrEqual(270);
    expect(during.db80).toBeLessThan(base.db80 + 60);
    expect(during.web).toBeLessThan(base.web + 60);
    expect(await iptablesSave(app)).not.toMatch(/kiboko/);
  });
});

describe('chaos proxy in a helper container (no nsenter)', () => {
  it('--helper: the proxy runs in a FROM-scratch node image sharing the target namespace; helper and rules are gone afterwards', async () => {
    const before = await iptablesSave(web);
    const base = median(await times(app, `http://${ipWeb}/`, 3));
    const p = fault(['-d', '60s', '--helper', '--port', '80', '--latency', '200', `${s.prefix}web`]);
    await p.waitForOutput('"fault-held"', 120_000); // the first run builds kiboko/proxy:<hash> from this host's node
    const helpers = await docker.listContainers({ filters: JSON.stringify({ label: ['kiboko.role=helper'], name: [`kiboko-proxy-${s.prefix}web`] }) });
    expect(helpers).toHaveLength(1);
    expect(helpers[0]!.Image).toMatch(/^kiboko\/proxy:[0-9a-f]{12}$/);
    const slow = median(await times(app, `http://${ipWeb}/`, 3));
    // its toxics change while it runs too: kiboko execs the agent's client in the helper
    const server = startCli(['proxy', 'serve', '--port', '0'], { stateDir: s.stateDir });
    let faster = NaN;
    try {
      await server.waitForOutput('"listening"');
      const url = (JSON.parse(server.stdout().split('\n')[0]!) as { url: string }).url;
      const toxicsUrl = `${url}/proxies/${encodeURIComponent(`kiboko:${s.prefix}web:in:80`)}/toxics`;
      const [latency] = (await (await fetch(toxicsUrl)).json()) as { name: string }[];
      const del = await fetch(`${toxicsUrl}/${latency!.name}`, { method: 'DELETE' });
      expect(del.status, await del.text()).toBe(204);
      expect(await (await fetch(toxicsUrl)).json()).toEqual([]);
      faster = median(await times(app, `http://${ipWeb}/`, 3));
    } finally {
      server.child.kill('SIGTERM');
      await server.done;
    }
    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(0);
    console.log(`helper-container proxy: median ${base} ms before, ${slow} ms with latency 200, ${faster} ms once the toxic was removed through the API`);
    expect(slow - base).toBeGreaterThanOrEqual(180);
    expect(faster).toBeLessThan(base + 100);
    expect(await iptablesSave(web)).toBe(before);
    expect(await docker.listContainers({ all: true, filters: JSON.stringify({ name: [`kiboko-proxy-${s.prefix}web`] }) })).toHaveLength(0);
  });
});

describe('crash and recovery', () => {
  it('SIGKILL mid-fault, then chaos recover: rules and agent gone, traffic normal, journal empty', async () => {
    const before = await iptablesSave(web);
    const base = median(await times(app, `http://${ipWeb}/`, 3));
    const p = fault(['-d', '60s', '--port', '80', '--latency', '250ms', `${s.prefix}web`]);
    await p.waitForOutput('"fault-held"');
    expect(median(await times(app, `http://${ipWeb}/`, 3))).toBeGreaterThanOrEqual(base + 200);
    p.child.kill('SIGKILL');
    await p.done;
    expect(journalFiles(s.stateDir)).toHaveLength(1);
    const r = await runCli(['chaos', 'recover'], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/recovered proxy of/);
    expect(await iptablesSave(web)).toBe(before);
    expect(agents()).toBe(0);
    expect(journalFiles(s.stateDir)).toHaveLength(0);
    expect(median(await times(app, `http://${ipWeb}/`, 3))).toBeLessThan(base + 60);
  });
});

describe('partition --direction', () => {
  const reach = async (from: string, ip: string) => (await dexec(from, ['timeout', '3', 'wget', '-q', '-O', '/dev/null', `http://${ip}/`])).code === 0;
  it('from: the target reaches its peer, the peer cannot reach it; to: the reverse', async () => {
    const before = await iptablesSave(web);
    let p = startCli(['chaos', '--json', 'partition', '-d', '20s', '--direction', 'from', '--peer', `${s.prefix}db`, `${s.prefix}web`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    const from = { targetToPeer: await reach(web, ipDb), peerToTarget: await reach(db, ipWeb), other: await reach(app, ipWeb) };
    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(0);
    p = startCli(['chaos', '--json', 'partition', '-d', '20s', '--direction', 'to', '--peer', `${s.prefix}db`, `${s.prefix}web`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    const to = { targetToPeer: await reach(web, ipDb), peerToTarget: await reach(db, ipWeb), other: await reach(app, ipWeb) };
    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(0);
    expect(from).toEqual({ targetToPeer: true, peerToTarget: false, other: true });
    expect(to).toEqual({ targetToPeer: false, peerToTarget: true, other: true });
    expect(await iptablesSave(web)).toBe(before);
  });
});

/** Whether this kernel has netem, asked as kiboko does: in a throwaway namespace. */
const kernelHasNetem = (() => {
  try {
    execFileSync('unshare', ['--net', '--', 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

describe('netem delay on this kernel (no sch_netem)', () => {
  // Skipped where the kernel has netem: then netem delay simply works and chaos delay uses it.
  it.skipIf(kernelHasNetem)('fails with exit 8 and the exact proxy command line in the hint; chaos delay then uses the proxy', async () => {
    const r = await runCli(['chaos', 'netem', '--duration', '5s', '--egress-port', '80', 'delay', '--time', '150', '--jitter', '0', `${s.prefix}web`], { stateDir: s.stateDir });
    expect(r.code).toBe(8);
    expect(r.stderr).toContain(`\`kiboko chaos delay --duration 5s --time 150 --jitter 0 --port 80 ${s.prefix}web\``);
    const d = await runCli(['chaos', 'delay', '--duration', '3s', '--time', '150', '--jitter', '0', '--port', '80', `${s.prefix}web`], { stateDir: s.stateDir });
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/chaos delay: using the transparent proxy \(this kernel has no netem\)/);
  });
});

describe('kiboko proxy serve', () => {
  it('lists a running chaos proxy fault (toxiproxy-node-client getAll/get), changes its toxics while it runs (measured), refuses to delete it (409)', async () => {
    const p = fault(['-d', '60s', '--port', '80', '--toxic', 'latency:latency=5,name=slow5', `${s.prefix}web`]);
    await p.waitForOutput('"fault-held"');
    const server = startCli(['proxy', 'serve', '--port', '0'], { stateDir: s.stateDir });
    try {
      await server.waitForOutput('"listening"');
      const url = (JSON.parse(server.stdout().split('\n')[0]!) as { url: string }).url;
      const client = new Toxiproxy(url);
      const name = `kiboko:${s.prefix}web:in:80`;
      const all = await client.getAll();
      expect(Object.keys(all)).toContain(name);
      expect((await client.get(name)).toJson()).toMatchObject({ name, listen: `${s.prefix}web:80`, upstream: '127.0.0.1:80', enabled: true });
      const slow5 = { name: 'slow5', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 5, jitter: 0 } };
      const listed = async () => ((await (await fetch(`${url}/proxies/${encodeURIComponent(name)}`)).json()) as { toxics: unknown[] }).toxics;
      expect(await listed()).toEqual([slow5]);
      const base = median(await times(app, `http://${ipWeb}/`));
      // A toxiproxy client adds a toxic to the running fault: the agent applies it, the listing shows it.
      const proxy = await client.get(name);
      const added = await proxy.addToxic({ name: 'lat300', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 300, jitter: 0 } });
      expect(await listed()).toEqual([slow5, { name: 'lat300', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 300, jitter: 0 } }]);
      const slow = median(await times(app, `http://${ipWeb}/`));
      const updated = await added.update({ attributes: { latency: 600, jitter: 0 } } as never);
      expect(updated.toJson().attributes).toEqual({ latency: 600, jitter: 0 });
      const slower = median(await times(app, `http://${ipWeb}/`, 3));
      await added.remove();
      expect(await listed()).toEqual([slow5]);
      const removed = median(await times(app, `http://${ipWeb}/`));
      console.log(`running chaos proxy changed through kiboko proxy serve: median ${base} ms, ${slow} ms with +300 ms, ${slower} ms with +600 ms, ${removed} ms removed`);
      expect(slow - base).toBeGreaterThanOrEqual(270);
      expect(slower - base).toBeGreaterThanOrEqual(570);
      expect(removed).toBeLessThan(base + 100);
      // bad toxics get toxiproxy's answers and change nothing
      const dup = await fetch(`${url}/proxies/${encodeURIComponent(name)}/toxics`, { method: 'POST', body: JSON.stringify(slow5) });
      expect(dup.status).toBe(409);
      const bad = await fetch(`${url}/proxies/${encodeURIComponent(name)}/toxics`, { method: 'POST', body: '{"type":"nonsense"}' });
      expect(bad.status).toBe(400);
      expect(await listed()).toEqual([slow5]);
      // the proxy itself ends with its run
      const change = await fetch(`${url}/proxies/${encodeURIComponent(name)}`, { method: 'DELETE' });
      expect(change.status).toBe(409);
      expect(((await change.json()) as { error: string }).error).toMatch(/kiboko chaos proxy fault.*chaos recover/);
      p.child.kill('SIGTERM');
      expect((await p.done).code).toBe(0);
      expect(Object.keys(await client.getAll())).not.toContain(name); // gone with its run
      expect(journalFiles(s.stateDir)).toHaveLength(0);
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
      server.child.kill('SIGTERM');
      expect((await server.done).code).toBe(0);
    }
  });

  it('--toxic down: connections to the port are refused (toxiproxy’s down); enabled through the API they pass again, disabled they are refused again', async () => {
    const get = () => dexec(app, ['sh', '-c', `wget -q -O - http://${ipWeb}/ 2>&1`]);
    expect((await get()).code).toBe(0);
    const p = fault(['-d', '60s', '--port', '80', '--toxic', 'down', `${s.prefix}web`]);
    await p.waitForOutput('"fault-held"');
    const server = startCli(['proxy', 'serve', '--port', '0'], { stateDir: s.stateDir });
    try {
      const down = await get();
      expect(down.code).not.toBe(0);
      expect(down.out).toMatch(/refused/i);
      await server.waitForOutput('"listening"');
      const url = (JSON.parse(server.stdout().split('\n')[0]!) as { url: string }).url;
      const client = new Toxiproxy(url);
      const name = `kiboko:${s.prefix}web:in:80`;
      const proxy = await client.get(name);
      expect(proxy.toJson().enabled).toBe(false);
      await proxy.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
      expect((await client.get(name)).toJson().enabled).toBe(true);
      const up = await get();
      expect(up.code, up.out).toBe(0);
      expect(up.out).toContain('hi');
      await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
      expect((await get()).out).toMatch(/refused/i);
      p.child.kill('SIGTERM');
      expect((await p.done).code).toBe(0);
      expect((await get()).code).toBe(0); // restored
      expect(journalFiles(s.stateDir)).toHaveLength(0);
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
      server.child.kill('SIGTERM');
      await server.done;
    }
  });

  it('toxiproxy-node-client creates a proxy, adds a latency toxic (measured), removes it and resets', async () => {
    const server = startCli(['proxy', 'serve', '--port', '0']);
    await server.waitForOutput('"listening"');
    const url = (JSON.parse(server.stdout().split('\n')[0]!) as { url: string }).url;
    try {
      const client = new Toxiproxy(url);
      const proxy = await client.createProxy({ name: 'web', listen: '127.0.0.1:0', upstream: `${ipWeb}:80` });
      const port = proxy.listen.split(':').pop();
      // One fresh connection per request (no keep-alive), timed to the last byte.
      const once = () =>
        new Promise<number>((resolve, reject) => {
          const start = performance.now();
          get({ host: '127.0.0.1', port: Number(port), path: '/', agent: false }, (res) => {
            res.resume();
            res.on('end', () => resolve(performance.now() - start));
          }).on('error', reject);
        });
      let samples: number[] = [];
      const timed = async () => {
        samples = [];
        for (let i = 0; i < 5; i++) samples.push(await once());
        return median(samples);
      };
      const base = await timed();
      const toxic = await proxy.addToxic({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 200, jitter: 0 } });
      const slow = await timed();
      const slowest = Math.min(...samples); // every response waits for the toxic, whatever the machine's load
      await toxic.remove();
      const removed = await timed();
      await proxy.addToxic({ name: 'lat2', type: 'latency', stream: 'upstream', toxicity: 1, attributes: { latency: 200, jitter: 0 } });
      await client.reset();
      const reset = await timed();
      console.log(`kiboko proxy serve + toxiproxy-node-client: median ${base.toFixed(1)} ms, ${slow.toFixed(1)} ms with latency 200, ${removed.toFixed(1)} ms removed, ${reset.toFixed(1)} ms after reset`);
      expect(slowest).toBeGreaterThanOrEqual(195);
      expect(slow - base).toBeGreaterThanOrEqual(150);
      expect(removed).toBeLessThan(slow - 100);
      expect(reset).toBeLessThan(slow - 100);
    } finally {
      server.child.kill('SIGTERM');
      expect((await server.done).code).toBe(0);
    }
  });
});

/**
 * The real toxiproxy-cli, when one is given (KIBOKO_TOXIPROXY_CLI=/path/to/toxiproxy-cli, built from
 * Shopify/toxiproxy's cmd/cli outside this repository): the same changes to a running chaos proxy
 * fault through the client toxiproxy users type. Skipped without it: no Go client binary ships with
 * kiboko or its tests, and none can be downloaded here.
 */
const TOXIPROXY_CLI = process.env.KIBOKO_TOXIPROXY_CLI;
describe.skipIf(!TOXIPROXY_CLI || !existsSync(TOXIPROXY_CLI))('the real toxiproxy-cli (KIBOKO_TOXIPROXY_CLI)', () => {
  it('lists and inspects a running chaos proxy fault, adds, updates and removes a toxic on it (measured); delete is refused', async () => {
    const p = fault(['-d', '60s', '--port', '80', '--latency', '5', `${s.prefix}web`]);
    await p.waitForOutput('"fault-held"');
    const server = startCli(['proxy', 'serve', '--port', '0'], { stateDir: s.stateDir });
    try {
      await server.waitForOutput('"listening"');
      const host = (JSON.parse(server.stdout().split('\n')[0]!) as { url: string }).url.replace('http://', '');
      const name = `kiboko:${s.prefix}web:in:80`;
      const cli = (...args: string[]) => {
        try {
          return { code: 0, out: execFileSync(TOXIPROXY_CLI!, ['-h', host, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
        } catch (err) {
          const e = err as { status: number; stdout: string; stderr: string };
          return { code: e.status, out: `${e.stdout}${e.stderr}` };
        }
      };
      expect(cli('list').out).toContain(name);
      expect(cli('inspect', name).out).toMatch(/latency_downstream\s+type=latency\s+stream=downstream/);
      const base = median(await times(app, `http://${ipWeb}/`, 3));
      expect(cli('toxic', 'add', '-t', 'latency', '-a', 'latency=400', '-n', 'big', name)).toMatchObject({ code: 0, out: expect.stringMatching(/Added downstream latency toxic 'big'/) });
      const slow = median(await times(app, `http://${ipWeb}/`, 3));
      expect(cli('toxic', 'update', '-n', 'big', '-a', 'latency=800', name).code).toBe(0);
      expect(cli('inspect', name).out).toMatch(/big\s+type=latency.*latency=800/s);
      const slower = median(await times(app, `http://${ipWeb}/`, 3));
      expect(cli('toxic', 'remove', '-n', 'big', name).code).toBe(0);
      const removed = median(await times(app, `http://${ipWeb}/`, 3));
      // toggle: toxiproxy's down and up again
      expect(cli('toggle', name).out).toMatch(/disabled/);
      expect((await dexec(app, ['sh', '-c', `wget -q -O /dev/null http://${ipWeb}/ 2>&1`])).out).toMatch(/refused/i);
      expect(cli('toggle', name).out).toMatch(/enabled/);
      expect((await dexec(app, ['wget', '-q', '-O', '/dev/null', `http://${ipWeb}/`])).code).toBe(0);
      const del = cli('delete', name);
      expect(del.code).not.toBe(0);
      expect(del.out).toMatch(/409.*kiboko chaos proxy fault/);
      console.log(`toxiproxy-cli on a running chaos proxy: median ${base} ms, ${slow} ms with +400, ${slower} ms with +800, ${removed} ms removed`);
      expect(slow - base).toBeGreaterThanOrEqual(370);
      expect(slower - base).toBeGreaterThanOrEqual(770);
      expect(removed).toBeLessThan(base + 100);
      p.child.kill('SIGTERM');
      expect((await p.done).code).toBe(0);
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
      server.child.kill('SIGTERM');
      await server.done;
    }
  });
});
