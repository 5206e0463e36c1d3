import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { dexec, docker, IMAGE, runCli, TEST_RUN, TEST_RUN_LABEL } from '../helpers.js';

/**
 * Compose's container lifecycle on one engine, through the CLI: post_start / pre_stop hooks run
 * in the container (with their user, working_dir and environment), an edited secret file
 * recreates the containers that mount it (and only those), annotations are refused on an engine
 * that would drop them, and `down` stops dependents before their dependencies, recorded in the
 * history. Every container carries this run's label; the project name is unique to the run.
 */
const RUN = Math.random().toString(16).slice(2, 8);
const PROJECT = `kbcl${RUN}`;
const root = mkdtempSync(join(tmpdir(), 'kiboko-lifecycle-'));
const stateDir = join(root, 'state');
const hooksDir = join(root, 'hooks');
mkdirSync(hooksDir);
chmodSync(hooksDir, 0o777); // the db hook runs as uid 1000
const file = join(root, 'compose.yaml');
const secretFile = join(root, 'pw.txt');

const service = (extra: Record<string, unknown>) => ({
  image: IMAGE,
  command: ['sleep', '3600'], // ignores SIGTERM: each stop takes its grace period
  stop_grace_period: '1s',
  labels: { [TEST_RUN_LABEL]: TEST_RUN },
  volumes: [`${hooksDir}:/hooks`],
  deploy: { update_config: { monitor: '0s' } },
  ...extra,
});
const order = (name: string) => ({ command: ['sh', '-c', `echo ${name} >> /hooks/stop-order`] });

function writeProject(annotations = false) {
  writeFileSync(
    file,
    stringify({
      services: {
        db: service({
          secrets: ['pw'],
          post_start: [{ command: ['sh', '-c', 'echo "$$(id -u) $$(pwd) $$GREETING" > /hooks/db-post-start'], user: '1000', working_dir: '/tmp', environment: { GREETING: 'hello' } }],
          pre_stop: [order('db')],
        }),
        api: service({ depends_on: ['db'], pre_stop: [order('api')], ...(annotations ? { annotations: { 'com.example.team': 'core' } } : {}) }),
        web: service({ depends_on: ['api'], pre_stop: [order('web')] }),
      },
      secrets: { pw: { file: secretFile } },
    }),
  );
}

/** The secret as the replica sees it (dexec's output is the engine's multiplexed stream: one 8-byte frame header here). */
const secretIn = async (id: string) => (await dexec(id, ['cat', '/run/secrets/pw'])).out.replace(/^\u0001\u0000\u0000\u0000[\s\S]{4}/, '');
const cli = (args: string[]) => runCli(['deploy', ...args, '-f', file, '-p', PROJECT], { stateDir });
const containers = async () =>
  Object.fromEntries(
    (await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`com.docker.compose.project=${PROJECT}`] }) })).map((c) => [c.Labels['com.docker.compose.service']!, c.Id]),
  );

afterAll(async () => {
  const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`com.docker.compose.project=${PROJECT}`] }) });
  for (const c of left) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  for (const n of await docker.listNetworks({ filters: JSON.stringify({ label: [`com.docker.compose.project=${PROJECT}`] }) })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('compose lifecycle on one engine', () => {
  it('post_start runs after start with its user, working_dir and environment; an edited secret file recreates only its service; down stops dependents first and records it', async () => {
    writeFileSync(secretFile, 'first');
    writeProject();
    const up = await cli(['apply']);
    expect(up.code, up.stderr + up.stdout).toBe(0);
    const before = await containers();
    expect(Object.keys(before).sort()).toEqual(['api', 'db', 'web']);
    expect(readFileSync(join(hooksDir, 'db-post-start'), 'utf8').trim()).toBe('1000 /tmp hello');
    expect(await secretIn(before.db!)).toBe('first');
    expect((await cli(['plan'])).code).toBe(0);

    writeFileSync(secretFile, 'second');
    const plan = await cli(['plan']);
    expect(plan.code, plan.stderr).toBe(10);
    expect(plan.stdout).toMatch(/~ update\s+db\s.*content of secret pw changed/);
    expect(plan.stdout).toMatch(/= unchanged\s+api/);
    const again = await cli(['apply']);
    expect(again.code, again.stderr + again.stdout).toBe(0);
    const after = await containers();
    expect(after.db).not.toBe(before.db);
    expect(after.api).toBe(before.api);
    expect(await secretIn(after.db!)).toBe('second');
    // the replaced db replica ran its pre_stop hook before it stopped
    expect(readFileSync(join(hooksDir, 'stop-order'), 'utf8').split('\n').filter(Boolean)).toEqual(['db']);
    writeFileSync(join(hooksDir, 'stop-order'), '');

    const down = await runCli(['deploy', 'down', '--json', '-p', PROJECT], { stateDir });
    expect(down.code, down.stderr + down.stdout).toBe(0);
    expect(JSON.parse(down.stdout).removed.containers.sort()).toEqual([`${PROJECT}-api-1`, `${PROJECT}-db-1`, `${PROJECT}-web-1`]);
    expect(readFileSync(join(hooksDir, 'stop-order'), 'utf8').split('\n').filter(Boolean)).toEqual(['web', 'api', 'db']);
    expect(await containers()).toEqual({});
    const history = await runCli(['deploy', 'history', '--json', '--project', PROJECT], { stateDir });
    expect(JSON.parse(history.stdout).revisions[0]).toMatchObject({ trigger: 'down', outcome: 'ok' });
  }, 180_000);

  it('annotations reach the engine from API 1.43 on, and are refused before any change by an older engine', async () => {
    const { ApiVersion } = await docker.version();
    writeFileSync(secretFile, 'first');
    writeProject(true);
    const [major, minor] = ApiVersion.split('.').map(Number) as [number, number];
    if (major === 1 && minor < 43) {
      const r = await cli(['apply']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`annotations \\(service api\\) need Engine API 1\\.43 .*speaks ${ApiVersion.replace('.', '\\.')} and would drop them silently`));
      expect(await containers()).toEqual({});
    } else {
      const r = await cli(['apply']);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      const api = await docker.getContainer((await containers()).api!).inspect();
      expect((api.HostConfig as { Annotations?: Record<string, string> }).Annotations).toEqual({ 'com.example.team': 'core' });
      expect((await runCli(['deploy', 'down', '-p', PROJECT], { stateDir })).code).toBe(0);
    }
  }, 120_000);
});
