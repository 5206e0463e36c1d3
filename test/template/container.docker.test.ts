import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, events, runCli, scope } from '../helpers.js';

/**
 * `kiboko template --container`: rendered on the host, written into running containers through
 * the Engine API (putArchive + exec), checked and reloaded inside them — no agent in the image.
 */
const s = scope('tmpl');

/** Runs a command in a container and returns its stdout (the multiplexed stream demuxed). */
async function dexec(id: string, cmd: string[]): Promise<{ code: number; out: string }> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  stream.on('data', (b: Buffer) => chunks.push(b));
  await new Promise((res) => stream.on('end', res));
  const raw = Buffer.concat(chunks);
  let out = '';
  for (let i = 0; i + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(i + 4);
    if (raw[i] === 1) out += raw.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return { code: (await exec.inspect()).ExitCode ?? -1, out };
}
let dir: string;
let web1: string;
let web2: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kiboko-tmpl-ctr-'));
  mkdirSync(join(dir, 'conf.d'));
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'templates', 'app.conf.tmpl'), 'port={{getv "/app/port"}}\n');
  writeFileSync(
    join(dir, 'conf.d', 'app.toml'),
    [
      '[template]',
      'src = "app.conf.tmpl"',
      'dest = "/etc/app.conf"',
      'keys = ["/app"]',
      'mode = "0640"',
      'uid = 1234',
      'gid = 4321',
      `check_cmd = "grep -q '^port=' {{.src}}"`,
      // Logs each reload inside the container; refuses port 666.
      `reload_cmd = "echo \\"$(cat /etc/app.conf)\\" >> /tmp/reloads; ! grep -q port=666 /etc/app.conf"`,
      '',
    ].join('\n'),
  );
  web1 = await s.create('web-1');
  web2 = await s.create('web-2');
});

afterAll(async () => {
  await s.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const run = (port: string, extra: string[] = []) =>
  runCli(['template', '--onetime', '--backend', 'env', '--confdir', dir, '--container', `re2:^${s.prefix}web-`, '--json', ...extra], {
    env: { APP_PORT: port },
  });

describe('kiboko template --container', () => {
  it('writes the file into every running target (mode and owner from the resource) and reloads inside', async () => {
    const r = await run('8080');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const id of [web1, web2]) {
      expect((await dexec(id, ['cat', '/etc/app.conf'])).out).toBe('port=8080\n');
      expect((await dexec(id, ['stat', '-c', '%a %u %g', '/etc/app.conf'])).out.trim()).toBe('640 1234 4321');
      expect((await dexec(id, ['cat', '/tmp/reloads'])).out).toBe('port=8080\n');
      expect((await dexec(id, ['sh', '-c', 'ls -a /etc | grep kiboko || true'])).out).toBe('');
    }
    expect(events(r.stdout).filter((e) => e.event === 'reloaded').map((e) => e.target).sort()).toEqual([`${s.prefix}web-1`, `${s.prefix}web-2`]);
  });

  it('an unchanged file is left alone (no reload)', async () => {
    const r = await run('8080', ['--log-level', 'debug']);
    expect(r.code).toBe(0);
    expect(events(r.stdout).filter((e) => e.event === 'unchanged')).toHaveLength(2);
    expect(events(r.stdout).filter((e) => e.event === 'reloaded')).toHaveLength(0);
    expect((await dexec(web1, ['cat', '/tmp/reloads'])).out).toBe('port=8080\n');
  });

  it('a failing reload inside the container restores the previous file and reloads again', async () => {
    const r = await run('666');
    expect(r.code).toBe(1);
    const failed = events(r.stdout).filter((e) => e.event === 'reload-failed-restored');
    expect(failed).toHaveLength(2);
    expect((failed[0]!.error as { message: string }).message).toMatch(/reload failed; previous file restored/);
    for (const id of [web1, web2]) {
      expect((await dexec(id, ['cat', '/etc/app.conf'])).out).toBe('port=8080\n');
      expect((await dexec(id, ['stat', '-c', '%a %u %g', '/etc/app.conf'])).out.trim()).toBe('640 1234 4321');
      expect((await dexec(id, ['cat', '/tmp/reloads'])).out).toBe('port=8080\nport=666\nport=8080\n');
    }
  });

  it('--noop prints the diff and changes nothing in the containers', async () => {
    const r = await run('9090', ['--noop']);
    expect(r.code).toBe(0);
    const noop = events(r.stdout).filter((e) => e.event === 'noop');
    expect(noop).toHaveLength(2);
    expect(noop[0]!.diff).toMatch(/-port=8080\n\+port=9090/);
    expect((await dexec(web1, ['cat', '/etc/app.conf'])).out).toBe('port=8080\n');
  });

  it('a name that matches nothing is reported and fails the run', async () => {
    const r = await runCli(['template', '--onetime', '--backend', 'env', '--confdir', dir, '--container', `${s.prefix}nope`], { env: { APP_PORT: '1' } });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/no running container/);
  });
});
