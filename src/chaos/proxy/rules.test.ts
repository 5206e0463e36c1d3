import { describe, expect, it } from 'vitest';
import { thrown } from '../../../test/expect-error.js';
import { deleteRule, planPartition } from '../net/iptables.js';
import { parseOutgoing, planProxyRules, PROXY_GID } from './rules.js';

const RUN = '0f0e0d0c-aaaa-bbbb-cccc-000000000001';
const TAG = ['-m', 'comment', '--comment', `kiboko:${RUN}`];

describe('planProxyRules', () => {
  it('redirects incoming container ports (PREROUTING) and outgoing destinations (OUTPUT, the agent’s group excluded)', () => {
    expect(
      planProxyRules({ incoming: { '80': 40001, '443': 40002 }, outgoing: { destinations: [{ cidr: '10.0.0.5', port: 5432 }, { port: 6379 }, { cidr: '10.1.0.0/16' }], agentPort: 40003 } }, RUN),
    ).toEqual([
      ['-t', 'nat', '-I', 'PREROUTING', '-p', 'tcp', '--dport', '80', ...TAG, '-j', 'REDIRECT', '--to-ports', '40001'],
      ['-t', 'nat', '-I', 'PREROUTING', '-p', 'tcp', '--dport', '443', ...TAG, '-j', 'REDIRECT', '--to-ports', '40002'],
      ['-t', 'nat', '-I', 'OUTPUT', '-p', 'tcp', '-d', '10.0.0.5', '--dport', '5432', '-m', 'owner', '!', '--gid-owner', String(PROXY_GID), ...TAG, '-j', 'REDIRECT', '--to-ports', '40003'],
      ['-t', 'nat', '-I', 'OUTPUT', '-p', 'tcp', '--dport', '6379', '-m', 'owner', '!', '--gid-owner', String(PROXY_GID), ...TAG, '-j', 'REDIRECT', '--to-ports', '40003'],
      ['-t', 'nat', '-I', 'OUTPUT', '-p', 'tcp', '-d', '10.1.0.0/16', '-m', 'owner', '!', '--gid-owner', String(PROXY_GID), ...TAG, '-j', 'REDIRECT', '--to-ports', '40003'],
    ]);
  });

  it('deletes nat rules exactly (-t nat -D …)', () => {
    const [rule] = planProxyRules({ incoming: { '80': 40001 } }, RUN);
    expect(deleteRule(rule!)).toEqual(['-t', 'nat', '-D', 'PREROUTING', '-p', 'tcp', '--dport', '80', ...TAG, '-j', 'REDIRECT', '--to-ports', '40001']);
  });
});

describe('parseOutgoing (--to)', () => {
  it('reads HOST[:PORT] and :PORT', () => {
    expect(parseOutgoing('db:5432')).toEqual({ host: 'db', port: 5432 });
    expect(parseOutgoing('10.0.0.0/24:443')).toEqual({ host: '10.0.0.0/24', port: 443 });
    expect(parseOutgoing(':6379')).toEqual({ host: undefined, port: 6379 });
    expect(parseOutgoing('web-1')).toEqual({ host: 'web-1', port: undefined });
  });
  it.each(['', ':', 'db:99999', '10.0.0.300', 'a b:80', 'db:http'])('refuses %j', (v) => {
    thrown(() => parseOutgoing(v));
  });
});

describe('planPartition --direction', () => {
  const drop = ['-m', 'comment', '--comment', `kiboko:${RUN}`, '-j', 'DROP'];
  const fresh = ['-m', 'conntrack', '--ctstate', 'NEW'];
  it('from: drops connections the peer opens; replies to the target’s own connections pass', () => {
    expect(planPartition(['10.0.0.9'], RUN, 'from')).toEqual([['-I', 'INPUT', '-s', '10.0.0.9', ...fresh, ...drop]]);
  });
  it('to: drops connections the target opens to the peer', () => {
    expect(planPartition(['10.0.0.9'], RUN, 'to')).toEqual([['-I', 'OUTPUT', '-d', '10.0.0.9', ...fresh, ...drop]]);
  });
  it('both (default): every packet either way, as before', () => {
    expect(planPartition(['10.0.0.9'], RUN)).toEqual([
      ['-I', 'INPUT', '-s', '10.0.0.9', ...drop],
      ['-I', 'OUTPUT', '-d', '10.0.0.9', ...drop],
    ]);
  });
});
