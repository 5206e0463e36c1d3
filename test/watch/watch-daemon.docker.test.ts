import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, buildFromBusybox, docker, journalFiles, runCli, startCli, waitFor } from '../helpers.js';
import { dockerConfig, freePort, pushImage, startRegistry, trustForEngine, type TestRegistry } from '../registry.js';

/**
 * Issue 14, second part, against Debian's docker-registry on loopback (TLS from a test CA,
 * htpasswd): `kiboko serve --watch` (reports on the API and the event stream), a `kiboko watch`
 * SIGKILLed in the middle of a container update and put right by `kiboko chaos recover`, and a
 * pull from a slow registry drawn on a terminal and interrupted by Ctrl-C with nothing changed.
 */
const ID = Math.random().toString(16).slice(2, 8);
const NS = `kt-wd-${ID}`;
// Not kiboko.test: the harness removes containers with that key when any run starts or ends.
const LABEL = `kiboko.watch-test=${NS}`;
const dir = mkdtempSync(join(tmpdir(), 'kiboko-watchd-'));
let reg: TestRegistry;
let untrust: () => void;
let cfg: string;

const auth = () => ({ username: reg.user, password: reg.password, serveraddress: reg.host });
const imageId = async (ref: string) => docker.getImage(ref).inspect().then((i) => i.Id, () => undefined);

/** Builds `ref` from busybox with these Dockerfile lines, pushes it, and (unless kept) drops the local tag. */
async function publish(ref: string, lines: string[], keep = false) {
  await buildFromBusybox(ref, lines, LABEL);
  await pushImage(docker, ref, auth());
  if (!keep) await docker.getImage(ref).remove({ force: true }).catch(() => undefined);
}
async function container(name: string, image: string, labels: Record<string, string> = {}) {
  const c = await docker.createContainer({ Image: image, name, Cmd: ['sleep', '3600'], Labels: { 'kiboko.watch-test': NS, 'com.centurylinklabs.watchtower.enable': 'true', 'com.centurylinklabs.watchtower.scope': NS, ...labels }, HostConfig: { Init: true } });
  await c.start();
  return c.id;
}
const named = async (fragment: string) => (await docker.listContainers({ all: true, filters: JSON.stringify({ name: [fragment] }) })).map((c) => ({ id: c.Id, name: c.Names[0]!.slice(1), state: c.State }));

beforeAll(async () => {
  reg = await startRegistry();
  untrust = trustForEngine(reg.host, reg.tls.ca);
  cfg = dockerConfig({ [reg.host]: { username: reg.user, password: reg.password } });
}, 60_000);

afterAll(async () => {
  for (const c of await docker.listContainers({ all: true, filters: JSON.stringify({ label: [LABEL] }) })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  for (const i of await docker.listImages({ filters: JSON.stringify({ label: [LABEL] }) })) await docker.getImage(i.Id).remove({ force: true }).catch(() => undefined);
  untrust?.();
  await reg?.stop();
  rmSync(cfg, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('kiboko serve --watch', () => {
  it('runs a pass at start; reports on GET /v1/watch/reports (token), watch.* on /v1/events, POST /v1/watch/run; SIGTERM stops it', async () => {
    const ref = `${reg.host}/${NS}/svc:stable`;
    await publish(ref, ['RUN echo v1 > /v'], true);
    const v1 = (await imageId(ref))!;
    const name = `${NS}-svc`;
    const oldId = await container(name, ref);
    await publish(ref, ['RUN echo v2 > /v']); // the tag moves on the registry
    const stateDir = join(dir, 'serve');
    const port = await freePort();
    const daemon = startCli(['serve', '--listen', `127.0.0.1:${port}`, '--watch', '--label-enable', '--scope', NS, '--interval', '1h', '--health-timeout', '20s'], { stateDir, env: { DOCKER_CONFIG: cfg } });
    try {
      await daemon.waitForOutput('"event":"listening"');
      const line = JSON.parse(daemon.stdout().split('\n').find((l) => l.includes('"listening"'))!) as { addresses: string[]; tokenFile: string; watch: unknown };
      expect(line.watch).toMatchObject({ schedule: 'every 3600s', monitorOnly: false, containers: true });
      const base = line.addresses[0]!.replace(/\/$/, '');
      const token = readFileSync(line.tokenFile, 'utf8').trim();
      const h = { authorization: `Bearer ${token}` };
      expect((await fetch(`${base}/v1/watch/reports`)).status).toBe(401);
      // The event stream from the start (the first pass began when the daemon started: replayed with ?since=).
      const sse = await fetch(`${base}/v1/events?type=watch&since=10m`, { headers: h });
      let streamed = '';
      const reader = (async () => {
        const dec = new TextDecoder();
        for await (const chunk of sse.body as unknown as AsyncIterable<Uint8Array>) streamed += dec.decode(chunk, { stream: true });
      })().catch(() => undefined);
      type Reports = { reports: { checked: number; updated: number; items: { name: string; status: string; change?: string }[] }[] };
      const first = await waitFor(async () => {
        const r = (await (await fetch(`${base}/v1/watch/reports`, { headers: h })).json()) as Reports;
        return r.reports.length ? r : undefined;
      }, 90_000, 250);
      expect(first.reports[0]).toMatchObject({ checked: 1, updated: 1, items: [{ name, status: 'updated', change: 'digest' }] });
      const now = await docker.getContainer(name).inspect();
      expect(now.Id).not.toBe(oldId);
      expect(now.Image).not.toBe(v1);
      expect(now.State.Running).toBe(true);
      await waitFor(async () => streamed.includes('event: watch.pass.finished') || undefined, 10_000);
      expect(streamed).toMatch(/event: watch\.pass\.started/);
      expect(streamed).toMatch(new RegExp(`event: watch\\.item\\ndata: .*"status":"updated"`));

      // A pass now: up to date. Without the token: refused; a dashboard-style GET-only credential cannot run it.
      expect((await fetch(`${base}/v1/watch/run`, { method: 'POST' })).status).toBe(401);
      const run = await fetch(`${base}/v1/watch/run?wait=true`, { method: 'POST', headers: h });
      expect(run.status).toBe(200);
      expect(await run.json()).toMatchObject({ pass: 2, coalesced: false, report: { checked: 1, updated: 0, items: [{ name, status: 'up-to-date' }] } });
      const both = (await (await fetch(`${base}/v1/watch/reports`, { headers: h })).json()) as Reports;
      expect(both.reports.map((r) => r.updated)).toEqual([0, 1]); // newest first
      daemon.child.kill('SIGTERM');
      const end = await daemon.done;
      expect(end.code, end.stderr).toBe(0);
      await reader;
    } finally {
      if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
    }
  }, 180_000);
});

describe('crash recovery of a standalone-container update', () => {
  it('kiboko watch SIGKILLed while the new container is still starting: chaos recover puts the old one back under its name, nothing kiboko-old left', async () => {
    const ref = `${reg.host}/${NS}/crash:stable`;
    await publish(ref, ['RUN echo v1 > /v'], true);
    const name = `${NS}-crash`;
    const oldId = await container(name, ref);
    // v2's healthcheck first runs after 30 s: the new container stays `starting` long enough to be killed in.
    await publish(ref, ['RUN echo v2 > /v', 'HEALTHCHECK --interval=30s --timeout=2s CMD true']);
    const stateDir = join(dir, 'crash');
    const w = startCli(['watch', '--once', '--json', '--label-enable', '--scope', NS, '--health-timeout', '60s', name], { stateDir, env: { DOCKER_CONFIG: cfg } });
    try {
      const mid = await waitFor(async () => {
        const all = await named(name);
        const parked = all.find((c) => c.name.startsWith(`${name}.kiboko-old-`));
        const fresh = all.find((c) => c.name === name && c.id !== oldId);
        return parked && fresh ? { parked, fresh } : undefined;
      }, 90_000, 100);
      w.child.kill('SIGKILL');
      const killed = await w.done;
      expect(killed.signal).toBe('SIGKILL');
      expect(mid.parked.id).toBe(oldId);
      expect(journalFiles(stateDir)).toHaveLength(1);

      const dry = await runCli(['chaos', 'recover', '--dry-run'], { stateDir });
      expect(dry.code, dry.stdout + dry.stderr).toBe(0);
      expect(dry.stdout + dry.stderr).toMatch(new RegExp(`would recover watch-container-update of ${name} .*dry-run`));
      expect((await docker.getContainer(mid.fresh.id).inspect()).Name).toBe(`/${name}`); // the dry run changed nothing
      const rec = await runCli(['chaos', 'recover'], { stateDir });
      expect(rec.code, rec.stdout + rec.stderr).toBe(0);
      expect(rec.stdout + rec.stderr).toMatch(new RegExp(`recovered watch-container-update of ${name} .*: restored`));
      const back = await docker.getContainer(name).inspect();
      expect(back.Id).toBe(oldId);
      expect(back.State.Running).toBe(true);
      expect((await named(`${name}.kiboko-old`)).length).toBe(0);
      await expect(docker.getContainer(mid.fresh.id).inspect()).rejects.toThrow();
      expect(journalFiles(stateDir)).toHaveLength(0);
    } finally {
      if (w.child.exitCode === null) w.child.kill('SIGKILL');
    }
  }, 180_000);
});

describe('a pull from a slow registry', () => {
  it('is drawn on a terminal at least once a second, and Ctrl-C stops it with exit 130 and nothing changed', async () => {
    // The registry behind a loopback proxy that lets blobs through at ~10 KB/s.
    const sockets = new Set<Socket>();
    const proxy: Server = createHttpServer((req, res) => {
      const up = httpsRequest({ host: '127.0.0.1', port: Number(reg.host.split(':')[1]), path: req.url, method: req.method, headers: { ...req.headers, host: reg.host }, ca: reg.tls.ca }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        if (!req.url!.includes('/blobs/') || req.method !== 'GET') return void r.pipe(res);
        r.on('data', (chunk: Buffer) => {
          r.pause();
          res.write(chunk.subarray(0, chunk.length), () => setTimeout(() => r.resume(), Math.ceil(chunk.length / 10)));
        });
        r.on('end', () => res.end());
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    proxy.on('connection', (s: Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const slowHost = `127.0.0.1:${(proxy.address() as { port: number }).port}`;
    const viaProxy = dockerConfig({ [slowHost]: { username: reg.user, password: reg.password } });
    try {
      const direct = `${reg.host}/${NS}/big:stable`;
      await publish(direct, ['RUN echo v1 > /v'], true);
      const ref = `${slowHost}/${NS}/big:stable`;
      await docker.getImage(direct).tag({ repo: `${slowHost}/${NS}/big`, tag: 'stable' });
      const v1 = (await imageId(ref))!;
      const name = `${NS}-big`;
      const oldId = await container(name, ref);
      // v2: 400 KB of random bytes, ~40 s through the proxy.
      await publish(direct, ['RUN head -c 400000 /dev/urandom > /big && echo v2 > /v']);

      // kiboko watch on a pseudo-terminal (script), as a user at a shell would run it.
      // `exec`: the CLI replaces the shell script(1) starts, whichever shell that is (dash does not
      // exec a lone command itself; CI once sent the SIGINT below to dash, not to the CLI).
      const child = spawn('script', ['-qfec', 'exec ' + [process.execPath, CLI, 'watch', '--once', '--label-enable', '--scope', NS, name].map((a) => `'${a}'`).join(' '), '/dev/null'], {
        env: { ...process.env, SHELL: '/bin/sh', DOCKER_CONFIG: viaProxy, KIBOKO_STATE_DIR: join(dir, 'slow'), CI: '' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      const pulling = () => out.split('\r\x1b[2K').filter((l) => l.startsWith(`pull ${ref}: `));
      await waitFor(async () => pulling().some((l) => / MB /.test(l)) || undefined, 60_000, 100);
      const t0 = Date.now();
      const n0 = pulling().length;
      await new Promise((r) => setTimeout(r, 3000));
      const drawn = pulling().length - n0;
      console.log(`terminal: ${drawn} redraws in ${Date.now() - t0} ms; last: ${JSON.stringify(pulling().at(-1))}`);
      expect(drawn).toBeGreaterThanOrEqual(3); // at least once a second
      expect(pulling().at(-1)).toMatch(/layers .*MB \d+s/);

      // Ctrl-C: the terminal sends SIGINT to the foreground process (the CLI under script).
      const { execFileSync } = await import('node:child_process');
      const pid = Number(execFileSync('pgrep', ['-P', String(child.pid), '-f', CLI], { encoding: 'utf8' }).trim().split('\n')[0]);
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe(process.execPath); // the CLI itself, not a shell
      process.kill(pid, 'SIGINT');
      const t1 = Date.now();
      const code = await exited;
      console.log(`Ctrl-C during the pull: exit ${code} after ${Date.now() - t1} ms`);
      expect(code, out).toBe(130);
      expect(out).toMatch(/cancelled/);
      const c = await docker.getContainer(name).inspect();
      expect(c.Id).toBe(oldId);
      expect(c.State.Running).toBe(true);
      expect(await imageId(ref)).toBe(v1); // the tag was not moved
      expect((await named(`${name}.kiboko-old`)).length).toBe(0);
      expect(journalFiles(join(dir, 'slow'))).toHaveLength(0);

      // kiboko deploy apply --json (not a terminal): NDJSON pull-progress events, and SIGINT mid-pull changes nothing.
      await publish(`${reg.host}/${NS}/big:two`, ['RUN head -c 400000 /dev/urandom > /big && echo two > /v']);
      const project = `${NS}-deploy`;
      const compose = join(dir, 'slow.yaml');
      const text = `name: ${project}\nservices:\n  big:\n    image: ${slowHost}/${NS}/big:two\n    command: ["sleep", "3600"]\n    labels: {kiboko.watch-test: ${NS}}\n`;
      writeFileSync(compose, text);
      const d = startCli(['deploy', 'apply', '--json', '-f', compose], { stateDir: join(dir, 'slow'), env: { DOCKER_CONFIG: viaProxy } });
      await d.waitForOutput(/"event":"pull-progress".*"state":"pulling"/, 60_000);
      d.child.kill('SIGINT');
      const r = await d.done;
      const progress = r.stdout.split('\n').filter((l) => l.includes('"event":"pull-progress"')).map((l) => JSON.parse(l) as { image: string; state: string; layers: number });
      console.log(`deploy apply: ${progress.length} pull-progress events, exit ${r.code}`);
      expect(r.code, r.stdout + r.stderr).toBe(130);
      expect(progress[0]).toMatchObject({ image: `${slowHost}/${NS}/big:two`, state: 'pulling' });
      expect(progress.at(-1)).toMatchObject({ state: 'cancelled' });
      expect(await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.deploy.project=${project}`] }) })).toEqual([]);
      expect(await imageId(`${slowHost}/${NS}/big:two`)).toBeUndefined();
      expect(readFileSync(compose, 'utf8')).toBe(text);
    } finally {
      for (const s of sockets) s.destroy();
      proxy.close();
      rmSync(viaProxy, { recursive: true, force: true });
    }
  }, 240_000);
});

