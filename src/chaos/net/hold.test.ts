import { describe, expect, it } from 'vitest';
import { KibokoError } from '../../common/errors.js';
import { FakeEngine } from '../../engine/index.js';
import type { NetAction, TrafficScope } from '../types.js';
import { buildNetFault, featuresOf, resolvePeers } from './hold.js';

const NO_SCOPE: TrafficScope = { targets: [], egressPorts: [], ingressPorts: [] };
const netem = (scope = NO_SCOPE): NetAction => ({ kind: 'netem', durationMs: 1000, iface: 'eth0', effects: { loss: { percent: 5, correlation: 0 } }, scope });
const rate = (scope = NO_SCOPE): NetAction => ({ kind: 'rate', durationMs: 1000, iface: 'eth0', rate: '1mbit', scope });

async function rejection(p: Promise<unknown>): Promise<KibokoError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KibokoError);
  return err as KibokoError;
}

describe('featuresOf', () => {
  it('netem needs sch_netem, plus prio when scoped', () => {
    expect(featuresOf(netem())).toEqual(['netem']);
    expect(featuresOf(netem({ ...NO_SCOPE, targets: ['10.0.0.1'] }))).toEqual(['prio', 'netem']);
    expect(featuresOf(netem({ ...NO_SCOPE, ingressPorts: [80] }))).toEqual(['prio', 'netem']);
  });

  it('rate needs tbf, or htb when scoped', () => {
    expect(featuresOf(rate())).toEqual(['tbf']);
    expect(featuresOf(rate({ ...NO_SCOPE, egressPorts: [80] }))).toEqual(['htb']);
  });

  it('iptables faults need no qdisc', () => {
    expect(featuresOf({ kind: 'partition', durationMs: 1000, peers: ['10.0.0.1'] })).toEqual([]);
    expect(
      featuresOf({ kind: 'iptables', durationMs: 1000, protocol: 'any', sources: [], destinations: [], srcPorts: [], dstPorts: [], loss: { mode: 'random', probability: 1 } }),
    ).toEqual([]);
  });
});

describe('resolvePeers', () => {
  it('keeps addresses and CIDRs, and turns containers into their IPv4 addresses', async () => {
    const engine = new FakeEngine();
    engine.add({ name: 'db', networks: { front: { ipAddress: '172.18.0.4' }, back: { ipAddress: '172.19.0.4' } } });
    expect(await resolvePeers(engine, ['10.0.0.5', 'db', '10.1.0.0/16'], '--peer')).toEqual(['10.0.0.5', '172.18.0.4', '172.19.0.4', '10.1.0.0/16']);
  });

  it('names the flag when a peer is neither a container nor an address', async () => {
    const e = await rejection(resolvePeers(new FakeEngine(), ['nosuch'], '--target'));
    expect(e.code).toBe('TARGET_NOT_FOUND');
    expect(e.message).toContain("--target 'nosuch'");
  });

  it('rejects a container without an IPv4 address', async () => {
    const engine = new FakeEngine();
    engine.add({ name: 'isolated', networks: { none: { ipAddress: '' } } });
    expect((await rejection(resolvePeers(engine, ['isolated'], '--peer'))).code).toBe('INVALID_ARGUMENT');
  });

  it('rejects an address-shaped value that is not a valid address', async () => {
    const e = await rejection(resolvePeers(new FakeEngine(), ['300.1.1.1'], '--source'));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('--source');
  });
});

describe('buildNetFault', () => {
  it('partition: rules against each resolved peer address', async () => {
    const engine = new FakeEngine();
    engine.add({ name: 'db', networks: { bridge: { ipAddress: '172.17.0.9' } } });
    const fault = await buildNetFault(engine, { kind: 'partition', durationMs: 1000, peers: ['db'] }, 'R');
    expect(fault).toEqual({
      tool: 'iptables',
      runId: 'R',
      rules: [
        ['-I', 'INPUT', '-s', '172.17.0.9', '-m', 'comment', '--comment', 'kiboko:R', '-j', 'DROP'],
        ['-I', 'OUTPUT', '-d', '172.17.0.9', '-m', 'comment', '--comment', 'kiboko:R', '-j', 'DROP'],
      ],
    });
  });

  it('netem scoped to a container: a u32 filter on its /32', async () => {
    const engine = new FakeEngine();
    engine.add({ name: 'api', networks: { bridge: { ipAddress: '172.17.0.3' } } });
    const fault = await buildNetFault(engine, netem({ ...NO_SCOPE, targets: ['api'] }), 'R');
    expect(fault.tool).toBe('tc');
    const apply = fault.tool === 'tc' ? fault.plan.apply : [];
    expect(apply.at(-1)).toEqual(['tc', 'filter', 'add', 'dev', 'eth0', 'protocol', 'ip', 'parent', '6b69:', 'prio', '1', 'u32', 'match', 'ip', 'dst', '172.17.0.3/32', 'flowid', '6b69:4']);
  });

  it('iptables: sources and destinations resolved, one rule per pair', async () => {
    const engine = new FakeEngine();
    engine.add({ name: 'client', networks: { bridge: { ipAddress: '172.17.0.7' } } });
    const fault = await buildNetFault(
      engine,
      { kind: 'iptables', durationMs: 1000, iface: 'eth0', protocol: 'tcp', sources: ['client', '10.0.0.0/8'], destinations: [], srcPorts: [], dstPorts: [80], loss: { mode: 'random', probability: 0.5 } },
      'R',
    );
    expect(fault.tool === 'iptables' && fault.rules.map((r) => r[r.indexOf('-s') + 1])).toEqual(['172.17.0.7', '10.0.0.0/8']);
  });
});
