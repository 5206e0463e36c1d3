import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packTar } from '../common/tar.js';
import { FakeEngine } from '../engine/index.js';
import { thrown } from '../../test/expect-error.js';
import { buildWithBuilder, extractArtifact, parseArtifactOption } from './builder.js';

type E = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo'; body?: string; linkname?: string; mode?: number };

const tar = (entries: E[]): Promise<Buffer> =>
  packTar(
    entries.map((e) => ({
      name: e.name,
      type: e.type ?? 'file',
      mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644),
      ...(e.linkname ? { linkname: e.linkname } : {}),
      ...((e.type ?? 'file') === 'file' ? { data: e.body ?? '' } : {}),
    })),
  );

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiboko-extract-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const leftovers = () => readdirSync(dir, { recursive: true }).filter((n) => String(n).includes('.kiboko-artifact-'));

describe('extractArtifact', () => {
  it('writes a file to the destination path, creating its folder, keeping the mode', async () => {
    const r = await extractArtifact(await tar([{ name: 'app', body: 'hello\n', mode: 0o4755 }]), join(dir, 'dist', 'app'));
    expect(r).toEqual({ kind: 'file', target: join(dir, 'dist', 'app'), bytes: 6 });
    expect(readFileSync(join(dir, 'dist', 'app'), 'utf8')).toBe('hello\n');
    expect(statSync(join(dir, 'dist', 'app')).mode & 0o7777).toBe(0o755); // set-id bit dropped
    expect(leftovers()).toEqual([]);
  });

  it('puts a file into an existing folder or a path ending in /', async () => {
    mkdirSync(join(dir, 'bin'));
    expect((await extractArtifact(await tar([{ name: 'app', body: 'x' }]), join(dir, 'bin'))).target).toBe(join(dir, 'bin', 'app'));
    expect((await extractArtifact(await tar([{ name: 'app', body: 'y' }]), `${join(dir, 'new')}/`)).target).toBe(join(dir, 'new', 'app'));
    expect(readFileSync(join(dir, 'new', 'app'), 'utf8')).toBe('y');
  });

  it('copies a folder with subfolders and relative symlinks, replacing what was there', async () => {
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'out-stale'), '');
    const archive = await tar([
      { name: 'out/', type: 'directory' },
      { name: 'out/lib/', type: 'directory' },
      { name: 'out/lib/libx.so.1', body: 'lib' },
      { name: 'out/lib/libx.so', type: 'symlink', linkname: 'libx.so.1' },
      { name: 'out/bin/app', body: 'app' },
      { name: 'out/bin/app2', type: 'link', linkname: 'out/bin/app' },
      { name: 'out/bin/lib', type: 'symlink', linkname: '../lib' },
    ]);
    const target = join(dir, 'dist');
    mkdirSync(target);
    writeFileSync(join(target, 'stale'), 'old');
    // dist exists, so (as docker cp does) the folder lands in dist/out
    const r = await extractArtifact(archive, target);
    expect(r).toEqual({ kind: 'directory', target: join(target, 'out'), bytes: 9 });
    expect(readFileSync(join(target, 'out', 'bin', 'app2'), 'utf8')).toBe('app');
    expect(readlinkSync(join(target, 'out', 'lib', 'libx.so'))).toBe('libx.so.1');
    // a second copy to the same place replaces it
    const again = await extractArtifact(await tar([{ name: 'out/', type: 'directory' }, { name: 'out/only', body: '1' }]), join(target, 'out'));
    expect(again.target).toBe(join(target, 'out', 'out'));
    rmSync(join(target, 'out'), { recursive: true });
    await extractArtifact(await tar([{ name: 'out/', type: 'directory' }, { name: 'out/only', body: '1' }]), join(dir, 'fresh'));
    expect(readdirSync(join(dir, 'fresh'))).toEqual(['only']);
    await extractArtifact(await tar([{ name: 'out/', type: 'directory' }, { name: 'out/second', body: '2' }]), join(dir, 'fresh', 'x'));
    expect(existsSync(join(dir, 'fresh', 'x', 'second'))).toBe(true);
    expect(leftovers()).toEqual([]);
  });

  it.each<[string, E[]]>([
    ['a .. path', [{ name: 'out/', type: 'directory' }, { name: 'out/../../evil', body: 'x' }]],
    ['an absolute path', [{ name: '/etc/evil', body: 'x' }]],
    ['an absolute symlink', [{ name: 'out/', type: 'directory' }, { name: 'out/passwd', type: 'symlink', linkname: '/etc/passwd' }]],
    ['a symlink out of the artifact', [{ name: 'out/', type: 'directory' }, { name: 'out/up', type: 'symlink', linkname: '../../..' }]],
    ['a chain of symlinks out of the artifact', [
      { name: 'out/', type: 'directory' },
      { name: 'out/a/', type: 'directory' },
      { name: 'out/a/b', type: 'symlink', linkname: '..' },
      { name: 'out/x', type: 'symlink', linkname: 'a/b/..' },
    ]],
    ['a write through a symlink', [{ name: 'out/', type: 'directory' }, { name: 'out/l', type: 'symlink', linkname: '.' }, { name: 'out/l/f', body: 'x' }]],
    ['a hard link to outside', [{ name: 'out/', type: 'directory' }, { name: 'out/h', type: 'link', linkname: 'etc/passwd' }]],
    ['a FIFO', [{ name: 'out/', type: 'directory' }, { name: 'out/p', type: 'fifo' }]],
    ['a top-level symlink', [{ name: 'app', type: 'symlink', linkname: 'app.real' }]],
  ])('refuses %s and leaves nothing behind', async (_what, entries) => {
    const dest = join(dir, 'dist');
    await expect(extractArtifact(await tar(entries), dest)).rejects.toMatchObject({ code: 'ACTION_FAILED', message: expect.stringMatching(/^refusing to extract/) });
    expect(existsSync(dest)).toBe(false);
    expect(leftovers()).toEqual([]);
    expect(existsSync(join(dir, '..', 'evil'))).toBe(false);
  });
});

describe('parseArtifactOption', () => {
  it('splits the builder path from the local path (relative to cwd)', () => {
    expect(parseArtifactOption('/out/app:./dist/app', '/work')).toEqual({ path: '/out/app', local: '/work/dist/app', shown: './dist/app' });
    expect(parseArtifactOption('/out//lib/:dist:x', '/w')).toEqual({ path: '/out/lib/', local: '/w/dist:x', shown: 'dist:x' });
  });

  it('needs an absolute builder path and a local path', () => {
    expect(thrown(() => parseArtifactOption('out/app:dist', '/w')).hint).toMatch(/--artifact \/out\/app/);
    expect(thrown(() => parseArtifactOption('/out/app', '/w')).message).toMatch(/expected \/path\/in\/builder:local\/path/);
    expect(thrown(() => parseArtifactOption('/:dist', '/w')).message).toMatch(/whole filesystem/);
  });
});

describe('buildWithBuilder (fake engine)', () => {
  it('copies artifacts out of a created builder container, removes it and the builder image, then builds', async () => {
    const engine = new FakeEngine();
    mkdirSync(join(dir, 'ctx'));
    writeFileSync(join(dir, 'ctx', 'Dockerfile.build'), 'FROM busybox\nRUN echo hi > /out/app\n');
    writeFileSync(join(dir, 'ctx', 'Dockerfile'), 'FROM scratch\nCOPY dist/app /app\n');
    // The fake has no filesystem for images: put the artifact into the container when it is created.
    const create = engine.create.bind(engine);
    engine.create = async (spec) => {
      const ref = await create(spec);
      engine.writeFile(ref.id, '/out/app', 'hi\n', 0o755);
      return ref;
    };
    const r = await buildWithBuilder(engine, {
      contextDir: join(dir, 'ctx'),
      builderDockerfile: 'Dockerfile.build',
      artifacts: [parseArtifactOption('/out/app:ctx/dist/app', dir)],
      tags: ['acme/rt:1'],
      env: {},
      gitFacts: null,
    });
    expect(readFileSync(join(dir, 'ctx', 'dist', 'app'), 'utf8')).toBe('hi\n');
    expect(r.artifacts).toEqual([{ kind: 'file', target: join(dir, 'ctx', 'dist', 'app'), bytes: 3, path: '/out/app' }]);
    expect(r.document.meta.buildContainer).toEqual({ dockerfile: 'Dockerfile.build', artifacts: [{ path: '/out/app', local: 'ctx/dist/app', bytes: 3 }] });
    const builds = engine.calls.filter((c) => c.op === 'build').map((c) => c.id);
    expect(builds[0]).toMatch(/^kiboko-tmp\/builder-[0-9a-f]{12}:latest$/);
    expect(await engine.list({ all: true })).toEqual([]);
    expect((await engine.listImages()).flatMap((i) => i.tags).filter((t) => t.startsWith('kiboko-tmp/'))).toEqual([]);
    const created = engine.calls.find((c) => c.op === 'create');
    expect(created).toBeDefined();
    expect(engine.calls.some((c) => c.op === 'start')).toBe(false);
  });

  it('cleans up and says which path is missing when the builder did not produce it', async () => {
    const engine = new FakeEngine();
    mkdirSync(join(dir, 'ctx'));
    writeFileSync(join(dir, 'ctx', 'Dockerfile.build'), 'FROM busybox\n');
    await expect(
      buildWithBuilder(engine, { contextDir: join(dir, 'ctx'), builderDockerfile: 'Dockerfile.build', artifacts: [parseArtifactOption('/out/app:dist/app', dir)], tags: ['acme/rt:1'], env: {}, gitFacts: null }),
    ).rejects.toMatchObject({ code: 'ACTION_FAILED', message: 'the builder image has no /out/app' });
    expect(await engine.list({ all: true })).toEqual([]);
    expect(await engine.listImages()).toEqual([]);
  });
});
