import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, events, runCli, startCli, type CliProcess } from '../helpers.js';

/**
 * `kiboko units` (the real CLI, dist/kiboko.cjs) against a real `kiboko serve` on the real engine:
 * the fleetctl flow submit → start → list-units → status → journal → stop → unload → destroy,
 * with the engine's state checked through dockerode after each step.
 */
const work = mkdtempSync(join(tmpdir(), 'kiboko-units-client-'));
const stateDir = join(work, 'state');
const APP = `ktunits${Math.random().toString(16).slice(2, 8)}`;
const UNIT = `${APP}.service`;
let daemon: CliProcess | undefined;
let http = '';

const units = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['units', ...args], { stateDir, env });

const containers = async () =>
  (await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['kiboko.units.unit'] }) })).filter((c) => c.Labels['kiboko.units.unit']!.startsWith(APP));

beforeAll(async () => {
  // A counter every 0.2 s, so journal -f has new lines to follow.
  writeFileSync(
    join(work, UNIT),
    [
      '[Unit]',
      `Description=${APP} ticker`,
      '',
      '[Service]',
      `ExecStartPre=-/usr/bin/docker rm -f %p`,
      `ExecStart=/usr/bin/docker run --name %p kiboko/busybox:local sh -c "trap 'exit 0' TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"`,
      `ExecStop=/usr/bin/docker stop %p`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(work, `${APP}-w@.service`), `[Unit]\nDescription=worker %i\n\n[Service]\nExecStart=/usr/bin/docker run --name %p-%i kiboko/busybox:local sleep 3600\n`);
  daemon = startCli(['serve', '--listen', '127.0.0.1:0', '--socket', join(stateDir, 'kiboko.sock')], { stateDir });
  await daemon.waitForOutput('"event":"listening"');
  const line = JSON.parse(daemon.stdout().split('\n').find((l) => l.includes('"listening"'))!) as { addresses: string[] };
  http = line.addresses.find((a) => a.startsWith('http://'))!;
});

afterAll(async () => {
  if (daemon && daemon.child.exitCode === null) {
    daemon.child.kill('SIGTERM');
    await daemon.done;
  }
  for (const c of await containers()) await docker.getContainer(c.Id).remove({ force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('kiboko units against kiboko serve', () => {
  it('submits, starts, lists, shows status and logs, follows the journal, stops, unloads and destroys units', async () => {
    // submit: stored inactive, no container.
    const submit = await units(['submit', join(work, UNIT)]);
    expect(submit.code, submit.stderr).toBe(0);
    expect(submit.stdout).toBe(`Unit ${UNIT} inactive\n`);
    expect(await containers()).toEqual([]);
    const files = await units(['list-unit-files', '--no-legend']);
    expect(files.stdout.split('\n').find((l) => l.startsWith(UNIT))!.split(/\t+/)).toEqual([UNIT, expect.stringMatching(/^[0-9a-f]{7}$/), 'inactive', 'inactive', '-']);

    // start: the submitted unit plus an instance from the local template; waits and says where they run.
    const start = await units(['start', UNIT, join(work, `${APP}-w@1.service`)]);
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toMatch(new RegExp(`^Unit ${APP}-w@1.service inactive\\n`));
    expect(start.stdout).toMatch(new RegExp(`Unit ${APP}.service launched on \\S+\\n`));
    expect(start.stdout).toMatch(new RegExp(`Unit ${APP}-w@1.service launched on `));
    const running = await containers();
    expect(running.map((c) => [c.Labels['kiboko.units.unit'], c.Names[0], c.State]).sort()).toEqual([
      [`${APP}-w@1.service`, `/${APP}-w-1`, 'running'],
      [UNIT, `/${APP}`, 'running'],
    ]);

    // list-units over TCP with an explicit token file; JSON over the default socket.
    const list = await units(['list-units', '--endpoint', http, '--token-file', join(stateDir, 'serve.token')], { KIBOKO_TOKEN: '' });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.split('\n')[0]!.split(/\t+/)).toEqual(['UNIT', 'MACHINE', 'ACTIVE', 'SUB']);
    expect(list.stdout.split('\n').find((l) => l.startsWith(`${UNIT}\t`))).toMatch(/\tactive\trunning$/);
    const json = events((await units(['list-units', '--json'])).stdout).filter((r) => String(r.name).startsWith(APP));
    expect(json.map((r) => `${String(r.name)} ${String(r.systemdActiveState)} ${String(r.systemdSubState)}`).sort()).toEqual([`${APP}-w@1.service active running`, `${UNIT} active running`].sort());

    // cat: the unit file back from its options.
    expect((await units(['cat', UNIT])).stdout).toBe(readFileSync(join(work, UNIT), 'utf8'));

    // status: states, the container, the last log lines.
    const status = await units(['status', UNIT, '-n', '3']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^● ${UNIT} - ${APP} ticker\\n`));
    expect(status.stdout).toMatch(/Active: active \(running\) since /);
    expect(status.stdout).toMatch(new RegExp(`Container: ${APP} \\([0-9a-f]{12}\\) kiboko/busybox:local: running`));
    expect(status.stdout.trimEnd().split('\n').slice(-3).every((l) => /^tick \d+$/.test(l))).toBe(true);

    // journal: the last N lines; -f follows new ones without repeating any, until Ctrl-C.
    const journal = await units(['journal', '-n', '2', UNIT]);
    expect(journal.code, journal.stderr).toBe(0);
    expect(journal.stdout.trimEnd().split('\n')).toEqual([expect.stringMatching(/^tick \d+$/), expect.stringMatching(/^tick \d+$/)]);
    const follow = startCli(['units', 'journal', '-f', '-n', '1', UNIT], { stateDir });
    await follow.waitForOutput(/tick \d+\n(.*\n){5}/, 20_000);
    follow.child.kill('SIGINT');
    const followed = await follow.done;
    expect(followed.code, followed.stderr).toBe(0);
    const ticks = followed.stdout.trimEnd().split('\n').map((l) => Number(/^tick (\d+)$/.exec(l)![1]));
    expect(ticks.length).toBeGreaterThanOrEqual(6);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i], `lines ${ticks.join(',')}`).toBe(ticks[i - 1]! + 1);

    // stop: the container stays, stopped; unload: it goes; the unit stays.
    const stop = await units(['stop', UNIT]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(new RegExp(`Unit ${UNIT} loaded on `));
    expect((await containers()).find((c) => c.Labels['kiboko.units.unit'] === UNIT)!.State).toBe('exited');
    const unload = await units(['unload', UNIT]);
    expect(unload.code, unload.stderr).toBe(0);
    expect((await containers()).map((c) => c.Labels['kiboko.units.unit'])).toEqual([`${APP}-w@1.service`]);
    expect((await units(['list-unit-files', '--no-legend', '--fields', 'unit,dstate'])).stdout).toMatch(new RegExp(`^${UNIT.replace(/\./g, '\\.')}\t+inactive$`, 'm'));

    // A unit that is not there: a clear error and exit code 5.
    const nope = await units(['journal', `${APP}-nope.service`]);
    expect(nope.code).toBe(1); // fleetctl exits 1 on every error
    expect(nope.stderr).toMatch(/unit \S+-nope.service does not exist/);

    // destroy: units and containers gone.
    const destroy = await units(['destroy', UNIT, `${APP}-w@1.service`]);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(destroy.stdout).toBe(`Destroyed ${UNIT}\nDestroyed ${APP}-w@1.service\n`);
    expect(await containers()).toEqual([]);
    expect((await units(['list-unit-files'])).stdout).not.toMatch(APP);
  });

  it('refuses without the token and says how to pass it', async () => {
    const r = await units(['list-units', '--endpoint', http], { KIBOKO_TOKEN: 'not-the-token-not-the-token', KIBOKO_STATE_DIR: join(work, 'elsewhere') });
    expect(r.code).toBe(1); // fleetctl exits 1 on every error
    expect(r.stderr).toMatch(/missing or invalid bearer token — pass the daemon token/);
  });
});
