import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyPlan, stagedFilesInFlight } from './apply.js';
import { hostDestination } from './host.js';
import { planResource } from './plan.js';
import type { TemplateResource } from './resource.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiboko-apply-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const res = (over: Partial<TemplateResource> = {}): TemplateResource => ({
  file: 'app.toml',
  name: 'app.toml',
  src: '/t/app.tmpl',
  dest: join(dir, 'app.conf'),
  keys: ['/app'],
  prefix: '/',
  ...over,
});

async function apply(r: TemplateResource, content: string, opts = {}) {
  const to = hostDestination();
  return applyPlan(planResource(r, content, await to.read(r.dest)), to, opts);
}

const leftovers = () => readdirSync(dir).filter((f) => f.includes('.kiboko-'));
const marker = (name: string) => join(dir, name);

describe('applyPlan on the host', () => {
  it('writes a new file with mode 0644 and runs the reload', async () => {
    const r = res({ reloadCmd: `echo reloaded >> ${marker('reloads')}` });
    const out = await apply(r, 'port 80\n');
    expect(out.outcome).toBe('reloaded');
    expect(out.atomic).toBe(true);
    expect(readFileSync(r.dest, 'utf8')).toBe('port 80\n');
    expect(statSync(r.dest).mode & 0o7777).toBe(0o644);
    expect(readFileSync(marker('reloads'), 'utf8')).toBe('reloaded\n');
    expect(leftovers()).toEqual([]);
    expect(stagedFilesInFlight()).toEqual([]);
  });

  it('does nothing when unchanged (no check, no reload)', async () => {
    const r = res({ checkCmd: `touch ${marker('checked')}`, reloadCmd: `touch ${marker('reloaded')}` });
    writeFileSync(r.dest, 'same\n');
    const out = await apply(r, 'same\n');
    expect(out.outcome).toBe('unchanged');
    expect(existsSync(marker('checked')) || existsSync(marker('reloaded'))).toBe(false);
  });

  it('runs check_cmd on the staged file before replacing', async () => {
    const r = res({ checkCmd: `cp {{.src}} ${marker('checked-copy')} && grep -q 'port 81' {{.src}}`, reloadCmd: 'true' });
    writeFileSync(r.dest, 'port 80\n');
    const out = await apply(r, 'port 81\n');
    expect(out.outcome).toBe('reloaded');
    expect(readFileSync(marker('checked-copy'), 'utf8')).toBe('port 81\n');
    expect(readFileSync(r.dest, 'utf8')).toBe('port 81\n');
  });

  it('a failing check keeps the old file and skips the reload', async () => {
    const r = res({ checkCmd: 'echo "bad config" >&2; false', reloadCmd: `touch ${marker('reloaded')}` });
    writeFileSync(r.dest, 'old\n');
    const out = await apply(r, 'new\n');
    expect(out.outcome).toBe('check-failed');
    expect(out.error?.message).toMatch(/check_cmd failed: exit code 1: bad config/);
    expect(readFileSync(r.dest, 'utf8')).toBe('old\n');
    expect(existsSync(marker('reloaded'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('a check that hangs is killed at the timeout; the old file stays', async () => {
    const r = res({ checkCmd: 'sleep 30' });
    writeFileSync(r.dest, 'old\n');
    const out = await apply(r, 'new\n', { checkTimeoutMs: 200 });
    expect(out.outcome).toBe('check-failed');
    expect(out.error?.message).toMatch(/timed out after 200 ms/);
    expect(readFileSync(r.dest, 'utf8')).toBe('old\n');
    expect(leftovers()).toEqual([]);
  });

  it('a failing reload restores the previous file (content and mode) and reloads again', async () => {
    const script = marker('reload.sh');
    // Fails while the new content is in place, succeeds once the old one is back.
    writeFileSync(script, `#!/bin/sh\necho "reload $(cat '${join(dir, 'app.conf')}')" >> '${marker('reloads')}'\ngrep -q old '${join(dir, 'app.conf')}'\n`);
    chmodSync(script, 0o755);
    const r = res({ reloadCmd: script });
    writeFileSync(r.dest, 'old\n');
    chmodSync(r.dest, 0o600);
    const out = await apply(r, 'new\n');
    expect(out.outcome).toBe('reload-failed-restored');
    expect(out.error?.message).toMatch(/reload failed; previous file restored/);
    expect(readFileSync(r.dest, 'utf8')).toBe('old\n');
    expect(statSync(r.dest).mode & 0o7777).toBe(0o600);
    expect(readFileSync(marker('reloads'), 'utf8')).toBe('reload new\nreload old\n');
    expect(out.restoreReload?.exitCode).toBe(0);
    expect(leftovers()).toEqual([]);
  });

  it('a failing reload of a file that did not exist removes it', async () => {
    const r = res({ reloadCmd: 'exit 7' });
    const out = await apply(r, 'new\n');
    expect(out.outcome).toBe('reload-failed-restored');
    expect(out.error?.message).toMatch(/new file removed/);
    expect(existsSync(r.dest)).toBe(false);
  });

  it('keeps the existing mode and replaces atomically (a new inode)', async () => {
    const r = res();
    writeFileSync(r.dest, 'old\n');
    chmodSync(r.dest, 0o640);
    const before = statSync(r.dest).ino;
    const out = await apply(r, 'new\n');
    expect(out.outcome).toBe('written');
    expect(statSync(r.dest).mode & 0o7777).toBe(0o640);
    expect(statSync(r.dest).ino).not.toBe(before);
  });

  it('sets an explicit mode and owner', async () => {
    const r = res({ mode: 0o600, uid: process.getuid!(), gid: process.getgid!() });
    const out = await apply(r, 'x\n');
    expect(out.outcome).toBe('written');
    expect(statSync(r.dest).mode & 0o7777).toBe(0o600);
  });

  it.runIf(process.getuid?.() === 0)('keeps the owner of the file it replaces (root)', async () => {
    const r = res();
    writeFileSync(r.dest, 'old\n');
    const { chownSync } = await import('node:fs');
    chownSync(r.dest, 4321, 4322);
    await apply(r, 'new\n');
    expect(statSync(r.dest)).toMatchObject({ uid: 4321, gid: 4322 });
  });

  it('--noop reports the diff and changes nothing; --sync-only skips check and reload', async () => {
    const r = res({ checkCmd: 'false', reloadCmd: 'false' });
    writeFileSync(r.dest, 'old\n');
    const noop = await apply(r, 'new\n', { noop: true });
    expect(noop.outcome).toBe('noop');
    expect(noop.diff).toMatch(/-old\n\+new/);
    expect(readFileSync(r.dest, 'utf8')).toBe('old\n');
    const sync = await apply(r, 'new\n', { syncOnly: true });
    expect(sync.outcome).toBe('written');
    expect(readFileSync(r.dest, 'utf8')).toBe('new\n');
  });

  it('a missing destination folder fails clearly', async () => {
    const r = res({ dest: join(dir, 'nope', 'x.conf') });
    const out = await apply(r, 'x');
    expect(out.outcome).toBe('failed');
    expect(out.error?.hint).toMatch(/folder must exist/);
  });

  it('cancelled during the check: nothing written, staged file removed', async () => {
    const ac = new AbortController();
    const r = res({ checkCmd: 'sleep 30' });
    writeFileSync(r.dest, 'old\n');
    setTimeout(() => ac.abort(), 100);
    const out = await apply(r, 'new\n', { signal: ac.signal });
    expect(out.outcome).toBe('cancelled');
    expect(readFileSync(r.dest, 'utf8')).toBe('old\n');
    expect(leftovers()).toEqual([]);
  });
});
