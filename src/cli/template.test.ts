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

describe('confd’s command lines (Go flags)', () => {
  it('rewrites single-dash long flags, -flag=value and Go booleans after `template`', async () => {
    const { normalizeConfdFlags } = await import('./define-template.js');
    expect(normalizeConfdFlags(['template', '-onetime', '-backend', 'env', '-confdir', './conf'])).toEqual(['template', '--onetime', '--backend', 'env', '--confdir', './conf']);
    expect(normalizeConfdFlags(['template', '-backend=file', '-file', 'values.yaml', '-interval', '60', '-log-level=debug'])).toEqual([
      'template',
      '--backend=file',
      '--file',
      'values.yaml',
      '--interval',
      '60',
      '--log-level=debug',
    ]);
    expect(normalizeConfdFlags(['template', '-watch=false', '--noop=true', '-sync-only=F', '-onetime=1'])).toEqual(['template', '--no-watch', '--noop', '--no-sync-only', '--onetime']);
    // A value that looks like a flag is still the value (Go takes the next word); `--` ends the flags.
    expect(normalizeConfdFlags(['template', '-prefix', '-odd', '-node=http://a:2379', '-node', 'http://b:2379'])).toEqual(['template', '--prefix', '-odd', '--node=http://a:2379', '--node', 'http://b:2379']);
    expect(normalizeConfdFlags(['template', '-j', '-container', 'web', '--', '-onetime'])).toEqual(['template', '-j', '--container', 'web', '--', '-onetime']);
    // Other commands are left alone, even with a word `template` in them.
    expect(normalizeConfdFlags(['chaos', 'kill', 'template', '-s', 'TERM'])).toEqual(['chaos', 'kill', 'template', '-s', 'TERM']);
    expect(() => normalizeConfdFlags(['template', '-onetime=maybe'])).toThrow(/invalid -onetime 'maybe': expected true or false/);
    expect(() => normalizeConfdFlags(['template', '-srv-domain', 'example.com'])).toThrow(/confd's -srv-domain is not supported by kiboko template: DNS SRV discovery/);
  });

  it('parses every confd flag kiboko has, in Go’s forms, to the same options as the -- forms', async () => {
    const { Command } = await import('commander');
    const { defineTemplateCommands, normalizeConfdFlags, CONFD_VALUE_FLAGS, CONFD_BOOL_FLAGS } = await import('./define-template.js');
    const { mergedOptions } = await import('./program.js');
    const parse = async (argv: string[]) => {
      const program = new Command('kiboko').exitOverride();
      defineTemplateCommands(program, (await import('./register.js')).registerWith());
      let seen: Record<string, unknown> = {};
      const t = program.commands.find((c) => c.name() === 'template')!;
      t.exitOverride().action((_o: unknown, cmd: import('commander').Command) => {
        seen = mergedOptions(cmd);
      });
      await program.parseAsync(normalizeConfdFlags(argv), { from: 'user' });
      return seen;
    };
    const camel = (f: string) => f.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    for (const flag of CONFD_VALUE_FLAGS) {
      const value = flag === 'interval' ? '60' : `v-${flag}`;
      const expected = flag === 'node' || flag === 'file' ? [value] : value;
      expect((await parse(['template', `-${flag}`, value]))[camel(flag)], `-${flag} V`).toEqual(expected);
      expect((await parse(['template', `-${flag}=${value}`]))[camel(flag)], `-${flag}=V`).toEqual(expected);
      expect((await parse(['template', `--${flag}`, value]))[camel(flag)], `--${flag} V`).toEqual(expected);
    }
    for (const flag of CONFD_BOOL_FLAGS) {
      expect((await parse(['template', `-${flag}`]))[camel(flag)], `-${flag}`).toBe(true);
      expect((await parse(['template', `-${flag}=true`]))[camel(flag)], `-${flag}=true`).toBe(true);
      expect((await parse(['template', `-${flag}=false`]))[camel(flag)], `-${flag}=false`).toBe(false);
      expect((await parse(['template', `--${flag}=false`]))[camel(flag)], `--${flag}=false`).toBe(false);
    }
  });

  it('-onetime with -watch renders once, as confd; flags override confd.toml', async () => {
    const { templateMode } = await import('./template.js');
    expect(templateMode({ onetime: true, watch: true }, {})).toBe('onetime');
    expect(templateMode({ watch: true }, {})).toBe('watch');
    expect(templateMode({}, { watch: true })).toBe('watch');
    expect(templateMode({ watch: false }, { watch: true })).toBe('interval');
    expect(templateMode({}, { onetime: true, watch: true })).toBe('onetime');
    expect(templateMode({ onetime: false }, { onetime: true })).toBe('interval');
  });

  it('reads /etc/confd/confd.toml by default whatever -confdir says; --config-file overrides; <confdir>/confd.toml is the fallback', async () => {
    const { configCandidates } = await import('./template.js');
    expect(configCandidates(undefined, undefined)).toEqual([{ path: '/etc/confd/confd.toml', required: false }]);
    expect(configCandidates(undefined, '/srv/conf')).toEqual([
      { path: '/etc/confd/confd.toml', required: false },
      { path: '/srv/conf/confd.toml', required: false },
    ]);
    expect(configCandidates('/x/my.toml', '/srv/conf')).toEqual([{ path: '/x/my.toml', required: true }]);
  });

  it('etcd nodes default as in confd: ETCDCTL_PEERS, then http://127.0.0.1:4001; etcdv3: 127.0.0.1:2379', async () => {
    const { defaultNodes } = await import('./template.js');
    expect(defaultNodes('etcd', {})).toEqual(['http://127.0.0.1:4001']);
    expect(defaultNodes('etcd', { ETCDCTL_PEERS: 'http://a:2379, http://b:2379' })).toEqual(['http://a:2379', 'http://b:2379']);
    expect(defaultNodes('etcdv3', { ETCDCTL_PEERS: 'http://a:2379' })).toEqual(['127.0.0.1:2379']);
    expect(defaultNodes('env', { ETCDCTL_PEERS: 'http://a:2379' })).toEqual([]);
  });
});
