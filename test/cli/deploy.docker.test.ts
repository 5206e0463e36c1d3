import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEngine } from '../../src/engine/index.js';
import { docker, events, runCli, startCli } from '../helpers.js';
import { freePort } from '../ports.js';

/**
 * Deploys against the real engine. App images are built here from the local busybox image:
 * busybox httpd serving its version, with a 1 s healthcheck; `…-broken` never gets healthy.
 */
const PROJECT = `kt-deploy-${Math.random().toString(16).slice(2, 8)}`;
const REPO = `kiboko-test/app-${PROJECT}`;
const dir = mkdtempSync(join(tmpdir(), 'kiboko-deploy-'));
const stateDir = join(dir, 'state');
const compose = join(dir, 'compose.yaml');

async function buildApp(tag: string, healthy: boolean, repo = REPO, port = 80) {
  const ctx = mkdtempSync(join(tmpdir(), 'kiboko-app-'));
  writeFileSync(
    join(ctx, 'Dockerfile'),
    [
      'FROM kiboko/busybox:local',
      `RUN mkdir -p /www && echo "${tag}" > /www/index.html && echo ok > /www/health`,
      healthy ? `HEALTHCHECK --interval=1s --timeout=5s --retries=5 CMD wget -q -O /dev/null http://127.0.0.1:${port}/health || exit 1` : 'HEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD exit 1',
      `CMD ["httpd", "-f", "-p", "${port}", "-h", "/www"]`,
      '',
    ].join('\n'),
  );
  await (await connectEngine()).buildImage({ contextDir: ctx, tag: `${repo}:${tag}` });
  rmSync(ctx, { recursive: true, force: true });
}

const composeText = (tag: string, extra = '') => `# the system configuration — CI rewrites the web tag
name: ${PROJECT}
services:
  web:
    image: ${REPO}:${tag}   # keep this comment
    stop_grace_period: 1s
    deploy:
      replicas: 3
      update_config:
        parallelism: 1
        order: start-first
        monitor: 1s
  worker:
    image: kiboko/busybox:local
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    depends_on:
      web:
        condition: service_healthy
${extra}`;

const cli = (args: string[]) => runCli(['deploy', ...args, '-f', compose], { stateDir });
const webContainers = async () =>
  docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}`, 'kiboko.deploy.service=web'] }) });

beforeAll(async () => {
  await Promise.all([buildApp('58-develop', true), buildApp('100-develop', true), buildApp('101-hotfix', false), buildApp('58-develop', true, `${REPO}-myservice`, 3000)]);
});

afterAll(async () => {
  // Every project this file deployed starts with PROJECT (…, -zd, -units, -compose).
  const mine = (labels: Record<string, string> | undefined) => (labels?.['kiboko.deploy.project'] ?? '').startsWith(PROJECT);
  const list = (await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['kiboko.deploy.project'] }) })).filter((c) => mine(c.Labels));
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
  for (const n of (await docker.listNetworks({ filters: JSON.stringify({ label: ['kiboko.deploy.project'] }) })).filter((n) => mine(n.Labels))) {
    await docker.getNetwork(n.Id).remove().catch(() => undefined);
  }
  for (const t of ['58-develop', '100-develop', '101-hotfix']) await docker.getImage(`${REPO}:${t}`).remove({ force: true }).catch(() => undefined);
  await docker.getImage(`${REPO}-myservice:58-develop`).remove({ force: true }).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('deploy plan and apply (real engine)', () => {
  it('on an empty engine every service is a create; after apply, plan says no change', async () => {
    writeFileSync(compose, composeText('58-develop'));
    const plan = await cli(['plan', '--json']);
    expect(plan.code, plan.stderr).toBe(10);
    const steps = JSON.parse(plan.stdout).plan.steps as { service: string; action: string }[];
    expect(steps.map((s) => [s.service, s.action])).toEqual([
      ['web', 'create'],
      ['worker', 'create'],
    ]);
    const apply = await cli(['apply', '--json']);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    // depends_on service_healthy: worker starts only after every web replica is healthy
    const ev = events(apply.stdout);
    const lastWebReady = ev.map((e) => e.event === 'replica-ready' && e.service === 'web').lastIndexOf(true);
    const workerStart = ev.findIndex((e) => e.event === 'replica-started' && e.service === 'worker');
    expect(workerStart).toBeGreaterThan(lastWebReady);
    const web = await webContainers();
    expect(web).toHaveLength(3);
    expect(web.every((c) => c.Image === `${REPO}:58-develop` && c.Status.includes('(healthy)'))).toBe(true);
    const again = await cli(['plan']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/no change/);
  });

  it('set-tag rewrites only the tag (comments and formatting kept); the plan has exactly one update with its cause', async () => {
    const before = readFileSync(compose, 'utf8');
    const r = await runCli(['deploy', 'set-tag', 'web', '100-develop', '-f', compose], { stateDir });
    expect(r.code, r.stderr).toBe(0);
    const after = readFileSync(compose, 'utf8');
    expect(after).toBe(before.replace(`${REPO}:58-develop`, `${REPO}:100-develop`));
    const plan = await cli(['plan', '--json']);
    expect(plan.code).toBe(10);
    const steps = JSON.parse(plan.stdout).plan.steps as { service: string; action: string; causes: string[] }[];
    expect(steps.filter((s) => s.action !== 'unchanged')).toEqual([
      expect.objectContaining({ service: 'web', action: 'update', causes: [`image ${REPO}:58-develop → ${REPO}:100-develop`] }),
    ]);
  });

  it('a rolling update replaces one replica at a time and start-first keeps ≥ 3 healthy replicas throughout (sampled)', async () => {
    const samples: { healthy: number; total: number; fresh: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const web = (await webContainers()).filter((c) => c.State === 'running');
        samples.push({ healthy: web.filter((c) => c.Status.includes('(healthy)')).length, total: web.length, fresh: web.filter((c) => c.Image.endsWith(':100-develop')).length });
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    const apply = await cli(['apply', '--json']);
    sampling = false;
    await sampler;
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    console.log(`rolling update: ${samples.length} samples, min healthy ${Math.min(...samples.map((s) => s.healthy))}, max running ${Math.max(...samples.map((s) => s.total))}`);
    expect(samples.length).toBeGreaterThan(10);
    expect(Math.min(...samples.map((s) => s.healthy))).toBeGreaterThanOrEqual(3);
    expect(Math.max(...samples.map((s) => s.total))).toBeLessThanOrEqual(4); // one extra at a time
    // one at a time: the events alternate start → ready → remove per slot
    const ev = events(apply.stdout).filter((e) => e.service === 'web' && ['replica-started', 'replica-ready', 'replica-removed'].includes(String(e.event)));
    expect(ev.map((e) => `${e.event}:${e.slot}`)).toEqual(['1', '2', '3'].flatMap((n) => [`replica-started:${n}`, `replica-ready:${n}`, `replica-removed:${n}`]));
    const web = await webContainers();
    expect(web.every((c) => c.Image === `${REPO}:100-develop`)).toBe(true);
  });

  it('an image whose healthcheck fails is rolled back; exit is non-zero; the old version runs healthy', async () => {
    writeFileSync(compose, composeText('101-hotfix'));
    const apply = await cli(['apply']);
    expect(apply.code).toBe(1);
    expect(apply.stdout).toMatch(/rolled-back — update failed: replica \d+: unhealthy \(.*\); restored .*:100-develop/);
    const web = await webContainers();
    expect(web).toHaveLength(3);
    expect(web.every((c) => c.Image === `${REPO}:100-develop` && c.Status.includes('(healthy)'))).toBe(true);
  });

  it('history lists every revision with its outcome; rollback --to 1 restores revision 1', async () => {
    const h = await runCli(['deploy', 'history', '--json', '--project', PROJECT], { stateDir });
    expect(h.code, h.stderr).toBe(0);
    const revs = JSON.parse(h.stdout).revisions as { rev: number; outcome: string; images: Record<string, string> }[];
    expect(revs.map((r) => [r.rev, r.outcome, r.images.web])).toEqual([
      [3, 'failed', `${REPO}:101-hotfix`],
      [2, 'ok', `${REPO}:100-develop`],
      [1, 'ok', `${REPO}:58-develop`],
    ]);
    const rb = await runCli(['deploy', 'rollback', '--to', '1', '--project', PROJECT], { stateDir });
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(rb.stdout).toMatch(/rolled back .* to revision 1 as revision 4: ok/);
    const web = await webContainers();
    expect(web.every((c) => c.Image === `${REPO}:58-develop` && c.Status.includes('(healthy)'))).toBe(true);
  });

  it('a tag policy follows the newest build of a branch numerically: 100-develop beats 58-develop', async () => {
    writeFileSync(compose, composeText('58-develop', 'x-kiboko:\n  tag-policy:\n    follow: develop\n'));
    const plan = await cli(['plan', '--json']);
    const out = JSON.parse(plan.stdout);
    expect(out.notes.join('\n')).toMatch(new RegExp(`web: ${REPO}:58-develop → ${REPO}:100-develop \\(newest build of develop: 100-develop\\)`));
    expect(out.plan.steps.find((s: { service: string }) => s.service === 'web').causes).toEqual([`image ${REPO}:58-develop → ${REPO}:100-develop`]);
  });

  it('removing a service plans a delete', async () => {
    writeFileSync(compose, composeText('58-develop').replace(/  worker:[\s\S]*$/, ''));
    const plan = await cli(['plan', '--json']);
    const steps = JSON.parse(plan.stdout).plan.steps as { service: string; action: string; causes: string[] }[];
    expect(steps.find((s) => s.service === 'worker')).toMatchObject({ action: 'delete', causes: ['not in the configuration'] });
  });

  it('SIGTERM during a rolling update stops at a safe point with every replica on one version', async () => {
    writeFileSync(compose, composeText('100-develop'));
    const p = startCli(['deploy', 'apply', '--json', '-f', compose], { stateDir });
    await p.waitForOutput(/"event":"replica-removed"/, 60_000); // the first replica was replaced
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect([0, 130]).toContain(r.code);
    const images = new Set((await webContainers()).map((c) => c.Image));
    expect(images.size).toBe(1);
    expect((await webContainers()).length).toBe(3);
  });

  it('invalid configuration: file, line and key are named; exit 2; nothing is applied', async () => {
    writeFileSync(compose, composeText('58-develop').replace('replicas: 3', 'replicas: three'));
    const before = (await webContainers()).map((c) => c.Id).sort();
    const r = await cli(['apply']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/compose\.yaml:\d+ services\.web\.deploy\.replicas/);
    expect((await webContainers()).map((c) => c.Id).sort()).toEqual(before);
  });
});

describe('fleet-style unit files deploy like the equivalent compose service', () => {
  it('ExecStart=/usr/bin/docker run --name myservice -p 3000:3000 … matches the compose service', async () => {
    const unitsDir = join(dir, 'units');
    mkdirSync(unitsDir);
    writeFileSync(
      join(unitsDir, 'myservice.service'),
      `[Unit]\nDescription=My service\nAfter=docker.service\n\n[Service]\nExecStartPre=-/usr/bin/docker kill myservice\nExecStartPre=-/usr/bin/docker rm myservice\nExecStart=/usr/bin/docker run --name myservice -p 3000:3000 ${REPO}-myservice:58-develop\nExecStop=/usr/bin/docker stop myservice\n`,
    );
    const unitProject = `${PROJECT}-units`;
    const u = await runCli(['deploy', 'apply', '-f', unitsDir, '--project', unitProject], { stateDir });
    expect(u.code, u.stdout + u.stderr).toBe(0);
    // The published port is held by the service's front; the replica only exposes it.
    const [front] = await docker.listContainers({ filters: JSON.stringify({ label: [`kiboko.deploy.project=${unitProject}`, 'kiboko.deploy.front=myservice'] }) });
    expect(front!.Ports.some((p) => p.PublicPort === 3000)).toBe(true);
    const res = await fetch('http://127.0.0.1:3000/', { signal: AbortSignal.timeout(5000) });
    expect((await res.text()).trim()).toBe('58-develop');
    const [c] = await docker.listContainers({ filters: JSON.stringify({ label: [`kiboko.deploy.project=${unitProject}`, 'kiboko.deploy.service=myservice'] }) });
    const unitConfig = c!.Labels['kiboko.deploy.config'];
    for (const x of [front!, c!]) await docker.getContainer(x.Id).remove({ force: true });

    const composeDir = join(dir, 'equivalent');
    mkdirSync(composeDir);
    writeFileSync(join(composeDir, 'compose.yaml'), `services:\n  myservice:\n    image: ${REPO}-myservice:58-develop\n    ports: ["3000:3000"]\n`);
    const cp = await runCli(['deploy', 'apply', '-f', composeDir, '--project', `${PROJECT}-compose`], { stateDir });
    expect(cp.code, cp.stdout + cp.stderr).toBe(0);
    const [d] = await docker.listContainers({ filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}-compose`, 'kiboko.deploy.service=myservice'] }) });
    expect(d!.Labels['kiboko.deploy.config']).toBe(unitConfig);
    for (const x of await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}-compose`] }) })) {
      await docker.getContainer(x.Id).remove({ force: true });
    }
  });

  it('a unit whose ExecStart is not docker run is refused with a clear message', async () => {
    const bad = join(dir, 'bad-units');
    mkdirSync(bad);
    writeFileSync(join(bad, 'x.service'), '[Service]\nExecStart=/usr/bin/python3 -m http.server\n');
    const r = await runCli(['deploy', 'plan', '-f', bad], { stateDir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/x\.service.*not a docker run/i);
  });
});

describe('zero downtime through the front proxy', () => {
  it('a published-port service answers every request through an update and through a failed-then-rolled-back update', async () => {
    const project = `${PROJECT}-zd`;
    const port = await freePort();
    const file = join(dir, 'zd.yaml');
    const text = (tag: string) =>
      `name: ${project}\nservices:\n  web:\n    image: ${REPO}:${tag}\n    ports: ["127.0.0.1:${port}:80"]\n    stop_grace_period: 1s\n    deploy:\n      replicas: 2\n      update_config: {parallelism: 1, order: start-first, monitor: 1s}\n`;
    writeFileSync(file, text('58-develop'));
    const first = await runCli(['deploy', 'apply', '-f', file], { stateDir });
    expect(first.code, first.stdout + first.stderr).toBe(0);

    /** A steady request loop: a new connection per request, as most clients behind a balancer. */
    const load = (until: () => boolean) =>
      (async () => {
        const r = { ok: 0, failed: 0, versions: {} as Record<string, number> };
        while (!until()) {
          try {
            const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000), headers: { connection: 'close' } });
            const body = (await res.text()).trim();
            if (res.ok) {
              r.ok++;
              r.versions[body] = (r.versions[body] ?? 0) + 1;
            } else r.failed++;
          } catch {
            r.failed++;
          }
        }
        return r;
      })();

    let done = false;
    const during = load(() => done);
    writeFileSync(file, text('100-develop'));
    const update = await runCli(['deploy', 'apply', '-f', file], { stateDir });
    done = true;
    const a = await during;
    console.log(`update: ${a.ok} ok, ${a.failed} failed, versions ${JSON.stringify(a.versions)}`);
    expect(update.code, update.stdout + update.stderr).toBe(0);
    expect(a.failed).toBe(0);
    expect(a.ok).toBeGreaterThan(100);
    expect(a.versions['100-develop']).toBeGreaterThan(0);

    done = false;
    const during2 = load(() => done);
    writeFileSync(file, text('101-hotfix'));
    const bad = await runCli(['deploy', 'apply', '-f', file], { stateDir });
    done = true;
    const b = await during2;
    console.log(`failed update + rollback: ${b.ok} ok, ${b.failed} failed, versions ${JSON.stringify(b.versions)}`);
    expect(bad.code).toBe(1);
    expect(b.failed).toBe(0);
    expect(Object.keys(b.versions)).toEqual(['100-develop']);
  });
});

describe('configuration sources', () => {
  it('--from git+URL#branch deploys the branch tip and pins the commit in the revision', async () => {
    const { execFileSync } = await import('node:child_process');
    const repo = join(dir, 'system-src');
    const bare = join(dir, 'system.git');
    mkdirSync(repo);
    const project = `${PROJECT}-git`;
    writeFileSync(join(repo, 'compose.yaml'), `name: ${project}\nservices:\n  app:\n    image: ${REPO}:58-develop\n    stop_grace_period: 1s\n`);
    const g = (args: string[], cwd = repo) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
    g(['init', '-q', '-b', 'main']);
    g(['-c', 'user.email=t@t', '-c', 'user.name=t', 'add', '.']);
    g(['-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'system v1']);
    execFileSync('git', ['clone', '-q', '--bare', repo, bare]);
    const commit = g(['rev-parse', 'HEAD']);
    const r = await runCli(['deploy', 'apply', '--from', `git+file://${bare}#main`], { stateDir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const h = JSON.parse((await runCli(['deploy', 'history', '--json', '--project', project], { stateDir })).stdout);
    expect(h.revisions[0].source).toBe(`git+file://${bare}#main@${commit}`);
    const bad = await runCli(['deploy', 'plan', '--from', `git+file://${bare}#no-such-branch`], { stateDir });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/git fetch failed/);
  });

  it('apply --watch re-plans on its interval, applies a change, and stops cleanly on SIGTERM', async () => {
    const project = `${PROJECT}-watch`;
    const file = join(dir, 'watch.yaml');
    const text = (tag: string) => `name: ${project}\nservices:\n  app:\n    image: ${REPO}:${tag}\n    stop_grace_period: 1s\n    deploy:\n      update_config: {monitor: 0s}\n`;
    writeFileSync(file, text('58-develop'));
    const p = startCli(['deploy', 'apply', '--json', '--watch', '2s', '-f', file], { stateDir });
    await p.waitForOutput(/"event":"deploy-finished"/, 60_000);
    writeFileSync(file, text('100-develop'));
    await p.waitForOutput(/"event":"service-started"[^\n]*"action":"update"/, 60_000);
    await p.waitForOutput(/"action":"update"[\s\S]*"event":"deploy-finished"/, 60_000);
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    const [c] = await docker.listContainers({ filters: JSON.stringify({ label: [`kiboko.deploy.project=${project}`] }) });
    expect(c!.Image).toBe(`${REPO}:100-develop`);
  });
});
