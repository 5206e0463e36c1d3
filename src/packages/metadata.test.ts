import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { thrown } from '../../test/expect-error.js';
import {
  ancestryOf,
  buildRecord,
  decodeMetadata,
  detectCi,
  documentFromLabels,
  encodeLabels,
  METADATA_FILE,
  metadataFileText,
  methodsFromLabels,
  parseImageTag,
  parseMethodOption,
  readGitInfo,
  sanitizeRemoteUrl,
  type GitFacts,
  type PackageRecord,
} from './metadata.js';

const NOW = '2026-03-01T12:00:00.000Z';
const git: GitFacts = { toplevel: '/src/shop', revision: 'a'.repeat(40), ref: 'main', describe: 'v1.2-3-gaaaaaaa', dirty: false, source: 'https://git.example/acme/shop' };

const record = (over: Partial<Parameters<typeof buildRecord>[0]> = {}): PackageRecord =>
  buildRecord({ project: 'shop', tags: ['acme/app:1.2', 'acme/app:latest'], builtAt: NOW, host: 'ci-7', kibokoVersion: '0.1.0', git, ...over });

describe('parseImageTag', () => {
  it('splits repository and tag, with a registry port', () => {
    expect(parseImageTag('acme/app:1.2')).toEqual({ repo: 'acme/app', tag: '1.2' });
    expect(parseImageTag('registry.local:5000/acme/app')).toEqual({ repo: 'registry.local:5000/acme/app', tag: 'latest' });
    expect(parseImageTag('app_x-y.z:v1_2.3-rc')).toEqual({ repo: 'app_x-y.z', tag: 'v1_2.3-rc' });
  });

  it('rejects upper case, digests and junk', () => {
    for (const bad of ['Acme/app', 'app@sha256:abc', 'app:', ':tag', 'a b', 'app:-x', '']) {
      expect(thrown(() => parseImageTag(bad)).message).toMatch(/expected name\[:tag\]/);
    }
  });
});

describe('detectCi', () => {
  it('is undefined outside CI and generic with CI=true', () => {
    expect(detectCi({})).toBeUndefined();
    expect(detectCi({ CI: 'false' })).toBeUndefined();
    expect(detectCi({ CI: 'true' })).toEqual({ system: 'ci' });
    expect(detectCi({ BUILD_TAG: 'nightly-42' })).toEqual({ system: 'ci', buildTag: 'nightly-42' });
  });

  it('reads each system’s variables', () => {
    expect(
      detectCi({ GITHUB_ACTIONS: 'true', GITHUB_REPOSITORY: 'acme/shop', GITHUB_RUN_ID: '99', GITHUB_RUN_ATTEMPT: '2', GITHUB_SERVER_URL: 'https://github.com', GITHUB_EVENT_NAME: 'push', GITHUB_SHA: 'abc', GITHUB_REF_NAME: 'main' }),
    ).toEqual({ system: 'github-actions', buildTag: 'github-acme-shop-99-2', url: 'https://github.com/acme/shop/actions/runs/99', cause: 'push', revision: 'abc', ref: 'main' });
    expect(detectCi({ GITLAB_CI: 'true', CI: 'true', CI_PROJECT_PATH_SLUG: 'acme-shop', CI_PIPELINE_ID: '7', CI_JOB_ID: '8', CI_JOB_URL: 'https://gl/j/8', CI_PIPELINE_SOURCE: 'schedule', CI_COMMIT_SHA: 'def', CI_COMMIT_REF_NAME: 'dev' })).toEqual({
      system: 'gitlab-ci',
      buildTag: 'gitlab-acme-shop-7-8',
      url: 'https://gl/j/8',
      cause: 'schedule',
      revision: 'def',
      ref: 'dev',
    });
    expect(detectCi({ JENKINS_URL: 'https://j/', BUILD_TAG: 'jenkins-shop-12', BUILD_URL: 'https://j/job/shop/12/', GIT_COMMIT: 'c0', GIT_BRANCH: 'origin/main' })).toEqual({
      system: 'jenkins',
      buildTag: 'jenkins-shop-12',
      url: 'https://j/job/shop/12/',
      revision: 'c0',
      ref: 'main',
    });
    expect(detectCi({ CIRCLECI: 'true', CIRCLE_PROJECT_REPONAME: 'shop', CIRCLE_BUILD_NUM: '5', CIRCLE_TAG: 'v1', CIRCLE_SHA1: 'c1' })).toMatchObject({ system: 'circleci', buildTag: 'circleci-shop-5', cause: 'tag', ref: 'v1' });
    expect(detectCi({ TRAVIS: 'true', TRAVIS_REPO_SLUG: 'acme/shop', TRAVIS_BUILD_NUMBER: '3', TRAVIS_EVENT_TYPE: 'cron', TRAVIS_BRANCH: 'main' })).toMatchObject({ system: 'travis-ci', buildTag: 'travis-acme-shop-3', cause: 'cron', ref: 'main' });
    expect(detectCi({ BUILDKITE: 'true', BUILDKITE_PIPELINE_SLUG: 'shop', BUILDKITE_BUILD_NUMBER: '4', BUILDKITE_SOURCE: 'ui', BUILDKITE_BRANCH: 'main' })).toMatchObject({ system: 'buildkite', buildTag: 'buildkite-shop-4', cause: 'ui' });
    expect(detectCi({ DRONE: 'true', DRONE_REPO: 'acme/shop', DRONE_BUILD_NUMBER: '6', DRONE_BUILD_EVENT: 'promote', DRONE_BUILD_LINK: 'https://d/6' })).toMatchObject({ system: 'drone', buildTag: 'drone-acme-shop-6', cause: 'promote', url: 'https://d/6' });
    expect(
      detectCi({ TF_BUILD: 'True', BUILD_DEFINITIONNAME: 'shop ci', BUILD_BUILDNUMBER: '20260301.1', BUILD_BUILDID: '77', BUILD_REASON: 'IndividualCI', SYSTEM_COLLECTIONURI: 'https://dev.azure.com/acme', SYSTEM_TEAMPROJECT: 'Shop', BUILD_SOURCEBRANCH: 'refs/heads/main' }),
    ).toEqual({ system: 'azure-pipelines', buildTag: 'azure-shop-ci-20260301.1', url: 'https://dev.azure.com/acme/Shop/_build/results?buildId=77', cause: 'IndividualCI', ref: 'main' });
  });

  it('lets BUILD_TAG name the build on any system', () => {
    expect(detectCi({ GITHUB_ACTIONS: 'true', BUILD_TAG: 'release-9' })).toMatchObject({ system: 'github-actions', buildTag: 'release-9' });
  });
});

describe('sanitizeRemoteUrl', () => {
  it('drops credentials and normalises scp-like addresses', () => {
    expect(sanitizeRemoteUrl('https://user:token@github.com/acme/shop.git')).toBe('https://github.com/acme/shop');
    expect(sanitizeRemoteUrl('git@github.com:acme/shop.git')).toBe('https://github.com/acme/shop');
    expect(sanitizeRemoteUrl('ssh://git@git.example:2222/acme/shop.git')).toBe('ssh://git.example:2222/acme/shop.git');
    expect(sanitizeRemoteUrl('https://oauth2:x@gitlab.com/a/b?private_token=y')).toBe('https://gitlab.com/a/b');
    expect(sanitizeRemoteUrl('/srv/git/shop.git')).toBe('/srv/git/shop.git');
    expect(sanitizeRemoteUrl('file:///srv/git/shop.git')).toBe('file:///srv/git/shop.git');
  });
});

describe('buildRecord', () => {
  it('records project, image, tags, git, time, host and methods', () => {
    const r = record({ methods: { validate: '/srv/bin/validate.sh' }, base: { name: 'acme/base:1', id: 'sha256:b' } });
    expect(r).toEqual({
      schema: 1,
      project: 'shop',
      image: 'acme/app',
      tags: ['acme/app:1.2', 'acme/app:latest'],
      version: '1.2',
      git: { revision: 'a'.repeat(40), ref: 'main', describe: 'v1.2-3-gaaaaaaa', dirty: false, source: 'https://git.example/acme/shop' },
      builtAt: NOW,
      cause: 'manual',
      builtBy: { host: 'ci-7', kiboko: '0.1.0' },
      base: { name: 'acme/base:1', id: 'sha256:b' },
      methods: { validate: '/srv/bin/validate.sh' },
    });
  });

  it('takes the version from --image-version, then the git tag at HEAD, then the main tag (not latest)', () => {
    expect(record({ version: '9' }).version).toBe('9');
    expect(record({ git: { ...git, exactTag: 'v1.2.0' } }).version).toBe('v1.2.0');
    expect(record({ tags: ['acme/app'] }).version).toBeUndefined();
  });

  it('fills cause, CI build and missing git facts from the CI', () => {
    const ci = { system: 'github-actions', buildTag: 'gh-1', cause: 'push', revision: 'b'.repeat(40), ref: 'main', url: 'https://x' };
    expect(record({ ci })).toMatchObject({ cause: 'push', ci: { system: 'github-actions', buildTag: 'gh-1', url: 'https://x' } });
    expect(record({ ci, cause: 'release' }).cause).toBe('release');
    expect(record({ ci: { system: 'ci' } }).cause).toBe('ci');
    expect(record({ ci, git: undefined }).git).toEqual({ revision: 'b'.repeat(40), ref: 'main', dirty: false });
    // A detached checkout (typical in CI) gets its ref from the CI.
    expect(record({ ci, git: { ...git, ref: undefined } }).git?.ref).toBe('main');
  });

  it('normalises tags and drops duplicates', () => {
    expect(record({ tags: ['acme/app', 'acme/app:latest', 'acme/app:2'] }).tags).toEqual(['acme/app:latest', 'acme/app:2']);
  });
});

describe('labels', () => {
  const baseRecord = record({ tags: ['acme/base:1'] });
  const appRecord = record({ base: { name: 'acme/base:1' } });

  it('encodes OCI keys, the record, the ancestry and the methods; decodes them back', () => {
    const labels = encodeLabels({ meta: { ...appRecord, methods: { validate: '/v' } }, ancestry: [baseRecord] }, { 'org.opencontainers.image.vendor': 'Acme' });
    expect(labels).toMatchObject({
      'org.opencontainers.image.created': NOW,
      'org.opencontainers.image.revision': 'a'.repeat(40),
      'org.opencontainers.image.source': 'https://git.example/acme/shop',
      'org.opencontainers.image.version': '1.2',
      'org.opencontainers.image.title': 'acme/app',
      'org.opencontainers.image.base.name': 'acme/base:1',
      'org.opencontainers.image.vendor': 'Acme',
      'kiboko.method.validate': '/v',
      'kiboko.meta-file': METADATA_FILE,
    });
    const d = decodeMetadata(labels);
    expect(d.meta).toEqual({ ...appRecord, methods: { validate: '/v' } });
    expect(d.ancestry).toEqual([baseRecord]);
    expect(d.methods).toEqual({ validate: '/v' });
    expect(d.oci.vendor).toBe('Acme');
    expect(d.warnings).toEqual([]);
  });

  it('sets unknown OCI keys to empty so a child never shows its base’s values', () => {
    const labels = encodeLabels({ meta: record({ git: undefined }), ancestry: [] });
    expect(labels['org.opencontainers.image.revision']).toBe('');
    expect(labels['org.opencontainers.image.base.name']).toBe('');
    expect(decodeMetadata(labels).oci.revision).toBeUndefined();
  });

  it('does not let user labels replace kiboko’s own keys', () => {
    const labels = encodeLabels({ meta: appRecord, ancestry: [] }, { 'kiboko.meta': '{}', 'kiboko.ancestry': '[]' });
    expect(JSON.parse(labels['kiboko.meta']!)).toEqual(appRecord);
  });

  it('extends the chain oldest first: a child of app carries [base, app]', () => {
    const baseLabels = encodeLabels({ meta: baseRecord, ancestry: [] });
    const appLabels = encodeLabels({ meta: appRecord, ancestry: ancestryOf(baseLabels).ancestry });
    expect(ancestryOf(appLabels).ancestry.map((r) => r.image)).toEqual(['acme/base', 'acme/app']);
    expect(ancestryOf({}).ancestry).toEqual([]);
  });

  it('keeps fields from newer kiboko versions', () => {
    const labels = { 'kiboko.meta': JSON.stringify({ ...appRecord, sbom: 'x' }) };
    expect(decodeMetadata(labels).meta).toMatchObject({ sbom: 'x' });
  });

  it('is tolerant of broken labels: warnings, never a throw', () => {
    const d = decodeMetadata({ 'kiboko.meta': '{not json', 'kiboko.ancestry': JSON.stringify([{ schema: 1 }, baseRecord]) });
    expect(d.meta).toBeUndefined();
    expect(d.ancestry).toEqual([baseRecord]);
    expect(d.warnings).toHaveLength(2);
    expect(decodeMetadata({ 'kiboko.ancestry': '{}' }).warnings[0]).toMatch(/not a JSON array/);
  });

  it('the file text holds exactly what the labels hold', () => {
    const doc = { meta: appRecord, ancestry: [baseRecord] };
    const labels = encodeLabels(doc);
    expect(JSON.parse(metadataFileText(doc))).toEqual(documentFromLabels(labels));
    expect(documentFromLabels({})).toBeUndefined();
  });
});

describe('methods', () => {
  it('reads kiboko.method.* labels, leaving out empty ones', () => {
    expect(methodsFromLabels({ 'kiboko.method.validate': '/v', 'kiboko.method.start': '', 'kiboko.method.': 'x', other: 'y' })).toEqual({ validate: '/v' });
  });

  it('parses --method name=command and checks the command as kiboko lifecycle will', () => {
    expect(parseMethodOption('validate=/srv/bin/validate.sh --quick')).toEqual(['validate', '/srv/bin/validate.sh --quick']);
    expect(parseMethodOption('metrics=["/bin/m","a b"]')).toEqual(['metrics', '["/bin/m","a b"]']);
    expect(thrown(() => parseMethodOption('validate')).message).toMatch(/expected name=command/);
    expect(thrown(() => parseMethodOption('bad name=/x')).message).toMatch(/invalid method name/);
    expect(thrown(() => parseMethodOption('validate=[1]')).message).toMatch(/invalid --method/);
  });
});

describe('readGitInfo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiboko-git-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { encoding: 'utf8' }).trim();

  it('is undefined outside a repository or before the first commit', async () => {
    expect(await readGitInfo(dir)).toBeUndefined();
    run('init', '-q', '-b', 'main');
    expect(await readGitInfo(dir)).toBeUndefined();
  });

  it('reads revision, branch, tag, dirty (under the context only) and a clean remote URL', async () => {
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'app', 'Dockerfile'), 'FROM scratch\n');
    run('add', '-A');
    run('commit', '-qm', 'one');
    run('tag', 'v1.0.0');
    run('remote', 'add', 'origin', 'https://me:secret@git.example/acme/shop.git');
    const head = run('rev-parse', 'HEAD');
    const clean = await readGitInfo(join(dir, 'app'));
    expect(clean).toMatchObject({ revision: head, ref: 'main', dirty: false, exactTag: 'v1.0.0', describe: 'v1.0.0', source: 'https://git.example/acme/shop' });
    writeFileSync(join(dir, 'elsewhere.txt'), 'x');
    expect((await readGitInfo(join(dir, 'app')))?.dirty).toBe(false);
    writeFileSync(join(dir, 'app', 'new.txt'), 'x');
    expect((await readGitInfo(join(dir, 'app')))?.dirty).toBe(true);
    run('checkout', '-q', '--detach');
    expect((await readGitInfo(dir))?.ref).toBe('v1.0.0');
  });
});
