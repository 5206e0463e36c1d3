import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { startServer, type RunningServer } from '../server/index.js';
import { MemoryRegistry, UnitsClient, type DesiredState, type UnitOption } from '../units/index.js';
import { clientFromOptions, lazyCreateUnits, machineLegend, tabulate, templateOf, unitNameOf, waitForStates } from './units.js';

const TOKEN = 'units-cli-test-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'kiboko-units-cli-'));
const socket = join(dir, 'kiboko.sock');
const registry = new MemoryRegistry();
let server: RunningServer;
const client = new UnitsClient({ endpoint: `unix://${socket}`, token: TOKEN });

/** Collects what a command prints. */
function recorder(json = false) {
  const lines: string[] = [];
  const records: Record<string, unknown>[] = [];
  const warnings: string[] = [];
  return { out: { json, line: (t: string) => lines.push(t), record: (r: Record<string, unknown>) => records.push(r), warn: (t: string) => warnings.push(t), note: (t: string) => warnings.push(t) }, lines, records, warnings };
}

const unitText = (image: string) => `[Unit]\nDescription=app %i\n\n[Service]\nExecStart=/usr/bin/docker run --name %p-%i ${image}\n`;

beforeAll(async () => {
  server = await startServer({ token: TOKEN, registry, socket });
  writeFileSync(join(dir, 'web.service'), unitText('repo/web:1'));
  writeFileSync(join(dir, 'app@.service'), unitText('repo/app:1'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('unit names as fleetctl mangles them', () => {
  it('takes the base name and appends .service when there is no unit type', () => {
    expect(unitNameOf('./units/web.service')).toBe('web.service');
    expect(unitNameOf('web')).toBe('web.service');
    expect(unitNameOf('db.socket')).toBe('db.socket');
    expect(templateOf('app@1.service')).toBe('app@.service');
    expect(templateOf('app@.service')).toBeUndefined();
    expect(templateOf('web.service')).toBeUndefined();
  });
});

describe('tables as fleetctl prints them (text/tabwriter, tabs)', () => {
  it('pads each column with tabs to the next multiple of 8 past its widest cell', () => {
    expect(tabulate([['UNIT', 'MACHINE', 'ACTIVE', 'SUB'], ['hello.service', 'abcdef12.../10.0.0.1', 'active', 'running']])).toBe(
      'UNIT\t\tMACHINE\t\t\tACTIVE\tSUB\nhello.service\tabcdef12.../10.0.0.1\tactive\trunning\n',
    );
    expect(tabulate([['A'], ['b']])).toBe('A\nb\n');
  });

  it('shortens machine ids like fleetctl unless --full', () => {
    const ms = [{ id: '113f16a7b3ee4e5f8b9f4c1a8d3e2f10', primaryIP: '172.17.8.103', metadata: {} }];
    expect(machineLegend('113f16a7b3ee4e5f8b9f4c1a8d3e2f10', ms, false)).toBe('113f16a7.../172.17.8.103');
    expect(machineLegend('113f16a7b3ee4e5f8b9f4c1a8d3e2f10', ms, true)).toBe('113f16a7b3ee4e5f8b9f4c1a8d3e2f10/172.17.8.103');
    expect(machineLegend(undefined, ms, false)).toBe('-');
  });
});

describe('connection flags', () => {
  it('prefers --endpoint, then KIBOKO_ENDPOINT, then the state dir socket; the token from --token-file, KIBOKO_TOKEN, then serve.token', () => {
    writeFileSync(join(dir, 'serve.token'), 'from-state-dir-token-xxxx\n');
    writeFileSync(join(dir, 'other.token'), 'from-token-file-xxxxxxxxx\n');
    const token = (c: UnitsClient) => (c as unknown as { token: string | undefined }).token;
    const a = clientFromOptions({ stateDir: dir }, {});
    expect(a.endpoint).toEqual({ kind: 'unix', socketPath: socket, url: `unix://${socket}` });
    expect(token(a)).toBe('from-state-dir-token-xxxx');
    const b = clientFromOptions({ stateDir: dir }, { KIBOKO_ENDPOINT: 'http://127.0.0.1:9', KIBOKO_TOKEN: 'env-token' });
    expect(b.endpoint.url).toBe('http://127.0.0.1:9');
    expect(token(b)).toBe('env-token');
    const c = clientFromOptions({ stateDir: dir, endpoint: 'https://h:8', tokenFile: join(dir, 'other.token') }, { KIBOKO_ENDPOINT: 'http://127.0.0.1:9', KIBOKO_TOKEN: 'env-token' });
    expect(c.endpoint.url).toBe('https://h:8');
    expect(token(c)).toBe('from-token-file-xxxxxxxxx');
    expect(() => clientFromOptions({ stateDir: dir, tokenFile: join(dir, 'missing') }, {})).toThrow(/cannot read token file/);
  });
});

describe('lazyCreateUnits (submit, and load/start of names or files)', () => {
  it('submits local files as inactive, instances from a local template, and leaves existing units alone', async () => {
    const r = recorder();
    const { names, created } = await lazyCreateUnits(client, [join(dir, 'web.service'), join(dir, 'app@1.service')], { replace: false, out: r.out });
    expect(names).toEqual(['web.service', 'app@1.service']);
    expect(created).toEqual(names);
    expect(r.lines).toEqual(['Unit web.service inactive', 'Unit app@1.service inactive']);
    const inst = await client.getUnit('app@1.service');
    expect(inst).toMatchObject({ desiredState: 'inactive' });
    expect(inst!.options).toContainEqual({ section: 'Service', name: 'ExecStart', value: '/usr/bin/docker run --name %p-%i repo/app:1' });

    // Again, by bare name: found in the daemon, nothing created.
    const again = await lazyCreateUnits(client, ['web'], { replace: false, out: recorder().out });
    expect(again).toEqual({ names: ['web.service'], created: [] });
  });

  it('takes an instance from a template held by the daemon', async () => {
    await client.createUnit({ name: 'srv@.service', options: [{ section: 'Service', name: 'ExecStart', value: '/usr/bin/docker run repo/srv:2' }], desiredState: 'inactive' });
    const { created } = await lazyCreateUnits(client, ['srv@7.service'], { replace: false, out: recorder().out });
    expect(created).toEqual(['srv@7.service']);
    expect((await client.getUnit('srv@7.service'))!.options).toEqual([{ section: 'Service', name: 'ExecStart', value: '/usr/bin/docker run repo/srv:2' }]);
  });

  it('warns when the daemon holds different contents, and replaces them with --replace (keeping the desired state)', async () => {
    const f = join(dir, 'chg.service');
    writeFileSync(f, unitText('repo/chg:1'));
    await lazyCreateUnits(client, [f], { replace: false, out: recorder().out });
    await client.setDesiredState('chg.service', 'launched');
    writeFileSync(f, unitText('repo/chg:2'));
    const w = recorder();
    await lazyCreateUnits(client, [f], { replace: false, out: w.out });
    expect(w.warnings.join('\n')).toMatch(/Unit chg.service in registry differs from local unit file .*--replace/);
    const rep = recorder();
    await lazyCreateUnits(client, [f], { replace: true, out: rep.out });
    expect(rep.lines).toEqual(['Unit chg.service replaced']);
    const u = (await client.getUnit('chg.service'))!;
    expect(u.desiredState).toBe('launched');
    expect(u.options.find((o: UnitOption) => o.name === 'ExecStart')!.value).toMatch(/repo\/chg:2/);
  });

  it('refuses a name with neither a file nor a template, and a bad unit file, with clear errors', async () => {
    await expect(lazyCreateUnits(client, [join(dir, 'nothing.service')], { replace: false, out: recorder().out })).rejects.toThrow(/unable to find unit nothing.service/);
    await expect(lazyCreateUnits(client, [join(dir, 'none@1.service')], { replace: false, out: recorder().out })).rejects.toThrow(/unable to find template unit none@.service/);
    writeFileSync(join(dir, 'bad.service'), 'ExecStart=/bin/true\n');
    await expect(lazyCreateUnits(client, [join(dir, 'bad.service')], { replace: false, out: recorder().out })).rejects.toThrow(/bad.service:1: assignment outside of a section/);
  });
});

describe('waitForStates (fleetctl blocking)', () => {
  it('prints "Unit NAME STATE on MACHINE" once each unit reaches the state', async () => {
    await client.setDesiredState('web.service', 'launched');
    const r = recorder();
    await waitForStates(client, ['web.service'], 'launched', { attempts: 3, out: r.out, pollMs: 0 });
    expect(r.lines).toEqual(['Unit web.service launched on local.../127.0.0.1']);
    const j = recorder(true);
    await waitForStates(client, ['web.service'], 'launched', { attempts: 3, out: j.out, pollMs: 0 });
    expect(j.records).toEqual([{ event: 'unit-launched', unit: 'web.service', machineID: 'local' }]);
  });

  it('gives up after the attempts with a TIMEOUT naming the unit and the state', async () => {
    // A registry whose units never get anywhere.
    const stuck = new MemoryRegistry();
    const orig = stuck.setDesiredState.bind(stuck);
    stuck.setDesiredState = async (name: string, state: DesiredState) => {
      await orig(name, state);
      (stuck as unknown as { units: Map<string, { currentState: DesiredState }> }).units.get(name)!.currentState = 'loaded';
    };
    const s = await startServer({ token: TOKEN, registry: stuck, socket: join(dir, 'stuck.sock') });
    try {
      const c = new UnitsClient({ endpoint: `unix://${join(dir, 'stuck.sock')}`, token: TOKEN });
      await c.createUnit({ name: 'slow.service', options: [{ section: 'Service', name: 'ExecStart', value: '/usr/bin/docker run x' }], desiredState: 'inactive' });
      await c.setDesiredState('slow.service', 'launched');
      let err: unknown;
      try {
        await waitForStates(c, ['slow.service'], 'launched', { attempts: 2, out: recorder().out, pollMs: 0 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KibokoError);
      expect((err as KibokoError).code).toBe('TIMEOUT');
      expect((err as KibokoError).message).toBe('timed out waiting for unit slow.service to report state launched');
    } finally {
      await s.close();
    }
  });
});

describe('kiboko units through the CLI parser', () => {
  async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const { main } = await import('./main.js');
    const { COMMAND_GROUPS } = await import('./program.js');
    let out = '';
    let err = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
    try {
      const code = await main(args, COMMAND_GROUPS);
      return { code, out, err };
    } finally {
      o.mockRestore();
      e.mockRestore();
      process.exitCode = undefined;
    }
  }

  it('takes the client flags before or after the subcommand, and prints fleetctl-style output', async () => {
    const tokenFile = join(dir, 'cli.token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const flags = ['--endpoint', `unix://${socket}`, '--token-file', tokenFile];
    writeFileSync(join(dir, 'cli.service'), unitText('repo/cli:1'));
    expect(await cli(['units', ...flags, 'submit', join(dir, 'cli.service')])).toEqual({ code: 0, out: 'Unit cli.service inactive\n', err: '' });
    const start = await cli(['units', 'start', '--block-attempts', '3', 'cli', ...flags]);
    expect(start).toEqual({ code: 0, out: 'Unit cli.service launched on local.../127.0.0.1\n', err: '' });
    const files = await cli(['units', 'list-unit-files', '--fields', 'unit,dstate,state,desc', '--no-legend', ...flags]);
    expect(files.out).toMatch(/^cli\.service\t+launched\t+launched\t+app %i$/m); // fleetctl: Description= as written
    const json = await cli(['units', '--json', ...flags, 'list-units']);
    expect(json.out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { name: string }).map((s) => s.name)).toContain('cli.service');
    expect((await cli(['units', 'cat', 'cli.service', ...flags])).out).toBe(unitText('repo/cli:1'));
    // restart of a launched unit: stopped, then started, each state reported as fleetctl does.
    const restart = await cli(['units', 'restart', '--block-attempts', '3', 'cli.service', ...flags]);
    expect(restart).toEqual({ code: 0, out: 'Unit cli.service loaded on local.../127.0.0.1\nUnit cli.service launched on local.../127.0.0.1\n', err: '' });
    const noBlock = await cli(['units', 'stop', '--no-block', 'cli.service', ...flags]);
    expect(noBlock).toEqual({ code: 0, out: 'Triggered unit cli.service stop\n', err: 'Successfully stopped units [cli.service].\n' });
    // A stopped unit is skipped by stop, as fleetctl does; an inactive one is refused with fleetctl's words and exit 1.
    expect(await cli(['units', 'stop', 'cli.service', ...flags])).toEqual({ code: 0, out: '', err: 'Successfully stopped units [].\n' });
    const unload = await cli(['units', 'unload', '--block-attempts', '3', 'cli.service', ...flags]);
    expect(unload).toEqual({ code: 0, out: 'Unit cli.service inactive\n', err: 'Successfully unloaded units [cli.service].\n' });
    const inactive = await cli(['units', 'stop', 'cli.service', ...flags]);
    expect(inactive.code).toBe(1);
    expect(inactive.err).toMatch(/^kiboko: Unable to stop unit cli.service in state inactive/);
    expect(await cli(['units', 'restart', 'cli.service', ...flags])).toEqual({ code: 0, out: '', err: 'Unable to restart unit cli.service in state inactive\n' });
    expect(await cli(['units', 'stop', 'ghost.service', ...flags])).toEqual({ code: 0, out: '', err: 'Units not found in registry\n' });
    // Every error exits 1, as fleetctl: usage errors included.
    const bad = await cli(['units', 'list-units', '--fields', 'unit,nope', ...flags]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/invalid key in output format: 'nope' — valid fields are active,hash,load,machine,sub,unit/);
    expect((await cli(['units', 'list-units', '--bogus', ...flags])).code).toBe(1);
    expect((await cli(['units', 'cat', 'ghost.service', ...flags])).code).toBe(1);
    const gone = await cli(['units', 'destroy', 'cli.service', 'ghost.service', ...flags]);
    expect(gone).toEqual({ code: 0, out: 'Destroyed cli.service\n', err: '' });
    expect(await cli(['units', 'destroy', 'cli.service', ...flags])).toEqual({ code: 0, out: '', err: 'Units not found in registry\n' });
  }, 30_000); // some twenty CLI runs against a live server: slow on a loaded machine
});
