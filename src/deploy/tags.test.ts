import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { type ServiceSpec, type TagPolicy } from './model.js';
import { newService } from './model.js';
import { compareBuildTags, parseBuildTag, parseImageRef, resolveImage, setTagInComposeFile } from './tags.js';

const root = mkdtempSync(join(tmpdir(), 'kiboko-tags-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function file(text: string): string {
  const p = join(root, `compose${n++}.yaml`);
  writeFileSync(p, text);
  return p;
}

function caught(fn: () => unknown): KibokoError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KibokoError);
    return err as KibokoError;
  }
  throw new Error('expected an error');
}

function svc(image: string, tagPolicy: TagPolicy): ServiceSpec {
  return newService('app', image, { tagPolicy });
}

describe('parseImageRef', () => {
  it.each([
    ['nginx', 'nginx', 'latest'],
    ['nginx:1.27', 'nginx', '1.27'],
    ['repo/name:58-develop', 'repo/name', '58-develop'],
    ['localhost:5000/x:1', 'localhost:5000/x', '1'],
    ['localhost:5000/x', 'localhost:5000/x', 'latest'],
    ['registry.example.com:443/team/app:100-feature-x', 'registry.example.com:443/team/app', '100-feature-x'],
    ['repo/name:2@sha256:abcdef0123', 'repo/name', '2'],
    ['repo/name@sha256:abcdef0123', 'repo/name', 'latest'],
    ['localhost:5000/x@sha256:abcdef0123', 'localhost:5000/x', 'latest'],
  ])('%s → repo %s, tag %s', (ref, repo, tag) => {
    expect(parseImageRef(ref)).toEqual({ repo, tag });
  });
});

describe('parseBuildTag', () => {
  it.each([
    ['58-develop', { build: 58, branch: 'develop' }],
    ['100-feature-x', { build: 100, branch: 'feature-x' }],
    ['007-main', { build: 7, branch: 'main' }],
    ['1-release-2.3', { build: 1, branch: 'release-2.3' }],
  ])('%s', (tag, want) => {
    expect(parseBuildTag(tag)).toEqual(want);
  });

  it.each(['latest', 'develop-58', '58', '58-', '-develop', 'v58-develop', '1.2-develop'])('%s is not a build tag', (tag) => {
    expect(parseBuildTag(tag)).toBeUndefined();
  });
});

describe('compareBuildTags', () => {
  it('compares build numbers numerically, not as text', () => {
    expect(compareBuildTags('100-develop', '58-develop')).toBeGreaterThan(0);
    expect(compareBuildTags('58-develop', '9-develop')).toBeGreaterThan(0);
    expect(compareBuildTags('9-develop', '100-develop')).toBeLessThan(0);
    expect(compareBuildTags('58-develop', '58-develop')).toBe(0);
    expect(['58-develop', '100-develop', '9-develop'].sort(compareBuildTags)).toEqual(['9-develop', '58-develop', '100-develop']);
  });

  it('falls back to text order when a tag is not a build tag', () => {
    expect(compareBuildTags('a', 'b')).toBeLessThan(0);
    expect(compareBuildTags('latest', 'latest')).toBe(0);
  });
});

describe('resolveImage', () => {
  const available = [
    'reg:5000/app:58-develop',
    'reg:5000/app:100-develop',
    'reg:5000/app:9-develop',
    'reg:5000/app:200-feature-x',
    'reg:5000/other:300-develop',
    'reg:5000/app:latest',
    'reg:5000/app-extra:400-develop',
  ];

  it('keeps a pinned image as written', () => {
    expect(resolveImage(svc('reg:5000/app:58-develop', { kind: 'pinned' }), available)).toEqual({ image: 'reg:5000/app:58-develop' });
  });

  it('follows the newest build of the same repository and branch', () => {
    const r = resolveImage(svc('reg:5000/app:58-develop', { kind: 'follow-branch', branch: 'develop' }), available);
    expect(r.image).toBe('reg:5000/app:100-develop');
    expect(r.cause).toContain('100-develop');
    expect(r.cause).toContain('develop');
  });

  it('looks only at its own branch', () => {
    expect(resolveImage(svc('reg:5000/app:1-feature-x', { kind: 'follow-branch', branch: 'feature-x' }), available).image).toBe('reg:5000/app:200-feature-x');
  });

  it('counts the written tag: a newer written tag stays, with no cause', () => {
    expect(resolveImage(svc('reg:5000/app:500-develop', { kind: 'follow-branch', branch: 'develop' }), available)).toEqual({ image: 'reg:5000/app:500-develop' });
  });

  it('with no candidates leaves the image unchanged', () => {
    expect(resolveImage(svc('reg:5000/app:latest', { kind: 'follow-branch', branch: 'main' }), available)).toEqual({ image: 'reg:5000/app:latest' });
    expect(resolveImage(svc('reg:5000/app:latest', { kind: 'follow-branch', branch: 'develop' }), [])).toEqual({ image: 'reg:5000/app:latest' });
  });

  it('picks a build when the written tag is not one', () => {
    expect(resolveImage(svc('reg:5000/app:latest', { kind: 'follow-branch', branch: 'develop' }), available).image).toBe('reg:5000/app:100-develop');
  });
});

describe('setTagInComposeFile', () => {
  const doc = (image: string) =>
    [
      '# deployed by CI — keep this comment',
      'services:',
      '  web:   # the front',
      `    image: ${image}   # bumped by kiboko deploy set-tag`,
      '    ports: ["8080:80"]   # flow sequence',
      '    environment: { A: "1", B: \'2\' }',
      '  db:',
      '    image: postgres:16',
      '',
    ].join('\n');

  it.each([
    ['plain', 'reg:5000/web:58-develop', 'reg:5000/web:100-develop'],
    ['double-quoted', '"reg:5000/web:58-develop"', '"reg:5000/web:100-develop"'],
    ['single-quoted', "'reg:5000/web:58-develop'", "'reg:5000/web:100-develop'"],
  ])('rewrites a %s scalar and nothing else', (_kind, before, after) => {
    const p = file(doc(before));
    const r = setTagInComposeFile(p, 'web', '100-develop');
    expect(r).toEqual({ before: 'reg:5000/web:58-develop', after: 'reg:5000/web:100-develop' });
    expect(readFileSync(p, 'utf8')).toBe(doc(after));
  });

  it('works in a flow-style services map', () => {
    const text = '{services: {web: {image: "a/b:1", ports: ["80:80"]}, db: {image: c:2}}} # all flow\n';
    const p = file(text);
    setTagInComposeFile(p, 'web', '2');
    expect(readFileSync(p, 'utf8')).toBe(text.replace('a/b:1', 'a/b:2'));
    setTagInComposeFile(p, 'db', '3');
    expect(readFileSync(p, 'utf8')).toBe(text.replace('a/b:1', 'a/b:2').replace('c:2', 'c:3'));
  });

  it('adds a tag to an image written without one', () => {
    const p = file('services:\n  web:\n    image: nginx\n');
    expect(setTagInComposeFile(p, 'web', '1.27')).toEqual({ before: 'nginx', after: 'nginx:1.27' });
    expect(readFileSync(p, 'utf8')).toBe('services:\n  web:\n    image: nginx:1.27\n');
  });

  it('keeps CRLF line endings', () => {
    const text = 'services:\r\n  web:\r\n    image: a:1 # x\r\n';
    const p = file(text);
    setTagInComposeFile(p, 'web', '2');
    expect(readFileSync(p, 'utf8')).toBe('services:\r\n  web:\r\n    image: a:2 # x\r\n');
  });

  it('an unknown service is TARGET_NOT_FOUND and leaves the file alone', () => {
    const text = doc('a:1');
    const p = file(text);
    expect(caught(() => setTagInComposeFile(p, 'nope', '2')).code).toBe('TARGET_NOT_FOUND');
    expect(readFileSync(p, 'utf8')).toBe(text);
  });

  it('a service without an image is TARGET_NOT_FOUND', () => {
    const p = file('services:\n  web:\n    build: .\n');
    expect(caught(() => setTagInComposeFile(p, 'web', '2')).code).toBe('TARGET_NOT_FOUND');
  });

  it.each(['', '-1', '.x', 'a b', 'a:b', 'a/b', 'x'.repeat(129), 'tag\n'])('invalid tag %j is INVALID_ARGUMENT and the file is unchanged', (tag) => {
    const text = doc('a:1');
    const p = file(text);
    expect(caught(() => setTagInComposeFile(p, 'web', tag)).code).toBe('INVALID_ARGUMENT');
    expect(readFileSync(p, 'utf8')).toBe(text);
  });

  it('invalid YAML is INVALID_ARGUMENT and the file is unchanged', () => {
    const text = 'services:\n  web:\n    image: [a:1\n';
    const p = file(text);
    expect(caught(() => setTagInComposeFile(p, 'web', '2')).code).toBe('INVALID_ARGUMENT');
    expect(readFileSync(p, 'utf8')).toBe(text);
  });

  it('leaves no temporary file behind', () => {
    const dir = mkdtempSync(join(root, 'clean-'));
    const p = join(dir, 'compose.yaml');
    writeFileSync(p, doc('a:1'));
    setTagInComposeFile(p, 'web', '2');
    expect(readdirSync(dir)).toEqual(['compose.yaml']);
  });

  it('property: only the tag substring changes, in every quoting style', () => {
    const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/);
    const quoting = fc.constantFrom('plain', 'double', 'single');
    const dir = mkdtempSync(join(root, 'prop-'));
    const p = join(dir, 'compose.yaml');
    fc.assert(
      fc.property(tag, tag, quoting, (oldTag, newTag, q) => {
        const wrap = (t: string) => {
          const ref = `localhost:5000/team/web:${t}`;
          return q === 'double' ? `"${ref}"` : q === 'single' ? `'${ref}'` : ref;
        };
        const before = `# top\nservices:\n  web:\n    image: ${wrap(oldTag)} # tag here\n    command: ["x", 'y']\n  other: {image: o:1}\n`;
        const after = `# top\nservices:\n  web:\n    image: ${wrap(newTag)} # tag here\n    command: ["x", 'y']\n  other: {image: o:1}\n`;
        writeFileSync(p, before);
        const r = setTagInComposeFile(p, 'web', newTag);
        expect(r.after).toBe(`localhost:5000/team/web:${newTag}`);
        expect(readFileSync(p, 'utf8')).toBe(after);
      }),
      { numRuns: 200 },
    );
  });
});

describe('tag policies for deploy hooks', () => {
  it('parses the one-word forms and prints them back', async () => {
    const { parseTagPolicy, formatTagPolicy } = await import('./tags.js');
    for (const [text, policy] of [
      ['pinned', { kind: 'pinned' }],
      ['any', { kind: 'pinned' }],
      ['semver', { kind: 'semver' }],
      ['semver-major-locked', { kind: 'semver', lock: 'major' }],
      ['follow:develop', { kind: 'follow-branch', branch: 'develop' }],
      ['regex:^v[0-9]+$', { kind: 'regex', pattern: '^v[0-9]+$' }],
    ] as const) {
      expect(parseTagPolicy(text)).toEqual(policy);
      if (text !== 'any') expect(formatTagPolicy(parseTagPolicy(text))).toBe(text);
    }
    for (const bad of ['', 'semver-minor', 'follow:', 'follow:a/b', 'regex:', 'regex:(x', 'regex:a\\1']) expect(caught(() => parseTagPolicy(bad)).code).toBe('INVALID_ARGUMENT');
  });

  it('accepts and refuses tags as each policy says', async () => {
    const { checkTagPolicy, compareSemver } = await import('./tags.js');
    const ok = (p: TagPolicy, cur: string, next: string) => checkTagPolicy(p, cur, next).ok;
    expect(ok({ kind: 'pinned' }, '1', 'anything')).toBe(true);
    expect(ok({ kind: 'semver' }, '1.2.3', '1.10.0')).toBe(true);
    expect(ok({ kind: 'semver' }, '1.2.3', 'v2.0.0')).toBe(true);
    expect(ok({ kind: 'semver' }, '1.2.3', '1.2.2')).toBe(false);
    expect(ok({ kind: 'semver' }, '1.2.3', 'latest')).toBe(false);
    expect(ok({ kind: 'semver' }, 'latest', '0.1.0')).toBe(true);
    expect(ok({ kind: 'semver', lock: 'major' }, '1.2.3', '1.9.0')).toBe(true);
    expect(ok({ kind: 'semver', lock: 'major' }, '1.2.3', '2.0.0')).toBe(false);
    expect(ok({ kind: 'follow-branch', branch: 'develop' }, '58-develop', '100-develop')).toBe(true);
    expect(ok({ kind: 'follow-branch', branch: 'develop' }, '58-develop', '57-develop')).toBe(false);
    expect(ok({ kind: 'follow-branch', branch: 'develop' }, '58-develop', '100-main')).toBe(false);
    expect(ok({ kind: 'regex', pattern: 'v[0-9]+' }, 'v1', 'v22')).toBe(true);
    expect(ok({ kind: 'regex', pattern: 'v[0-9]+' }, 'v1', 'xv22')).toBe(false);
    expect(ok({ kind: 'semver' }, '2.0.0', '2.0.0')).toBe(true);
    expect(['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0'].every((v, i, a) => i === 0 || compareSemver(a[i - 1]!, v) < 0)).toBe(true);
  });
});
