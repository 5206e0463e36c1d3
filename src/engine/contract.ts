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

/**
 * What the cases share: the subject (set in beforeAll), the one container they walk through its
 * life (cases run in order), and when the run began (for event replays).
 */
interface ContractRun {
  s: ContractSubject;
  id: string;
  readonly t0: number;
  readonly cname: string;
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
    const run: ContractRun = { s: undefined as unknown as ContractSubject, id: '', t0: Date.now() / 1000 - 1, cname: `kiboko-contract-${Math.random().toString(16).slice(2, 8)}` };

    beforeAll(async () => {
      run.s = await make();
    });
    afterAll(async () => {
      await run.s.engine.remove(run.cname, { force: true, volumes: true }).catch(() => undefined);
      await run.s.cleanup?.();
    });

    createCases(run);
    imageArchiveEventCases(run);
    stateCases(run);
    specRoundTripCases(run);
    volumeCases(run);
    removalCases(run);
  });
}

/** Reaching the engine, creating the contract container and starting it. */
function createCases(run: ContractRun): void {
  it('reports its endpoint and a negotiated API version', async () => {
    const info = await run.s.engine.info();
    expect(info.negotiatedApiVersion).toMatch(/^1\.\d+$/);
  });

  it('is ready once reachable, and agrees with info() on the API version it then speaks', async () => {
    await run.s.engine.ready();
    expect((await run.s.engine.info()).negotiatedApiVersion).toMatch(/^1\.\d+$/);
  });

  it('answers a ping at every call', async () => {
    await run.s.engine.ping();
    await run.s.engine.ping();
  });

  it('says whether it is a Swarm manager as systemInfo does', async () => {
    const [manager, sys] = await Promise.all([run.s.engine.isSwarmManager(), run.s.engine.systemInfo()]);
    expect(manager).toBe(sys.isManager);
  });

  it('outside a Swarm, a Swarm call is an engine error that says to join one (inside one, the nodes list)', async () => {
    // Which branch runs depends on the engine's state at the time (the real engine is shared with
    // the Swarm tests); both are asserted, one per run.
    if (await run.s.engine.isSwarmManager()) {
      expect((await run.s.engine.listNodes()).length).toBeGreaterThan(0);
      return;
    }
    const err = await run.s.engine.listNodes().then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'ENGINE_ERROR', message: expect.stringMatching(/not a swarm manager/i), hint: expect.stringMatching(/docker swarm init/) });
  });

  it('creates a container (not running until started) and lists it with all=true only', async () => {
    const ref = await run.s.engine.create({ image: run.s.image, name: run.cname, cmd: ['sleep', '3600'], labels: { [run.s.label[0]]: run.s.label[1], role: 'contract' } });
    run.id = ref.id;
    expect(run.id).toMatch(/^[0-9a-f]{64}$/);
    expect((await run.s.engine.inspect(run.id)).status).toBe('created');
    const running = await run.s.engine.list({ labels: [`${run.s.label[0]}=${run.s.label[1]}`] });
    expect(running.map((c) => c.id)).not.toContain(run.id);
    const all = await run.s.engine.list({ all: true, labels: [`${run.s.label[0]}=${run.s.label[1]}`, 'role=contract'] });
    expect(all.map((c) => c.name)).toEqual([run.cname]);
    expect(await run.s.engine.list({ all: true, labels: ['role=nope'] })).toEqual([]);
  });

  it('refuses a second container with the same name (CONFLICT)', async () => {
    expect(await code(run.s.engine.create({ image: run.s.image, name: run.cname }))).toBe('CONFLICT');
  });

  it('starts it; starting a running container again is a no-op', async () => {
    await run.s.engine.start(run.id);
    const a = await run.s.engine.inspect(run.id);
    expect(a.status).toBe('running');
    expect(a.pid).toBeGreaterThan(0);
    await run.s.engine.start(run.id);
    expect((await run.s.engine.inspect(run.id)).startedAt).toBe(a.startedAt);
  });
}

/** Images, copying files in and out, and replaying the container's events. */
function imageArchiveEventCases(run: ContractRun): void {
  it('inspects an image: id, tags and labels', async () => {
    const img = await run.s.engine.inspectImage(run.s.image);
    expect(img.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(img.tags).toContain(run.s.image);
    expect(await code(run.s.engine.inspectImage('kiboko-no-such-image:nope'))).toBe('TARGET_NOT_FOUND');
  });

  it('copies files in (putArchive) and out (getArchive) of a running container', async () => {
    await run.s.engine.putArchive(run.id, '/tmp', await packTar([{ name: 'hello.txt', mode: 0o640, data: 'hello from kiboko\n' }]));
    const out = await run.s.engine.getArchive(run.id, '/tmp/hello.txt');
    const files = Object.fromEntries((await readTar(out)).map((e) => [e.name, { text: e.data.toString(), mode: e.mode & 0o7777 }]));
    expect(files['hello.txt']).toEqual({ text: 'hello from kiboko\n', mode: 0o640 });
    expect(await code(run.s.engine.getArchive(run.id, '/tmp/kiboko-no-such-file'))).toBe('TARGET_NOT_FOUND');
  });

  it('replays this container\'s create and start from the event stream (since/until/filters)', async () => {
    const seen: string[] = [];
    for await (const e of run.s.engine.events({ since: run.t0, until: Date.now() / 1000 + 0.5, filters: { type: ['container'], container: [run.id] } })) {
      expect(e.id).toBe(run.id);
      expect(e.attributes.name).toBe(run.cname);
      expect(e.timeNano).toMatch(/^\d{19}$/);
      seen.push(e.action);
    }
    expect(seen.slice(0, 2)).toEqual(['create', 'start']);
  });
}

/** Finding, pausing, restarting, killing and stopping the contract container (the engine's state rules). */
function stateCases(run: ContractRun): void {
  it('finds by name as well as by id', async () => {
    expect((await run.s.engine.inspect(run.cname)).id).toBe(run.id);
  });

  it('pauses and unpauses; pausing twice or unpausing a running one is a CONFLICT', async () => {
    await run.s.engine.pause(run.id);
    expect((await run.s.engine.inspect(run.id)).status).toBe('paused');
    expect(await code(run.s.engine.pause(run.id))).toBe('CONFLICT');
    await run.s.engine.unpause(run.id);
    expect((await run.s.engine.inspect(run.id)).status).toBe('running');
    expect(await code(run.s.engine.unpause(run.id))).toBe('CONFLICT');
  });

  it('restarts: running again with a new start time', async () => {
    const before = (await run.s.engine.inspect(run.id)).startedAt;
    await run.s.engine.restart(run.id, 1);
    const after = await run.s.engine.inspect(run.id);
    expect(after.status).toBe('running');
    expect(after.startedAt).not.toBe(before);
  });

  it('refuses to remove a running container without force (CONFLICT)', async () => {
    expect(await code(run.s.engine.remove(run.id))).toBe('CONFLICT');
  });

  it('kills with SIGKILL — even while paused: exited, exit code 137; killing again is a CONFLICT', async () => {
    await run.s.engine.pause(run.id);
    await run.s.engine.kill(run.id, 'SIGKILL');
    expect(await run.s.engine.wait(run.id)).toBe(137);
    const d = await run.s.engine.inspect(run.id);
    expect(d.status).toBe('exited');
    expect(d.exitCode).toBe(137);
    expect(await code(run.s.engine.kill(run.id, 'SIGKILL'))).toBe('CONFLICT');
  });

  it('stopping a stopped container is a no-op', async () => {
    await run.s.engine.stop(run.id, 1);
    expect((await run.s.engine.inspect(run.id)).status).toBe('exited');
  });
}

/** Every setting a deploy gives create comes back from inspectSpec; networks with IPAM settings. */
function specRoundTripCases(run: ContractRun): void {
  it('carries every HostConfig/Config setting a deploy sets to the engine and reads them back (inspectSpec)', async () => {
    const tag = Math.random().toString(16).slice(2, 8);
    const net = `kiboko-contract-net-${tag}`;
    const subnet = `10.213.${Math.floor(Math.random() * 250) + 1}.0/24`;
    const name = `${run.cname}-full`;
    try {
      await run.s.engine.ensureNetwork(net, { [run.s.label[0]]: run.s.label[1] }, { internal: true, ipam: { config: [{ subnet }] }, driverOpts: { 'com.docker.network.bridge.enable_icc': 'true' } });
      const n = await run.s.engine.inspectNetwork(net);
      expect(n.internal).toBe(true);
      expect(n.ipam?.config?.[0]?.subnet).toBe(subnet);
      expect(n.labels[run.s.label[0]]).toBe(run.s.label[1]);
      const ip = subnet.replace('.0/24', '.77');
      const spec = {
        image: run.s.image,
        name,
        cmd: ['sleep', '3600'],
        labels: { [run.s.label[0]]: run.s.label[1] },
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
      await run.s.engine.create(spec);
      const back = await run.s.engine.inspectSpec(name);
      const { networks, ...rest } = spec;
      expect(back).toMatchObject(rest);
      expect(back.networks?.find((x) => x.name === net)).toMatchObject({ ipv4Address: ip });
      expect(back.networks?.find((x) => x.name === net)?.aliases).toEqual(expect.arrayContaining(networks[0]!.aliases));
      await run.s.engine.rename(name, `${name}-renamed`);
      expect((await run.s.engine.inspect(`${name}-renamed`)).name).toBe(`${name}-renamed`);
      expect(await code(run.s.engine.inspect(name))).toBe('TARGET_NOT_FOUND');
    } finally {
      await run.s.engine.remove(`${name}-renamed`, { force: true }).catch(() => undefined);
      await run.s.engine.remove(name, { force: true }).catch(() => undefined);
      await run.s.engine.removeNetwork(net).catch(() => undefined);
    }
  });
}

/** Volumes with labels, listed by label. */
function volumeCases(run: ContractRun): void {
  it('creates volumes with labels and lists them by label', async () => {
    const vol = `kiboko-contract-vol-${Math.random().toString(16).slice(2, 8)}`;
    try {
      await run.s.engine.ensureVolume(vol, { [run.s.label[0]]: run.s.label[1], role: 'contract-vol' }, { driver: 'local' });
      expect((await run.s.engine.listVolumes([`${run.s.label[0]}=${run.s.label[1]}`, 'role=contract-vol'])).map((v) => v.name)).toEqual([vol]);
    } finally {
      await run.s.engine.removeVolume(vol).catch(() => undefined);
    }
  });
}

/** Removing the contract container; afterwards it is gone for every call. */
function removalCases(run: ContractRun): void {
  it('removes it; afterwards every call is TARGET_NOT_FOUND', async () => {
    await run.s.engine.remove(run.id, { force: true });
    expect(await code(run.s.engine.inspect(run.id))).toBe('TARGET_NOT_FOUND');
    expect(await code(run.s.engine.kill(run.id, 'SIGKILL'))).toBe('TARGET_NOT_FOUND');
    expect(await code(run.s.engine.pause(run.id))).toBe('TARGET_NOT_FOUND');
    expect(await code(run.s.engine.remove(run.id))).toBe('TARGET_NOT_FOUND');
  });
}
