import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../common/clock.js';
import { DeployStore, newService, type SystemConfig } from '../deploy/index.js';
import { FakeEngine, type ContainerSpec } from '../engine/index.js';
import { deployWithTests, discoverTestImages, projectNetworks, runIntegrationTests } from './integration.js';

/** Integration-test containers "run": images whose test.expect label is `fail` exit 1; each writes a JUnit file at its results path. */
class ItEngine extends FakeEngine {
  readonly specs: ContainerSpec[] = [];
  private readonly byId = new Map<string, ContainerSpec>();
  imageLabels = new Map<string, Record<string, string>>();
  override async create(spec: ContainerSpec) {
    const ref = await super.create(spec);
    this.specs.push(spec);
    this.byId.set(ref.id, spec);
    return ref;
  }
  override async start(id: string) {
    await super.start(id);
    const spec = this.byId.get(id);
    if (!spec) return;
    const labels = this.imageLabels.get(spec.image) ?? {};
    if (labels['test.type']) {
      const dir = labels['test.results'] ?? '/var/tests/results';
      this.writeFile(id, `${dir}/junit.xml`, `<testsuites tests="3" failures="${labels['test.expect'] === 'junit-fail' ? 1 : 0}"></testsuites>`);
      this.setLogs(id, `testing ${spec.image}\n`);
    }
  }
  override async wait(id: string): Promise<number> {
    const spec = this.byId.get(id);
    await super.stop(id, 0);
    return this.imageLabels.get(spec?.image ?? '')?.['test.expect'] === 'fail' ? 1 : 0;
  }
  testImage(tag: string, labels: Record<string, string>) {
    this.imageLabels.set(tag, labels);
    return this.addImage({ tags: [tag], labels });
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'kiboko-itest-unit-'));
  dirs.push(d);
  return d;
};

describe('discovery', () => {
  it('finds tagged images by test.type (and --type, --project, --label), never untagged ones', async () => {
    const e = new ItEngine();
    e.testImage('shop-it:1', { 'test.type': 'integration', 'test.project': 'shop' });
    e.testImage('any-it:1', { 'test.type': 'integration', 'test.results': '/out', team: 'a' });
    e.testImage('other-it:1', { 'test.type': 'integration', 'test.project': 'blog' });
    e.testImage('perf:1', { 'test.type': 'performance' });
    e.addImage({ tags: [], labels: { 'test.type': 'integration' } });
    e.addImage({ tags: ['app:1'], labels: {} });
    const refs = async (o: Parameters<typeof discoverTestImages>[1]) => (await discoverTestImages(e, o)).map((i) => i.ref);
    expect(await refs({})).toEqual(['any-it:1', 'other-it:1', 'perf:1', 'shop-it:1']);
    expect(await refs({ type: 'integration', project: 'shop' })).toEqual(['any-it:1', 'shop-it:1']);
    expect(await refs({ type: 'performance' })).toEqual(['perf:1']);
    expect(await refs({ labels: ['team=a'] })).toEqual(['any-it:1']);
    expect((await discoverTestImages(e, { labels: ['team=a'] }))[0]).toMatchObject({ resultsPath: '/out', type: 'integration' });
    await expect(discoverTestImages(e, { type: 'bad type' })).rejects.toThrow(/invalid test type/);
  });

  it("a project's networks: those labelled for it, else those its containers use", async () => {
    const e = new ItEngine();
    await e.ensureNetwork('shop_default', { 'kiboko.deploy.project': 'shop' });
    await e.ensureNetwork('shop_back', { 'kiboko.deploy.project': 'shop' });
    await e.ensureNetwork('blog_default', { 'com.docker.compose.project': 'blog' });
    e.add({ name: 'legacy-1', labels: { 'kiboko.deploy.project': 'legacy' }, networks: { ext: { ipAddress: '10.9.0.2' } } });
    expect(await projectNetworks(e, 'shop')).toEqual(['shop_back', 'shop_default']);
    expect(await projectNetworks(e, 'blog')).toEqual(['blog_default']);
    expect(await projectNetworks(e, 'legacy')).toEqual(['ext']);
    expect(await projectNetworks(e, 'none')).toEqual([]);
  });
});

describe('runIntegrationTests', () => {
  it("runs each test image on the project's networks, collects test.results, and passes when all pass", async () => {
    const e = new ItEngine();
    await e.ensureNetwork('shop_default', { 'kiboko.deploy.project': 'shop' });
    e.testImage('shop-it:1', { 'test.type': 'integration', 'test.results': '/results' });
    const reportDir = tempDir();
    const r = await runIntegrationTests(e, { type: 'integration', project: 'shop', reportDir });
    expect(r.code).toBe(0);
    expect(r.networks).toEqual(['shop_default']);
    expect(r.results['shop-it:1']).toEqual({ files: ['junit.xml'], counts: { tests: 3, passed: 3, failures: 0, errors: 0, skipped: 0 } });
    expect(readFileSync(join(reportDir, 'results', 'shop-it_1', 'junit.xml'), 'utf8')).toContain('tests="3"');
    expect(e.specs[0]).toMatchObject({ image: 'shop-it:1', networks: [{ name: 'shop_default' }], volumes: ['/results'] });
    expect(e.specs[0]!.env).toEqual(expect.arrayContaining(['KIBOKO_PROJECT=shop', 'TEST_TYPE=integration', 'TEST_RESULTS=/results']));
    expect(e.specs[0]!.labels).toMatchObject({ 'kiboko.skip': 'true', 'kiboko.role': 'test' });
    expect(await e.list({ all: true })).toEqual([]);
  });

  it('fails (1) on a non-zero exit or on failures in the results; the worst code wins', async () => {
    const e = new ItEngine();
    e.testImage('a-it:1', { 'test.type': 'integration' });
    e.testImage('b-it:1', { 'test.type': 'integration', 'test.expect': 'fail' });
    e.testImage('c-it:1', { 'test.type': 'integration', 'test.expect': 'junit-fail' });
    const r = await runIntegrationTests(e, { type: 'integration', clock: patient });
    expect(r.code).toBe(1);
    expect(r.suite.cases.map((c) => [c.name, c.status])).toEqual([
      ['a-it:1', 'pass'],
      ['b-it:1', 'fail'],
      ['c-it:1', 'fail'],
    ]);
    expect(r.reason).toBe('2 of 3 test container(s) did not pass: b-it:1, c-it:1');
  });

  it('2 when nothing is found; 3 when the project has no networks or an explicit image is not a test image', async () => {
    const e = new ItEngine();
    expect((await runIntegrationTests(e, {})).code).toBe(2);
    e.testImage('a-it:1', { 'test.type': 'integration' });
    expect(await runIntegrationTests(e, { project: 'ghost' })).toMatchObject({ code: 3, reason: expect.stringMatching(/project ghost has no networks/) });
    e.addImage({ tags: ['app:1'], labels: {} });
    expect(await runIntegrationTests(e, { images: ['app:1'] })).toMatchObject({ code: 3, reason: expect.stringMatching(/no test.type label/) });
    expect((await runIntegrationTests(e, { images: ['a-it:1'] })).code).toBe(0);
  });
});

/** Timeouts of test containers never fire (the fake's containers finish at once). */
const patient: Clock = {
  now: () => 0,
  sleep: (_ms, signal) => new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))),
};

class FastClock implements Clock {
  t = Date.parse('2030-01-01T00:00:00Z');
  now() {
    return this.t;
  }
  async sleep(ms: number) {
    this.t += ms;
    await Promise.resolve();
  }
}

describe('deployWithTests (post-deploy gate)', () => {
  const config = (image: string): SystemConfig => ({ project: 'shop', services: [newService('web', image)], networks: [], volumes: [], sources: [] });

  it('keeps a deploy whose tests pass; rolls back to the last good revision when they fail', async () => {
    const e = new ItEngine();
    e.addImage({ tags: ['web:1'], labels: {} });
    e.addImage({ tags: ['web:2'], labels: {} });
    const store = new DeployStore(tempDir());
    try {
      const it = e.testImage('shop-it:1', { 'test.type': 'integration' });
      const opts = { trigger: 'apply', source: 'test', clock: new FastClock(), engineMode: 'docker' as const };
      const first = await deployWithTests(e, store, config('web:1'), opts, { type: 'integration', clock: patient });
      expect(first.outcome, JSON.stringify([first.detail, first.run.result, first.tests?.reason])).toBe('ok');
      expect(first.tests?.code).toBe(0);

      // The tests now fail: web:2 is rolled back to revision 1 (web:1).
      e.testImage('shop-it:1', { ...it.labels, 'test.expect': 'fail' });
      const second = await deployWithTests(e, store, config('web:2'), opts, { type: 'integration', clock: patient });
      expect(second.outcome).toBe('failed');
      expect(second.detail).toMatch(/post-deploy integration tests did not pass.*rolled back to revision 1 as revision 3 \(ok\)/);
      expect(store.get('shop', 2)?.outcome).toBe('failed');
      const running = (await e.list({ labels: ['kiboko.deploy.service=web'] })).map((c) => c.image);
      expect(running).toEqual(['web:1']);
    } finally {
      store.close();
    }
  });

  it('required tests that do not exist fail the deploy; with no earlier revision, nothing to roll back to', async () => {
    const e = new ItEngine();
    e.addImage({ tags: ['web:1'], labels: {} });
    const store = new DeployStore(tempDir());
    try {
      const r = await deployWithTests(e, store, config('web:1'), { trigger: 'apply', source: 'test', clock: new FastClock(), engineMode: 'docker' }, { type: 'integration', clock: patient });
      expect(r.outcome).toBe('failed');
      expect(r.detail).toMatch(/no integration test images found for shop.*no earlier successful revision/);
      expect(r.rollback).toBeUndefined();
    } finally {
      store.close();
    }
  });
});
