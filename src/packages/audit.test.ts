import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { FakeEngine } from '../engine/index.js';
import { thrown } from '../../test/expect-error.js';
import { audit, matchesAudit, parseAge, parseAuditFilter } from './audit.js';
import { buildRecord, encodeLabels, type PackageRecord } from './metadata.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-10T00:00:00Z');

const rec = (over: Partial<PackageRecord> = {}): PackageRecord => ({
  ...buildRecord({
    project: 'shop',
    tags: ['acme/app:1.2', 'acme/app:latest'],
    builtAt: new Date(NOW - 3 * DAY).toISOString(),
    host: 'ci-7',
    kibokoVersion: '0.1.0',
    git: { toplevel: '/s', revision: '3f2a9c1d'.padEnd(40, '0'), ref: 'main', dirty: false },
    ci: { system: 'github-actions', buildTag: 'gh-1', cause: 'push' },
    methods: { validate: '/v' },
  }),
  ...over,
});
const base = rec({ project: 'platform', image: 'acme/base', tags: ['acme/base:1'], git: { revision: 'b0b0'.padEnd(40, '1'), ref: 'release', dirty: true }, builtAt: new Date(NOW - 40 * DAY).toISOString() });

/** `null`: an image kiboko did not build. */
const matches = (filter: string, meta: PackageRecord | null = rec(), ancestry: PackageRecord[] = [base]) => matchesAudit(parseAuditFilter(filter), meta ?? undefined, ancestry, NOW);

describe('parseAuditFilter', () => {
  it('parses conditions joined by commas', () => {
    const c = parseAuditFilter(' git.ref = main , age>7d,dirty=true ');
    expect(c.map((x) => x.source)).toEqual(['git.ref = main', 'age>7d', 'dirty=true']);
    expect(c[0]).toMatchObject({ kind: 'text', field: 'git.ref', op: '=', value: 'main', ancestor: false });
    expect(c[1]).toMatchObject({ kind: 'age', op: '>', ms: 7 * DAY });
    expect(c[2]).toMatchObject({ kind: 'bool', field: 'git.dirty', value: true });
  });

  it('lets a regex run to the end, commas included', () => {
    const c = parseAuditFilter('project=shop,tag~^acme/app:(1|2),3$');
    expect(c).toHaveLength(2);
    expect(c[1]).toMatchObject({ kind: 'text', field: 'tag', op: '~', value: '^acme/app:(1|2),3$' });
  });

  it.each([
    ['', /empty --audit filter/],
    ['colour=blue', /unknown field 'colour'/],
    ['git.revision=xyz', /at least 4 hex digits/],
    ['age=7d', /age takes > >= < <=/],
    ['age>7 days', /expected a duration/],
    ['project>x', /project takes = != ~ !~/],
    ['dirty=maybe', /expected true or false/],
    ['built<yesterday', /ISO date/],
    ['project', /expected FIELD OP VALUE/],
    ['image~(', /invalid regex/],
    ['project=', /expected a value/],
  ])('rejects %j with a hint', (filter, message) => {
    const err = thrown(() => parseAuditFilter(filter));
    expect(err.message).toMatch(message);
    expect(err.hint).toBeTruthy();
  });

  it('never throws anything but INVALID_ARGUMENT', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          parseAuditFilter(s);
        } catch (err) {
          expect(err).toBeInstanceOf(KibokoError);
          expect((err as KibokoError).code).toBe('INVALID_ARGUMENT');
        }
      }),
    );
  });

  it('parses ages in w, d, h, m, s', () => {
    expect(parseAge('2w')).toBe(14 * DAY);
    expect(parseAge('1d12h')).toBe(1.5 * DAY);
    expect(parseAge('90m')).toBe(5_400_000);
  });
});

describe('matchesAudit', () => {
  it('compares text fields, tags and regexes', () => {
    expect(matches('project=shop')).toBe(true);
    expect(matches('project!=shop')).toBe(false);
    expect(matches('image=acme/app,version=1.2,cause=push,host=ci-7,ci.system=github-actions,ci.build=gh-1')).toBe(true);
    expect(matches('tag=acme/app:latest')).toBe(true);
    expect(matches('tag=1.2')).toBe(true);
    expect(matches('tag=2')).toBe(false);
    expect(matches('image~^acme/')).toBe(true);
    expect(matches('image!~^acme/')).toBe(false);
  });

  it('matches a revision by prefix, case-insensitively', () => {
    expect(matches('git.revision=3f2a')).toBe(true);
    expect(matches('git.revision=3F2A9C1D')).toBe(true);
    expect(matches('git.revision=3f2b')).toBe(false);
    expect(matches('git.revision!=3f2b')).toBe(true);
  });

  it('treats a missing fact as never equal', () => {
    const noGit = rec({ git: undefined, ci: undefined });
    expect(matches('git.ref=main', noGit)).toBe(false);
    expect(matches('git.ref!=main', noGit)).toBe(true);
    expect(matches('git.revision=3f2a', noGit)).toBe(false);
    expect(matches('dirty=false', noGit)).toBe(false);
    expect(matches('ci.system~.', noGit)).toBe(false);
  });

  it('compares age and build time with an injected now', () => {
    expect(matches('age>2d')).toBe(true);
    expect(matches('age>7d')).toBe(false);
    expect(matches('age<=3d')).toBe(true);
    expect(matches('built<2026-03-08')).toBe(true);
    expect(matches('built>=2026-03-08')).toBe(false);
  });

  it('checks declared methods and whether kiboko built the image at all', () => {
    expect(matches('method=validate')).toBe(true);
    expect(matches('method!=metrics')).toBe(true);
    expect(matches('meta=true')).toBe(true);
    expect(matches('meta=false', null, [])).toBe(true);
    expect(matches('meta=true', null, [])).toBe(false);
    expect(matches('project=shop', null, [])).toBe(false);
    expect(matches('project!=shop', null, [])).toBe(true);
  });

  it('ancestor.<field>: any ancestor for =, no ancestor for !=', () => {
    expect(matches('ancestor.image=acme/base')).toBe(true);
    expect(matches('ancestor.image=acme/app')).toBe(false);
    expect(matches('ancestor.dirty=true,ancestor.git.ref=release,ancestor.age>30d')).toBe(true);
    expect(matches('ancestor.project!=platform')).toBe(false);
    expect(matches('ancestor.project!=other')).toBe(true);
    expect(matches('ancestor.image=acme/base', rec(), [])).toBe(false);
  });
});

describe('audit (fake engine)', () => {
  it('lists running containers whose image metadata matches, inspecting each image once', async () => {
    const engine = new FakeEngine();
    const app = engine.addImage({ tags: ['acme/app:1.2'], labels: encodeLabels({ meta: rec(), ancestry: [base] }) });
    const other = engine.addImage({ tags: ['acme/other:1'], labels: encodeLabels({ meta: rec({ project: 'other', git: undefined }), ancestry: [] }) });
    const plain = engine.addImage({ tags: ['busybox:latest'] });
    engine.add({ name: 'web-2', image: 'acme/app:1.2', imageId: app.id });
    engine.add({ name: 'web-1', image: 'acme/app:1.2', imageId: app.id, startedAt: '2026-03-09T00:00:00.000Z' });
    engine.add({ name: 'old', image: 'acme/app:1.2', imageId: app.id, status: 'exited' });
    engine.add({ name: 'other', image: 'acme/other:1', imageId: other.id });
    engine.add({ name: 'plain', image: 'busybox', imageId: plain.id });
    engine.add({ name: 'orphan', image: 'gone', imageId: 'sha256:gone' });

    const found = await audit(engine, parseAuditFilter('git.revision=3f2a9c1,ancestor.image=acme/base'), { now: () => NOW });
    expect(found.map((m) => m.container.name)).toEqual(['web-1', 'web-2']);
    expect(found[0]).toMatchObject({ imageId: app.id, ancestors: 1, meta: { project: 'shop' }, container: { startedAt: '2026-03-09T00:00:00.000Z' } });
    expect(engine.calls.filter((c) => c.op === 'inspectImage').map((c) => c.id).sort()).toEqual([app.id, other.id, plain.id, 'sha256:gone'].sort());

    expect((await audit(engine, parseAuditFilter('meta=false'))).map((m) => m.container.name)).toEqual(['orphan', 'plain']);
    expect((await audit(engine, parseAuditFilter('project=shop'), { all: true })).map((m) => m.container.name)).toEqual(['old', 'web-1', 'web-2']);
  });
});
