import type { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { thrown } from '../../test/expect-error.js';
import { actionFromFlags, experimentFromFlags } from './chaos.js';
import type { ChaosOptions } from './chaos-options-type.js';
import { buildProgram, normalizeBoolFlags, type ChaosCommandName } from './program.js';
import { planPartition } from '../chaos/index.js';


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

  // The option table types these flags boolean (commander gives --force=false as --no-force); the
  // strings are Pumba's spellings, which actionFromFlags still reads as parseBoolFlag does.
  it('rm takes --force=false as a string, and --no-* as false', () => {
    // @ts-expect-error a string where the table says boolean
    expect(actionFromFlags('rm', { force: 'false' })).toMatchObject({ force: false });
    expect(actionFromFlags('rm', { force: false, volumes: false, links: true })).toEqual({ kind: 'rm', force: false, links: true, volumes: false });
    // @ts-expect-error strings where the table says boolean
    expect(actionFromFlags('rm', { volumes: 'false', links: 'true' })).toMatchObject({ volumes: false, links: true });
    // @ts-expect-error a string where the table says boolean
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

/** The handler a command path ran under before commands were registered one way: `chaos netem delay` → netem:delay, `deploy plan` → deploy:plan. */
const kindOf = (path: string) => path.replace(/^chaos /, '').replace(' ', ':');

describe('buildProgram + mergedOptions', () => {
  const savedExitCode = process.exitCode;
  afterEach(() => {
    process.exitCode = savedExitCode;
  });

  const allCommands = (c: Command): Command[] => [c, ...c.commands.flatMap(allCommands)];

  /** Parses like main() does (bool-flag rewriting, no process.exit) and returns what the handler saw. */
  async function parse(argv: string[]) {
    const seen: { kind: string; args: string[]; options: ChaosOptions }[] = [];
    const program = buildProgram({
      dispatch: async (path, options, args) => {
        seen.push({ kind: kindOf(path), args, options });
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
    await expect(parse(['chaos', 'rm', '--force=maybe', 'web'])).rejects.toThrow(/invalid --force 'maybe': expected true or false/);
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
    expect(normalizeBoolFlags(['chaos', 'rm', '--force=false', '--volumes=TRUE', '--links=1', '--label=a=b', '--pull-image=F', 'web', '--', '--force=false'])).toEqual([
      'chaos',
      'rm',
      '--no-force',
      '--volumes',
      '--links',
      '--label=a=b',
      '--no-pull-image',
      'web',
      '--',
      '--force=false',
    ]);
    expect(normalizeBoolFlags(['units', 'list-units', '--json=true'])).toEqual(['units', 'list-units', '--json=true']);
    expect(() => normalizeBoolFlags(['chaos', 'rm', '--force=maybe', 'web'])).toThrow(/invalid --force 'maybe'/);
  });
});

// ---------------------------------------------------------------------------------------------
// Network and resource chaos: netem, iptables, partition, rate, stress.
// ---------------------------------------------------------------------------------------------

/** Parses argv like main() does, with stub handlers, and returns what the one handler saw. */
async function parseArgv(argv: string[]) {
  const seen: { kind: string; args: string[]; options: ChaosOptions }[] = [];
  const program = buildProgram({
    dispatch: async (path, options, args) => {
      seen.push({ kind: kindOf(path), args, options });
      return 0;
    },
  });
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) {
    c.exitOverride();
    c.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  }
  const savedExitCode = process.exitCode;
  try {
    await program.parseAsync(normalizeBoolFlags(argv), { from: 'user' });
  } finally {
    process.exitCode = savedExitCode;
  }
  expect(seen).toHaveLength(1);
  return seen[0]!;
}

/** Parses and builds the action the handler would run. */
async function actionOf(argv: string[]) {
  const r = await parseArgv(argv);
  return { ...r, action: actionFromFlags(r.kind as ChaosCommandName, r.options) };
}

const NO_SCOPE = { targets: [], egressPorts: [], ingressPorts: [] };

describe('chaos netem', () => {
  it('-d before the effect is --duration, after it --distribution (as in Pumba)', async () => {
    const r = await actionOf(['chaos', 'netem', '-d', '10s', 'delay', '-t', '200', '-j', '20', '-d', 'normal', 'web']);
    expect(r.kind).toBe('netem:delay');
    expect(r.args).toEqual(['web']);
    expect(r.action).toEqual({
      kind: 'netem',
      durationMs: 10_000,
      iface: 'eth0',
      effects: { delay: { timeMs: 200, jitterMs: 20, correlation: 20, distribution: 'normal' } },
      scope: NO_SCOPE,
      helperImage: undefined,
      pullImage: false,
    });
  });

  it('delay defaults to Pumba’s 100 ms, 10 ms jitter, 20% correlation', async () => {
    const r = await actionOf(['chaos', 'netem', '-d', '1m', 'delay', 'web']);
    expect(r.action).toMatchObject({ durationMs: 60_000, effects: { delay: { timeMs: 100, jitterMs: 10, correlation: 20, distribution: undefined } } });
  });

  it('takes the parent flags in long form after the effect too', async () => {
    const r = await actionOf(['chaos', 'netem', 'delay', '--duration', '5s', '--interface', 'eth1', '--target', '10.0.0.5', '--tc-image', 'nettools:1', '--pull-image', 'web']);
    expect(r.action).toMatchObject({ durationMs: 5000, iface: 'eth1', scope: { targets: ['10.0.0.5'] }, helperImage: 'nettools:1', pullImage: true });
  });

  it('rate: --duration before the effect, --rate after it', async () => {
    const r = await actionOf(['chaos', 'netem', '--duration', '5s', 'rate', '--rate', '1mbit', 'web']);
    expect(r.kind).toBe('netem:rate');
    expect(r.action).toMatchObject({
      kind: 'netem',
      durationMs: 5000,
      effects: { rate: { rate: '1mbit', packetOverhead: 0, cellSize: 0, cellOverhead: 0 } },
    });
  });

  it('rate with overheads, and a bad rate rejected', async () => {
    const r = await actionOf(['chaos', 'netem', '-d', '5s', 'rate', '-r', '500kbit', '-p', '-20', '-s', '48', '-c', '5', 'web']);
    expect(r.action).toMatchObject({ effects: { rate: { rate: '500kbit', packetOverhead: -20, cellSize: 48, cellOverhead: 5 } } });
    const bad = await parseArgv(['chaos', 'netem', '-d', '5s', 'rate', '-r', '1m', 'web']);
    expect(thrown(() => actionFromFlags('netem:rate', bad.options)).message).toContain("--rate '1m'");
  });

  it('combine: several effects in one action', async () => {
    const r = await actionOf(['chaos', 'netem', '-d', '5s', 'combine', '--delay-time', '100', '--loss-percent', '5', '--rate-value', '1mbit', 'web']);
    expect(r.kind).toBe('netem:combine');
    const effects = (r.action as Extract<typeof r.action, { kind: 'netem' }>).effects;
    expect(Object.keys(effects).sort()).toEqual(['delay', 'loss', 'rate']);
    expect(effects).toEqual({
      delay: { timeMs: 100, jitterMs: 0, correlation: 0, distribution: undefined },
      loss: { percent: 5, correlation: 0 },
      rate: { rate: '1mbit', packetOverhead: 0, cellSize: 0, cellOverhead: 0 },
    });
  });

  it('combine without any effect is rejected', async () => {
    const r = await parseArgv(['chaos', 'netem', '-d', '5s', 'combine', 'web']);
    expect(thrown(() => actionFromFlags('netem:combine', r.options)).message).toContain('no netem effect');
  });

  it.each([
    ['loss', ['-p', '5', '-c', '25'], { loss: { percent: 5, correlation: 25 } }],
    ['loss-state', ['--p13', '1'], { lossState: { p13: 1, p31: 100, p32: 0, p23: 100, p14: 0 } }],
    ['loss-gemodel', ['-p', '2', '-r', '90'], { lossGemodel: { pg: 2, pb: 90, oneH: 100, oneK: 0 } }],
    ['duplicate', ['-p', '3'], { duplicate: { percent: 3, correlation: 0 } }],
    ['corrupt', ['-p', '0.5', '-c', '10'], { corrupt: { percent: 0.5, correlation: 10 } }],
  ])('%s %j', async (effect, flags, effects) => {
    const r = await actionOf(['chaos', 'netem', '-d', '5s', effect, ...flags, 'web']);
    expect(r.kind).toBe(`netem:${effect}`);
    expect(r.action).toMatchObject({ kind: 'netem', effects });
  });

  it('scope flags: targets, egress and ingress ports (comma-separated or repeated)', async () => {
    const r = await actionOf(['chaos', 'netem', '-d', '5s', '-t', '10.0.0.5', '-t', 'db', '--egress-port', '80,443', '--ingress-port', '5432', 'loss', '-p', '5', 'web']);
    expect(r.action).toMatchObject({ scope: { targets: ['10.0.0.5', 'db'], egressPorts: [80, 443], ingressPorts: [5432] } });
  });

  it('netem without --duration is an error', async () => {
    const r = await parseArgv(['chaos', 'netem', 'delay', 'web']);
    expect(thrown(() => actionFromFlags('netem:delay', r.options)).message).toContain('--duration');
  });

  it('a bad --distribution is an error naming the choices', async () => {
    const r = await parseArgv(['chaos', 'netem', '-d', '5s', 'delay', '-d', 'gaussian', 'web']);
    const e = thrown(() => actionFromFlags('netem:delay', r.options));
    expect(e.message).toContain("--distribution 'gaussian'");
    expect(e.message).toContain('paretonormal');
  });

  it.each([
    [['-t', '100', '-j', '200'], 'larger than --time'],
    [['-t', '0'], '--time'],
    [['-t', '1.5'], '--time'],
    [['-c', '120'], '--correlation'],
  ])('delay %j is rejected', async (flags, message) => {
    const r = await parseArgv(['chaos', 'netem', '-d', '5s', 'delay', ...flags, 'web']);
    expect(thrown(() => actionFromFlags('netem:delay', r.options)).message).toContain(message);
  });

  it('rejects a bad --interface or port', async () => {
    thrown(() => actionFromFlags('netem:loss', { duration: '5s', percent: '5', interface: 'eth0; reboot' }));
    thrown(() => actionFromFlags('netem:loss', { duration: '5s', percent: '5', egressPort: ['70000'] }));
  });
});

describe('chaos iptables', () => {
  it('parent flags before loss: protocol, ports, duration', async () => {
    const r = await actionOf(['chaos', 'iptables', '-d', '5s', '-p', 'tcp', '--dport', '80,443', 'loss', '--probability', '0.3', 'web']);
    expect(r.kind).toBe('iptables:loss');
    expect(r.args).toEqual(['web']);
    expect(r.action).toEqual({
      kind: 'iptables',
      durationMs: 5000,
      iface: 'eth0',
      protocol: 'tcp',
      sources: [],
      destinations: [],
      srcPorts: [],
      dstPorts: [80, 443],
      loss: { mode: 'random', probability: 0.3 },
      helperImage: undefined,
      pullImage: false,
    });
  });

  it('--src/--dest/--sport/--dport are aliases, merged with the long names from both sides', async () => {
    const r = await actionOf([
      'chaos', 'iptables', '-d', '5s', '--protocol', 'UDP', '-s', '10.0.0.1', '--src', '10.0.0.2', '--sport', '53',
      'loss', '--probability', '1', '--dest', '10.9.0.0/16', '--destination', '10.8.0.1', '--dst-port', '5353', 'web',
    ]);
    expect(r.action).toMatchObject({
      protocol: 'udp',
      sources: ['10.0.0.1', '10.0.0.2'],
      destinations: ['10.8.0.1', '10.9.0.0/16'],
      srcPorts: [53],
      dstPorts: [5353],
    });
  });

  it('nth mode', async () => {
    const r = await actionOf(['chaos', 'iptables', '-d', '5s', 'loss', '--mode', 'nth', '--every', '3', '--packet', '1', 'web']);
    expect(r.action).toMatchObject({ loss: { mode: 'nth', every: 3, packet: 1 } });
    const bad = await parseArgv(['chaos', 'iptables', '-d', '5s', 'loss', '--mode', 'nth', '--every', '3', '--packet', '3', 'web']);
    expect(thrown(() => actionFromFlags('iptables:loss', bad.options)).message).toContain('--every 3 / --packet 3');
  });

  it.each([
    [['-p', 'sctp'], ['--probability', '0.5'], "--protocol 'sctp'"],
    [[], ['--mode', 'burst'], "--mode 'burst'"],
    [[], [], '--probability'],
    [[], ['--probability', '1.5'], '--probability'],
    [['--dport', '80'], ['--probability', '0.5'], '--protocol tcp or udp'],
    [['-p', 'tcp', '--dport', 'http'], ['--probability', '0.5'], '--dport'],
  ])('rejects %j … loss %j', async (parent, child, message) => {
    const r = await parseArgv(['chaos', 'iptables', '-d', '5s', ...parent, 'loss', ...child, 'web']);
    expect(thrown(() => actionFromFlags('iptables:loss', r.options)).message).toContain(message);
  });

  // Regression: address-shaped --source/--peer/--target values used to pass parsing unchecked; a
  // malformed CIDR was only rejected while the fault was being applied, and never in --dry-run.
  it('rejects a malformed --source CIDR before anything runs', async () => {
    const r = await parseArgv(['chaos', 'iptables', '-d', '5s', '-s', '10.0.0.1/40', 'loss', '--probability', '0.5', 'web']);
    thrown(() => actionFromFlags('iptables:loss', r.options));
  });

  it('iptables without --duration is an error', async () => {
    const r = await parseArgv(['chaos', 'iptables', 'loss', '--probability', '0.5', 'web']);
    expect(thrown(() => actionFromFlags('iptables:loss', r.options)).message).toContain('--duration');
  });
});

describe('chaos partition', () => {
  it('collects peers, repeated or comma-separated', async () => {
    const r = await actionOf(['chaos', 'partition', '-d', '5s', '--peer', 'db', '--peer', '10.0.0.0/24,cache', 'web']);
    expect(r.action).toEqual({ kind: 'partition', durationMs: 5000, peers: ['db', '10.0.0.0/24', 'cache'], helperImage: undefined, pullImage: false });
    expect(r.args).toEqual(['web']);
  });

  it('the parser accepts no peers; planning then rejects the empty list', async () => {
    const r = await actionOf(['chaos', 'partition', '-d', '5s', 'web']);
    expect(r.action).toMatchObject({ kind: 'partition', peers: [] });
    const peers = (r.action as Extract<typeof r.action, { kind: 'partition' }>).peers;
    expect(thrown(() => planPartition(peers, 'run')).message).toContain('--peer');
  });

  it('needs a duration', async () => {
    const r = await parseArgv(['chaos', 'partition', '--peer', 'db', 'web']);
    thrown(() => actionFromFlags('partition', r.options));
  });
});

describe('chaos rate', () => {
  it('builds a scoped bandwidth limit', async () => {
    const r = await actionOf(['chaos', 'rate', '-d', '5s', '-r', '1mbit', '-t', '10.0.0.5', 'web']);
    expect(r.action).toEqual({
      kind: 'rate',
      durationMs: 5000,
      iface: 'eth0',
      rate: '1mbit',
      scope: { targets: ['10.0.0.5'], egressPorts: [], ingressPorts: [] },
      helperImage: undefined,
      pullImage: false,
    });
  });

  it('--rate is required and validated', async () => {
    const r = await parseArgv(['chaos', 'rate', '-d', '5s', 'web']);
    expect(thrown(() => actionFromFlags('rate', r.options)).message).toContain('--rate is required');
    const bad = await parseArgv(['chaos', 'rate', '-d', '5s', '-r', 'fast', 'web']);
    thrown(() => actionFromFlags('rate', bad.options));
  });
});

describe('chaos stress', () => {
  it('splits --stressors into argv', async () => {
    const r = await actionOf(['chaos', 'stress', '-d', '5s', '--stressors', '--cpu 2 --vm 1', 'web']);
    expect(r.action).toEqual({ kind: 'stress', durationMs: 5000, stressors: ['--cpu', '2', '--vm', '1'], image: undefined, pullImage: false });
    expect(r.args).toEqual(['web']);
  });

  it("defaults to '--cpu 4' and takes --stress-image", async () => {
    const r = await actionOf(['chaos', 'stress', '-d', '5s', '--stress-image', 'stress-ng:1', '--pull-image', 'web']);
    expect(r.action).toEqual({ kind: 'stress', durationMs: 5000, stressors: ['--cpu', '4'], image: 'stress-ng:1', pullImage: true });
  });

  it('needs a duration', async () => {
    const r = await parseArgv(['chaos', 'stress', 'web']);
    expect(thrown(() => actionFromFlags('stress', r.options)).message).toContain('--duration');
  });
});

describe('network faults and --interval', () => {
  it('rejects a netem --duration not shorter than --interval', async () => {
    const r = await parseArgv(['chaos', '--interval', '10s', 'netem', '--duration', '20s', 'delay', 'web']);
    expect(r.options).toMatchObject({ interval: '10s', duration: '20s' });
    const e = thrown(() => experimentFromFlags(r.kind as ChaosCommandName, r.args, r.options));
    expect(e.message).toContain('must be shorter than --interval');
  });

  it('accepts a shorter one, from either side of the command', async () => {
    const a = await parseArgv(['chaos', '--interval', '30s', 'netem', '-d', '20s', 'loss', '-p', '5', 'web']);
    expect(experimentFromFlags(a.kind as ChaosCommandName, a.args, a.options).intervalMs).toBe(30_000);
    const b = await parseArgv(['chaos', 'iptables', '-d', '5s', 'loss', '--probability', '0.5', '--interval', '10s', 'web']);
    expect(experimentFromFlags(b.kind as ChaosCommandName, b.args, b.options)).toMatchObject({ intervalMs: 10_000, action: { kind: 'iptables', durationMs: 5000 } });
  });

  it.each([
    [['chaos', '--interval', '5s', 'partition', '-d', '5s', '--peer', 'db', 'web']],
    [['chaos', '--interval', '5s', 'rate', '-d', '6s', '-r', '1mbit', 'web']],
    [['chaos', 'stress', '-i', '10s', '-d', '10s', 'web']],
  ])('rejects %j', async (argv) => {
    const r = await parseArgv(argv);
    thrown(() => experimentFromFlags(r.kind as ChaosCommandName, r.args, r.options));
  });
});

describe('stress --inject-cgroup (Pumba compatibility)', () => {
  it('is accepted alone and refused together with --stress-image', () => {
    expect(actionFromFlags('stress', { duration: '5s', injectCgroup: true })).toMatchObject({ kind: 'stress', durationMs: 5000 });
    expect(() => actionFromFlags('stress', { duration: '5s', injectCgroup: true, stressImage: 'x' })).toThrow(/exclude each other/);
  });
});


// ---------------------------------------------------------------------------------------------
// Pumba's command lines as its scripts and integration tests write them (urfave/cli syntax, its words).
// ---------------------------------------------------------------------------------------------

describe('Pumba forms', () => {
  const NET = ['--duration', '5s'];
  /** Every boolean flag of kiboko chaos, where it lives, and how its value reaches the handler. */
  const cases: [string, string[], string, (o: Record<string, unknown>) => unknown][] = [
    ['--random (global, before the command)', ['chaos', '--random=@', 'kill', 'web'], 'kill', (o) => Boolean(o.random)],
    ['--random (after the command)', ['chaos', 'kill', '--random=@', 'web'], 'kill', (o) => Boolean(o.random)],
    ['--dry-run', ['chaos', '--dry-run=@', 'kill', 'web'], 'kill', (o) => Boolean(o.dryRun)],
    ['--dry', ['chaos', '--dry=@', 'kill', 'web'], 'kill', (o) => Boolean(o.dry)],
    ['--skip-error', ['chaos', '--skip-error=@', 'kill', 'web'], 'kill', (o) => Boolean(o.skipError)],
    ['--json', ['chaos', '--json=@', 'kill', 'web'], 'kill', (o) => Boolean(o.json)],
    ['--tls', ['chaos', '--tls=@', 'kill', 'web'], 'kill', (o) => Boolean(o.tls)],
    ['--tlsverify', ['chaos', 'kill', '--tlsverify=@', 'web'], 'kill', (o) => Boolean(o.tlsverify)],
    ['stop --restart', ['chaos', 'stop', '--restart=@', 'web'], 'stop', (o) => Boolean(o.restart)],
    ['rm --force', ['chaos', 'rm', '--force=@', 'web'], 'rm', (o) => actionFromFlags('rm', o).kind === 'rm' && (actionFromFlags('rm', o) as { force: boolean }).force],
    ['rm --links', ['chaos', 'rm', '--links=@', 'web'], 'rm', (o) => (actionFromFlags('rm', o) as { links: boolean }).links],
    ['rm --volumes', ['chaos', 'rm', '--volumes=@', 'web'], 'rm', (o) => (actionFromFlags('rm', o) as { volumes: boolean }).volumes],
    ['netem --pull-image (before the effect)', ['chaos', 'netem', ...NET, '--pull-image=@', 'delay', 'web'], 'netem:delay', (o) => (actionFromFlags('netem:delay', o) as { pullImage: boolean }).pullImage],
    ['netem delay --pull-image', ['chaos', 'netem', ...NET, 'delay', '--pull-image=@', 'web'], 'netem:delay', (o) => (actionFromFlags('netem:delay', o) as { pullImage: boolean }).pullImage],
    ['iptables --pull-image', ['chaos', 'iptables', ...NET, '--pull-image=@', 'loss', '--probability', '1', 'web'], 'iptables:loss', (o) => (actionFromFlags('iptables:loss', o) as { pullImage: boolean }).pullImage],
    ['partition --pull-image', ['chaos', 'partition', '-d', '5s', '--peer', '10.0.0.1', '--pull-image=@', 'web'], 'partition', (o) => (actionFromFlags('partition', o) as { pullImage: boolean }).pullImage],
    ['rate --pull-image', ['chaos', 'rate', '-d', '5s', '-r', '1mbit', '--pull-image=@', 'web'], 'rate', (o) => (actionFromFlags('rate', o) as { pullImage: boolean }).pullImage],
    ['stress --pull-image', ['chaos', 'stress', '-d', '5s', '--stress-image', 'img', '--pull-image=@', 'web'], 'stress', (o) => (actionFromFlags('stress', o) as { pullImage: boolean }).pullImage],
    ['stress --inject-cgroup', ['chaos', 'stress', '-d', '5s', '--inject-cgroup=@', 'web'], 'stress', (o) => Boolean(o.injectCgroup)],
  ];
  const spellings: [string, boolean][] = [
    ['true', true],
    ['false', false],
    ['TRUE', true],
    ['False', false],
    ['1', true],
    ['0', false],
    ['t', true],
    ['f', false],
  ];
  it.each(cases)('%s accepts --flag=true|false (and Go’s other spellings)', async (_name, argv, kind, value) => {
    for (const [spelling, expected] of spellings) {
      const r = await parseArgv(argv.map((a) => a.replace('=@', `=${spelling}`)));
      expect(r.kind, spelling).toBe(kind);
      expect(r.args, spelling).toEqual(['web']);
      expect(value(r.options), `${argv.join(' ')} with ${spelling}`).toBe(expected);
    }
    // The bare flag still means true, and still never takes the next word.
    const bare = await parseArgv(argv.map((a) => a.replace('=@', '')));
    expect(bare.args).toEqual(['web']);
    expect(value(bare.options)).toBe(true);
  });

  it('--flag=false after --flag=true: the last one wins, as in urfave/cli', async () => {
    const r = await parseArgv(['chaos', 'netem', ...NET, 'delay', '--pull-image=true', '--pull-image=false', 'web']);
    expect((actionFromFlags('netem:delay', r.options) as { pullImage: boolean }).pullImage).toBe(false);
  });

  it('--flag false is urfave/cli’s bare flag followed by an argument: `false` is a target, as in Pumba', async () => {
    const r = await parseArgv(['chaos', 'kill', '--random', 'false', 'web']);
    expect(r.options.random).toBe(true);
    expect(r.args).toEqual(['false', 'web']);
  });

  it('a value that is not a boolean is a clear usage error (exit 2)', async () => {
    const r = await cli(['chaos', 'netem', '--duration', '5s', 'delay', '--pull-image=perhaps', 'web']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/invalid --pull-image 'perhaps': expected true or false/);
  });

  it('kill, stop and rm without a target say Pumba’s words', async () => {
    for (const cmd of ['kill', 'stop', 'rm']) {
      const r = await cli(['chaos', cmd]);
      expect(r.code, cmd).toBe(2);
      expect(r.err, cmd).toMatch(/^kiboko: container name, list of names, or RE2 regex is required/);
    }
  });

  it('`kiboko chaos help`, `kiboko chaos help kill` and `kiboko chaos --version` answer as pumba does', async () => {
    const help = await cli(['chaos', 'help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: kiboko chaos \[options\] \[command\]/);
    for (const c of ['kill', 'netem', 'iptables', 'stress']) expect(help.out).toContain(`  ${c}`);
    const kill = await cli(['chaos', 'help', 'kill']);
    expect(kill.out).toMatch(/^Usage: kiboko chaos kill \[options\] \[containers\.\.\.\]/);
    const { VERSION } = await import('../common/version.js');
    for (const flag of ['--version', '-v']) expect(await cli(['chaos', flag])).toEqual({ code: 0, out: `${VERSION}\n`, err: '' });
  });

  it('no targets: the human line starts with Pumba’s "no containers found"', async () => {
    const { humanLine } = await import('./render.js');
    expect(humanLine({ type: 'no-targets', at: '', cycle: 1, unmatched: ['web'] })).toMatch(/^no containers found \(cycle 1; not found: web\)/);
  });

  it('--log-level debug logs the resolved command, arguments, targets and limit (and never the slack hook)', async () => {
    const { logResolved } = await import('./chaos.js');
    const r = await parseArgv(['chaos', '--log-level', 'debug', '--slackhook', 'https://hooks.example/secret', 'netem', ...NET, 'delay', '-t', '200', '--limit', '2', 're2:^web', 'db']);
    const lines: [string, Record<string, unknown> | undefined][] = [];
    const renderer = { debug: (m: string, d?: Record<string, unknown>) => lines.push([m, d]), info: () => undefined, warn: () => undefined, error: () => undefined, event: () => undefined, close: () => undefined };
    logResolved(renderer, 'netem:delay', r.args, r.options, experimentFromFlags('netem:delay', r.args, r.options));
    expect(lines).toHaveLength(1);
    const [msg, data] = lines[0]!;
    expect(msg).toMatch(/^command: netem delay; arguments: \["re2:\^web","db"\]; flags: .*"time":"200".*; targets: .*; limit: 2; action: \{"kind":"netem"/);
    expect(msg).not.toContain('secret');
    expect(data).toMatchObject({ command: 'netem delay', arguments: ['re2:^web', 'db'], limit: 2, action: { kind: 'netem', effects: { delay: { timeMs: 200 } } } });
  });
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('./main.js');
  const { COMMAND_GROUPS } = await import('./program.js');
  const { vi } = await import('vitest');
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
  try {
    const code = await main(args, COMMAND_GROUPS);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = undefined;
  }
}
