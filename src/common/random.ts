import { randomUUID as cryptoRandomUUID } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

/**
 * A small seeded PRNG (mulberry32) so random target picks are reproducible: the seed is
 * reported with every run and `--seed` replays the same picks over the same candidates.
 */
export interface Random {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed: seed >>> 0, next, int: (n) => Math.floor(next() * n) };
}

export function randomSeed(): number {
  return (Math.floor(Math.random() * 0xffffffff) ^ Date.now()) >>> 0;
}

/** Fisher–Yates shuffle into a new array. */
export function shuffle<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Random bytes read ahead from the kernel, handed out 16 at a time. */
let pool: Buffer | undefined;
let poolAt = 0;
const POOL_BYTES = 256;

/**
 * 16 bytes from the kernel's CSPRNG (/dev/urandom, what node:crypto's own generator is seeded
 * from), or undefined where there is none (Windows). Not node:crypto itself: loading it costs
 * every command ~5 ms of its start, and a `chaos kill` needs random bytes only for its ids.
 */
function kernelRandom16(): Buffer | undefined {
  if (pool === undefined || poolAt + 16 > POOL_BYTES) {
    let fd: number | undefined;
    try {
      fd = openSync('/dev/urandom', 'r');
      const fresh = Buffer.alloc(POOL_BYTES);
      if (readSync(fd, fresh, 0, POOL_BYTES, null) !== POOL_BYTES) return undefined;
      pool = fresh;
      poolAt = 0;
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  const bytes = pool.subarray(poolAt, poolAt + 16);
  poolAt += 16;
  return bytes;
}

/** A random (version 4) UUID, as node:crypto's `randomUUID` makes: run and journal ids. */
export function randomUUID(): string {
  const b = kernelRandom16();
  if (b === undefined) return cryptoRandomUUID();
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
