import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, docker, runCli, startCli, type CliProcess } from '../helpers.js';

/**
 * The real daemon (`kiboko serve`) attacked on loopback, its memory read from /proc/PID/status.
 * Every loop is bounded and ends by itself. (The in-process attacks: src/server/attack.test.ts.)
 */
const dir = mkdtempSync(join(tmpdir(), 'kiboko-attack-'));
const stateDir = join(dir, 'state');
const secretFile = join(dir, 'hook.secret');
const APP = `ktatk${Math.random().toString(16).slice(2, 6)}`;
let daemon: CliProcess;
let base = '';
let port = 0;
let token = '';

const rssMb = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${daemon.child.pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The daemon's own view of its memory (its /metrics, process metrics from prom-client), in MB. */
const memoryMetrics = async () => {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const mb = (name: string) => (Number(new RegExp(`^kiboko_${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 1048576).toFixed(1);
  return { heapUsed: mb('nodejs_heap_size_used_bytes'), heapTotal: mb('nodejs_heap_size_total_bytes'), external: mb('nodejs_external_memory_bytes') };
};
const unitContainers = async () =>
  (await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['kiboko.units.unit'] }) })).filter((c) => c.Labels['kiboko.units.unit']!.startsWith(APP));

beforeAll(async () => {
  mkdirSync(stateDir, { mode: 0o700 });
  writeFileSync(secretFile, 'attack-hook-secret-0123456789\n', { mode: 0o600 });
  daemon = startCli(['serve', '--listen', '127.0.0.1:0', '--webhook-secret-file', secretFile], { stateDir });
  await daemon.waitForOutput('"event":"listening"');
  const line = JSON.parse(daemon.stdout().split('\n').find((l) => l.includes('"listening"'))!) as { addresses: string[]; tokenFile: string };
  base = line.addresses[0]!;
  port = Number(new URL(base).port);
  token = readFileSync(line.tokenFile, 'utf8').trim();
});

afterAll(async () => {
  if (daemon.child.exitCode === null) {
    daemon.child.kill('SIGTERM');
    await Promise.race([daemon.done, sleep(10_000)]);
    if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
  }
  for (const c of await unitContainers()) await docker.getContainer(c.Id).remove({ force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('start-up refuses what would be unsafe, in one line with the fix (exit 2)', () => {
  it('half a TLS configuration, readable secrets, a readable state directory; and never prints the token', async () => {
    const d = mkdtempSync(join(tmpdir(), 'kiboko-attack-start-'));
    try {
      const cases: [string[], RegExp][] = [
        [['serve', '--listen', '127.0.0.1:0', '--tls-cert', join(d, 'c.pem')], /--tls-cert was given without --tls-key.* — give both --tls-cert FILE and --tls-key FILE/],
        [['serve', '--listen', '127.0.0.1:0', '--tls-key', join(d, 'k.pem')], /--tls-key was given without --tls-cert/],
        [['serve', '--listen', '127.0.0.1:0', '--tls-client-ca', join(d, 'ca.pem')], /--tls-client-ca needs HTTPS/],
        [['serve', '--listen', '127.0.0.1:0', '--tlscert', join(d, 'c.pem'), '--tlskey', join(d, 'k.pem')], /engine connection’s client certificate.* — to serve HTTPS give --tls-cert FILE and --tls-key FILE/],
      ];
      for (const [args, want] of cases) {
        const r = await runCli(args, { stateDir: join(d, 'fresh'), env: { DOCKER_HOST: '' } });
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
        expect(r.stderr).toMatch(want);
      }
      // a world-readable token file
      const s1 = join(d, 's1');
      mkdirSync(s1, { mode: 0o700 });
      writeFileSync(join(s1, 'serve.token'), 'a-token-that-others-can-read-0123456789\n', { mode: 0o644 });
      chmodSync(join(s1, 'serve.token'), 0o644);
      let r = await runCli(['serve', '--listen', '127.0.0.1:0'], { stateDir: s1 });
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(`kiboko: ${join(s1, 'serve.token')} is accessible by others (mode 0644); it holds secrets, so kiboko serve will not use it — chmod 600 ${join(s1, 'serve.token')}`);
      expect(r.stderr + r.stdout).not.toContain('a-token-that-others-can-read');
      // a state directory others can read
      const s2 = join(d, 's2');
      mkdirSync(s2);
      chmodSync(s2, 0o755);
      r = await runCli(['serve', '--listen', '127.0.0.1:0'], { stateDir: s2 });
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(new RegExp(`is accessible by others \\(mode 0755\\).* — chmod 700 ${s2}$`));
      // a world-readable webhook secret
      const s3 = join(d, 's3');
      writeFileSync(join(d, 'open.secret'), 'open-secret-0123456789\n', { mode: 0o644 });
      chmodSync(join(d, 'open.secret'), 0o644);
      r = await runCli(['serve', '--listen', '127.0.0.1:0', '--webhook-secret-file', join(d, 'open.secret')], { stateDir: s3 });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/open\.secret is accessible by others \(mode 0644\)/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
    // The running daemon created its token on first start: its output names the file, never the token.
    expect(daemon.stdout()).toContain('token created in');
    expect(daemon.stdout() + daemon.stderr()).not.toContain(token);
  }, 60_000);
});

describe('kiboko serve on a taken port or a bad --listen (issue 16)', () => {
  it('exits 2 within 2 s with one line naming the port, nothing on stdout, no token anywhere', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const taken = (holder.address() as { port: number }).port;
    const d = mkdtempSync(join(tmpdir(), 'kiboko-taken-'));
    try {
      let r = await runCli(['serve', '--listen', `127.0.0.1:${taken}`], { stateDir: join(d, 's') });
      console.log(`[listen] taken port: exit ${r.code} after ${r.ms} ms`);
      expect(r.code).toBe(2);
      expect(r.ms).toBeLessThan(2000);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr.trim()).toBe(`kiboko: cannot listen on 127.0.0.1:${taken}: the address is already in use — stop what listens there (ss -ltnp 'sport = :${taken}') or choose another --listen`);
      expect(r.stdout).toBe('');
      const created = readFileSync(join(d, 's', 'serve.token'), 'utf8').trim();
      expect(r.stderr).not.toContain(created);
      // the unix socket it had bound is gone with it: a daemon can start there at once
      for (const bad of ['nonsense', '127.0.0.1:99999', '127.0.0.1']) {
        r = await runCli(['serve', '--listen', bad], { stateDir: join(d, 's') });
        expect(r.code, bad).toBe(2);
        expect(r.ms).toBeLessThan(2000);
        expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
        expect(r.stderr).toMatch(/^kiboko: invalid --listen '.*': expected HOST:PORT with a port from 0 to 65535 — e.g. --listen 127\.0\.0\.1:8555\n$/);
      }
    } finally {
      holder.close();
      rmSync(d, { recursive: true, force: true });
    }
  }, 30_000);

  it('on a terminal it prints text (where it listens, where the token is), never JSON and never the token', async () => {
    const d = mkdtempSync(join(tmpdir(), 'kiboko-tty-'));
    try {
      // `script` gives the daemon a pseudo-terminal; `timeout` stops it (SIGTERM) after 3 s.
      const { execFile } = await import('node:child_process');
      const out = await new Promise<string>((resolve) =>
        execFile('script', ['-qfec', 'exec timeout -s TERM 3 "$NODE" "$KIBOKO_CLI" serve --listen 127.0.0.1:0', '/dev/null'], { env: { ...process.env, NODE: process.execPath, KIBOKO_CLI: CLI, KIBOKO_STATE_DIR: join(d, 's'), CI: 'true' }, timeout: 15_000 }, (_err, stdout) => resolve(stdout)),
      );
      const created = readFileSync(join(d, 's', 'serve.token'), 'utf8').trim();
      expect(out).toMatch(/kiboko serve \S+: listening on http:\/\/127\.0\.0\.1:\d+, unix:\/\/\S+kiboko\.sock/);
      expect(out).toContain(`token:     ${join(d, 's', 'serve.token')} (created now, mode 0600)`);
      expect(out).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard/);
      expect(out).not.toContain('"event":"listening"');
      expect(out).not.toContain(created);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }, 30_000);

  it('with --listen the unix socket is opened too: `kiboko units` finds the daemon without --endpoint; a second daemon on the same state directory is refused', async () => {
    const r = await runCli(['units', 'list-units'], { stateDir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^UNIT\tMACHINE\tACTIVE\tSUB/);
    expect(daemon.stdout()).toContain(`unix://${join(stateDir, 'kiboko.sock')}`);
    const second = await runCli(['serve', '--listen', '127.0.0.1:0'], { stateDir });
    expect(second.code).toBe(2);
    expect(second.stderr.trim()).toBe(`kiboko: another daemon is already listening on ${join(stateDir, 'kiboko.sock')} — stop it, or give this one its own --state-dir or --socket`);
    // and the first one still serves on it
    expect((await runCli(['units', 'list-units'], { stateDir })).code).toBe(0);
  }, 30_000);
});

describe('the running daemon under attack (RSS from /proc)', () => {
  it('item 1: the malformed request target gets 400 and the daemon keeps serving', async () => {
    const reply = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('close', () => resolve(out));
      s.write('GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n');
      setTimeout(() => s.destroy(), 2000);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(daemon.child.exitCode).toBeNull();
  });

  it('item 3: 300 unauthenticated slow bodies raise RSS by less than 20 MB, and it falls back to the idle level after they close (two waves); a 2 MiB body gets 413', async () => {
    /** One wave: 300 connections declare a 60 KiB signed hook body, send 50 KiB of it slowly (10 rounds), never the rest. */
    const wave = async () => {
      const sockets: Socket[] = [];
      const chunk = Buffer.alloc(5 * 1024, 'a');
      try {
        await Promise.all(
          Array.from(
            { length: 300 },
            () =>
              new Promise<void>((resolve) => {
                const s = connect(port, '127.0.0.1', () => {
                  s.write(`POST /hooks/deploy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256=${'0'.repeat(64)}\r\nContent-Length: ${60 * 1024}\r\n\r\n`);
                  resolve();
                });
                s.on('error', () => undefined);
                sockets.push(s);
              }),
          ),
        );
        for (let round = 0; round < 10; round++) {
          for (const s of sockets) if (!s.destroyed) s.write(chunk);
          await sleep(150);
        }
        await sleep(300);
        return rssMb();
      } finally {
        for (const s of sockets) s.destroy();
      }
    };
    /** RSS once the load has gone: the lowest of a 3 s settling period (sampled every 250 ms). */
    const settled = async () => {
      let low = Infinity;
      for (let i = 0; i < 12; i++) {
        await sleep(250);
        low = Math.min(low, rssMb());
      }
      return low;
    };
    await sleep(500);
    const idle = rssMb();
    const during1 = await wave();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const after1 = await settled();
    const during2 = await wave();
    const after2 = await settled();
    const m = await memoryMetrics();
    console.log(`[attack] 300 slow unauthenticated bodies: RSS idle ${idle.toFixed(1)} MB → ${during1.toFixed(1)} under load → ${after1.toFixed(1)} after they closed; second wave ${during2.toFixed(1)} → ${after2.toFixed(1)} MB (V8 heap used ${m.heapUsed} of ${m.heapTotal} MB, external ${m.external} MB)`);
    expect(during1 - idle, `RSS ${idle.toFixed(1)} → ${during1.toFixed(1)} MB`).toBeLessThan(20);
    expect(during2 - idle, `RSS ${idle.toFixed(1)} → ${during2.toFixed(1)} MB (second wave)`).toBeLessThan(20);
    // Falls back: within 8 MB of the idle level after each wave (measured +3 to +4.5 MB after one or
    // two waves on the dev machine, where before the fix it rose 18 MB and kept all of it). The bodies
    // themselves add nothing per wave (they live in a slab allocated once); what a wave leaves is its
    // 300 connections' objects in V8's old generation until the next full collection (1–3 MB).
    expect(after1 - idle, `RSS after the first wave ${after1.toFixed(1)} MB, idle ${idle.toFixed(1)} MB`).toBeLessThan(8);
    expect(after2 - idle, `RSS after the second wave ${after2.toFixed(1)} MB, idle ${idle.toFixed(1)} MB`).toBeLessThan(8);
    expect(after2 - after1).toBeLessThan(5);
    const big = await fetch(`${base}/fleet/v1/units/${APP}-x.service`, { method: 'PUT', body: Buffer.alloc(2 * 1024 * 1024, 'a'), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    expect(big.status).toBe(413);
  }, 60_000);

  it('item 4: the 1,001st event stream of one client is refused with 429; RSS stays under 200 MB with 1,000 open', async () => {
    const sockets: Socket[] = [];
    const open = () =>
      new Promise<number>((resolve) => {
        const s = connect(port, '127.0.0.1');
        sockets.push(s);
        let out = '';
        const onData = (d: Buffer) => {
          out += d.toString();
          if (out.includes('\r\n\r\n')) {
            s.off('data', onData);
            resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(out)?.[1] ?? 0));
          }
        };
        s.on('data', onData);
        s.on('error', () => resolve(0));
        s.write(`GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      });
    try {
      for (let i = 0; i < 10; i++) expect(new Set(await Promise.all(Array.from({ length: 100 }, open)))).toEqual(new Set([200]));
      const rss = rssMb();
      console.log(`[attack] 1,000 open event streams: RSS ${rss.toFixed(1)} MB`);
      expect(rss).toBeLessThan(200);
      expect(await open()).toBe(429);
    } finally {
      for (const s of sockets) s.destroy();
    }
    await sleep(500);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  }, 60_000);

  it('item 2: after 20 bad tokens from 127.0.0.1 the right token works at once', async () => {
    const bad = Array.from({ length: 20 }, (_, i) => fetch(`${base}/fleet/v1/units`, { headers: { authorization: `Bearer bad-${i}-xxxxxxxxxxxxxxxx` } }).then((r) => r.status));
    await sleep(100);
    const t0 = Date.now();
    const good = await fetch(`${base}/fleet/v1/units`, { headers: { authorization: `Bearer ${token}` } });
    const ms = Date.now() - t0;
    expect(good.status).toBe(200);
    expect(ms).toBeLessThan(500);
    expect(new Set(await Promise.all(bad))).toEqual(new Set([401]));
    expect(daemon.stderr()).toContain('authentication failed');
    expect(daemon.stdout() + daemon.stderr()).not.toContain('bad-1-xxxx');
  }, 30_000);

  it('item 8: a unit whose image pull stalls (a tarpit registry on loopback) does not delay an unrelated unit PUT by more than 1 s', async () => {
    const held: Socket[] = [];
    const tarpit = createServer((s) => {
      held.push(s); // accepts, never answers
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', r));
    const tarpitPort = (tarpit.address() as { port: number }).port;
    const unit = (image: string, name: string) => ({
      desiredState: 'launched',
      options: [{ section: 'Service', name: 'ExecStart', value: `/usr/bin/docker run --name ${name} ${image} sh -c "trap 'exit 0' TERM; while true; do sleep 0.2; done"` }],
    });
    const put = async (name: string, image: string, signal?: AbortSignal) => {
      const t0 = Date.now();
      const r = await fetch(`${base}/fleet/v1/units/${name}.service`, { method: 'PUT', body: JSON.stringify(unit(image, name)), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(signal ? { signal } : {}) });
      return { status: r.status, ms: Date.now() - t0 };
    };
    const stall = new AbortController();
    try {
      const baseline = await put(`${APP}-base`, 'kiboko/busybox:local');
      expect(baseline.status).toBe(201);
      const stalled = put(`${APP}-stalled`, `127.0.0.1:${tarpitPort}/x:1`, stall.signal).catch(() => undefined);
      // the engine is pulling from the tarpit
      for (let i = 0; i < 100 && held.length === 0; i++) await sleep(100);
      expect(held.length).toBeGreaterThan(0);
      const other = await put(`${APP}-other`, 'kiboko/busybox:local');
      console.log(`[attack] unit PUT: ${baseline.ms} ms alone, ${other.ms} ms while another unit's pull stalls`);
      expect(other.status).toBe(201);
      expect(other.ms).toBeLessThan(baseline.ms + 1000);
      stall.abort();
      await stalled;
    } finally {
      for (const s of held) s.destroy();
      tarpit.close();
    }
    const idle = rssMb();
    console.log(`[attack] daemon idle RSS after the attacks: ${idle.toFixed(1)} MB`);
  }, 60_000);
});
