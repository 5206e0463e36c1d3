import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { KibokoError } from '../common/errors.js';

/**
 * Refuses a secret file, or the directory holding the daemon's state, that others can read, as
 * ssh refuses a readable private key: the message is the one-line fix.
 */
export function assertPrivate(path: string, what: 'file' | 'dir'): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    return; // absent: created private by its writer
  }
  if ((st.mode & 0o077) === 0) return;
  const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
  throw new KibokoError('INVALID_ARGUMENT', `${path} is accessible by others (mode ${mode}); it holds secrets, so kiboko serve will not use it`, {
    hint: `chmod ${what === 'dir' ? '700' : '600'} ${path}`,
  });
}

/**
 * The daemon's bearer token: read from the token file (refused when group- or world-accessible),
 * or created there on first start with owner-only permissions (0600). The token is never shown:
 * `created` lets the caller say where it is.
 */
export function loadOrCreateToken(file: string): { token: string; created: boolean } {
  if (existsSync(file)) {
    assertPrivate(file, 'file');
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

export interface ThrottleOptions {
  /** Failures a client may make within the window before its failed answers are delayed (default 3). */
  freeFailures?: number;
  /** The first delay; it doubles with each further failure (default 100 ms)… */
  baseDelayMs?: number;
  /** …up to this (default 5 s). */
  maxDelayMs?: number;
  /** A client's failures are forgotten this long after its last one (default 10 min). */
  windowMs?: number;
  /** The most clients remembered; the least recently failing is forgotten first (default 10,000). */
  maxClients?: number;
  /** Failures a second from all clients together before every failed answer gets the longest delay (default 20). */
  globalPerSecond?: number;
  /** Failed answers held back at once; past this a failure is answered 429 at once (default 256). */
  maxPending?: number;
  now?: () => number;
}

/**
 * Slows down guessing without ever refusing a valid credential. Only a failed answer is delayed
 * (a valid token, session, signature or client certificate is checked first and never waits):
 * per client, after a few free failures, each failure is answered after a delay that doubles up to
 * a ceiling; across all clients, past a global rate every failure gets the ceiling (so 20,000
 * addresses guess no faster than one). The table forgets a client a window after its last failure
 * and never holds more than `maxClients`; held-back answers are bounded too.
 */
export class FailureThrottle {
  private readonly clients = new Map<string, { count: number; last: number }>();
  private readonly o: Required<Omit<ThrottleOptions, 'now'>>;
  private readonly now: () => number;
  private second = 0;
  private inSecond = 0;
  private held = 0;

  constructor(options: ThrottleOptions = {}) {
    this.o = {
      freeFailures: options.freeFailures ?? 3,
      baseDelayMs: options.baseDelayMs ?? 100,
      maxDelayMs: options.maxDelayMs ?? 5000,
      windowMs: options.windowMs ?? 10 * 60_000,
      maxClients: options.maxClients ?? 10_000,
      globalPerSecond: options.globalPerSecond ?? 20,
      maxPending: options.maxPending ?? 256,
    };
    this.now = options.now ?? Date.now;
  }

  /** How many clients are remembered now (expired ones are dropped as failures come in). */
  get size(): number {
    return this.clients.size;
  }

  /** Failed answers being held back now. */
  get pending(): number {
    return this.held;
  }

  /** Records a failure; returns how long to hold its answer back (ms), or 'refuse' when too many are held already. */
  fail(client: string): number | 'refuse' {
    const t = this.now();
    this.expire(t);
    const prev = this.clients.get(client);
    const count = prev && t - prev.last <= this.o.windowMs ? prev.count + 1 : 1;
    this.clients.delete(client); // re-inserted last: the Map's order is least recently failing first
    this.clients.set(client, { count, last: t });
    while (this.clients.size > this.o.maxClients) this.clients.delete(this.clients.keys().next().value!);
    const sec = Math.floor(t / 1000);
    if (sec !== this.second) {
      this.second = sec;
      this.inSecond = 0;
    }
    this.inSecond++;
    if (this.held >= this.o.maxPending) return 'refuse';
    const over = count - this.o.freeFailures;
    const own = over <= 0 ? 0 : Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** Math.min(over - 1, 30));
    return this.inSecond > this.o.globalPerSecond ? this.o.maxDelayMs : own;
  }

  /** Holds a failed answer back for `ms` (counted in `pending` meanwhile). */
  async hold(ms: number): Promise<void> {
    if (ms <= 0) return;
    this.held++;
    try {
      await new Promise((resolve) => setTimeout(resolve, ms));
    } finally {
      this.held--;
    }
  }

  private expire(t: number): void {
    for (const [k, v] of this.clients) {
      if (t - v.last <= this.o.windowMs) break; // the rest failed more recently
      this.clients.delete(k);
    }
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

/** How far a kiboko-signed hook's timestamp may be from the daemon's clock (either way). */
export const SIGNATURE_WINDOW_MS = 5 * 60_000;

/**
 * kiboko's own hook signature, which (unlike GitHub's) covers a timestamp and a delivery id, so a
 * captured request cannot be replayed later or under another id: `X-Kiboko-Signature-256:
 * sha256=<hex HMAC-SHA256 of "<timestamp>.<delivery>.<body>">`, `X-Kiboko-Timestamp: <Unix
 * seconds>`, `X-Kiboko-Delivery: <unique id>`.
 */
export function kibokoSignatureCheck(body: Buffer, headers: Record<string, string | string[] | undefined>, secret: string | undefined, now = Date.now()): 'ok' | 'stale' | 'bad' {
  const sig = headers['x-kiboko-signature-256'];
  const ts = headers['x-kiboko-timestamp'];
  const id = headers['x-kiboko-delivery'];
  if (!secret || typeof sig !== 'string' || typeof ts !== 'string' || typeof id !== 'string') return 'bad';
  if (!/^\d{1,12}$/.test(ts) || !/^[A-Za-z0-9._:-]{1,200}$/.test(id)) return 'bad';
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(sig.trim());
  if (!m) return 'bad';
  const expected = createHmac('sha256', secret).update(`${ts}.${id}.`).update(body).digest();
  if (!timingSafeEqual(expected, Buffer.from(m[1]!, 'hex'))) return 'bad';
  return Math.abs(now - Number(ts) * 1000) > SIGNATURE_WINDOW_MS ? 'stale' : 'ok';
}

/** The headers of a kiboko-signed hook (for senders written in JS, and tests). */
export function kibokoSignatureHeaders(body: Buffer | string, secret: string, delivery: string, now = Date.now()): Record<string, string> {
  const ts = String(Math.floor(now / 1000));
  return {
    'x-kiboko-timestamp': ts,
    'x-kiboko-delivery': delivery,
    'x-kiboko-signature-256': `sha256=${createHmac('sha256', secret).update(`${ts}.${delivery}.`).update(body).digest('hex')}`,
  };
}
