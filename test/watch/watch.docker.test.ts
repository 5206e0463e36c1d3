import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLineProblems } from '../../src/common/ndjson.js';
import { connectEngine } from '../../src/engine/index.js';
import { docker, events, runCli } from '../helpers.js';
import { freePort } from '../ports.js';
import { dockerConfig, pushImage, startRegistry, trustForEngine, type TestRegistry } from '../registry.js';

/**
 * `kiboko watch` against a real registry: Debian's docker-registry on a free loopback port with
 * TLS from a test CA (trusted by the engine through /etc/docker/certs.d for the test's duration)
 * and htpasswd auth. Images are built here from the local busybox image and pushed; local copies
 * of the newer tags are removed so that kiboko has to find them in the registry and pull them.
 */
const ID = Math.random().toString(16).slice(2, 8);
const PROJECT = `kt-watch-${ID}`;
// Not kiboko.test: the docker test harness removes every container with that key when any test run starts or ends.
const LABEL = `kiboko.watch-test=${PROJECT}`;
const dir = mkdtempSync(join(tmpdir(), 'kiboko-watch-'));
const stateDir = join(dir, 'state');
let reg: TestRegistry;
let untrust: () => void;
let cfg: string;
let REPO: string;
let TOOL: string;

const auth = () => ({ username: reg.user, password: reg.password, serveraddress: reg.host });

async function build(tag: string, opts: { healthy?: boolean; body?: string; healthcheck?: boolean } = {}) {
  const ctx = mkdtempSync(join(tmpdir(), 'kiboko-app-'));
  const body = opts.body ?? tag.split(':').pop()!;
  writeFileSync(
    join(ctx, 'Dockerfile'),
    [
      'FROM kiboko/busybox:local',
      `RUN mkdir -p /www && echo "${body}" > /www/index.html && echo ok > /www/health`,
      opts.healthcheck === false ? '' : opts.healthy === false ? 'HEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD exit 1' : 'HEALTHCHECK --interval=1s --timeout=5s --retries=5 CMD wget -q -O /dev/null http://127.0.0.1:80/health || exit 1',
      'CMD ["httpd", "-f", "-p", "80", "-h", "/www"]',
      `LABEL ${LABEL}`,
      '',
    ].join('\n'),
  );
  await (await connectEngine()).buildImage({ contextDir: ctx, tag });
  rmSync(ctx, { recursive: true, force: true });
}
/** Builds, pushes, and (unless kept) removes the local tag, so only the registry has it. */
async function publish(tag: string, opts: { healthy?: boolean; body?: string; keep?: boolean; healthcheck?: boolean } = {}) {
  await build(tag, opts);
  await pushImage(docker, tag, auth());
  if (!opts.keep) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
}
const localImage = async (ref: string) => docker.getImage(ref).inspect().then((i) => i.Id, () => undefined);
const env = (over: NodeJS.ProcessEnv = {}) => ({ DOCKER_CONFIG: cfg, ...over });
const watch = (args: string[], over: NodeJS.ProcessEnv = {}) => runCli(['watch', '--once', '--json', ...args], { stateDir, env: env(over) });
const report = (stdout: string) => {
  // Every --json line has the one NDJSON shape (docs/json-output.md).
  for (const line of stdout.split('\n').filter((l) => l.trim())) expect(jsonLineProblems(line), line).toEqual([]);
  return passReport(stdout);
};
const passReport = (stdout: string) => events(stdout).find((e) => e.type === 'pass-finished')?.report as { checked: number; newer: number; updated: number; rolledBack: number; failed: number; skipped: number; items: { name: string; status: string; newImage?: string; reason?: string }[]; registry: { requests: number; failed: number } } | undefined;
const running = async (labels: string[]) => docker.listContainers({ filters: JSON.stringify({ label: labels }) });

beforeAll(async () => {
  reg = await startRegistry();
  untrust = trustForEngine(reg.host, reg.tls.ca);
  cfg = dockerConfig({ [reg.host]: { username: reg.user, password: reg.password } });
  REPO = `${reg.host}/${PROJECT}/app`;
  TOOL = `${reg.host}/${PROJECT}/tool`;
});

afterAll(async () => {
  for (const c of await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}`] }) })) await docker.getContainer(c.Id).remove({ force: true, v: true });
  for (const c of await docker.listContainers({ all: true, filters: JSON.stringify({ label: [LABEL] }) })) await docker.getContainer(c.Id).remove({ force: true, v: true });
  // Every project of this file is named PROJECT or PROJECT-<suffix> (the engine's name filter matches a part of the name).
  for (const c of await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}-pull`] }) })) await docker.getContainer(c.Id).remove({ force: true, v: true });
  for (const n of await docker.listNetworks({ filters: JSON.stringify({ name: [PROJECT] }) })) {
    if (n.Name.startsWith(PROJECT)) await docker.getNetwork(n.Id).remove();
  }
  for (const i of await docker.listImages({ filters: JSON.stringify({ label: [LABEL] }) })) await docker.getImage(i.Id).remove({ force: true }).catch(() => undefined);
  untrust?.();
  await reg?.stop();
  rmSync(cfg, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('a deploy project following develop', () => {
  it('finds 100-develop in the registry and updates to it without a failed request; a broken 101-develop is rolled back; --monitor-only changes nothing', async () => {
    const port = await freePort();
    const compose = join(dir, 'compose.yaml');
    const text = (tag: string) =>
      `# CI and kiboko watch rewrite the tag below\nname: ${PROJECT}\nservices:\n  web:\n    image: ${REPO}:${tag}   # keep this comment\n    ports: ["127.0.0.1:${port}:80"]\n    stop_grace_period: 1s\n    deploy:\n      replicas: 2\n      update_config: {parallelism: 1, order: start-first, monitor: 1s}\n    x-kiboko:\n      tag-policy: follow:develop\n`;
    await publish(`${REPO}:58-develop`, { keep: true });
    await publish(`${REPO}:100-develop`);
    writeFileSync(compose, text('58-develop'));
    const first = await runCli(['deploy', 'apply', '-f', compose], { stateDir, env: env() });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(await localImage(`${REPO}:100-develop`)).toBeUndefined();

    // --monitor-only: reports 100-develop, pulls nothing, changes nothing.
    const before = readFileSync(compose, 'utf8');
    const ids = (await running([`kiboko.deploy.project=${PROJECT}`, 'kiboko.deploy.service=web'])).map((c) => c.Id).sort();
    const mon = await watch(['-f', compose, '--monitor-only']);
    expect(mon.code, mon.stdout + mon.stderr).toBe(0);
    expect(report(mon.stdout), mon.stdout).toMatchObject({ checked: 1, newer: 1, updated: 0, items: [{ name: `${PROJECT}/web`, status: 'newer', newImage: `${REPO}:100-develop` }] });
    expect(readFileSync(compose, 'utf8')).toBe(before);
    expect(await localImage(`${REPO}:100-develop`)).toBeUndefined();
    expect((await running([`kiboko.deploy.project=${PROJECT}`, 'kiboko.deploy.service=web'])).map((c) => c.Id).sort()).toEqual(ids);

    /** A steady request loop: a new connection per request. */
    const load = (until: () => boolean) =>
      (async () => {
        const r = { ok: 0, failed: 0, versions: {} as Record<string, number> };
        while (!until()) {
          try {
            const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000), headers: { connection: 'close' } });
            const body = (await res.text()).trim();
            if (res.ok) r.versions[body] = (r.versions[body] ?? 0) + (r.ok++, 1);
            else r.failed++;
          } catch {
            r.failed++;
          }
        }
        return r;
      })();

    let done = false;
    const during = load(() => done);
    const up = await watch(['-f', compose, '--health-timeout', '20s']);
    done = true;
    const a = await during;
    console.log(`watch update: ${a.ok} ok, ${a.failed} failed, versions ${JSON.stringify(a.versions)}; ${JSON.stringify(report(up.stdout)?.registry)}`);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(report(up.stdout), up.stdout).toMatchObject({ checked: 1, newer: 1, updated: 1, failed: 0, items: [{ status: 'updated', newImage: `${REPO}:100-develop` }] });
    expect(a.failed).toBe(0);
    expect(a.versions['100-develop']).toBeGreaterThan(0);
    expect(readFileSync(compose, 'utf8')).toBe(before.replace(`${REPO}:58-develop`, `${REPO}:100-develop`));
    const web = await running([`kiboko.deploy.project=${PROJECT}`, 'kiboko.deploy.service=web']);
    expect(web.map((c) => c.Image)).toEqual([`${REPO}:100-develop`, `${REPO}:100-develop`]);
    const hist = await runCli(['deploy', 'history', '--json', '--project', PROJECT], { stateDir });
    expect((JSON.parse(hist.stdout) as { revisions: { trigger: string; outcome: string }[] }).revisions[0]).toMatchObject({ trigger: 'registry', outcome: 'ok' });

    // A broken 101-develop: pulled, deployed, unhealthy, rolled back; the file keeps 100-develop.
    await publish(`${REPO}:101-develop`, { healthy: false });
    done = false;
    const during2 = load(() => done);
    const bad = await watch(['-f', compose, '--health-timeout', '10s']);
    done = true;
    const b = await during2;
    console.log(`watch broken update: ${b.ok} ok, ${b.failed} failed, versions ${JSON.stringify(b.versions)}`);
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    expect(report(bad.stdout), bad.stdout).toMatchObject({ newer: 1, updated: 0, rolledBack: 1, items: [{ status: 'rolled-back', newImage: `${REPO}:101-develop` }] });
    expect(b.failed).toBe(0);
    expect(Object.keys(b.versions)).toEqual(['100-develop']);
    expect(readFileSync(compose, 'utf8')).toContain(`${REPO}:100-develop   # keep this comment`);
    expect((await running([`kiboko.deploy.project=${PROJECT}`, 'kiboko.deploy.service=web'])).map((c) => c.Image)).toEqual([`${REPO}:100-develop`, `${REPO}:100-develop`]);
  }, 300_000); // four builds and pushes, three deploys: slow on a shared, loaded engine
});

describe('standalone containers (Watchtower labels)', () => {
  it('a new digest under the same tag: skipped under --min-age 1h, applied to the labelled container only', async () => {
    await publish(`${TOOL}:stable`, { keep: true, body: 'v1' });
    const v1 = (await localImage(`${TOOL}:stable`))!;
    const mk = async (name: string, labels: Record<string, string>) => {
      const c = await docker.createContainer({ Image: `${TOOL}:stable`, name: `${PROJECT}-${name}`, Labels: { 'kiboko.watch-test': PROJECT, ...labels } });
      await c.start();
      return c.id;
    };
    const a = await mk('enabled', { 'com.centurylinklabs.watchtower.enable': 'true' });
    const b = await mk('plain', {});
    await publish(`${TOOL}:stable`, { body: 'v2' }); // the tag moves on the registry; the local copy of v2 is removed

    const young = await watch(['--label-enable', '--min-age', '1h', `${PROJECT}-enabled`, `${PROJECT}-plain`]);
    expect(young.code, young.stdout + young.stderr).toBe(0);
    expect(report(young.stdout)).toMatchObject({ checked: 1, updated: 0, skipped: 1, items: [{ name: `${PROJECT}-enabled`, status: 'skipped', reason: expect.stringContaining('younger than --min-age') }] });
    expect((await docker.getContainer(a).inspect()).Image).toBe(v1);

    const r = await watch(['--label-enable', `${PROJECT}-enabled`, `${PROJECT}-plain`], { WATCHTOWER_CLEANUP: 'false' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(report(r.stdout)).toMatchObject({ checked: 1, newer: 1, updated: 1, items: [{ name: `${PROJECT}-enabled`, status: 'updated' }] });
    const now = await docker.getContainer(`${PROJECT}-enabled`).inspect();
    expect(now.Id).not.toBe(a);
    expect(now.Image).not.toBe(v1);
    expect(now.State.Running).toBe(true);
    expect(now.Config.Labels['com.centurylinklabs.watchtower.enable']).toBe('true');
    await expect(docker.getContainer(a).inspect()).rejects.toThrow();
    const plain = await docker.getContainer(b).inspect();
    expect(plain.Image).toBe(v1);
    expect(plain.State.Running).toBe(true);
  }, 240_000);
});

describe('pull failures change nothing', () => {
  it('wrong password, unknown tag, a registry answering 503 twice, and a tarpit', async () => {
    const compose = join(dir, 'pull.yaml');
    const project = `${PROJECT}-pull`;
    const apply = (image: string, over: NodeJS.ProcessEnv = {}) => {
      writeFileSync(compose, `name: ${project}\nservices:\n  app:\n    image: ${image}\n    stop_grace_period: 1s\n`);
      return runCli(['deploy', 'apply', '-f', compose], { stateDir, env: env(over) });
    };
    const nothing = async () => expect(await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.deploy.project=${project}`] }) })).toEqual([]);
    await publish(`${REPO}:200-develop`, { healthcheck: false });

    const wrong = dockerConfig({ [reg.host]: { username: reg.user, password: 'not-the-password' } });
    const w = await apply(`${REPO}:200-develop`, { DOCKER_CONFIG: wrong });
    expect(w.code, w.stderr).toBe(11);
    expect(w.stderr).toMatch(/refused the credentials/);
    await nothing();

    const unknown = await apply(`${REPO}:no-such-tag`);
    expect(unknown.code, unknown.stderr).toBe(5);
    expect(unknown.stderr).toMatch(/no such tag/);
    await nothing();

    // A loopback proxy that answers 503 to the first two manifest requests, then passes through.
    let served503 = 0;
    const proxy = createHttpServer((req, res) => {
      if (req.url!.includes('/manifests/') && served503 < 2) {
        served503++;
        res.writeHead(503, { 'content-type': 'text/plain' });
        return res.end('busy');
      }
      const up = httpsRequest({ host: '127.0.0.1', port: Number(reg.host.split(':')[1]), path: req.url, method: req.method, headers: { ...req.headers, host: reg.host }, ca: reg.tls.ca }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyHost = `127.0.0.1:${(proxy.address() as { port: number }).port}`;
    const viaProxy = dockerConfig({ [proxyHost]: { username: reg.user, password: reg.password } });
    try {
      const ok = await apply(`${proxyHost}/${PROJECT}/app:200-develop`, { DOCKER_CONFIG: viaProxy });
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      expect(served503).toBe(2);
      const [c] = await docker.listContainers({ filters: JSON.stringify({ label: [`kiboko.deploy.project=${project}`] }) });
      expect(c!.Image).toBe(`${proxyHost}/${PROJECT}/app:200-develop`);
      await docker.getContainer(c!.Id).remove({ force: true });
    } finally {
      proxy.close();
      rmSync(viaProxy, { recursive: true, force: true });
    }

    // The registry client: wrong password and a tarpit, through kiboko watch on a labelled container.
    const sockets: Socket[] = [];
    const tarpit = createNetServer((s) => void sockets.push(s));
    await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', r));
    const pitHost = `127.0.0.1:${(tarpit.address() as { port: number }).port}`;
    try {
      await docker.getImage(`${REPO}:58-develop`).tag({ repo: `${pitHost}/${PROJECT}/app`, tag: '1' });
      const pit = await docker.createContainer({ Image: `${pitHost}/${PROJECT}/app:1`, name: `${PROJECT}-pit`, Labels: { 'kiboko.watch-test': PROJECT, 'com.centurylinklabs.watchtower.enable': 'true' } });
      await pit.start();
      const t0 = Date.now();
      const t = await watch(['--label-enable', '--registry-timeout', '1s', `${PROJECT}-pit`]);
      console.log(`tarpit: exit ${t.code} after ${Date.now() - t0} ms`);
      expect(t.code, t.stdout + t.stderr).toBe(9);
      expect(report(t.stdout)!.items[0]).toMatchObject({ status: 'failed', reason: expect.stringMatching(/did not answer .* within 1s/) });
      expect((await pit.inspect()).Id).toBe(pit.id);

      const g = await docker.createContainer({ Image: `${REPO}:58-develop`, name: `${PROJECT}-auth`, Labels: { 'kiboko.watch-test': PROJECT, 'com.centurylinklabs.watchtower.enable': 'true' } });
      await g.start();
      const bad = await watch(['--label-enable', `${PROJECT}-auth`], { DOCKER_CONFIG: wrong });
      expect(bad.code, bad.stdout + bad.stderr).toBe(11);
      expect(report(bad.stdout)!.items[0]!.reason).toMatch(new RegExp(`refused access .* tried user 'ci' from .*auths\\["${reg.host.replace(/\./g, '\\.')}"\\]`));
      expect((await g.inspect()).State.Running).toBe(true);
    } finally {
      sockets.forEach((s) => s.destroy());
      tarpit.close();
      rmSync(wrong, { recursive: true, force: true });
    }
  }, 240_000);
});
