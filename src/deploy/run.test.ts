import { describe, expect, it } from 'vitest';
import { newService, type SystemConfig } from './model.js';
import { requiredTests } from './run.js';

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
