import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, IMAGE, runCli, waitFor } from '../helpers.js';
import { projectSwarm } from '../swarm.js';

/**
 * A compose file with secrets, configs, deploy.resources, deploy.placement and deploy.labels
 * deployed on a real one-node Swarm (made for this file, and left again afterwards only if this
 * file made it): the Swarm service carries the same settings (read back with the engine's
 * inspect), and the secret is readable in the running task at its compose path with its mode.
 */
const PROJECT = `ktcsw${Math.random().toString(16).slice(2, 8)}`;
const dir = mkdtempSync(join(tmpdir(), 'kiboko-compose-swarm-'));
const stateDir = join(dir, 'state');
const file = join(dir, 'compose.yaml');
const swarm = projectSwarm(PROJECT);

const COMPOSE = `name: ${PROJECT}
services:
  api:
    image: ${IMAGE}
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
    stop_grace_period: 1s
    secrets:
      - source: db_password
        target: db_password
        mode: 0400
    configs:
      - source: app_conf
        target: /etc/app.conf
    deploy:
      replicas: 1
      update_config: { monitor: 1s }
      resources:
        limits: { cpus: "0.5", memory: 64M, pids: 100 }
        reservations: { cpus: "0.1", memory: 16M }
      placement:
        constraints: ["node.role==manager"]
      labels:
        com.example.tier: api
secrets:
  db_password:
    file: ./db_password.txt
configs:
  app_conf:
    content: "listen 8080\\n"
`;

const services = () => swarm.services();

beforeAll(async () => {
  await swarm.setUp();
  writeFileSync(file, COMPOSE);
  writeFileSync(join(dir, 'db_password.txt'), 's3cret-for-the-test\n');
}, 120_000);

afterAll(async () => {
  await swarm.tearDown();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('compose secrets, configs, resources and placement on Swarm', () => {
  it('become a Swarm service with the same settings, and the secret is readable in the task', async () => {
    const r = await runCli(['deploy', 'apply', '--engine', 'swarm', '-f', file], { stateDir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const [svc] = await services();
    expect(svc?.Spec?.Name).toBe(`${PROJECT}_api`);
    const spec = svc!.Spec!;
    const task = spec.TaskTemplate as {
      ContainerSpec: { Secrets?: { SecretName: string; File: { Name: string; UID: string; GID: string; Mode: number } }[]; Configs?: { ConfigName: string; File: { Name: string; Mode: number } }[] };
      Resources: { Limits: { NanoCPUs: number; MemoryBytes: number; Pids?: number }; Reservations: { NanoCPUs: number; MemoryBytes: number } };
      Placement: { Constraints: string[] };
    };
    expect(task.ContainerSpec.Secrets).toHaveLength(1);
    expect(task.ContainerSpec.Secrets![0]!.SecretName.startsWith(`${PROJECT}_`)).toBe(true);
    expect(task.ContainerSpec.Secrets![0]!.File).toMatchObject({ Name: 'db_password', Mode: 0o400 });
    expect(task.ContainerSpec.Configs).toHaveLength(1);
    expect(task.ContainerSpec.Configs![0]!.File).toMatchObject({ Name: '/etc/app.conf' });
    expect(task.Resources.Limits).toMatchObject({ NanoCPUs: 500_000_000, MemoryBytes: 64 * 1024 * 1024 });
    expect(task.Resources.Reservations).toMatchObject({ NanoCPUs: 100_000_000, MemoryBytes: 16 * 1024 * 1024 });
    expect(task.Placement.Constraints).toEqual(['node.role==manager']);
    expect(spec.Labels?.['com.example.tier']).toBe('api');

    // The running task sees the secret at /run/secrets/db_password (mode 0400) and the config at its target.
    const container = await waitFor(
      async () => {
        const tasks = await docker.listTasks({ filters: JSON.stringify({ service: [svc!.ID], 'desired-state': ['running'] }) });
        return tasks.find((t) => t.Status?.State === 'running')?.Status?.ContainerStatus?.ContainerID;
      },
      60_000,
    );
    const read = async (cmd: string[]) => {
      const exec = await docker.getContainer(container!).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({});
      const chunks: Buffer[] = [];
      await new Promise<void>((resolve) => {
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => resolve());
      });
      // Drop the engine's 8-byte multiplexing headers.
      const raw = Buffer.concat(chunks);
      const out: Buffer[] = [];
      for (let i = 0; i + 8 <= raw.length; ) {
        const len = raw.readUInt32BE(i + 4);
        out.push(raw.subarray(i + 8, i + 8 + len));
        i += 8 + len;
      }
      return Buffer.concat(out).toString('utf8');
    };
    expect(await read(['cat', '/run/secrets/db_password'])).toBe('s3cret-for-the-test\n');
    expect(await read(['stat', '-c', '%a', '/run/secrets/db_password'])).toBe('400\n');
    expect(await read(['cat', '/etc/app.conf'])).toBe('listen 8080\n');
  });
});
