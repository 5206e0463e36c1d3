import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { KibokoError } from '../common/errors.js';

/**
 * The daemon's bearer token: read from the token file, or created there on first start with
 * owner-only permissions (0600) — `created` tells the caller to print it once.
 */
export function loadOrCreateToken(file: string): { token: string; created: boolean } {
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length < 16) throw new KibokoError('INVALID_ARGUMENT', `token file ${file} holds no usable token (at least 16 characters)`, { hint: 'delete it to have a new one created, or write a long random token into it' });
    return { token, created: false };
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { token, created: true };
}

/** Compares in constant time (over fixed-length digests, so the length leaks nothing either). */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function bearerOf(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

/**
 * Throttles repeated authentication failures per client: after `maxFailures` within `windowMs`
 * the client is refused (429) until `blockMs` passes.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, { count: number; first: number; blockedUntil: number }>();
  constructor(
    private readonly maxFailures = 10,
    private readonly windowMs = 60_000,
    private readonly blockMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  blocked(client: string): boolean {
    const f = this.failures.get(client);
    return Boolean(f && f.blockedUntil > this.now());
  }

  /** Records a failure; returns true when this one tipped the client into a block. */
  fail(client: string): boolean {
    const t = this.now();
    const f = this.failures.get(client);
    if (!f || t - f.first > this.windowMs) {
      this.failures.set(client, { count: 1, first: t, blockedUntil: 0 });
      return false;
    }
    f.count++;
    if (f.count >= this.maxFailures && f.blockedUntil <= t) {
      f.blockedUntil = t + this.blockMs;
      return true;
    }
    return false;
  }

  succeed(client: string): void {
    this.failures.delete(client);
  }
}

/**
 * GitHub's webhook signature scheme (`X-Hub-Signature-256: sha256=<hex>`): the HMAC-SHA256 of
 * the raw request body keyed with the shared secret, compared in constant time.
 */
export function hubSignatureMatches(body: Buffer, header: string | string[] | undefined, secret: string | undefined): boolean {
  if (!secret || typeof header !== 'string') return false;
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(m[1]!, 'hex'));
}

export const hubSignature = (body: Buffer | string, secret: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
