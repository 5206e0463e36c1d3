import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

/**
 * A shared allowance of bytes: what unauthenticated request bodies (the sign-in form, a signed
 * hook before its signature is checked) may hold in memory together, whatever their number.
 */
export class ByteBudget {
  private used = 0;
  constructor(readonly max: number) {}

  get inUse(): number {
    return this.used;
  }

  take(n: number): boolean {
    if (this.used + n > this.max) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

export interface BodyLimits {
  /** The most bytes kept; a body over this is answered 413. */
  max: number;
  /** Charged for every byte kept (unauthenticated bodies); when it is spent the request gets 503 and the connection is closed. */
  budget?: ByteBudget | undefined;
  /** The whole body must arrive within this (unauthenticated bodies: slow senders are cut off with 408). */
  timeoutMs?: number | undefined;
}

/** How much of a refused body is read and thrown away so the client sees the answer, not a reset. */
export const DRAIN_MAX_BYTES = 8 * 1024 * 1024;
const DRAIN_MAX_MS = 10_000;

/**
 * Reads and discards what is left of a request body the daemon will not use (a refused
 * credential, a body over the limit), so the client reads the answer instead of a connection
 * reset; a sender that goes on past `DRAIN_MAX_BYTES` or 10 s is cut off.
 */
export function drain(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return;
  let seen = 0;
  const cut = () => req.socket.destroy();
  const timer = setTimeout(cut, DRAIN_MAX_MS);
  timer.unref();
  req.removeAllListeners('data');
  req.on('data', (c: Buffer) => {
    seen += c.length;
    if (seen > DRAIN_MAX_BYTES) cut();
  });
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

const tooLarge = (max: number) => new HttpError(413, 'PAYLOAD_TOO_LARGE', 'request body too large', `send at most ${max} bytes`);

/**
 * The request body, counted as it streams in and never held past `limits.max` (a declared
 * Content-Length over the limit is refused before a byte is read). Over the limit, out of budget or
 * too slow, it throws an HttpError (413, 503, 408): over the limit the rest is drained so the 413
 * reaches the client; out of budget or too slow, the answer closes the connection.
 *
 * A body read under a `budget` (unauthenticated) must declare its length (else 411): the whole
 * declared length is reserved before a byte is read — a request the budget cannot cover gets 503
 * without being read at all — and the bytes are copied, as they arrive, into one buffer of that
 * length, so the parser's per-chunk copies die young instead of piling up in the old generation
 * (and in the C heap behind it) until a full collection. See docs/serve-security.md, "Memory".
 */
export function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer | undefined> {
  const header = req.headers['content-length'];
  const declared = header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
  if (declared !== undefined && declared > limits.max) {
    drain(req);
    return Promise.reject(tooLarge(limits.max));
  }
  if (limits.budget) {
    if (declared === undefined) {
      req.pause();
      return Promise.reject(new HttpError(411, 'LENGTH_REQUIRED', 'this request must declare its body length', 'send Content-Length (no chunked transfer encoding) before authenticating', { connection: 'close' }));
    }
    if (declared === 0) return Promise.resolve(undefined);
    if (!limits.budget.take(declared)) {
      req.pause();
      return Promise.reject(new HttpError(503, 'BUSY', 'too many unauthenticated request bodies in flight', 'retry in a few seconds', { 'retry-after': '5', connection: 'close' }));
    }
  }
  const reserved = limits.budget ? declared! : 0;
  return new Promise((resolve, reject) => {
    let size = 0;
    // unauthenticated: one buffer of the declared (reserved) length; authenticated: the chunks as they come
    let into: Buffer | undefined = reserved ? Buffer.allocUnsafeSlow(reserved) : undefined;
    const chunks: Buffer[] = [];
    let settled = false;
    const timer = limits.timeoutMs ? setTimeout(() => fail(new HttpError(408, 'REQUEST_TIMEOUT', `the request body did not arrive within ${limits.timeoutMs} ms`, 'send the whole body at once', { connection: 'close' }), 'close'), limits.timeoutMs) : undefined;
    timer?.unref();
    const release = () => {
      clearTimeout(timer);
      if (reserved) limits.budget!.give(reserved);
      into = undefined;
      chunks.length = 0;
    };
    /** drain: read the rest and throw it away (the answer reaches the client); close: read no more, the answer closes the connection; cut: close now. */
    function fail(err: Error, how: 'drain' | 'close' | 'cut' = 'drain') {
      if (settled) return;
      settled = true;
      release();
      if (how === 'cut') req.socket.destroy();
      else if (how === 'close') {
        req.removeAllListeners('data');
        req.pause();
      } else drain(req);
      reject(err);
    }
    req.on('data', (c: Buffer) => {
      if (settled) return;
      if (size + c.length > (into ? into.length : limits.max)) return fail(tooLarge(limits.max));
      if (into) c.copy(into, size);
      else chunks.push(c);
      size += c.length;
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      const body = into ? into.subarray(0, size) : chunks.length ? Buffer.concat(chunks) : undefined;
      release();
      resolve(size ? body : undefined);
    });
    req.on('error', (err) => fail(err, 'cut'));
    // A client that goes away mid-body: whatever was kept is let go (and the budget given back) at once.
    req.on('close', () => fail(new HttpError(400, 'ABORTED', 'the client went away'), 'cut'));
  });
}
