import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Clock } from '../common/clock.js';
import { DeployStore } from '../deploy/index.js';
import { FakeEngine } from '../engine/index.js';
import { DeployService } from './deploys.js';

const fastClock: Clock = {
  now: () => Date.now(),
  sleep: async (_ms, signal) => {
    if (signal?.aborted) throw new DOMException('The operation was aborted', 'AbortError');
    await new Promise((r) => setImmediate(r));
  },
};

describe('daemon deploys honour the configuration\'s post-deploy tests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiboko-gate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a deploy whose required integration tests cannot pass is reported failed, not succeeded', async () => {
    mkdirSync(join(dir, 'gated'), { recursive: true });
    const compose = join(dir, 'gated', 'compose.yaml');
    writeFileSync(compose, 'x-kiboko:\n  post_deploy_tests: integration\nservices:\n  web:\n    image: acme/web:1.0.0\n    deploy: {update_config: {monitor: 0s}}\n');
    const engine = new FakeEngine();
    engine.addImage({ tags: ['acme/web:1.0.0'] });
    const store = new DeployStore(join(dir, 'state'));
    const deploys = new DeployService({ engine, store, projects: [{ name: 'gated', paths: [compose], engine: 'docker', tagPolicies: {} }], clock: fastClock });
    try {
      const job = deploys.startApply('gated');
      await deploys.idle();
      expect(job.status).toBe('failed');
      expect(JSON.stringify(job.error)).toContain('no integration test images found for gated');
      // The revision itself is recorded as failed in the history.
      expect(store.list('gated', 5)[0]).toMatchObject({ outcome: 'failed' });
    } finally {
      await deploys.close();
      store.close();
    }
  });
});
