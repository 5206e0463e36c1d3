import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, IMAGE, startCli, waitFor, type CliProcess } from '../helpers.js';

/**
 * fleetctl v1.0's own requests, replayed against a real `kiboko serve` on the real engine, over
 * each way a fleet client can reach it: the daemon's unix socket with no token at all (its file
 * permissions are the credential, as fleet's /var/run/fleet.sock), HTTPS with a client
 * certificate signed by --tls-client-ca (fleetctl --ca-file --cert-file --key-file; no token),
 * and HTTPS with the bearer token (kiboko's own clients). fleetctl's HTTP client
 * (google-api-go-client) adds `?alt=json` to every call, sends `Content-Type: application/json`,
 * creates a unit with a body holding `name` and `options` only (no desiredState), changes state
 * with `{"desiredState": …}` alone, and lists with GET /units and /state. After each step the unit
 * containers on the engine must match the units. One daemon serves all three transports.
 */
const dir = mkdtempSync(join(tmpdir(), 'kiboko-fleetctl-'));
const stateDir = join(dir, 'state');
const socket = join(dir, 'kiboko.sock');
const fleetSocket = join(dir, 'fleet.sock');
const RUNID = Math.random().toString(16).slice(2, 8);
const UA = 'google-api-go-client/0.5';
let daemon: CliProcess | undefined;
let https: URL;
let token = '';
const pem = (name: string) => readFileSync(join(dir, `${name}.pem`));

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, by openssl (argv, no shell). */
function makeCertificates(): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=kiboko-replay-ca', '-keyout', 'ca-key.pem', '-out', 'ca.pem');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${who}`, '-keyout', `${who}-key.pem`, '-out', `${who}.csr`);
    openssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '1', '-extfile', `${who}.ext`, '-out', `${who}.pem`);
  }
}

beforeAll(async () => {
  makeCertificates();
  daemon = startCli(
    ['serve', '--listen', '127.0.0.1:0', '--socket', socket, '--fleet-socket', fleetSocket, '--tls-cert', join(dir, 'server.pem'), '--tls-key', join(dir, 'server-key.pem'), '--tls-client-ca', join(dir, 'ca.pem')],
    { stateDir },
  );
  await daemon.waitForOutput('"event":"listening"');
  const line = JSON.parse(daemon.stdout().split('\n').find((l) => l.includes('"listening"'))!) as { addresses: string[]; tokenFile: string };
  expect(line.addresses).toEqual(expect.arrayContaining([`unix://${socket}`, `unix://${fleetSocket}`]));
  https = new URL(line.addresses.find((a) => a.startsWith('https://'))!);
  token = readFileSync(line.tokenFile, 'utf8').trim();
});

afterAll(async () => {
  for (const t of transports) t.agent().destroy();
  if (daemon && daemon.child.exitCode === null) {
    daemon.child.kill('SIGTERM');
    await daemon.done;
  }
  for (const c of await unitContainers('')) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** This file's unit containers (all of them, or one replay's by its unit-name prefix). */
const unitContainers = async (app: string) =>
  (await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['kiboko.units.unit'] }) })).filter((c) => c.Labels['kiboko.units.unit']!.startsWith(`ktfctl${RUNID}${app}`));

/** Unit name → container state ('running', 'exited', …), as the engine has them. */
const engineView = async (app: string) => Object.fromEntries((await unitContainers(app)).map((c) => [c.Labels['kiboko.units.unit']!, c.State]));

type Reply = { status: number; json: Record<string, unknown> | undefined };
/**
 * How a client reaches the daemon: its connection options (kept alive, as Go's http.Client keeps
 * fleetctl's connections) and the headers it adds to every request.
 */
type Transport = { name: string; secure: boolean; agent: () => HttpAgent; headers: () => Record<string, string> };
const once = <T>(make: () => T) => {
  let v: T | undefined;
  return () => (v ??= make());
};
const tlsAgent = (withCert: boolean) => once(() => new HttpsAgent({ keepAlive: true, host: https.hostname, port: Number(https.port), ca: pem('ca'), ...(withCert ? { cert: pem('client'), key: pem('client-key') } : {}) }));

const transports: Transport[] = [
  { name: 'unix socket, no token', secure: false, agent: once(() => new HttpAgent({ keepAlive: true })), headers: () => ({}) },
  { name: 'TLS client certificate, no token', secure: true, agent: tlsAgent(true), headers: () => ({}) },
  { name: 'TLS, bearer token', secure: true, agent: tlsAgent(false), headers: () => ({ authorization: `Bearer ${token}` }) },
];

/** One request exactly as fleetctl's generated client makes it, over a transport. */
function send(t: Transport, method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Reply> {
  const [p, q] = path.split('?') as [string, string | undefined];
  const search = new URLSearchParams(q);
  search.set('alt', 'json');
  const text = body === undefined ? undefined : `${JSON.stringify(body)}\n`; // Go's json.Encoder ends with a newline
  const headers = { 'User-Agent': UA, ...t.headers(), ...extra, ...(text === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) }) };
  const where = t.secure ? { host: https.hostname, port: https.port } : { socketPath: socket };
  return new Promise<Reply>((resolve, reject) => {
    const req = (t.secure ? httpsRequest : httpRequest)({ ...where, method, path: `/fleet/v1/${p}?${search}`, headers, agent: t.agent() }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, json: b ? (JSON.parse(b) as Record<string, unknown>) : undefined }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

const RUN = `${IMAGE} sh -c "trap 'exit 0' TERM; while true; do sleep 0.2; done"`;
type Unit = { name: string; desiredState: string; currentState?: string };

/**
 * fleetctl's submit, load, start, list, stop, unload and destroy, request by request, over one
 * transport; the containers must match the units after each step.
 */
async function replay(t: Transport, app: string): Promise<void> {
  const APP = `ktfctl${RUNID}${app}`;
  const view = () => engineView(app);
  const fleetctl = (method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown) => send(t, method, path, body);
  const unitPath = (name: string) => `units/${encodeURIComponent(name)}`;
  const getUnit = async (name: string) => {
    const r = await fleetctl('GET', unitPath(name));
    return r.status === 404 ? undefined : (r.json as Unit);
  };
  /** fleetctl's waitForUnitStates: poll GET /units/NAME until currentState is the target. */
  const waitState = (name: string, state: string) => waitFor(async () => (await getUnit(name))?.currentState === state, 30_000, 200);
  /** fleetctl's findUnits: GET /units (all pages), then pick by name. */
  const listUnits = async (): Promise<Unit[]> => {
    const all: Unit[] = [];
    let next: string | undefined;
    do {
      const r = await fleetctl('GET', `units${next ? `?nextPageToken=${encodeURIComponent(next)}` : ''}`);
      expect(r.status).toBe(200);
      all.push(...((r.json!.units as Unit[] | undefined) ?? []));
      next = r.json!.nextPageToken as string | undefined;
    } while (next);
    return all.filter((u) => u.name.startsWith(APP));
  };
  const options = (extra: string) => [
    { section: 'Unit', name: 'Description', value: `${APP} %i` },
    { section: 'Service', name: 'ExecStartPre', value: '-/usr/bin/docker rm -f %p-%i' },
    { section: 'Service', name: 'ExecStart', value: `/usr/bin/docker run ${extra} --name %p-%i ${RUN}` },
    { section: 'Service', name: 'ExecStop', value: '/usr/bin/docker stop %p-%i' },
  ];
  const web = `${APP}@1.service`;
  const tmp = `${APP}-rm@1.service`;

  // submit: GET (404), then PUT with options only → 201, stored inactive; no container.
  for (const [name, extra] of [
    [web, ''],
    [tmp, '--rm'],
  ] as const) {
    expect((await fleetctl('GET', unitPath(name))).status).toBe(404);
    const created = await fleetctl('PUT', unitPath(name), { name, options: options(extra) });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    await waitState(name, 'inactive');
  }
  expect((await getUnit(web))!.desiredState).toBe('inactive');
  expect(await view()).toEqual({});
  // A second submit of the same file is not a creation: fleetctl sees the unit and sends nothing;
  // the same body without desiredState is fleet's 409.
  expect((await fleetctl('PUT', unitPath(web), { name: web, options: options('') })).status).toBe(409);

  // load: PUT {"desiredState":"loaded"} → 204; nothing runs.
  for (const name of [web, tmp]) {
    expect((await fleetctl('PUT', unitPath(name), { desiredState: 'loaded' })).status).toBe(204);
    await waitState(name, 'loaded');
  }
  expect(Object.values(await view()).filter((s) => s === 'running')).toEqual([]);

  // start: launched, and /state says active (fleetctl's tryWaitForSystemdActiveState).
  for (const name of [web, tmp]) {
    expect((await fleetctl('PUT', unitPath(name), { desiredState: 'launched' })).status).toBe(204);
    await waitState(name, 'launched');
  }
  const states = (await fleetctl('GET', 'state')).json!.states as { name: string; systemdActiveState: string; machineID: string }[];
  expect(states.filter((s) => s.name.startsWith(APP)).map((s) => [s.name, s.systemdActiveState]).sort()).toEqual([
    [tmp, 'active'],
    [web, 'active'],
  ]);
  expect(await view()).toEqual({ [web]: 'running', [tmp]: 'running' });

  // list-unit-files / list-units / list-machines.
  expect((await listUnits()).map((u) => [u.name, u.desiredState, u.currentState]).sort()).toEqual([
    [tmp, 'launched', 'launched'],
    [web, 'launched', 'launched'],
  ]);
  const machines = (await fleetctl('GET', 'machines')).json!.machines as { id: string }[];
  expect(machines.map((m) => m.id)).toContain(states[0]!.machineID);

  // stop: answered at once (fleet), the unit reaches loaded; web's container stays exited, --rm leaves none.
  for (const u of (await listUnits()).filter((x) => x.name === web || x.name === tmp)) {
    expect((await fleetctl('PUT', unitPath(u.name), { desiredState: 'loaded' })).status).toBe(204);
  }
  await waitState(web, 'loaded');
  await waitState(tmp, 'loaded');
  await waitFor(async () => !(tmp in (await view())), 15_000, 100);
  expect(await view()).toEqual({ [web]: 'exited' });

  // start again, then unload: inactive, no container at all.
  expect((await fleetctl('PUT', unitPath(web), { desiredState: 'launched' })).status).toBe(204);
  await waitState(web, 'launched');
  expect(await view()).toEqual({ [web]: 'running' });
  expect((await fleetctl('PUT', unitPath(web), { desiredState: 'inactive' })).status).toBe(204);
  await waitState(web, 'inactive');
  expect(await view()).toEqual({});

  // destroy a launched unit: 204 at once; the unit is gone, its container follows.
  expect((await fleetctl('PUT', unitPath(tmp), { desiredState: 'launched' })).status).toBe(204);
  await waitState(tmp, 'launched');
  for (const name of [web, tmp]) expect((await fleetctl('DELETE', unitPath(name))).status).toBe(204);
  expect(await getUnit(web)).toBeUndefined();
  expect(await getUnit(tmp)).toBeUndefined();
  await waitFor(async () => Object.keys(await view()).length === 0, 20_000, 100);
  expect(await listUnits()).toEqual([]);
  expect((await fleetctl('DELETE', unitPath(web))).status).toBe(404);
}

describe('fleetctl’s own requests against kiboko serve', () => {
  it('without a credential nothing is answered over TCP: no token and no certificate is 401', async () => {
    const bare: Transport = { name: 'TLS, nothing', secure: true, agent: tlsAgent(false), headers: () => ({}) };
    expect((await send(bare, 'GET', 'units')).status).toBe(401);
  });

  // The replays run side by side (their units have their own names), while 10 bad tokens from
  // 127.0.0.1 are being answered: they block neither the token, nor the certificate, nor the socket.
  describe.concurrent('over each transport', () => {
    it('10 bad tokens from 127.0.0.1 never block the right token, the certificate or the socket', async () => {
      const [unix, cert, tls] = transports as [Transport, Transport, Transport];
      let answered = 0;
      const bad = Array.from({ length: 10 }, (_, i) =>
        send(tls, 'GET', 'units', undefined, { authorization: `Bearer wrong-${i}` }).then((r) => {
          answered++;
          return r.status;
        }),
      );
      // Past the free failures the bad answers are held back; the valid credentials are answered meanwhile.
      for (const t of [tls, cert, unix]) expect((await send(t, 'GET', 'units')).status, t.name).toBe(200);
      expect(answered).toBeLessThan(10);
      expect(await Promise.all(bad)).toEqual(Array(10).fill(401));
      // And once all ten failures are counted against 127.0.0.1, the right token still gets in at once.
      expect((await send(tls, 'GET', 'machines')).status).toBe(200);
    });

    for (const [i, t] of transports.entries()) {
      it(`submit, load, start, list, stop, unload and destroy over the ${t.name}: the containers match the units after each step`, () => replay(t, `t${i}`));
    }
  });
});

/**
 * The real fleetctl binary, when one is given (KIBOKO_FLEETCTL=/path/to/fleetctl, built from
 * coreos/fleet v1.0 with Go; CI has no Go toolchain and no network to fetch it, so it is skipped
 * there), over fleet's socket (`--endpoint unix://…`, no token) and over TLS with its client
 * certificate (`--ca-file --cert-file --key-file`).
 */
const FLEETCTL = process.env.KIBOKO_FLEETCTL;
describe.skipIf(!FLEETCTL || !existsSync(FLEETCTL))('the real fleetctl binary (KIBOKO_FLEETCTL)', () => {
  const work = mkdtempSync(join(tmpdir(), 'kiboko-fleetctl-bin-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const endpoints: [string, () => string[]][] = [
    ['fleet’s unix socket', () => ['--endpoint', `unix://${fleetSocket}`]],
    ['TLS with a client certificate', () => ['--endpoint', https.origin, '--ca-file', join(dir, 'ca.pem'), '--cert-file', join(dir, 'client.pem'), '--key-file', join(dir, 'client-key.pem')]],
  ];
  const fleetctl = (endpoint: () => string[]) => (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(FLEETCTL!, [...endpoint(), ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  for (const [i, [name, endpoint]] of endpoints.entries()) {
    it(`submit, load, start, list-unit-files, list-units, stop, unload, destroy with fleetctl itself over ${name}`, async () => {
      const run = fleetctl(endpoint);
      const app = `b${i}`;
      const unit = `ktfctl${RUNID}${app}.service`;
      const view = () => engineView(app);
      const re = (s: string) => s.replace(/\./g, '\\.');
      writeFileSync(join(work, unit), `[Unit]\nDescription=${unit} bin\n\n[Service]\nExecStart=/usr/bin/docker run --rm --name ktfctl${RUNID}${app} ${RUN}\nExecStop=/usr/bin/docker stop ktfctl${RUNID}${app}\n`);
      const submit = await run(['submit', unit]);
      expect(submit, JSON.stringify(submit)).toMatchObject({ code: 0, stdout: `Unit ${unit} inactive\n` });
      expect(await view()).toEqual({});
      const load = await run(['load', unit]);
      expect(load.code, load.stderr).toBe(0);
      expect(load.stdout).toMatch(new RegExp(`^Unit ${re(unit)} loaded on `));
      expect(await view()).toEqual({});
      const start = await run(['start', unit]);
      expect(start.code, start.stderr).toBe(0);
      expect(start.stdout).toMatch(new RegExp(`^Unit ${re(unit)} launched on `));
      expect(await view()).toEqual({ [unit]: 'running' });
      const files = await run(['list-unit-files', '--no-legend']);
      expect(files.stdout).toMatch(new RegExp(`^${re(unit)}\\t+[0-9a-f]{7}\\t+launched\\t+launched\\t`, 'm'));
      const list = await run(['list-units', '--no-legend']);
      expect(list.stdout).toMatch(new RegExp(`^${re(unit)}\\t+\\S+\\t+active\\t+running$`, 'm'));
      const stop = await run(['stop', unit]);
      expect(stop.code, stop.stderr).toBe(0);
      expect(stop.stderr).toContain(`Successfully stopped units [${unit}].`);
      expect(await view()).toEqual({}); // --rm
      const unload = await run(['unload', unit]);
      expect(unload.code, unload.stderr).toBe(0);
      const destroy = await run(['destroy', unit]);
      expect(destroy).toMatchObject({ code: 0, stdout: `Destroyed ${unit}\n` });
      expect((await run(['list-unit-files', '--no-legend'])).stdout).not.toContain(unit);
      await waitFor(async () => Object.keys(await view()).length === 0, 20_000, 100);
    });
  }

  it('a template and its instance, then a new version by submit --replace and start --replace (fleet’s socket)', async () => {
    const run = fleetctl(endpoints[0]![1]);
    const app = 'tpl';
    const base = `ktfctl${RUNID}${app}`;
    const [template, instance] = [`${base}@.service`, `${base}@1.service`];
    const view = () => engineView(app);
    const write = (version: string) =>
      writeFileSync(join(work, template), `[Unit]\nDescription=${base} %i\n\n[Service]\nExecStart=/usr/bin/docker run --rm --name ${base}-%i -e VERSION=${version} ${RUN}\nExecStop=/usr/bin/docker stop ${base}-%i\n`);
    const version = async () => (await docker.getContainer(`${base}-1`).inspect()).Config.Env.find((e) => e.startsWith('VERSION='));
    write('1');
    expect(await run(['submit', template])).toMatchObject({ code: 0, stdout: `Unit ${template} inactive\n` });
    // The instance is created from the template in the registry (options only, no desiredState), then launched.
    const start = await run(['start', instance]);
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toMatch(new RegExp(`^Unit ${instance.replace(/\./g, '\\.')} inactive\nUnit ${instance.replace(/\./g, '\\.')} launched on `));
    expect(await view()).toEqual({ [instance]: 'running' });
    expect(await version()).toBe('VERSION=1');
    // A new version: the template first (fleetctl builds an instance from the registry's template), then the instance.
    write('2');
    expect((await run(['submit', '--replace', template])).code).toBe(0);
    const replaced = await run(['start', '--replace', instance]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(await view()).toEqual({ [instance]: 'running' });
    expect(await version()).toBe('VERSION=2');
    const destroy = await run(['destroy', instance, template]);
    expect(destroy).toMatchObject({ code: 0, stdout: `Destroyed ${instance}\nDestroyed ${template}\n` });
    await waitFor(async () => Object.keys(await view()).length === 0, 20_000, 100);
  });
});
