import { describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { FakeEngine } from '../engine/index.js';
import { applyPlan } from './apply.js';
import { containerDestination, packFile, probeTools, readTarFile } from './container.js';
import { planResource } from './plan.js';
import type { TemplateResource } from './resource.js';

const res = (over: Partial<TemplateResource> = {}): TemplateResource => ({ file: 'a.toml', name: 'a.toml', src: '/t/a', dest: '/etc/app.conf', keys: ['/a'], prefix: '/', ...over });

async function container(engine: FakeEngine) {
  const ref = await engine.create({ image: 'scratch-app', name: 'app' });
  await engine.start(ref.id);
  return { id: ref.id, name: 'app' };
}

describe('tar helpers', () => {
  it('round-trips content, mode and owner', async () => {
    const tar = await packFile('app.conf', Buffer.from('x=1\n'), 0o640, 1234, 4321);
    expect(await readTarFile(tar)).toMatchObject({ content: Buffer.from('x=1\n'), mode: 0o640, uid: 1234, gid: 4321, type: 'file' });
  });
});

describe('containers without a shell', () => {
  it('the probe reports no tools when sh cannot run', async () => {
    const engine = new FakeEngine();
    const c = await container(engine);
    engine.execHandler = () => ({ exitCode: 127, stdout: '', stderr: 'exec: "sh": executable file not found in $PATH' });
    expect(await probeTools(engine, c.id)).toEqual({ atomic: false, timeout: false });
  });

  it('writes in place (reported), and execs reload_cmd as words', async () => {
    const engine = new FakeEngine();
    const c = await container(engine);
    const execs: string[][] = [];
    engine.execHandler = (_id, cmd) => {
      execs.push([...cmd]);
      return { exitCode: 0, stdout: '', stderr: '' };
    };
    const to = containerDestination(engine, c, { atomic: false, timeout: false });
    const r = res({ reloadCmd: `/app/bin/reload --config '/etc/app.conf'` });
    const out = await applyPlan(planResource(r, 'x=1\n', await to.read(r.dest)), to);
    expect(out.outcome).toBe('reloaded');
    expect(out.atomic).toBe(false);
    expect(out.warnings.join()).toMatch(/not atomic/);
    expect(engine.readFile(c.id, '/etc/app.conf')).toBe('x=1\n');
    expect(execs).toEqual([['/app/bin/reload', '--config', '/etc/app.conf']]);
  });

  it('refuses check_cmd without a shell and writes nothing', async () => {
    const engine = new FakeEngine();
    const c = await container(engine);
    const to = containerDestination(engine, c, { atomic: false, timeout: false });
    const r = res({ checkCmd: 'app --check {{.src}}' });
    const out = await applyPlan(planResource(r, 'x=1\n', await to.read(r.dest)), to);
    expect(out.outcome).toBe('failed');
    expect(out.error?.message).toMatch(/check_cmd needs sh and mv/);
    expect(engine.readFile(c.id, '/etc/app.conf')).toBeUndefined();
  });
});

describe('containers with sh', () => {
  it('stages beside dest, checks the staged path inside, renames with mv -f', async () => {
    const engine = new FakeEngine();
    const c = await container(engine);
    engine.writeFile(c.id, '/etc/app.conf', 'x=0\n', 0o600);
    const execs: string[][] = [];
    engine.execHandler = (id, cmd) => {
      execs.push([...cmd]);
      if (cmd[0] === 'mv') engine.writeFile(id, cmd[3]!, engine.readFile(id, cmd[2]!)!, 0o600);
      return { exitCode: 0, stdout: '', stderr: '' };
    };
    const to = containerDestination(engine, c, { atomic: true, timeout: true });
    const r = res({ checkCmd: 'app --check {{.src}}', reloadCmd: 'kill -HUP 1' });
    const current = await to.read(r.dest);
    expect(current).toMatchObject({ mode: 0o600 });
    const out = await applyPlan(planResource(r, 'x=1\n', current), to, { suffix: () => 'abc', checkTimeoutMs: 5_000 });
    expect(out.outcome).toBe('reloaded');
    expect(execs).toEqual([
      ['timeout', '-s', 'KILL', '5', 'sh', '-c', 'app --check "$1"', 'kiboko-check', '/etc/.app.conf.kiboko-abc'],
      ['mv', '-f', '/etc/.app.conf.kiboko-abc', '/etc/app.conf'],
      ['timeout', '-s', 'KILL', '30', 'sh', '-c', 'kill -HUP 1', 'kiboko-reload'],
    ]);
    expect(engine.readFile(c.id, '/etc/app.conf')).toBe('x=1\n');
  });

  it('a failing check removes the staged file inside and keeps dest', async () => {
    const engine = new FakeEngine();
    const c = await container(engine);
    engine.writeFile(c.id, '/etc/app.conf', 'x=0\n');
    const execs: string[][] = [];
    engine.execHandler = (_id, cmd) => {
      execs.push([...cmd]);
      return cmd.includes('kiboko-check') ? { exitCode: 1, stdout: '', stderr: 'syntax error' } : { exitCode: 0, stdout: '', stderr: '' };
    };
    const to = containerDestination(engine, c, { atomic: true, timeout: false });
    const r = res({ checkCmd: 'app --check {{.src}}' });
    const out = await applyPlan(planResource(r, 'x=1\n', await to.read(r.dest)), to, { suffix: () => 'abc' });
    expect(out.outcome).toBe('check-failed');
    expect(out.error?.message).toMatch(/syntax error/);
    expect(execs.at(-1)).toEqual(['rm', '-f', '/etc/.app.conf.kiboko-abc']);
    expect(engine.readFile(c.id, '/etc/app.conf')).toBe('x=0\n');
  });

  it('a vanished container is a failure of that container, not a crash', async () => {
    const engine = new FakeEngine();
    const c = await container(engine);
    engine.failWith = (op) => (op === 'getArchive' ? new KibokoError('ENGINE_ERROR', 'boom') : undefined);
    const to = containerDestination(engine, c, { atomic: true, timeout: false });
    await expect(to.read('/etc/app.conf')).rejects.toThrow(/boom/);
  });
});
