import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { packTar, readTar } from '../common/tar.js';
import type { Engine } from './port.js';

export interface ContractSubject {
  engine: Engine;
  image: string;
  /** Label every created container carries, for cleanup. */
  label: [string, string];
  cleanup?: () => Promise<void>;
}

const code = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof KibokoError ? err.code : `not a KibokoError: ${String(err)}`;
  }
};

/**
 * One behavioural contract for every Engine: the real Docker adapter and the in-memory fake run
 * the same cases, so unit tests that use the fake test against the engine's true rules.
 */
export function engineContract(name: string, make: () => Promise<ContractSubject>): void {
  describe(`Engine contract: ${name}`, () => {
    let s: ContractSubject;
    let id = '';
    const t0 = Date.now() / 1000 - 1;
    const cname = `kiboko-contract-${Math.random().toString(16).slice(2, 8)}`;

    beforeAll(async () => {
      s = await make();
    });
    afterAll(async () => {
      await s.engine.remove(cname, { force: true, volumes: true }).catch(() => undefined);
      await s.cleanup?.();
    });

    it('reports its endpoint and a negotiated API version', async () => {
      const info = await s.engine.info();
      expect(info.negotiatedApiVersion).toMatch(/^1\.\d+$/);
    });

    it('creates a container (not running until started) and lists it with all=true only', async () => {
      const ref = await s.engine.create({ image: s.image, name: cname, cmd: ['sleep', '3600'], labels: { [s.label[0]]: s.label[1], role: 'contract' } });
      id = ref.id;
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      expect((await s.engine.inspect(id)).status).toBe('created');
      const running = await s.engine.list({ labels: [`${s.label[0]}=${s.label[1]}`] });
      expect(running.map((c) => c.id)).not.toContain(id);
      const all = await s.engine.list({ all: true, labels: [`${s.label[0]}=${s.label[1]}`, 'role=contract'] });
      expect(all.map((c) => c.name)).toEqual([cname]);
      expect(await s.engine.list({ all: true, labels: ['role=nope'] })).toEqual([]);
    });

    it('refuses a second container with the same name (CONFLICT)', async () => {
      expect(await code(s.engine.create({ image: s.image, name: cname }))).toBe('CONFLICT');
    });

    it('starts it; starting a running container again is a no-op', async () => {
      await s.engine.start(id);
      const a = await s.engine.inspect(id);
      expect(a.status).toBe('running');
      expect(a.pid).toBeGreaterThan(0);
      await s.engine.start(id);
      expect((await s.engine.inspect(id)).startedAt).toBe(a.startedAt);
    });

    it('inspects an image: id, tags and labels', async () => {
      const img = await s.engine.inspectImage(s.image);
      expect(img.id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(img.tags).toContain(s.image);
      expect(await code(s.engine.inspectImage('kiboko-no-such-image:nope'))).toBe('TARGET_NOT_FOUND');
    });

    it('copies files in (putArchive) and out (getArchive) of a running container', async () => {
      await s.engine.putArchive(id, '/tmp', await packTar([{ name: 'hello.txt', mode: 0o640, data: 'hello from kiboko\n' }]));
      const out = await s.engine.getArchive(id, '/tmp/hello.txt');
      const files = Object.fromEntries((await readTar(out)).map((e) => [e.name, { text: e.data.toString(), mode: e.mode & 0o7777 }]));
      expect(files['hello.txt']).toEqual({ text: 'hello from kiboko\n', mode: 0o640 });
      expect(await code(s.engine.getArchive(id, '/tmp/kiboko-no-such-file'))).toBe('TARGET_NOT_FOUND');
    });

    it('replays this container\'s create and start from the event stream (since/until/filters)', async () => {
      const seen: string[] = [];
      for await (const e of s.engine.events({ since: t0, until: Date.now() / 1000 + 0.5, filters: { type: ['container'], container: [id] } })) {
        expect(e.id).toBe(id);
        expect(e.attributes.name).toBe(cname);
        expect(e.timeNano).toMatch(/^\d{19}$/);
        seen.push(e.action);
      }
      expect(seen.slice(0, 2)).toEqual(['create', 'start']);
    });

    it('finds by name as well as by id', async () => {
      expect((await s.engine.inspect(cname)).id).toBe(id);
    });

    it('pauses and unpauses; pausing twice or unpausing a running one is a CONFLICT', async () => {
      await s.engine.pause(id);
      expect((await s.engine.inspect(id)).status).toBe('paused');
      expect(await code(s.engine.pause(id))).toBe('CONFLICT');
      await s.engine.unpause(id);
      expect((await s.engine.inspect(id)).status).toBe('running');
      expect(await code(s.engine.unpause(id))).toBe('CONFLICT');
    });

    it('restarts: running again with a new start time', async () => {
      const before = (await s.engine.inspect(id)).startedAt;
      await s.engine.restart(id, 1);
      const after = await s.engine.inspect(id);
      expect(after.status).toBe('running');
      expect(after.startedAt).not.toBe(before);
    });

    it('refuses to remove a running container without force (CONFLICT)', async () => {
      expect(await code(s.engine.remove(id))).toBe('CONFLICT');
    });

    it('kills with SIGKILL — even while paused: exited, exit code 137; killing again is a CONFLICT', async () => {
      await s.engine.pause(id);
      await s.engine.kill(id, 'SIGKILL');
      expect(await s.engine.wait(id)).toBe(137);
      const d = await s.engine.inspect(id);
      expect(d.status).toBe('exited');
      expect(d.exitCode).toBe(137);
      expect(await code(s.engine.kill(id, 'SIGKILL'))).toBe('CONFLICT');
    });

    it('stopping a stopped container is a no-op', async () => {
      await s.engine.stop(id, 1);
      expect((await s.engine.inspect(id)).status).toBe('exited');
    });

    it('carries every HostConfig/Config setting a deploy sets to the engine and reads them back (inspectSpec)', async () => {
      const tag = Math.random().toString(16).slice(2, 8);
      const net = `kiboko-contract-net-${tag}`;
      const subnet = `10.213.${Math.floor(Math.random() * 250) + 1}.0/24`;
      const name = `${cname}-full`;
      try {
        await s.engine.ensureNetwork(net, { [s.label[0]]: s.label[1] }, { internal: true, ipam: { config: [{ subnet }] }, driverOpts: { 'com.docker.network.bridge.enable_icc': 'true' } });
        const n = await s.engine.inspectNetwork(net);
        expect(n.internal).toBe(true);
        expect(n.ipam?.config?.[0]?.subnet).toBe(subnet);
        expect(n.labels[s.label[0]]).toBe(s.label[1]);
        const ip = subnet.replace('.0/24', '.77');
        const spec = {
          image: s.image,
          name,
          cmd: ['sleep', '3600'],
          labels: { [s.label[0]]: s.label[1] },
          networks: [{ name: net, aliases: ['full', 'full-alias'], ipv4Address: ip }],
          capAdd: ['NET_ADMIN'],
          capDrop: ['MKNOD'],
          hostname: 'full-host',
          domainname: 'example.test',
          sysctls: { 'net.ipv4.ip_unprivileged_port_start': '80' },
          ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }],
          logConfig: { driver: 'json-file', options: { 'max-size': '1m' } },
          devices: [{ pathOnHost: '/dev/null', pathInContainer: '/dev/kiboko-null', cgroupPermissions: 'rwm' }],
          tmpfs: { '/run/kiboko': 'size=1m' },
          readonlyRootfs: true,
          tty: true,
          openStdin: true,
          init: true,
          ipcMode: 'private',
          dns: ['192.0.2.53'],
          dnsSearch: ['example.test'],
          dnsOptions: ['ndots:2'],
          extraHosts: ['db.example.test:192.0.2.10'],
          securityOpt: ['no-new-privileges'],
          shmSize: 128 * 1024 * 1024,
          memory: 64 * 1024 * 1024,
          memoryReservation: 32 * 1024 * 1024,
          nanoCpus: 500_000_000,
          cpuShares: 512,
          pidsLimit: 100,
          stopTimeout: 3,
          restartPolicy: { name: 'on-failure' as const, maximumRetryCount: 3 },
        };
        await s.engine.create(spec);
        const back = await s.engine.inspectSpec(name);
        const { networks, ...rest } = spec;
        expect(back).toMatchObject(rest);
        expect(back.networks?.find((x) => x.name === net)).toMatchObject({ ipv4Address: ip });
        expect(back.networks?.find((x) => x.name === net)?.aliases).toEqual(expect.arrayContaining(networks[0]!.aliases));
        await s.engine.rename(name, `${name}-renamed`);
        expect((await s.engine.inspect(`${name}-renamed`)).name).toBe(`${name}-renamed`);
        expect(await code(s.engine.inspect(name))).toBe('TARGET_NOT_FOUND');
      } finally {
        await s.engine.remove(`${name}-renamed`, { force: true }).catch(() => undefined);
        await s.engine.remove(name, { force: true }).catch(() => undefined);
        await s.engine.removeNetwork(net).catch(() => undefined);
      }
    });

    it('creates volumes with labels and lists them by label', async () => {
      const vol = `kiboko-contract-vol-${Math.random().toString(16).slice(2, 8)}`;
      try {
        await s.engine.ensureVolume(vol, { [s.label[0]]: s.label[1], role: 'contract-vol' }, { driver: 'local' });
        expect((await s.engine.listVolumes([`${s.label[0]}=${s.label[1]}`, 'role=contract-vol'])).map((v) => v.name)).toEqual([vol]);
      } finally {
        await s.engine.removeVolume(vol).catch(() => undefined);
      }
    });

    it('removes it; afterwards every call is TARGET_NOT_FOUND', async () => {
      await s.engine.remove(id, { force: true });
      expect(await code(s.engine.inspect(id))).toBe('TARGET_NOT_FOUND');
      expect(await code(s.engine.kill(id, 'SIGKILL'))).toBe('TARGET_NOT_FOUND');
      expect(await code(s.engine.pause(id))).toBe('TARGET_NOT_FOUND');
      expect(await code(s.engine.remove(id))).toBe('TARGET_NOT_FOUND');
    });
  });
}
