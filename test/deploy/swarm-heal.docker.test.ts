import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, IMAGE, runCli, waitFor } from '../helpers.js';
import { projectSwarm } from '../swarm.js';

/**
 * Swarm services that heal themselves, on a real one-node Swarm (`docker swarm init
 * --advertise-addr 127.0.0.1`, made for this file and left again afterwards only if this file
 * made it): a service without `restart:` gets restart condition `any` (as `docker stack deploy`
 * gives it), so a killed task is replaced; one with `deploy.restart_policy: {condition: none}`
 * is not, and `deploy plan` reports it (exit 10) and `deploy apply` repairs it; a service scaled
 * down by hand likewise.
 */
const PROJECT = `ktheal${Math.random().toString(16).slice(2, 8)}`;
const dir = mkdtempSync(join(tmpdir(), 'kiboko-swarm-heal-'));
const stateDir = join(dir, 'state');
const file = join(dir, 'compose.yaml');
const swarm = projectSwarm(PROJECT);

const COMPOSE = `name: ${PROJECT}
services:
  web:
    image: ${IMAGE}
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
    stop_grace_period: 1s
    deploy:
      replicas: 2
      update_config: { monitor: 1s }
  fragile:
    image: ${IMAGE}
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
    stop_grace_period: 1s
    deploy:
      update_config: { monitor: 1s }
      restart_policy: { condition: none, delay: 1s, max_attempts: 2, window: 30s }
`;

const services = () => swarm.services();
const service = async (name: string) => (await services()).find((s) => s.Spec?.Name === `${PROJECT}_${name}`)!;
const running = async (name: string) => {
  const svc = await service(name);
  const tasks = await docker.listTasks({ filters: JSON.stringify({ service: [svc.ID], 'desired-state': ['running'] }) });
  return tasks.filter((t) => t.Status?.State === 'running');
};
/** Kills one running task's container, as a crash would. */
const killTask = async (name: string) => {
  const [task] = await running(name);
  const id = task!.Status!.ContainerStatus!.ContainerID!;
  await docker.getContainer(id).kill({ signal: 'SIGKILL' });
  return task!.ID;
};

beforeAll(async () => {
  await swarm.setUp();
  writeFileSync(file, COMPOSE);
}, 120_000);

afterAll(async () => {
  await swarm.tearDown();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('Swarm services that heal themselves', () => {
  it('no restart: → condition any, a killed task is replaced; restart_policy is honoured', async () => {
    const r = await runCli(['deploy', 'apply', '-f', file], { stateDir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const web = await service('web');
    expect(web.Spec!.TaskTemplate!.RestartPolicy).toMatchObject({ Condition: 'any' });
    const fragile = await service('fragile');
    expect(fragile.Spec!.TaskTemplate!.RestartPolicy).toEqual({ Condition: 'none', Delay: 1e9, MaxAttempts: 2, Window: 30e9 });

    const killed = await killTask('web');
    // Swarm's default restart delay is 5 s.
    await waitFor(async () => {
      const tasks = await running('web');
      return tasks.length === 2 && !tasks.some((t) => t.ID === killed);
    }, 30_000, 250);
  });

  it('a task that was not replaced is reported by plan (exit 10) and repaired by apply', async () => {
    await killTask('fragile');
    await waitFor(async () => (await running('fragile')).length === 0, 15_000, 250);
    const plan = await runCli(['deploy', 'plan', '-f', file], { stateDir });
    expect(plan.code, plan.stdout + plan.stderr).toBe(10);
    expect(plan.stdout).toMatch(/fragile[\s\S]*0 of 1 replicas running/);
    const apply = await runCli(['deploy', 'apply', '-f', file], { stateDir });
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(await running('fragile')).toHaveLength(1);
    expect((await runCli(['deploy', 'plan', '-f', file], { stateDir })).code).toBe(0);
  });

  it('a service scaled down by hand is reported by plan and repaired by apply', async () => {
    const web = await service('web');
    await docker.getService(web.ID).update({ ...web.Spec, Mode: { Replicated: { Replicas: 1 } }, version: web.Version!.Index });
    await waitFor(async () => (await running('web')).length === 1, 30_000, 250);
    const plan = await runCli(['deploy', 'plan', '-f', file], { stateDir });
    expect(plan.code).toBe(10);
    expect(plan.stdout).toMatch(/web[\s\S]*replicas 1 → 2/);
    const apply = await runCli(['deploy', 'apply', '-f', file], { stateDir });
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(await running('web')).toHaveLength(2);
  });
});
