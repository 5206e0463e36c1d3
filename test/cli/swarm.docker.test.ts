import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEngine } from '../../src/engine/index.js';
import { docker, runCli } from '../helpers.js';

/**
 * Deploys to a real one-node Swarm (`docker swarm init --advertise-addr 127.0.0.1`), made for this
 * file and left again afterwards so the other files see a plain engine.
 */
const PROJECT = `ktswarm${Math.random().toString(16).slice(2, 8)}`;
const REPO = `kiboko-test/swarm-app-${PROJECT}`;
const dir = mkdtempSync(join(tmpdir(), 'kiboko-swarm-'));
const stateDir = join(dir, 'state');
const file = join(dir, 'compose.yaml');
let initialisedHere = false;

async function buildApp(tag: string, healthy: boolean) {
  const ctx = mkdtempSync(join(tmpdir(), 'kiboko-app-'));
  writeFileSync(
    join(ctx, 'Dockerfile'),
    [
      'FROM kiboko/busybox:local',
      `RUN mkdir -p /www && echo "${tag}" > /www/index.html && echo ok > /www/health`,
      healthy ? 'HEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD wget -q -O /dev/null http://127.0.0.1/health || exit 1' : 'HEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD exit 1',
      'CMD ["httpd", "-f", "-p", "80", "-h", "/www"]',
      '',
    ].join('\n'),
  );
  await (await connectEngine()).buildImage({ contextDir: ctx, tag: `${REPO}:${tag}` });
  rmSync(ctx, { recursive: true, force: true });
}

const composeText = (tag: string) => `name: ${PROJECT}
services:
  web:
    image: ${REPO}:${tag}
    stop_grace_period: 1s
    deploy:
      replicas: 2
      update_config:
        parallelism: 1
        order: start-first
        failure_action: rollback
        monitor: 8s
      rollback_config:
        parallelism: 2
        monitor: 2s
`;

const services = () => docker.listServices({ filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}`] }) });

beforeAll(async () => {
  const info = await docker.info();
  if (info.Swarm?.LocalNodeState !== 'active') {
    await docker.swarmInit({ ListenAddr: '127.0.0.1:2377', AdvertiseAddr: '127.0.0.1' });
    initialisedHere = true;
  }
  await Promise.all([buildApp('58-develop', true), buildApp('59-develop', false)]);
}, 180_000);

afterAll(async () => {
  for (const s of await services().catch(() => [])) await docker.getService(s.ID).remove().catch(() => undefined);
  await new Promise((r) => setTimeout(r, 3000)); // let the tasks' containers go
  for (const n of await docker.listNetworks({ filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}`] }) })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  if (initialisedHere) await docker.swarmLeave({ force: true });
  for (const t of ['58-develop', '59-develop']) await docker.getImage(`${REPO}:${t}`).remove({ force: true }).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}, 180_000);

describe('deploy on a one-node Swarm', () => {
  it('apply creates Swarm services (update/rollback config mapped) and waits until they run; plan then says no change', async () => {
    writeFileSync(file, composeText('58-develop'));
    const r = await runCli(['deploy', 'apply', '-f', file], { stateDir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const [svc] = await services();
    expect(svc!.Spec!.Name).toBe(`${PROJECT}_web`);
    expect(svc!.Spec!.Labels!['com.docker.stack.namespace']).toBe(PROJECT);
    expect(svc!.Spec!.Mode!.Replicated!.Replicas).toBe(2);
    expect(svc!.Spec!.UpdateConfig).toMatchObject({ Parallelism: 1, Order: 'start-first', FailureAction: 'rollback', Monitor: 8e9 });
    expect(svc!.Spec!.RollbackConfig).toMatchObject({ Parallelism: 2, Monitor: 2e9 });
    const tasks = await docker.listTasks({ filters: JSON.stringify({ service: [svc!.ID], 'desired-state': ['running'] }) });
    expect(tasks.filter((t) => t.Status?.State === 'running')).toHaveLength(2);
    const plan = await runCli(['deploy', 'plan', '-f', file], { stateDir });
    expect(plan.code, plan.stdout).toBe(0);
  });

  it('an update whose healthcheck fails is rolled back by Swarm, and apply exits non-zero saying so', async () => {
    writeFileSync(file, composeText('59-develop'));
    const r = await runCli(['deploy', 'apply', '-f', file], { stateDir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/rolled-back — Swarm rolled the update back/);
    const [svc] = await services();
    expect((svc!.Spec!.TaskTemplate as { ContainerSpec?: { Image?: string } }).ContainerSpec?.Image).toBe(`${REPO}:58-develop`);
    expect(svc!.UpdateStatus?.State).toBe('rollback_completed');
    const h = JSON.parse((await runCli(['deploy', 'history', '--json', '--project', PROJECT], { stateDir })).stdout);
    expect(h.revisions.map((x: { outcome: string }) => x.outcome)).toEqual(['failed', 'ok']);
  });
});
