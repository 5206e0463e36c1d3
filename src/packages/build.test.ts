import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { FakeEngine, type BuildOptions } from '../engine/index.js';
import { buildPackage, CONTEXT_METADATA_NAME, type BuildEvent } from './build.js';
import { parseDockerfile, resolveBaseImage } from './dockerfile.js';
import { documentFromLabels, encodeLabels, METADATA_FILE, type GitFacts, type PackageRecord } from './metadata.js';

/**
 * The fake builds images from nothing; this one makes a build inherit its base's labels and
 * ONBUILD triggers (as the engine does), and records the Dockerfile and files each build saw.
 */
class InheritingEngine extends FakeEngine {
  seen: { options: BuildOptions; dockerfile: string; metadata: string | undefined }[] = [];
  onBuild: string[] = [];

  override async buildImage(options: BuildOptions): Promise<string> {
    const dockerfile = options.dockerfileContent ?? readFileSync(join(options.contextDir, options.dockerfile ?? 'Dockerfile'), 'utf8');
    let metadata: string | undefined = options.contextFiles?.[CONTEXT_METADATA_NAME];
    try {
      metadata ??= readFileSync(join(options.contextDir, 'metadata.json'), 'utf8');
    } catch {
      /* not this build */
    }
    this.seen.push({ options, dockerfile, metadata });
    const from = resolveBaseImage(parseDockerfile(dockerfile), { target: options.target, buildArgs: options.buildArgs }).name;
    const base = from ? await this.inspectImage(from).catch(() => undefined) : undefined;
    const id = await super.buildImage(options);
    const own = Object.fromEntries([...dockerfile.matchAll(/^LABEL\s+(\S+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const onBuild = dockerfile.includes('ONBUILD') ? this.onBuild : [];
    this.addImage({ id, tags: [options.tag, ...(options.extraTags ?? [])], labels: { ...base?.labels, ...own, ...options.labels }, onBuild });
    return id;
  }
}

const GIT: GitFacts = { toplevel: '/src/shop', revision: 'c'.repeat(40), ref: 'main', dirty: false };
const NOW = new Date('2026-03-01T12:00:00Z');

let dir: string;
let engine: InheritingEngine;
let events: BuildEvent[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiboko-build-'));
  engine = new InheritingEngine();
  engine.addImage({ tags: ['busybox:latest'] });
  events = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function context(name: string, dockerfile: string): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'Dockerfile'), dockerfile);
  return d;
}

const request = (contextDir: string, tags: string[], over: Partial<Parameters<typeof buildPackage>[1]> = {}) => ({
  contextDir,
  tags,
  env: {},
  now: () => NOW,
  host: 'builder-1',
  gitFacts: GIT,
  onEvent: (e: BuildEvent) => events.push(e),
  ...over,
});

describe('buildPackage', () => {
  it('builds the Dockerfile, then a FROM-it layer with the metadata file and the labels', async () => {
    const ctx = context('base', 'FROM busybox\nLABEL kiboko.method.validate=/bin/v\n');
    const r = await buildPackage(engine, request(ctx, ['acme/base:1', 'acme/base:latest'], { methods: { start: '/bin/s' }, labels: { 'org.opencontainers.image.vendor': 'Acme' } }));
    expect(r.method).toBe('layer');
    const [probe, meta] = engine.seen;
    expect(probe!.options).toMatchObject({ contextDir: ctx, dockerfile: 'Dockerfile', tag: expect.stringMatching(/^kiboko-tmp\/build-[0-9a-f]{12}:probe$/) });
    expect(probe!.options.labels).toBeUndefined();
    expect(meta!.dockerfile).toBe(`FROM ${probe!.options.tag}\nCOPY metadata.json ${METADATA_FILE}\n`);
    expect(meta!.options).toMatchObject({ tag: 'acme/base:1', extraTags: ['acme/base:latest'] });
    // the file and the labels hold the same document
    expect(JSON.parse(meta!.metadata!)).toEqual(documentFromLabels(r.labels));
    expect(r.document.meta).toMatchObject({ project: 'shop', image: 'acme/base', tags: ['acme/base:1', 'acme/base:latest'], builtAt: NOW.toISOString(), cause: 'manual', builtBy: { host: 'builder-1' }, base: { name: 'busybox' }, methods: { validate: '/bin/v', start: '/bin/s' } });
    expect(r.labels).toMatchObject({ 'org.opencontainers.image.vendor': 'Acme', 'org.opencontainers.image.revision': GIT.revision, 'kiboko.method.start': '/bin/s' });
    expect((await engine.inspectImage('acme/base:latest')).id).toBe(r.id);
    expect(await engine.imageExists(probe!.options.tag)).toBe(false);
    expect(events.map((e) => e.type)).toEqual(['build-started', 'build-started', 'built']);
  });

  it('extends the ancestry from the base image’s labels (two levels)', async () => {
    const base = await buildPackage(engine, request(context('base', 'FROM busybox\n'), ['acme/base:1']));
    const app = await buildPackage(engine, request(context('app', 'ARG B=acme/base:1\nFROM $B\nRUN make\n'), ['acme/app:2'], { gitFacts: { ...GIT, revision: 'd'.repeat(40), dirty: true } }));
    expect(app.document.ancestry).toEqual([base.document.meta]);
    expect(app.document.meta.base).toEqual({ name: 'acme/base:1', id: base.id });
    expect(app.document.meta.git).toMatchObject({ revision: 'd'.repeat(40), dirty: true });
    const child = await buildPackage(engine, request(context('child', 'FROM acme/app:2\n'), ['acme/child:3']));
    expect(child.document.ancestry.map((r: PackageRecord) => r.image)).toEqual(['acme/base', 'acme/app']);
  });

  it('rebuilds the Dockerfile with the COPY in the built stage when the image has ONBUILD triggers', async () => {
    engine.onBuild = ['RUN echo child'];
    const text = 'FROM busybox AS one\nRUN a\nONBUILD RUN echo child\nFROM busybox AS two\nRUN b\n';
    const r = await buildPackage(engine, request(context('ob', text), ['acme/ob:1'], { target: 'one', buildArgs: { X: '1' }, noCache: true, pull: true }));
    expect(r.method).toBe('rebuild');
    const [probe, meta] = engine.seen;
    expect(probe!.options).toMatchObject({ target: 'one', buildArgs: { X: '1' }, noCache: true, pull: true });
    expect(meta!.options).toMatchObject({ target: 'one', buildArgs: { X: '1' }, tag: 'acme/ob:1', contextDir: join(dir, 'ob') });
    expect(meta!.options.noCache).toBeUndefined(); // every step from the first build is reused
    expect(meta!.options.dockerfile).toBeUndefined();
    expect(meta!.dockerfile).toBe(`FROM busybox AS one\nRUN a\nONBUILD RUN echo child\nCOPY ${CONTEXT_METADATA_NAME} ${METADATA_FILE}\nFROM busybox AS two\nRUN b\n`);
    expect(JSON.parse(meta!.metadata!)).toEqual(documentFromLabels(r.labels));
    expect(events.some((e) => e.type === 'warning' && /ONBUILD/.test(e.message))).toBe(true);
  });

  it('sends a Dockerfile from outside the context as text', async () => {
    const ctx = context('ctx', 'FROM scratch\n');
    writeFileSync(join(dir, 'Other.dockerfile'), 'FROM busybox\nRUN other\n');
    await buildPackage(engine, request(ctx, ['acme/x:1'], { dockerfile: join(dir, 'Other.dockerfile') }));
    expect(engine.seen[0]!.options).toMatchObject({ dockerfileContent: 'FROM busybox\nRUN other\n' });
    expect(engine.seen[0]!.options.dockerfile).toBeUndefined();
  });

  it('records CI facts and falls back to them without git', async () => {
    const r = await buildPackage(engine, request(context('c', 'FROM busybox\n'), ['acme/c:1'], { gitFacts: null, env: { GITLAB_CI: 'true', CI_PIPELINE_SOURCE: 'schedule', CI_COMMIT_SHA: 'e'.repeat(40), CI_COMMIT_REF_NAME: 'main', BUILD_TAG: 'nightly-1' } }));
    expect(r.document.meta).toMatchObject({ cause: 'schedule', ci: { system: 'gitlab-ci', buildTag: 'nightly-1' }, git: { revision: 'e'.repeat(40), ref: 'main', dirty: false } });
  });

  it('warns about labels it will not take and FROM lines it cannot resolve', async () => {
    await buildPackage(engine, request(context('w', 'ARG V\nFROM busybox${V%%x}\n'), ['acme/w:1'], { labels: { 'kiboko.meta': '{}' }, gitFacts: null }));
    const warnings = events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);
    expect(warnings).toEqual([
      expect.stringMatching(/cannot resolve the FROM line/),
      expect.stringMatching(/not in a git checkout/),
      expect.stringMatching(/label kiboko.meta is set by kiboko/),
    ]);
  });

  it('removes the temporary image when a step fails', async () => {
    const ctx = context('f', 'FROM busybox\n');
    engine.failWith = (op, id) => (op === 'build' && id === 'acme/f:1' ? new KibokoError('ACTION_FAILED', 'build acme/f:1: boom') : undefined);
    await expect(buildPackage(engine, request(ctx, ['acme/f:1']))).rejects.toThrow(/boom/);
    expect((await engine.listImages()).flatMap((i) => i.tags)).toEqual(['busybox:latest']);
  });

  it('checks its input', async () => {
    const ctx = context('i', 'FROM busybox\n');
    await expect(buildPackage(engine, request(ctx, []))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 'no tag given' });
    await expect(buildPackage(engine, request(ctx, ['Bad:Tag']))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(buildPackage(engine, request(join(dir, 'missing'), ['a:1']))).rejects.toMatchObject({ message: expect.stringMatching(/is not a folder/) });
    await expect(buildPackage(engine, request(ctx, ['a:1'], { dockerfile: 'Nope' }))).rejects.toMatchObject({ message: expect.stringMatching(/cannot read the Dockerfile/) });
    expect(engine.seen).toEqual([]);
  });

  it('refuses a final image whose labels are not the ones it set', async () => {
    const ctx = context('r', 'FROM busybox\n');
    const build = engine.buildImage.bind(engine);
    engine.buildImage = async (o) => {
      const id = await build(o);
      if (o.tag === 'acme/r:1') engine.addImage({ id, tags: ['acme/r:1'], labels: encodeLabels({ meta: { ...(documentFromLabels(o.labels ?? {})!.meta), project: 'other' }, ancestry: [] }) });
      return id;
    };
    await expect(buildPackage(engine, request(ctx, ['acme/r:1']))).rejects.toMatchObject({ code: 'ACTION_FAILED' });
  });
});
