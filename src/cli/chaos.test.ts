import type { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { thrown } from '../../test/expect-error.js';
import { actionFromFlags, experimentFromFlags } from './chaos.js';
import { buildProgram, mergedOptions, normalizeBoolFlags, type ChaosCommandName } from './program.js';


describe('actionFromFlags: Pumba defaults', () => {
  it('kill sends SIGKILL by default, and a canonical signal otherwise', () => {
    expect(actionFromFlags('kill', {})).toEqual({ kind: 'kill', signal: 'SIGKILL' });
    expect(actionFromFlags('kill', { signal: 'term' })).toEqual({ kind: 'kill', signal: 'SIGTERM' });
    expect(actionFromFlags('kill', { signal: '1' })).toEqual({ kind: 'kill', signal: 'SIGHUP' });
    thrown(() => actionFromFlags('kill', { signal: 'SIGFOO' }));
  });

  it('stop waits 5 s by default and does not restart', () => {
    expect(actionFromFlags('stop', {})).toEqual({ kind: 'stop', timeSeconds: 5, restart: undefined });
    expect(actionFromFlags('stop', { time: '12' })).toMatchObject({ timeSeconds: 12 });
  });

  it('stop --restart holds 10 s by default, or --duration', () => {
    expect(actionFromFlags('stop', { restart: true })).toEqual({ kind: 'stop', timeSeconds: 5, restart: { durationMs: 10_000 } });
    expect(actionFromFlags('stop', { restart: true, duration: '3s' })).toMatchObject({ restart: { durationMs: 3000 } });
  });

  it('stop --duration without --restart is an error', () => {
    const e = thrown(() => actionFromFlags('stop', { duration: '3s' }));
    expect(e.message).toContain('--restart');
  });

  it('pause needs a duration', () => {
    expect(thrown(() => actionFromFlags('pause', {})).message).toContain('--duration');
    thrown(() => actionFromFlags('pause', { duration: '0' }));
    thrown(() => actionFromFlags('pause', { duration: '10' }));
    expect(actionFromFlags('pause', { duration: '1m' })).toEqual({ kind: 'pause', durationMs: 60_000 });
  });

  it('rm forces and removes volumes but not links by default', () => {
    expect(actionFromFlags('rm', {})).toEqual({ kind: 'rm', force: true, links: false, volumes: true });
  });

  it('rm takes --force=false as a string, and --no-* as false', () => {
    expect(actionFromFlags('rm', { force: 'false' })).toMatchObject({ force: false });
    expect(actionFromFlags('rm', { force: false, volumes: false, links: true })).toEqual({ kind: 'rm', force: false, links: true, volumes: false });
    expect(actionFromFlags('rm', { volumes: 'false', links: 'true' })).toMatchObject({ volumes: false, links: true });
    thrown(() => actionFromFlags('rm', { force: 'sometimes' }));
  });

  it('restart waits 1 s by default (the 1s duration)', () => {
    expect(actionFromFlags('restart', {})).toEqual({ kind: 'restart', timeoutSeconds: 1 });
    expect(actionFromFlags('restart', { timeout: '10s' })).toEqual({ kind: 'restart', timeoutSeconds: 10 });
    expect(actionFromFlags('restart', { timeout: '2500ms' })).toEqual({ kind: 'restart', timeoutSeconds: 3 });
  });

  it("exec runs 'kill 1' by default, split on whitespace", () => {
    expect(actionFromFlags('exec', {})).toEqual({ kind: 'exec', command: ['kill', '1'], user: undefined });
    expect(actionFromFlags('exec', { command: '  ls   -l /tmp ' })).toMatchObject({ command: ['ls', '-l', '/tmp'] });
  });

  it('exec with --args keeps the command and each arg unsplit', () => {
    expect(actionFromFlags('exec', { command: 'sh', args: ['-c', 'echo a  b'], user: 'nobody' })).toEqual({
      kind: 'exec',
      command: ['sh', '-c', 'echo a  b'],
      user: 'nobody',
    });
  });

  it('exec rejects an empty command', () => {
    thrown(() => actionFromFlags('exec', { command: '   ' }));
  });
});

describe('experimentFromFlags', () => {
  it('builds the experiment from the flags', () => {
    const o = experimentFromFlags('kill', ['web', 're2:^db'], { label: ['env=prod', 'a=1,b=2'], limit: '2', random: true, seed: '7', interval: '30s', dry: true, skipError: true, concurrency: '4' });
    expect(o.action).toEqual({ kind: 'kill', signal: 'SIGKILL' });
    expect(o.targets.names).toEqual(['web']);
    expect(o.targets.patterns.map((p) => p.source)).toEqual(['^db']);
    expect(o.targets.labels).toEqual(['env=prod', 'a=1', 'b=2']);
    expect(o).toMatchObject({ limit: 2, random: true, seed: 7, intervalMs: 30_000, dryRun: true, skipError: true, concurrency: 4 });
  });

  it('defaults: no interval, all targets, drawn seed', () => {
    const o = experimentFromFlags('pause', [], { duration: '5s', interval: '0' });
    expect(o).toMatchObject({ limit: 0, random: false, seed: undefined, intervalMs: undefined, dryRun: false, skipError: false, concurrency: undefined });
  });

  it.each(['abc', '-2', '1.5'])('rejects --limit %j with "expected"', (limit) => {
    const e = thrown(() => experimentFromFlags('kill', ['web'], { limit }));
    expect(e.message).toContain('expected');
    expect(e.message).toContain('--limit');
  });

  it.each(['kill', 'stop', 'rm'] satisfies ChaosCommandName[])('%s without targets is rejected', (kind) => {
    expect(thrown(() => experimentFromFlags(kind, [], {})).message).toContain('no target');
  });

  it('rejects a --duration not shorter than --interval', () => {
    thrown(() => experimentFromFlags('pause', ['web'], { duration: '10s', interval: '10s' }));
    expect(experimentFromFlags('pause', ['web'], { duration: '5s', interval: '10s' }).intervalMs).toBe(10_000);
  });

  it('rejects a bad regex or label before anything runs', () => {
    expect(thrown(() => experimentFromFlags('kill', ['re2:(x'], {})).message).toContain('missing closing )');
    thrown(() => experimentFromFlags('kill', ['web'], { label: ['=x'] }));
  });
});

describe('buildProgram + mergedOptions', () => {
  const savedExitCode = process.exitCode;
  afterEach(() => {
    process.exitCode = savedExitCode;
  });

  const allCommands = (c: Command): Command[] => [c, ...c.commands.flatMap(allCommands)];

  /** Parses like main() does (bool-flag rewriting, no process.exit) and returns what the handler saw. */
  async function parse(argv: string[]) {
    const seen: { kind: string; args: string[]; options: Record<string, unknown> }[] = [];
    const program = buildProgram({
      chaos: (kind) => async (cmd: Command, args: string[]) => {
        seen.push({ kind, args, options: mergedOptions(cmd) });
        return 0;
      },
      recover: async (cmd: Command, args: string[]) => {
        seen.push({ kind: 'recover', args, options: mergedOptions(cmd) });
        return 0;
      },
    });
    for (const c of allCommands(program)) {
      c.exitOverride();
      c.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
    }
    await program.parseAsync(normalizeBoolFlags(argv), { from: 'user' });
    expect(seen).toHaveLength(1);
    return seen[0]!;
  }

  it('merges chaos globals from both sides of the command name', async () => {
    const r = await parse(['chaos', '--interval', '1s', '--label', 'a=1', 'kill', '--label', 'b=2', '-s', 'SIGTERM', 'x']);
    expect(r.kind).toBe('kill');
    expect(r.args).toEqual(['x']);
    expect(r.options.interval).toBe('1s');
    expect(r.options.label).toEqual(['a=1', 'b=2']);
    expect(r.options.signal).toBe('SIGTERM');
    const o = experimentFromFlags('kill', r.args, r.options);
    expect(o).toMatchObject({ intervalMs: 1000, action: { kind: 'kill', signal: 'SIGTERM' } });
    expect(o.targets.labels).toEqual(['a=1', 'b=2']);
  });

  it('takes the scalar nearest the command', async () => {
    const r = await parse(['chaos', '--interval', '1m', '--state-dir', '/s', 'pause', '--interval', '2m', '-d', '10s', 'web']);
    expect(r.options).toMatchObject({ interval: '2m', stateDir: '/s', duration: '10s' });
  });

  it('-l is --log-level before the command and --limit after it', async () => {
    const r = await parse(['chaos', '-l', 'debug', 'kill', '-l', '2', 'web']);
    expect(r.options).toMatchObject({ logLevel: 'debug', limit: '2' });
  });

  it('rm defaults to Pumba’s force + volumes', async () => {
    const d = await parse(['chaos', 'rm', 'web']);
    expect(actionFromFlags('rm', d.options)).toEqual({ kind: 'rm', force: true, links: false, volumes: true });
  });

  it.each([
    [['--force=false'], { force: false }],
    [['--no-force'], { force: false }],
    [['--volumes=false'], { volumes: false }],
    [['--no-volumes'], { volumes: false }],
    [['--links=true'], { links: true }],
    [['-n'], { links: true }],
    [['--force=true', '--links=0', '--volumes=no'], { force: true, links: false, volumes: false }],
  ])('rm %j', async (flags, expected) => {
    const r = await parse(['chaos', 'rm', ...flags, 'web']);
    expect(r.args).toEqual(['web']);
    expect(actionFromFlags('rm', r.options)).toMatchObject(expected);
  });

  it.each([['--force'], ['--volumes'], ['--links'], ['-f'], ['-v']])('rm %s keeps the next word as a target', async (flag) => {
    const r = await parse(['chaos', 'rm', flag, 'web-1']);
    expect(r.args).toEqual(['web-1']);
  });

  it('rm --force=maybe is a parse error', async () => {
    await expect(parse(['chaos', 'rm', '--force=maybe', 'web'])).rejects.toThrow(/--force=maybe/);
  });

  it('exec collects repeated --args', async () => {
    const r = await parse(['chaos', 'exec', '-s', 'sh', '-a', '-c', '-a', 'echo hi there', 'web']);
    expect(actionFromFlags('exec', r.options)).toMatchObject({ command: ['sh', '-c', 'echo hi there'] });
    expect(r.args).toEqual(['web']);
  });

  // Regression: normalizeBoolFlags used to rewrite every argv word shaped like `--force=…`, including the value of
  // another option: an exec argument `--force=false` reached the container as `--no-force`.
  it('exec passes an argument shaped like --force=false through unchanged', async () => {
    const r = await parse(['chaos', 'exec', '-s', 'tool', '-a', '--force=false', 'web']);
    expect(actionFromFlags('exec', r.options)).toMatchObject({ command: ['tool', '--force=false'] });
  });

  it('--dry before the command and --dry-run after it both mean dry-run', async () => {
    const a = await parse(['chaos', '--dry', 'kill', 'web']);
    expect(experimentFromFlags('kill', a.args, a.options).dryRun).toBe(true);
    const b = await parse(['chaos', 'kill', '--dry-run', 'web']);
    expect(experimentFromFlags('kill', b.args, b.options).dryRun).toBe(true);
  });

  it('routes recover to its handler', async () => {
    const r = await parse(['chaos', 'recover', '--dry-run', '--state-dir', '/tmp/x']);
    expect(r.kind).toBe('recover');
    expect(r.options).toMatchObject({ dryRun: true, stateDir: '/tmp/x' });
  });
});

describe('normalizeBoolFlags', () => {
  it('rewrites Pumba-style bool values and leaves everything else alone', () => {
    expect(normalizeBoolFlags(['rm', '--force=false', '--volumes=TRUE', '--links=1', '--label=a=b', '--force=maybe', 'web'])).toEqual([
      'rm',
      '--no-force',
      '--volumes',
      '--links',
      '--label=a=b',
      '--force=maybe',
      'web',
    ]);
  });
});
