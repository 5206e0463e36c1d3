import { describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { humanResult, jsonEvent, parseInterval } from './template.js';

describe('kiboko template CLI helpers', () => {
  it('--interval takes confd’s seconds or a duration', () => {
    expect(parseInterval('600')).toBe(600_000);
    expect(parseInterval('30s')).toBe(30_000);
    expect(() => parseInterval('0')).toThrow(/expected more than 0/);
  });

  it('results become NDJSON events named after their outcome', () => {
    const error = new KibokoError('ACTION_FAILED', 'app.toml: reload failed; previous file restored (reload_cmd failed: exit code 1)');
    const e = jsonEvent({
      type: 'result',
      result: { resource: 'app.toml', dest: '/etc/app.conf', target: 'host', outcome: 'reload-failed-restored', reasons: ['content'], warnings: [], ms: 12, error, atomic: true },
    });
    expect(e).toMatchObject({ event: 'reload-failed-restored', resource: 'app.toml', dest: '/etc/app.conf', error: { code: 'ACTION_FAILED', message: expect.stringMatching(/previous file restored/) } });
  });

  it('human lines say what happened and where', () => {
    expect(humanResult({ resource: 'app.toml', dest: '/etc/app.conf', target: 'web-1', outcome: 'reloaded', reasons: ['content'], warnings: [], ms: 1, atomic: true })).toBe(
      '✔ app.toml → /etc/app.conf in web-1: content — replaced atomically, reloaded',
    );
  });
});
