import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeEngine } from '../engine/fake.js';
import { loadCompose } from './compose/index.js';
import { newService, type SystemConfig } from './model.js';
import { observeEarly } from './observe.js';
import { configurationProjectHint, planProject, requiredTests } from './run.js';

const config = (postDeployTests?: SystemConfig['postDeployTests']): SystemConfig => ({
  project: 'p',
  services: [newService('web', 'web:1')],
  networks: [],
  volumes: [],
  sources: [],
  ...(postDeployTests ? { postDeployTests } : {}),
});

describe('requiredTests: x-kiboko.post_deploy_tests and --require-tests', () => {
  it('without the flag: what the configuration requires, if anything', () => {
    expect(requiredTests(config())).toBeUndefined();
    expect(requiredTests(config({ type: 'integration', timeoutMs: 300_000 }))).toEqual({ type: 'integration', timeoutMs: 300_000 });
  });

  it('--require-tests: the configured type (else integration) and timeout', () => {
    expect(requiredTests(config(), true)).toEqual({ type: 'integration' });
    expect(requiredTests(config({ type: 'smoke', timeoutMs: 60_000 }), true)).toEqual({ type: 'smoke', timeoutMs: 60_000 });
  });

  it('--require-tests TYPE overrides the configured type, keeping its timeout', () => {
    expect(requiredTests(config(), 'e2e')).toEqual({ type: 'e2e' });
    expect(requiredTests(config({ type: 'integration', timeoutMs: 60_000 }), 'e2e')).toEqual({ type: 'e2e', timeoutMs: 60_000 });
  });

  it('--no-require-tests turns a configured gate off', () => {
    expect(requiredTests(config({ type: 'integration' }), false)).toBeUndefined();
  });
});

describe('planProject with the container list asked for early (observeEarly)', () => {
  const shop: SystemConfig = { project: 'shop', services: [newService('web', 'web:1')], networks: [], volumes: [], sources: [] };
  const lists = (e: FakeEngine) => e.calls.filter((c) => c.op === 'list').length;

  it('uses the early answer when the loaded configuration names the same project', async () => {
    const e = new FakeEngine();
    const early = await observeEarly(e, 'shop');
    expect(lists(e)).toBe(1);
    const plan = await planProject(e, shop, 'docker', early);
    expect(lists(e)).toBe(1);
    expect(plan).toEqual(await planProject(new FakeEngine(), shop, 'docker'));
  });

  it('asks again when the configuration names another project, after the early request has finished', async () => {
    const e = new FakeEngine();
    const early = await observeEarly(e, 'other');
    const plan = await planProject(e, shop, 'docker', early);
    expect(lists(e)).toBe(2);
    expect(plan.steps).toEqual([expect.objectContaining({ service: 'web', action: 'create' })]);
  });

  it('never rejects itself: an unreachable engine fails the plan as it would without it', async () => {
    const e = new FakeEngine();
    e.unreachable = true;
    const early = await observeEarly(e, 'shop', 5);
    await expect(early.containers).rejects.toThrow(/cannot reach/);
    await expect(planProject(e, shop, 'docker', early)).rejects.toThrow(/cannot reach/);
  });

  it('is not used on Swarm, which plans from services (the fake is no Swarm manager)', async () => {
    const e = new FakeEngine();
    const early = await observeEarly(e, 'shop');
    await expect(planProject(e, shop, 'swarm', early)).rejects.toThrow(/not a swarm manager/);
    expect(lists(e)).toBe(1);
  });
});

describe('configurationProjectHint: the project -f FILE most likely names, before it is loaded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiboko-hint-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (rel: string, text: string) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
    return join(dir, rel);
  };

  it('-p, then COMPOSE_PROJECT_NAME, then a literal name:, then the folder, as the loader names it', () => {
    const plain = write('My_App/compose.yaml', 'services:\n  web:\n    image: x\n');
    const named = write('folder/compose.yaml', 'name: shop\nservices:\n  web:\n    image: x\n');
    expect(configurationProjectHint([plain], { projectName: 'given', env: { COMPOSE_PROJECT_NAME: 'env' } })).toBe('given');
    expect(configurationProjectHint([plain], { env: { COMPOSE_PROJECT_NAME: 'env' } })).toBe('env');
    expect(configurationProjectHint([named], { env: {} })).toBe('shop');
    expect(configurationProjectHint([plain], { env: {} })).toBe('my_app');
    for (const [file, project] of [[plain, 'my_app'], [named, 'shop']] as const) {
      expect(loadCompose([file], { env: {} }).project).toBe(project);
    }
  });

  it('none for a folder, a missing file, no path, or a name the loader would refuse', () => {
    write('dir/compose.yaml', 'services:\n  web:\n    image: x\n');
    expect(configurationProjectHint([join(dir, 'dir')], { env: {} })).toBeUndefined();
    expect(configurationProjectHint([join(dir, 'missing.yaml')], { env: {} })).toBeUndefined();
    expect(configurationProjectHint([], { env: {} })).toBeUndefined();
    expect(configurationProjectHint([join(dir, 'dir/compose.yaml')], { projectName: 'Bad Name', env: {} })).toBeUndefined();
    expect(configurationProjectHint([write('_/compose.yaml', 'services: {}\n')], { env: {} })).toBeUndefined();
  });

  it('relative paths start from cwd', () => {
    write('rel/compose.yaml', 'services:\n  web:\n    image: x\n');
    expect(configurationProjectHint(['rel/compose.yaml'], { cwd: dir, env: {} })).toBe('rel');
  });
});
