import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../../test/expect-error.js';
import { KIBOKO_HANDLE, netemArgs, parseRate, parseRootQdisc, planNetem, planRateLimit, rootOwnership, unscoped, type NetemEffects, type Scope } from './tc.js';

const scope = (s: Partial<Scope> = {}): Scope => ({ targets: [], egressPorts: [], ingressPorts: [], ...s });
const TEARDOWN = (iface: string) => [['tc', 'qdisc', 'del', 'dev', iface, 'root', 'handle', '6b69:']];

describe('parseRootQdisc', () => {
  it.each([
    ['qdisc noqueue 0: root refcnt 2', { kind: 'noqueue', handle: '0:' }],
    ['qdisc tbf 6b69: root refcnt 2 rate 1Mbit burst 3200b lat 400ms', { kind: 'tbf', handle: '6b69:' }],
    ['qdisc htb 1: root refcnt 2 r2q 10 default 0x1 direct_packets_stat 0', { kind: 'htb', handle: '1:' }],
    ['qdisc netem 6b69: root refcnt 2 limit 1000 delay 100ms  10ms 20%', { kind: 'netem', handle: '6b69:' }],
    ['qdisc pfifo_fast 0: root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1', { kind: 'pfifo_fast', handle: '0:' }],
  ])('%j', (line, root) => {
    expect(parseRootQdisc(`${line}\n`)).toEqual(root);
  });

  it('finds the root among child qdiscs, wherever it is printed', () => {
    const prio =
      'qdisc prio 6b69: root refcnt 2 bands 4 priomap 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n' +
      'qdisc netem 6b6a: parent 6b69:4 limit 1000 delay 100ms\n';
    expect(parseRootQdisc(prio)).toEqual({ kind: 'prio', handle: '6b69:' });
    const mq =
      'qdisc fq_codel 0: parent :2 limit 10240p flows 1024 quantum 1514 target 5ms interval 100ms memory_limit 32Mb ecn drop_batch 64\n' +
      'qdisc mq 0: root\n' +
      'qdisc fq_codel 0: parent :1 limit 10240p flows 1024 quantum 1514 target 5ms interval 100ms memory_limit 32Mb ecn drop_batch 64\n';
    expect(parseRootQdisc(mq)).toEqual({ kind: 'mq', handle: '0:' });
  });

  it('ignores ingress/clsact qdiscs and returns undefined without a root', () => {
    expect(parseRootQdisc('qdisc ingress ffff: parent ffff:fff1 ----------------\n')).toBeUndefined();
    expect(parseRootQdisc('qdisc clsact ffff: parent ffff:fff1\n')).toBeUndefined();
    expect(parseRootQdisc('')).toBeUndefined();
  });
});

describe('rootOwnership', () => {
  it('free: no root, or a default qdisc on handle 0:', () => {
    expect(rootOwnership(undefined)).toBe('free');
    for (const kind of ['noqueue', 'pfifo_fast', 'fq_codel', 'mq', 'fq']) expect(rootOwnership({ kind, handle: '0:' })).toBe('free');
  });

  it("kiboko: anything on kiboko's handle", () => {
    for (const kind of ['netem', 'tbf', 'htb', 'prio']) expect(rootOwnership({ kind, handle: KIBOKO_HANDLE })).toBe('kiboko');
  });

  it('foreign: configured qdiscs, or a default kind on a handle someone chose', () => {
    expect(rootOwnership({ kind: 'htb', handle: '1:' })).toBe('foreign');
    expect(rootOwnership({ kind: 'netem', handle: '8001:' })).toBe('foreign');
    expect(rootOwnership({ kind: 'fq_codel', handle: '1:' })).toBe('foreign');
  });
});

describe('parseRate', () => {
  it.each([
    ['100kbit', 100_000],
    ['1mbit', 1_000_000],
    ['1.5mbit', 1_500_000],
    ['10mbps', 80_000_000],
    ['1Gbit', 1e9],
    ['8bit', 8],
    [' 2kbps ', 16_000],
  ])('%j is %d bit/s', (v, bits) => {
    expect(parseRate(v)).toBe(bits);
  });

  it.each(['1m', 'fast', '0bit', '7bit', '', '1 mbit', '-1mbit', 'mbit'])('rejects %j', (v) => {
    expect(thrown(() => parseRate(v)).message).toContain("--rate '");
  });

  it('names the flag it validates', () => {
    expect(thrown(() => parseRate('x', '--rate-value')).message).toContain('--rate-value');
  });
});

describe('planRateLimit', () => {
  it('unscoped: one tbf under kiboko’s handle, with a burst of at least 3200 bytes', () => {
    const plan = planRateLimit('eth0', '1mbit');
    expect(plan).toEqual({
      iface: 'eth0',
      apply: [['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '6b69:', 'tbf', 'rate', '1mbit', 'burst', '3200', 'latency', '400ms']],
      teardown: TEARDOWN('eth0'),
    });
    expect(planRateLimit('eth0', '1mbit', scope())).toEqual(plan);
  });

  it('unscoped: the burst grows to 10 ms of traffic on fast links', () => {
    const burst = (rate: string) => {
      const a = planRateLimit('eth1', rate).apply[0]!;
      return Number(a[a.indexOf('burst') + 1]);
    };
    expect(burst('100kbit')).toBe(3200);
    expect(burst('1gbit')).toBe(1_250_000);
    expect(burst('10mbps')).toBe(100_000);
  });

  it('scoped: htb with an unlimited default class, a limited class and one u32 filter per target and port', () => {
    const plan = planRateLimit('eth0', '500kbit', scope({ targets: ['10.0.0.5', '10.1.0.0/16'], egressPorts: [8080], ingressPorts: [5432] }));
    const base = ['tc', 'filter', 'add', 'dev', 'eth0', 'protocol', 'ip', 'parent', '6b69:', 'prio', '1', 'u32'];
    expect(plan.apply).toEqual([
      ['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '6b69:', 'htb', 'default', '1'],
      ['tc', 'class', 'add', 'dev', 'eth0', 'parent', '6b69:', 'classid', '6b69:1', 'htb', 'rate', '100gbit'],
      ['tc', 'class', 'add', 'dev', 'eth0', 'parent', '6b69:', 'classid', '6b69:2', 'htb', 'rate', '500kbit', 'ceil', '500kbit', 'burst', '3200'],
      [...base, 'match', 'ip', 'dst', '10.0.0.5/32', 'flowid', '6b69:2'],
      [...base, 'match', 'ip', 'dst', '10.1.0.0/16', 'flowid', '6b69:2'],
      [...base, 'match', 'ip', 'sport', '8080', '0xffff', 'flowid', '6b69:2'],
      [...base, 'match', 'ip', 'dport', '5432', '0xffff', 'flowid', '6b69:2'],
    ]);
    expect(plan.teardown).toEqual(TEARDOWN('eth0'));
  });

  it('rejects a bad rate before planning anything', () => {
    thrown(() => planRateLimit('eth0', '1m'));
  });
});

describe('unscoped', () => {
  it('is true for no scope or an empty one, false when anything narrows it', () => {
    expect(unscoped(undefined)).toBe(true);
    expect(unscoped(scope())).toBe(true);
    expect(unscoped(scope({ targets: ['10.0.0.1'] }))).toBe(false);
    expect(unscoped(scope({ egressPorts: [1] }))).toBe(false);
    expect(unscoped(scope({ ingressPorts: [1] }))).toBe(false);
  });
});

describe('netemArgs', () => {
  const delay = (timeMs: number, jitterMs = 0, correlation = 0, distribution?: 'uniform' | 'normal' | 'pareto' | 'paretonormal'): NetemEffects => ({
    delay: { timeMs, jitterMs, correlation, distribution },
  });

  it.each<[string, NetemEffects, string[]]>([
    ['delay with jitter, correlation and distribution', delay(100, 10, 20, 'normal'), ['delay', '100ms', '10ms', '20%', 'distribution', 'normal']],
    ['delay with jitter only', delay(100, 10), ['delay', '100ms', '10ms']],
    ['plain delay (correlation and distribution need jitter)', delay(250, 0, 20, 'pareto'), ['delay', '250ms']],
    ['delay over a second', delay(1500, 500), ['delay', '1500ms', '500ms']],
    ['random loss', { loss: { percent: 5, correlation: 0 } }, ['loss', 'random', '5%']],
    ['random loss with correlation', { loss: { percent: 5.5, correlation: 25 } }, ['loss', 'random', '5.5%', '25%']],
    ['loss state', { lossState: { p13: 1, p31: 100, p32: 0, p23: 100, p14: 0 } }, ['loss', 'state', '1%', '100%', '0%', '100%', '0%']],
    ['loss gemodel', { lossGemodel: { pg: 1, pb: 90, oneH: 100, oneK: 0 } }, ['loss', 'gemodel', '1%', '90%', '100%', '0%']],
    ['rate', { rate: { rate: '1mbit', packetOverhead: 0, cellSize: 0, cellOverhead: 0 } }, ['rate', '1mbit']],
    ['rate with overheads', { rate: { rate: '100kbit', packetOverhead: -20, cellSize: 48, cellOverhead: 5 } }, ['rate', '100kbit', '-20', '48', '5']],
    ['duplicate', { duplicate: { percent: 1, correlation: 0 } }, ['duplicate', '1%']],
    ['duplicate with correlation', { duplicate: { percent: 1, correlation: 10 } }, ['duplicate', '1%', '10%']],
    ['corrupt', { corrupt: { percent: 0.1, correlation: 0 } }, ['corrupt', '0.1%']],
    ['corrupt with correlation', { corrupt: { percent: 2, correlation: 50 } }, ['corrupt', '2%', '50%']],
  ])('%s', (_name, effects, args) => {
    expect(netemArgs(effects)).toEqual(args);
  });

  it('combines effects in one argument list, delay first', () => {
    expect(
      netemArgs({
        corrupt: { percent: 1, correlation: 0 },
        rate: { rate: '1mbit', packetOverhead: 0, cellSize: 0, cellOverhead: 0 },
        loss: { percent: 5, correlation: 0 },
        delay: { timeMs: 100, jitterMs: 10, correlation: 0, distribution: 'normal' },
      }),
    ).toEqual(['delay', '100ms', '10ms', 'distribution', 'normal', 'loss', 'random', '5%', 'rate', '1mbit', 'corrupt', '1%']);
  });

  it('rejects jitter larger than the delay', () => {
    expect(thrown(() => netemArgs(delay(100, 101))).message).toContain('--jitter 101ms is larger than --time 100ms');
  });

  it('rejects a zero delay', () => {
    expect(thrown(() => netemArgs(delay(0))).message).toContain('--time');
  });

  it('rejects no effect at all', () => {
    expect(thrown(() => netemArgs({})).message).toBe('no netem effect given');
  });

  it.each<[string, NetemEffects]>([
    ['--percent', { loss: { percent: 101, correlation: 0 } }],
    ['--correlation', { loss: { percent: 1, correlation: 150 } }],
    ['--correlation', delay(100, 10, 101)],
    ['--p31', { lossState: { p13: 1, p31: 100.5, p32: 0, p23: 100, p14: 0 } }],
    ['--one-k', { lossGemodel: { pg: 1, pb: 90, oneH: 100, oneK: -1 } }],
    ['--percent', { duplicate: { percent: 200, correlation: 0 } }],
    ['--percent', { corrupt: { percent: Number.NaN, correlation: 0 } }],
  ])('rejects a percentage outside 0-100 (%s)', (flag, effects) => {
    expect(thrown(() => netemArgs(effects)).message).toContain(`invalid ${flag}`);
  });

  it('rejects a bad netem rate', () => {
    thrown(() => netemArgs({ rate: { rate: '1m', packetOverhead: 0, cellSize: 0, cellOverhead: 0 } }));
  });

  // Regression: delay and jitter were formatted with formatDuration, which writes minutes (`1m`,
  // `1m30s`); iproute2's get_time64 accepts only s/ms/us/ns suffixes, so netem rejected them.
  it('writes delays of a minute or more in units tc understands', () => {
    const args = netemArgs(delay(90_000, 60_000));
    for (const t of args.slice(1, 3)) expect(t).toMatch(/^\d+(\.\d+)?(s|ms|us)$/);
  });
});

describe('planNetem', () => {
  const effects: NetemEffects = { delay: { timeMs: 100, jitterMs: 10, correlation: 0 } };

  it('unscoped: netem as kiboko’s root qdisc', () => {
    expect(planNetem('eth0', effects)).toEqual({
      iface: 'eth0',
      apply: [['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '6b69:', 'netem', 'delay', '100ms', '10ms']],
      teardown: TEARDOWN('eth0'),
    });
    expect(planNetem('eth0', effects, scope())).toEqual(planNetem('eth0', effects));
  });

  it('scoped: a 4-band prio root, netem on band 4, filters sending the scoped traffic there', () => {
    const plan = planNetem('eth1', { loss: { percent: 5, correlation: 0 } }, scope({ targets: ['172.17.0.3'], ingressPorts: [80, 443] }));
    const base = ['tc', 'filter', 'add', 'dev', 'eth1', 'protocol', 'ip', 'parent', '6b69:', 'prio', '1', 'u32'];
    expect(plan.apply).toEqual([
      ['tc', 'qdisc', 'add', 'dev', 'eth1', 'root', 'handle', '6b69:', 'prio', 'bands', '4', 'priomap', ...Array<string>(16).fill('0')],
      ['tc', 'qdisc', 'add', 'dev', 'eth1', 'parent', '6b69:4', 'handle', '6b6a:', 'netem', 'loss', 'random', '5%'],
      [...base, 'match', 'ip', 'dst', '172.17.0.3/32', 'flowid', '6b69:4'],
      [...base, 'match', 'ip', 'dport', '80', '0xffff', 'flowid', '6b69:4'],
      [...base, 'match', 'ip', 'dport', '443', '0xffff', 'flowid', '6b69:4'],
    ]);
    expect(plan.teardown).toEqual(TEARDOWN('eth1'));
  });

  it('validates the effects before planning', () => {
    thrown(() => planNetem('eth0', {}));
    thrown(() => planNetem('eth0', { delay: { timeMs: 10, jitterMs: 20, correlation: 0 } }, scope({ targets: ['10.0.0.1'] })));
  });

  it('property: any valid delay/jitter gives delay args, and teardown only ever deletes handle 6b69:', () => {
    const arbScope = fc.record({
      targets: fc.array(fc.ipV4(), { maxLength: 3 }),
      egressPorts: fc.array(fc.integer({ min: 1, max: 65535 }), { maxLength: 2 }),
      ingressPorts: fc.array(fc.integer({ min: 1, max: 65535 }), { maxLength: 2 }),
    });
    const arbDelay = fc
      .integer({ min: 1, max: 59_999 })
      .chain((timeMs) => fc.record({ timeMs: fc.constant(timeMs), jitterMs: fc.integer({ min: 0, max: timeMs }), correlation: fc.integer({ min: 0, max: 100 }) }));
    fc.assert(
      fc.property(arbDelay, fc.option(arbScope, { nil: undefined }), fc.constantFrom('eth0', 'eth1', 'veth9'), (d, s, iface) => {
        const args = netemArgs({ delay: d });
        expect(args[0]).toBe('delay');
        const plan = planNetem(iface, { delay: d }, s);
        expect(plan.teardown).toEqual(TEARDOWN(iface));
        for (const argv of plan.teardown) {
          expect(argv.slice(0, 3)).toEqual(['tc', 'qdisc', 'del']);
          expect(argv.at(-2)).toBe('handle');
          expect(argv.at(-1)).toBe(KIBOKO_HANDLE);
        }
        // Everything kiboko adds hangs under its own handle.
        for (const argv of plan.apply) {
          expect(argv.includes('6b69:') || argv.some((a) => a.startsWith('6b69:'))).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});
