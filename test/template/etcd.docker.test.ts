import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events, startCli, waitFor, type CliProcess } from '../helpers.js';
import { startEtcd, type EtcdServer } from './etcd-server.js';

/**
 * `kiboko template --watch --backend etcd` against a real etcd started here: a change re-renders
 * and reloads within a second; a failing check_cmd keeps the old file; a failing reload_cmd puts
 * the old file back and says so.
 */
let etcd: EtcdServer;
let client: Etcd3;
let dir: string;
let cli: CliProcess | undefined;

const dest = () => join(dir, 'out', 'app.conf');
const count = (event: string) => events(cli!.stdout()).filter((e) => e.event === event).length;
/** Runs `change`, then waits until every render it caused has finished (the loop is idle again). */
async function settled(change: () => Promise<unknown>): Promise<void> {
  const before = count('cycle-finished');
  await change();
  await waitFor(async () => count('cycle-finished') > before && count('cycle-started') === count('cycle-finished'), 5_000, 20);
}
const reloads = () => (existsSync(join(dir, 'reloads')) ? readFileSync(join(dir, 'reloads'), 'utf8').trim().split('\n') : []);

beforeAll(async () => {
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.url });
  await client.put('/myapp/port').value('80');
  await client.put('/myapp/status').value('ok');
  dir = mkdtempSync(join(tmpdir(), 'kiboko-tmpl-etcd-'));
  for (const d of ['conf.d', 'templates', 'out']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'templates', 'app.conf.tmpl'), 'port={{getv "/port"}}\nstatus={{getv "/status"}}\n');
  // The reload logs "<epoch ms> <first line of the file>" and fails for port 666.
  const script = join(dir, 'reload.sh');
  writeFileSync(script, `#!/bin/sh\necho "$(date +%s%3N) $(head -n1 '${dest()}')" >> '${join(dir, 'reloads')}'\n! grep -q 'port=666' '${dest()}'\n`);
  chmodSync(script, 0o755);
  writeFileSync(
    join(dir, 'conf.d', 'app.toml'),
    [
      '[template]',
      'src = "app.conf.tmpl"',
      `dest = "${dest()}"`,
      'prefix = "/myapp"',
      'keys = ["/port", "/status"]',
      'mode = "0640"',
      `check_cmd = "! grep -q 'status=bad' {{.src}}"`,
      `reload_cmd = "${script}"`,
      '',
    ].join('\n'),
  );
  cli = startCli(['template', '--watch', '--backend', 'etcd', '--node', etcd.url, '--confdir', dir, '--json', '--log-level', 'debug']);
  await cli.waitForOutput('"event":"reloaded"', 20_000);
});

afterAll(async () => {
  if (cli && cli.child.exitCode === null) {
    cli.child.kill('SIGTERM');
    await cli.done;
  }
  client?.close();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kiboko template --watch --backend etcd', () => {
  it('renders at start with the resource mode', () => {
    expect(readFileSync(dest(), 'utf8')).toBe('port=80\nstatus=ok\n');
    expect(reloads()).toHaveLength(1);
  });

  it('a changed key re-renders and reloads within 1 s', async () => {
    const before = reloads().length;
    const t0 = Date.now();
    await client.put('/myapp/port').value('81');
    const line = await waitFor(async () => reloads().slice(before).find((l) => l.endsWith('port=81')), 5_000, 10);
    const latency = Number(line.split(' ')[0]) - t0;
    expect(readFileSync(dest(), 'utf8')).toBe('port=81\nstatus=ok\n');
    // Acceptance criterion (not a benchmark): change → reload in under a second.
    expect(latency).toBeLessThan(1000);
    await waitFor(async () => count('cycle-started') === count('cycle-finished'), 5_000, 20);
  });

  it('a failing check_cmd keeps the old file and skips the reload', async () => {
    const before = reloads().length;
    const seen = count('check-failed');
    await settled(() => client.put('/myapp/status').value('bad').exec());
    expect(count('check-failed')).toBe(seen + 1);
    expect(readFileSync(dest(), 'utf8')).toBe('port=81\nstatus=ok\n');
    expect(reloads()).toHaveLength(before);
    const failed = events(cli!.stdout()).filter((e) => e.event === 'check-failed').at(-1)!;
    expect((failed.error as { message: string }).message).toMatch(/check_cmd failed: exit code 1/);
    await settled(() => client.put('/myapp/status').value('ok').exec());
  });

  it('a failing reload_cmd restores the old file, reloads again and reports it', async () => {
    const seen = count('reload-failed-restored');
    const before = reloads().length;
    await settled(() => client.put('/myapp/port').value('666').exec());
    expect(count('reload-failed-restored')).toBe(seen + 1);
    const ev = events(cli!.stdout()).filter((e) => e.event === 'reload-failed-restored').at(-1)!;
    expect((ev.error as { message: string }).message).toMatch(/reload failed; previous file restored/);
    expect(readFileSync(dest(), 'utf8')).toBe('port=81\nstatus=ok\n');
    expect(reloads().slice(before).map((l) => l.split(' ')[1])).toEqual(['port=666', 'port=81']);
    expect(readdirSync(join(dir, 'out')).filter((f) => f.includes('.kiboko-'))).toEqual([]);
  });

  it('stops cleanly on SIGTERM', async () => {
    cli!.child.kill('SIGTERM');
    const r = await cli!.done;
    expect(r.code).toBe(0);
    expect(readdirSync(join(dir, 'out'))).toEqual(['app.conf']);
  });
});
