import { describe, expect, it } from 'vitest';
import { ownContainerId, readOwnContainerId } from './self.js';

const ID = 'a'.repeat(12) + '0123456789abcdef'.repeat(3) + 'b'.repeat(4);
const OTHER = 'c'.repeat(64);

/** Mount tables as a container sees its own (docker's bind mounts) and as a host with containers sees its. */
const files: Record<string, Record<string, string>> = {
  container: {
    '/proc/self/mountinfo': [
      '612 590 0:52 / / rw,relatime master:311 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X',
      `640 612 254:1 /var/lib/docker/containers/${ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda1 rw`,
      `641 612 254:1 /var/lib/docker/containers/${ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw`,
    ].join('\n'),
    '/proc/self/cgroup': '0::/\n',
  },
  host: {
    '/proc/self/mountinfo': [
      '22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
      `300 22 0:60 / /var/lib/docker/containers/${OTHER}/mounts/shm rw shared:150 - tmpfs shm rw,size=65536k`,
    ].join('\n'),
    '/proc/self/cgroup': '0::/user.slice\n',
  },
  cgroupV1: {
    '/proc/self/cgroup': `12:memory:/docker/${ID}\n11:cpu:/docker/${ID}\n`,
  },
};

const reader = (name: string) => (path: string) => {
  const text = files[name]![path];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return text;
};

describe('ownContainerId and readOwnContainerId: the container kiboko runs in', () => {
  for (const [name, expected] of [['container', ID], ['host', undefined], ['cgroupV1', ID]] as const) {
    it(`${name}: ${expected ? 'finds its id' : 'none'} (both ways the same)`, async () => {
      expect(ownContainerId(reader(name))).toBe(expected);
      await expect(readOwnContainerId(async (p) => reader(name)(p))).resolves.toBe(expected);
    });
  }

  it('reads the real files without failing (an id or none)', async () => {
    const id = await readOwnContainerId();
    expect(id === undefined || /^[0-9a-f]{64}$/.test(id)).toBe(true);
    expect(id).toBe(ownContainerId());
  });
});
