import type { Socket } from 'node:net';
import type { Stream, Toxic } from './toxics.js';

/** Where a link reads the current toxics of its proxy (they change while connections are open). */
export interface ToxicSource {
  chain(stream: Stream): readonly Toxic[];
}

interface Chunk {
  data: Buffer;
  /** When the chunk arrived (ms, monotonic): latency counts from here, so queued chunks are not delayed twice. */
  at: number;
}

/** Per-connection, per-toxic state: whether it applies (toxicity roll) and what stateful toxics remember. */
interface ToxicState {
  toxic: Toxic;
  active: boolean;
  sent: number;
  bandwidthNext: number;
  timer?: NodeJS.Timeout | undefined;
  resetArmed: boolean;
}

const HIGH_WATER = 1 << 20;
const now = () => performance.now();
const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

/**
 * One stream of a proxied connection: reads `from`, runs each chunk through the stream's current
 * toxics in order, writes to `to`. A toxic-free stream writes straight through.
 */
export class Pump {
  private queue: (Chunk | 'eof')[] = [];
  private queued = 0;
  private running = false;
  private states = new Map<string, ToxicState>();
  /** No active toxic on this stream (kept by sync(), so the per-chunk check is a field read). */
  private toxicFree = true;
  /** The fast path paused `from` until `to` drains (kept apart from the queue's own pause). */
  private waitingDrain = false;
  stopped = false;
  /** Written after the stream's last byte, before the close (the HTTP gate's own response). */
  trailer: Buffer | undefined;

  constructor(
    readonly stream: Stream,
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly link: Link,
    private readonly random: () => number,
  ) {
    // One listener for the life of the link, instead of a once('drain') per full write.
    to.on('drain', () => {
      if (!this.waitingDrain) return;
      this.waitingDrain = false;
      if (!this.stopped && this.queued < HIGH_WATER) this.from.resume();
    });
    this.sync();
  }

  /** Re-reads the proxy's toxics: new ones roll their toxicity, removed ones drop their state. */
  sync(): void {
    const chain = this.link.source.chain(this.stream);
    const seen = new Set<string>();
    for (const toxic of chain) {
      seen.add(toxic.name);
      const old = this.states.get(toxic.name);
      if (old && old.toxic === toxic) continue;
      if (old?.timer) clearTimeout(old.timer);
      const state: ToxicState = {
        toxic,
        active: toxic.toxicity >= 1 || this.random() < toxic.toxicity,
        sent: old?.sent ?? 0,
        bandwidthNext: 0,
        resetArmed: false,
      };
      this.states.set(toxic.name, state);
      if (state.active && toxic.type === 'timeout') this.armTimeout(state);
    }
    let toxicFree = true;
    for (const [name, s] of this.states) {
      if (!seen.has(name)) {
        if (s.timer) clearTimeout(s.timer);
        this.states.delete(name);
      } else if (s.active) toxicFree = false;
    }
    this.toxicFree = toxicFree;
    if (!this.running && this.queue.length) void this.drain();
  }

  private armTimeout(state: ToxicState) {
    if (state.timer) clearTimeout(state.timer);
    const t = state.toxic.attributes as { timeout: number };
    if (t.timeout > 0) state.timer = setTimeout(() => this.link.close(), t.timeout);
  }

  private active(): ToxicState[] {
    const out: ToxicState[] = [];
    for (const toxic of this.link.source.chain(this.stream)) {
      const s = this.states.get(toxic.name);
      if (s?.active && s.toxic === toxic) out.push(s);
    }
    return out;
  }

  /** Bytes read from `from` (possibly through the HTTP gate). */
  input(data: Buffer) {
    this.onData(data);
  }

  inputEnd() {
    this.push('eof');
  }

  /**
   * The fast path — no active toxic, nothing queued, no chunk in the toxic chain — is what
   * `from.pipe(to)` does (write; on a full buffer pause until 'drain') without pipe's extra
   * listeners, allocations or its end handling (half-close and slow_close need ours). Toxics
   * added or removed mid-stream switch the path between two chunks: a chunk either went out
   * already, or is queued behind every earlier one, so bytes are never lost nor reordered; the
   * path goes back to fast only once the queue has drained.
   */
  private onData(data: Buffer) {
    if (this.stopped) return;
    if (this.toxicFree && !this.running && this.queue.length === 0) {
      if (!this.to.write(data)) {
        this.waitingDrain = true;
        this.from.pause();
      }
      return;
    }
    this.push({ data, at: now() });
  }

  private push(item: Chunk | 'eof') {
    if (this.stopped) return;
    this.queue.push(item);
    if (item !== 'eof') {
      this.queued += item.data.length;
      if (this.queued > HIGH_WATER) this.from.pause();
    }
    if (!this.running) void this.drain();
  }

  private async drain() {
    this.running = true;
    try {
      while (this.queue.length && !this.stopped) {
        const item = this.queue.shift()!;
        if (item === 'eof') {
          await this.end();
          continue;
        }
        this.queued -= item.data.length;
        if (this.queued < HIGH_WATER / 2 && this.from.isPaused()) this.from.resume();
        await this.run(this.active(), 0, item);
      }
    } finally {
      this.running = false;
    }
  }

  private async end() {
    // A timeout toxic swallows the close too: the peer sees nothing until the timeout closes the link.
    if (this.active().some((s) => s.toxic.type === 'timeout')) return;
    const slow = this.active().find((s) => s.toxic.type === 'slow_close');
    if (slow) await sleep((slow.toxic.attributes as { delay: number }).delay);
    if (!this.stopped) {
      if (this.trailer) this.to.end(this.trailer);
      else this.to.end();
    }
    this.stopped = true;
    this.link.streamEnded();
  }

  private async write(data: Buffer) {
    if (this.stopped || this.to.destroyed || data.length === 0) return;
    if (!this.to.write(data)) await new Promise<void>((r) => this.to.once('drain', r).once('close', r));
  }

  /** Runs a chunk through toxics[i…] (each toxic forwards zero or more pieces to the next). */
  private async run(chain: ToxicState[], i: number, chunk: Chunk): Promise<void> {
    if (this.stopped) return;
    const s = chain[i];
    if (!s) return this.write(chunk.data);
    const next = (data: Buffer) => this.run(chain, i + 1, { data, at: chunk.at });
    const t = s.toxic;
    switch (t.type) {
      case 'latency': {
        const { latency, jitter } = t.attributes;
        const delay = latency + (jitter > 0 ? Math.floor(this.random() * (2 * jitter + 1)) - jitter : 0);
        await sleep(chunk.at + delay - now());
        return next(chunk.data);
      }
      case 'bandwidth': {
        const rate = t.attributes.rate; // bytes per ms
        if (rate <= 0) return next(chunk.data);
        const piece = rate * 100; // 100 ms worth, so slow rates trickle instead of bursting
        for (let off = 0; off < chunk.data.length && !this.stopped; off += piece) {
          const part = chunk.data.subarray(off, off + piece);
          s.bandwidthNext = Math.max(s.bandwidthNext, now()) + part.length / rate;
          await sleep(s.bandwidthNext - now());
          await next(part);
        }
        return;
      }
      case 'slicer': {
        const { average_size: avg, size_variation: vary, delay } = t.attributes;
        if (avg <= 0) return next(chunk.data);
        for (let off = 0; off < chunk.data.length && !this.stopped; ) {
          const size = Math.max(1, avg + (vary > 0 ? Math.floor(this.random() * (2 * vary + 1)) - vary : 0));
          await next(chunk.data.subarray(off, off + size));
          off += size;
          if (off < chunk.data.length) await sleep(delay / 1000);
        }
        return;
      }
      case 'limit_data': {
        const left = t.attributes.bytes - s.sent;
        const data = left < chunk.data.length ? chunk.data.subarray(0, Math.max(0, left)) : chunk.data;
        s.sent += data.length;
        await next(data);
        if (s.sent >= t.attributes.bytes) this.link.close();
        return;
      }
      case 'timeout':
        this.armTimeout(s); // data is dropped; the timer counts from the last data
        return;
      case 'reset_peer':
        if (s.resetArmed) return;
        s.resetArmed = true;
        await sleep(t.attributes.timeout);
        this.link.reset();
        return;
      case 'slow_close':
        return next(chunk.data);
    }
  }

  stop() {
    this.stopped = true;
    for (const s of this.states.values()) if (s.timer) clearTimeout(s.timer);
    this.queue = [];
  }
}

/** Sits between the client and the upstream pump (the HTTP fault layer). */
export interface LinkGate {
  attach(link: Link): void;
  input(data: Buffer): void;
  inputEnd(): void;
}

/** A proxied connection: the client socket, the upstream socket and one pump per stream. */
export class Link {
  readonly up: Pump;
  readonly down: Pump;
  private ended = 0;
  closed = false;

  constructor(
    readonly source: ToxicSource,
    readonly client: Socket,
    readonly server: Socket,
    private readonly onClose: (link: Link) => void,
    random: () => number = Math.random,
    gate?: LinkGate,
  ) {
    this.up = new Pump('upstream', client, server, this, random);
    this.down = new Pump('downstream', server, client, this, random);
    server.on('data', (d: Buffer) => this.down.input(d)).on('end', () => this.down.inputEnd());
    if (gate) {
      gate.attach(this);
      client.on('data', (d: Buffer) => gate.input(d)).on('end', () => gate.inputEnd());
    } else {
      client.on('data', (d: Buffer) => this.up.input(d)).on('end', () => this.up.inputEnd());
    }
    const fail = () => this.destroy();
    const closed = () => {
      if (client.destroyed && server.destroyed) this.finish();
    };
    client.on('error', fail).on('close', closed);
    server.on('error', fail).on('close', closed);
  }

  /** The proxy's toxics changed. */
  sync() {
    this.up.sync();
    this.down.sync();
  }

  streamEnded() {
    if (++this.ended === 2) this.destroy();
  }

  /** Graceful close of both sides (FIN), as toxiproxy's limit_data and timeout do. */
  close() {
    if (this.closed) return;
    this.up.stop();
    this.down.stop();
    this.client.end();
    this.server.end();
    setTimeout(() => this.destroy(), 1000).unref();
    this.finish();
  }

  /** TCP RST on both sides: the peers see "connection reset by peer". */
  reset() {
    if (this.closed && this.client.destroyed) return;
    this.up.stop();
    this.down.stop();
    for (const s of [this.client, this.server]) {
      if (!s.destroyed) s.resetAndDestroy();
    }
    this.finish();
  }

  destroy() {
    this.up.stop();
    this.down.stop();
    this.client.destroy();
    this.server.destroy();
    this.finish();
  }

  private finish() {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
  }
}
