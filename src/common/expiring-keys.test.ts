import { describe, expect, it } from 'vitest';
import { ExpiringKeys } from './expiring-keys.js';

describe('ExpiringKeys', () => {
  it('keeps a key for ttl milliseconds, then forgets it', () => {
    let t = 0;
    const keys = new ExpiringKeys(1000, 10, () => t);
    keys.add('a');
    t = 999;
    expect(keys.has('a')).toBe(true);
    t = 1000;
    expect(keys.has('a')).toBe(false);
    expect(keys.size).toBe(0);
  });

  it('drops the oldest past max; adding again restarts a key and makes it the newest', () => {
    let t = 0;
    const keys = new ExpiringKeys(1000, 2, () => t);
    keys.add('a');
    t = 1;
    keys.add('b');
    keys.add('a');
    t = 2;
    keys.add('c'); // b is now the oldest
    expect([keys.has('a'), keys.has('b'), keys.has('c')]).toEqual([true, false, true]);
  });

  it('sweep forgets the expired keys only', () => {
    let t = 0;
    const keys = new ExpiringKeys(10, 100, () => t);
    keys.add('old');
    t = 5;
    keys.add('new');
    t = 10;
    keys.sweep();
    expect(keys.size).toBe(1);
    expect(keys.has('new')).toBe(true);
    keys.delete('new');
    expect(keys.size).toBe(0);
  });
});
