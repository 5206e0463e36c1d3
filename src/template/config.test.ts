import { describe, expect, it } from 'vitest';
import { parseConfdConfig } from './config.js';

describe('confd.toml', () => {
  it('reads confd’s keys and ignores the rest', () => {
    const c = parseConfdConfig(
      ['backend = "etcdv3"', 'nodes = ["http://10.0.0.1:2379", "http://10.0.0.2:2379"]', 'prefix = "/production"', 'interval = 60', 'watch = true', 'noop = false', 'sync-only = true', 'client_cakeys = "/ca.pem"', 'log-level = "debug"', 'file = "values.yaml"', 'scheme = "https"'].join('\n'),
      'confd.toml',
    );
    expect(c).toEqual({
      backend: 'etcdv3',
      nodes: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379'],
      prefix: '/production',
      interval: 60,
      watch: true,
      noop: false,
      syncOnly: true,
      clientCaKeys: '/ca.pem',
      logLevel: 'debug',
      file: ['values.yaml'],
    });
  });

  it('ignores keys named like object properties (constructor, toString) as any unknown key', () => {
    expect(parseConfdConfig(['constructor = "x"', 'toString = "y"', 'watch = true'].join('\n'), 'c.toml')).toEqual({ watch: true });
  });

  it('says what is wrong', () => {
    expect(() => parseConfdConfig('interval = "10"', 'c.toml')).toThrow(/invalid interval in c.toml: expected whole seconds/);
    expect(() => parseConfdConfig('watch = "yes"', 'c.toml')).toThrow(/expected true or false/);
  });
});
