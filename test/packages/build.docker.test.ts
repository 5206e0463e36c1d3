import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTar } from '../../src/common/tar.js';
import { docker, events, IMAGE, removeLabelled, runCli, scope, TEST_LABEL } from '../helpers.js';

/**
 * `kiboko build` / `kiboko examine` against the real engine, through the bundled CLI: a two-level
 * build (base, then app FROM base) in a git checkout, the in-image metadata file, an audit, an
 * image with ONBUILD triggers, and the build-container flow.
 */

const s = scope('pkgbuild');
const repo = (name: string) => `kt-${s.id}/${name}`;
const label = `${TEST_LABEL}=${s.id}`;
const dir = join(s.stateDir, 'src');
// No CI variables from the machine running the tests: each build sets its own.
const NO_CI = { CI: '', GITHUB_ACTIONS: '', GITLAB_CI: '', JENKINS_URL: '', JENKINS_HOME: '', CIRCLECI: '', TRAVIS: '', BUILDKITE: '', DRONE: '', TF_BUILD: '', BUILD_TAG: '' };

const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=kiboko', '-c', 'user.email=kiboko@example.com', ...args], { encoding: 'utf8' }).trim();
const kiboko = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { stateDir: s.stateDir, env: { ...NO_CI, ...env } });

async function readFromImage(image: string, path: string): Promise<Buffer> {
  const c = await docker.createContainer({ Image: image, Cmd: ['/never-run'], Labels: { [TEST_LABEL]: s.id } });
  try {
    const stream = (await c.getArchive({ path })) as unknown as NodeJS.ReadableStream;
    const chunks: Buffer[] = [];
    for await (const b of stream) chunks.push(b as Buffer);
    return (await readTar(Buffer.concat(chunks)))[0]!.data;
  } finally {
    await c.remove({ force: true });
  }
}

async function labelsOf(image: string): Promise<Record<string, string>> {
  return (await docker.getImage(image).inspect()).Config.Labels ?? {};
}

async function removeImages() {
  // Children before parents: retry until the labelled images are gone.
  for (let round = 0; round < 5; round++) {
    const images = await docker.listImages({ filters: JSON.stringify({ label: [label] }) });
    if (images.length === 0) return;
    for (const i of images) await docker.getImage(i.Id).remove({ force: true }).catch(() => undefined);
  }
}

let rev1 = '';
let rev2 = '';

beforeAll(() => {
  mkdirSync(join(dir, 'base'), { recursive: true });
  mkdirSync(join(dir, 'app'), { recursive: true });
  writeFileSync(join(dir, 'base', 'Dockerfile'), `FROM ${IMAGE}\nLABEL kiboko.method.validate=/bin/true\nRUN echo base > /base.txt\n`);
  writeFileSync(join(dir, 'app', 'Dockerfile'), `ARG BASE\nFROM \${BASE}\nRUN echo app > /app.txt\nCMD ["sleep", "300"]\n`);
  writeFileSync(join(dir, 'app', '.dockerignore'), 'secret.txt\n');
  writeFileSync(join(dir, 'app', 'secret.txt'), 'not for the image\n');
  git('init', '-q', '-b', 'main');
  git('remote', 'add', 'origin', 'https://builder:hunter2@git.example.com/acme/shop.git');
  git('add', '-A');
  git('commit', '-qm', 'base');
  rev1 = git('rev-parse', 'HEAD');
});

afterAll(async () => {
  await removeLabelled(label);
  await removeImages();
  await s.cleanup();
});

describe('kiboko build / examine (real engine)', () => {
  it('builds two levels; examine shows both with their revisions and tags; the in-image file equals the labels; audit finds the container', async () => {
    const base = await kiboko(['build', '-t', `${repo('base')}:1`, '-t', `${repo('base')}:latest`, '--method', 'start=/bin/start.sh', '--cause', 'release', '--label', label, join(dir, 'base')]);
    expect(base.code, base.stderr).toBe(0);
    expect(base.stdout).toContain(`built ${repo('base')}:1`);
    expect(base.stderr).toContain('Step 1/3');
    expect(base.stderr).not.toContain('kiboko-tmp/');

    writeFileSync(join(dir, 'app', 'README'), 'app\n');
    git('add', '-A');
    git('commit', '-qm', 'app');
    rev2 = git('rev-parse', 'HEAD');
    const app = await kiboko(['build', '--json', '-t', `${repo('app')}:1`, '--build-arg', `BASE=${repo('base')}:1`, '--label', label, join(dir, 'app')], {
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REPOSITORY: 'acme/shop',
      GITHUB_RUN_ID: '1234',
      BUILD_TAG: 'shop-build-1234',
    });
    expect(app.code, app.stderr + app.stdout).toBe(0);
    const built = events(app.stdout).find((e) => e.event === 'built')!;
    expect(built).toMatchObject({ tags: [`${repo('app')}:1`], ancestors: 1 });
    expect(events(app.stdout).some((e) => e.event === 'output')).toBe(false);

    const ex = await kiboko(['examine', '--json', `${repo('app')}:1`]);
    expect(ex.code, ex.stderr).toBe(0);
    const r = JSON.parse(ex.stdout);
    expect(r.kind).toBe('image');
    expect(r.levels).toHaveLength(2);
    expect(r.levels[0]).toMatchObject({
      depth: 0,
      self: false,
      record: {
        image: repo('base'),
        tags: [`${repo('base')}:1`, `${repo('base')}:latest`],
        git: { revision: rev1, ref: 'main', dirty: false, source: 'https://git.example.com/acme/shop' },
        cause: 'release',
        base: { name: IMAGE },
        methods: { validate: '/bin/true', start: '/bin/start.sh' },
      },
    });
    expect(r.levels[1]).toMatchObject({
      depth: 1,
      self: true,
      record: {
        image: repo('app'),
        tags: [`${repo('app')}:1`],
        git: { revision: rev2, ref: 'main', dirty: false },
        cause: 'push',
        ci: { system: 'github-actions', buildTag: 'shop-build-1234' },
        base: { name: `${repo('base')}:1` },
      },
    });
    expect(r.levels[0].record.builtAt < r.levels[1].record.builtAt).toBe(true);
    expect(r.methods.map((m: { name: string }) => m.name)).toEqual(['start', 'validate']);
    expect(r.oci).toMatchObject({ revision: rev2, title: repo('app'), source: 'https://git.example.com/acme/shop', 'base.name': `${repo('base')}:1` });
    expect(JSON.stringify(r)).not.toContain('hunter2');

    // The file in each image holds exactly what its labels hold.
    for (const image of [`${repo('base')}:1`, `${repo('app')}:1`]) {
      const labels = await labelsOf(image);
      expect(labels['kiboko.meta-file']).toBe('/.kiboko/metadata.json');
      const file = JSON.parse((await readFromImage(image, '/.kiboko/metadata.json')).toString('utf8'));
      expect(file).toEqual({ meta: JSON.parse(labels['kiboko.meta']!), ancestry: JSON.parse(labels['kiboko.ancestry']!) });
    }
    // .dockerignore honoured; the user's layers are all there.
    await expect(readFromImage(`${repo('app')}:1`, '/secret.txt')).rejects.toThrow();
    expect((await readFromImage(`${repo('app')}:1`, '/base.txt')).toString()).toBe('base\n');
    // No temporary names left.
    expect((await docker.listImages()).flatMap((i) => i.RepoTags ?? []).filter((t) => t.startsWith('kiboko-tmp/'))).toEqual([]);

    // A container started from app: examine shows its start; the audit finds it by revision and ancestor.
    const c = await docker.createContainer({ Image: `${repo('app')}:1`, name: `${s.prefix}web`, Labels: { [TEST_LABEL]: s.id } });
    await c.start();
    const exc = JSON.parse((await kiboko(['examine', '--json', `${s.prefix}web`])).stdout);
    expect(exc).toMatchObject({ kind: 'container', container: { name: `${s.prefix}web`, status: 'running', restartCount: 0 } });
    expect(exc.container.firstStartedAt).toBeDefined();
    expect(Math.abs(Date.parse(exc.container.firstStartedAt) - Date.parse(exc.container.startedAt))).toBeLessThan(2000);
    expect(exc.levels).toHaveLength(2);

    const names = async (filter: string) => {
      const a = await kiboko(['examine', '--json', '--audit', filter]);
      expect(a.code, a.stderr).toBe(0);
      return events(a.stdout).map((m) => (m.container as { name: string }).name);
    };
    expect(await names(`git.revision=${rev2.slice(0, 8)},ancestor.image=${repo('base')}`)).toContain(`${s.prefix}web`);
    expect(await names(`git.revision=${rev1.slice(0, 8)}`)).not.toContain(`${s.prefix}web`);
    expect(await names('age<1h,ci.system=github-actions,method=start')).toContain(`${s.prefix}web`);
    expect(await names('age>1d')).not.toContain(`${s.prefix}web`);
    const human = await kiboko(['examine', '--audit', `image=${repo('app')}`]);
    expect(human.stdout).toMatch(new RegExp(`^CONTAINER\\s+STATUS\\s+IMAGE`));
    expect(human.stdout).toContain(rev2.slice(0, 10));
    const bad = await kiboko(['examine', '--audit', 'age=7d']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/age takes > >= < <=/);
  });

  it('adds the metadata to an image with ONBUILD triggers without firing them', async () => {
    mkdirSync(join(dir, 'ob'), { recursive: true });
    writeFileSync(join(dir, 'ob', 'Dockerfile'), `FROM ${IMAGE}\nONBUILD RUN echo child > /child.txt\nRUN echo ob > /ob.txt\n`);
    const r = await kiboko(['build', '-q', '-t', `${repo('ob')}:1`, '--label', label, join(dir, 'ob')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/ONBUILD triggers/);
    const inspected = await docker.getImage(`${repo('ob')}:1`).inspect();
    expect(inspected.Config.OnBuild).toEqual(['RUN echo child > /child.txt']);
    await expect(readFromImage(`${repo('ob')}:1`, '/child.txt')).rejects.toThrow();
    const labels = inspected.Config.Labels ?? {};
    const file = JSON.parse((await readFromImage(`${repo('ob')}:1`, '/.kiboko/metadata.json')).toString('utf8'));
    expect(file).toEqual({ meta: JSON.parse(labels['kiboko.meta']!), ancestry: [] });
  });

  it('build container: builds the builder, copies the artifact out, builds the runtime image that contains it', async () => {
    const bc = join(dir, 'bc');
    mkdirSync(bc, { recursive: true });
    writeFileSync(join(bc, 'Dockerfile.build'), `FROM ${IMAGE}\nRUN mkdir -p /out && echo hello > /out/app && chmod 755 /out/app\n`);
    writeFileSync(join(bc, 'Dockerfile'), 'FROM scratch\nCOPY dist/app /app\n');
    const r = await kiboko(['build', '--builder', join(bc, 'Dockerfile.build'), '--artifact', `/out/app:${join(bc, 'dist', 'app')}`, '-t', `${repo('rt')}:1`, '--label', label, bc]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`copied /out/app → ${join(bc, 'dist', 'app')} (6 bytes)`);
    expect(readFileSync(join(bc, 'dist', 'app'), 'utf8')).toBe('hello\n');
    expect((await readFromImage(`${repo('rt')}:1`, '/app')).toString()).toBe('hello\n');
    const meta = JSON.parse((await labelsOf(`${repo('rt')}:1`))['kiboko.meta']!);
    expect(meta.buildContainer).toEqual({ dockerfile: 'Dockerfile.build', artifacts: [{ path: '/out/app', local: join(bc, 'dist', 'app'), bytes: 6 }] });
    // The builder container and image are gone.
    expect(await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['kiboko.role=builder'] }) })).toEqual([]);
    expect((await docker.listImages()).flatMap((i) => i.RepoTags ?? []).filter((t) => t.startsWith('kiboko-tmp/'))).toEqual([]);
    expect(existsSync(join(bc, 'dist'))).toBe(true);

    const missing = await kiboko(['build', '--builder', join(bc, 'Dockerfile.build'), '--artifact', `/nope:${join(bc, 'x')}`, '-t', `${repo('rt')}:2`, '--label', label, bc]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('the builder image has no /nope');
    expect(await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['kiboko.role=builder'] }) })).toEqual([]);
  });
});
