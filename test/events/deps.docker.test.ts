import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dexec, docker, IMAGE, runCli } from '../helpers.js';

/**
 * Service dependencies on the real engine: web depends on db and renders its config from db's
 * address (x-kiboko.config); replacing db re-renders web's config inside the running web
 * container and runs its reload command — web is never replaced.
 */
const PROJECT = `kt-deps-${Math.random().toString(16).slice(2, 8)}`;
const dir = mkdtempSync(join(tmpdir(), 'kiboko-deps-'));
const stateDir = join(dir, 'state');
const compose = join(dir, 'compose.yaml');
const LOOP = `["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]`;

const composeText = (version: string) => `name: ${PROJECT}
services:
  db:
    image: ${IMAGE}
    command: ${LOOP}
    environment: { VERSION: "${version}" }
    stop_grace_period: 1s
    ports: ["5432/udp"]   # UDP: no front proxy; the port is only for the template
    deploy: { update_config: { monitor: 500ms } }
  web:
    image: ${IMAGE}
    command: ${LOOP}
    stop_grace_period: 1s
    depends_on: [db]
    deploy: { update_config: { monitor: 500ms } }
    x-kiboko:
      config:
        confdir: ./web-conf
        reload: ["sh", "-c", "echo reloaded >> /tmp/reloads"]
`;

afterAll(async () => {
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}`] }) });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  for (const n of await docker.listNetworks({ filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}`] }) })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const containerOf = async (service: string) => {
  const [c] = await docker.listContainers({ filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}`, `kiboko.deploy.service=${service}`] }) });
  const details = await docker.getContainer(c!.Id).inspect();
  return { id: c!.Id, ip: (details.NetworkSettings.Networks as Record<string, { IPAddress: string }>)[`${PROJECT}_default`]!.IPAddress };
};
/** A file's content through exec (the raw stream is multiplexed: 8-byte frame headers dropped). */
const cat = async (id: string, path: string) => {
  const raw = Buffer.from((await dexec(id, ['cat', path])).out, 'latin1');
  let out = '';
  for (let at = 0; at + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(at + 4);
    if (raw[at] === 1) out += raw.subarray(at + 8, at + 8 + size).toString('utf8');
    at += 8 + size;
  }
  return out;
};

describe('service dependencies', () => {
  it('re-renders and reloads a dependent when its dependency is replaced; the dependent keeps its container', async () => {
    mkdirSync(join(dir, 'web-conf', 'conf.d'), { recursive: true });
    mkdirSync(join(dir, 'web-conf', 'templates'), { recursive: true });
    writeFileSync(join(dir, 'web-conf', 'conf.d', 'upstream.toml'), '[template]\nsrc = "upstream.conf.tmpl"\ndest = "/etc/upstream.conf"\nkeys = ["/deps/db"]\nmode = "0644"\n');
    writeFileSync(join(dir, 'web-conf', 'templates', 'upstream.conf.tmpl'), 'server {{getv "/deps/db/address"}}:{{getv "/deps/db/port"}} # {{getv "/deps/db/host"}} {{getv "/deps/db/container_id"}}\n');
    writeFileSync(compose, composeText('1'));

    const first = await runCli(['deploy', 'apply', '-f', compose], { stateDir });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const web = await containerOf('web');
    const db1 = await containerOf('db');
    expect(await cat(web.id, '/etc/upstream.conf')).toBe(`server ${db1.ip}:5432 # db ${db1.id}\n`);
    expect(await cat(web.id, '/tmp/reloads')).toBe('reloaded\n');

    // Replace db (a new environment means a new container); web is unchanged in the plan.
    writeFileSync(compose, composeText('2'));
    const second = await runCli(['deploy', 'apply', '-f', compose], { stateDir });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const db2 = await containerOf('db');
    expect(db2.id).not.toBe(db1.id);
    expect((await containerOf('web')).id).toBe(web.id);
    expect(await cat(web.id, '/etc/upstream.conf')).toBe(`server ${db2.ip}:5432 # db ${db2.id}\n`);
    expect(await cat(web.id, '/tmp/reloads')).toBe('reloaded\nreloaded\n');

    // Applying again changes nothing: no write, no reload.
    const third = await runCli(['deploy', 'apply', '-f', compose], { stateDir });
    expect(third.code).toBe(0);
    expect(await cat(web.id, '/tmp/reloads')).toBe('reloaded\nreloaded\n');
  });
});
