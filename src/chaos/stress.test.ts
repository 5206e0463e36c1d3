import { describe, expect, it } from 'vitest';
import { cgroupParentOf, cgroupProcsFiles, parseCgroupMounts } from './stress.js';

/** /proc/self/mounts of a cgroup v1 host (Docker's cgroupfs driver), trimmed to what matters. */
const V1_MOUNTS = [
  'sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0',
  'tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0',
  'cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,name=systemd 0 0',
  'cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0',
  'cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0',
  'cgroup /sys/fs/cgroup/cpuset cgroup rw,nosuid,nodev,noexec,relatime,cpuset 0 0',
  'cgroup /sys/fs/cgroup/net_cls,net_prio cgroup rw,nosuid,nodev,noexec,relatime,net_cls,net_prio 0 0',
  '',
].join('\n');

const V2_MOUNTS = [
  'proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0',
  'cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0',
  '',
].join('\n');

/** systemd's hybrid layout: v1 controllers, and the unified hierarchy under /sys/fs/cgroup/unified. */
const HYBRID_MOUNTS = [
  'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0',
  'cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,name=systemd 0 0',
  'cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0',
  '',
].join('\n');

/** An injected reader over a fixed set of files; anything else is ENOENT, like the real one. */
const reader = (files: Record<string, string>) => {
  const reads: string[] = [];
  const read = (p: string): string => {
    reads.push(p);
    const text = files[p];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' });
    return text;
  };
  return { read, reads };
};

describe('parseCgroupMounts', () => {
  it('keeps cgroup2 and v1 cgroup mounts with their options, nothing else', () => {
    expect(parseCgroupMounts(V1_MOUNTS)).toEqual([
      { path: '/sys/fs/cgroup/systemd', kind: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime', 'xattr', 'name=systemd'] },
      { path: '/sys/fs/cgroup/cpu,cpuacct', kind: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime', 'cpu', 'cpuacct'] },
      { path: '/sys/fs/cgroup/memory', kind: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime', 'memory'] },
      { path: '/sys/fs/cgroup/cpuset', kind: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime', 'cpuset'] },
      { path: '/sys/fs/cgroup/net_cls,net_prio', kind: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime', 'net_cls', 'net_prio'] },
    ]);
    expect(parseCgroupMounts(V2_MOUNTS)).toEqual([{ path: '/sys/fs/cgroup', kind: 'cgroup2' }]);
    expect(parseCgroupMounts('')).toEqual([]);
  });
});

describe('cgroupProcsFiles', () => {
  it('cgroup v1: one cgroup.procs per hierarchy, named controllers included', () => {
    const { read, reads } = reader({
      '/proc/self/mounts': V1_MOUNTS,
      '/proc/4242/cgroup': '12:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n5:memory:/docker/abc\n',
    });
    expect(cgroupProcsFiles(4242, read)).toEqual([
      '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cgroup.procs',
      '/sys/fs/cgroup/systemd/docker/abc/cgroup.procs',
      '/sys/fs/cgroup/memory/docker/abc/cgroup.procs',
    ]);
    expect(reads).toEqual(['/proc/self/mounts', '/proc/4242/cgroup']);
  });

  it('cgroup v1: a controller list written in the other order still finds its hierarchy', () => {
    const { read } = reader({ '/proc/self/mounts': V1_MOUNTS, '/proc/7/cgroup': '3:net_prio,net_cls:/docker/abc\n4:cpuset:/docker/abc\n' });
    expect(cgroupProcsFiles(7, read)).toEqual(['/sys/fs/cgroup/net_cls,net_prio/docker/abc/cgroup.procs', '/sys/fs/cgroup/cpuset/docker/abc/cgroup.procs']);
  });

  it('cgroup v2: the single unified hierarchy', () => {
    const { read } = reader({ '/proc/self/mounts': V2_MOUNTS, '/proc/99/cgroup': '0::/system.slice/docker-abc.scope\n' });
    expect(cgroupProcsFiles(99, read)).toEqual(['/sys/fs/cgroup/system.slice/docker-abc.scope/cgroup.procs']);
  });

  it('hybrid: the unified line goes to /sys/fs/cgroup/unified', () => {
    const { read } = reader({ '/proc/self/mounts': HYBRID_MOUNTS, '/proc/5/cgroup': '5:memory:/docker/abc\n1:name=systemd:/docker/abc\n0::/docker/abc\n' });
    expect(cgroupProcsFiles(5, read)).toEqual([
      '/sys/fs/cgroup/memory/docker/abc/cgroup.procs',
      '/sys/fs/cgroup/systemd/docker/abc/cgroup.procs',
      '/sys/fs/cgroup/unified/docker/abc/cgroup.procs',
    ]);
  });

  it('the root cgroup maps to the mount itself, without a double slash', () => {
    const { read } = reader({ '/proc/self/mounts': V2_MOUNTS, '/proc/1/cgroup': '0::/\n' });
    expect(cgroupProcsFiles(1, read)).toEqual(['/sys/fs/cgroup/cgroup.procs']);
  });

  it('skips hierarchies that are not mounted and lines that are not cgroup lines', () => {
    const { read } = reader({ '/proc/self/mounts': V2_MOUNTS, '/proc/3/cgroup': '\n12:cpu,cpuacct:/docker/abc\ngarbage\n0::/docker/abc\n' });
    expect(cgroupProcsFiles(3, read)).toEqual(['/sys/fs/cgroup/docker/abc/cgroup.procs']);
  });

  it('passes a read error through (the process is gone)', () => {
    const { read } = reader({ '/proc/self/mounts': V2_MOUNTS });
    expect(() => cgroupProcsFiles(12345, read)).toThrow(/ENOENT/);
  });
});

describe('cgroupParentOf', () => {
  it('falls back to /docker/<id> when the process cannot be read (not on the engine host)', () => {
    expect(cgroupParentOf(2_147_483_646, 'abc123')).toBe('/docker/abc123');
  });
});
