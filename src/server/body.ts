import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

/**
 * Where unauthenticated request bodies (the sign-in form, a signed hook before its signature is
 * checked) are kept while they arrive: one slab of `max` bytes, cut into slots of `slotBytes` (the
 * largest such body), allocated at first use and reused for the daemon's lifetime. A body takes a
 * slot for its declared length before a byte is read; when none is free it is refused. So however
 * many hostile senders come and go, these bodies never allocate again, never add garbage for the
 * collector, and never cost more than `max`.
 */
export class ByteBudget {
  private slab: Buffer | undefined;
  private readonly free: number[];
  readonly slotBytes: number;

  constructor(
    readonly max: number,
    slotBytes = 64 * 1024,
  ) {
    this.slotBytes = Math.min(slotBytes, max);
    this.free = Array.from({ length: Math.max(1, Math.floor(max / this.slotBytes)) }, (_, i) => i).reverse();
  }

  /** Bytes held by bodies in flight (whole slots). */
  get inUse(): number {
    return (Math.max(1, Math.floor(this.max / this.slotBytes)) - this.free.length) * this.slotBytes;
  }

  /** A slot for a body of `n` bytes (a view of exactly `n` bytes), or undefined when none is free or `n` is larger than a slot. */
  take(n: number): { index: number; bytes: Buffer } | undefined {
    if (n > this.slotBytes) return undefined;
    const index = this.free.pop();
    if (index === undefined) return undefined;
    this.slab ??= Buffer.allocUnsafeSlow(this.slotBytes * Math.max(1, Math.floor(this.max / this.slotBytes)));
    return { index, bytes: this.slab.subarray(index * this.slotBytes, index * this.slotBytes + n) };
  }

  give(slot: { index: number }): void {
    if (!this.free.includes(slot.index)) this.free.push(slot.index);
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
 * A body read under a `budget` (unauthenticated) must declare its length (else 411): it takes a
 * slot of the budget's slab before a byte is read — a request no free slot can hold gets 503
 * without being read at all — and its bytes are copied, as they arrive, into that slot, so the
 * parser's per-chunk copies die young instead of piling up in the old generation (and in the C
 * heap behind it) until a full collection; only a body that is then used is copied out of the slot.
 * See docs/serve-security.md, "Memory".
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
  }
  const slot = limits.budget ? limits.budget.take(declared!) : undefined;
  if (limits.budget && !slot) {
    req.pause();
    return Promise.reject(new HttpError(503, 'BUSY', 'too many unauthenticated request bodies in flight', 'retry in a few seconds', { 'retry-after': '5', connection: 'close' }));
  }
  return new Promise((resolve, reject) => {
    let size = 0;
    // unauthenticated: the slot (of the declared length); authenticated: the chunks as they come
    let into: Buffer | undefined = slot?.bytes;
    const chunks: Buffer[] = [];
    let settled = false;
    const timer = limits.timeoutMs ? setTimeout(() => fail(new HttpError(408, 'REQUEST_TIMEOUT', `the request body did not arrive within ${limits.timeoutMs} ms`, 'send the whole body at once', { connection: 'close' }), 'close'), limits.timeoutMs) : undefined;
    timer?.unref();
    const release = () => {
      clearTimeout(timer);
      if (slot) limits.budget!.give(slot);
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
      // copied out of the slot, which the next body reuses
      const body = into ? Buffer.from(into.subarray(0, size)) : chunks.length ? Buffer.concat(chunks) : undefined;
      release();
      resolve(size ? body : undefined);
    });
    req.on('error', (err) => fail(err, 'cut'));
    // A client that goes away mid-body: whatever was kept is let go (and the budget given back) at once.
    req.on('close', () => fail(new HttpError(400, 'ABORTED', 'the client went away'), 'cut'));
  });
}
