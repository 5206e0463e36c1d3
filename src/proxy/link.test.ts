import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyCollection } from './index.js';

/**
 * The fast path (no toxic: a plain write-through) and the toxic chain switch while a connection
 * is open. Whatever the toxics do to timing and chunking, the bytes that arrive must be exactly
 * the bytes that were sent, in order, on both streams.
 */

let echo: Server;
let echoPort = 0;
beforeAll(async () => {
  // Echoes everything and half-closes when the client does (so the client reads to the end).
  echo = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => echo.close(() => r())));

/** Deterministic bytes: a block moved, dropped or repeated changes the whole comparison. */
function pattern(length: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 255;
  }
  return b;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const stream = fc.constantFrom('upstream' as const, 'downstream' as const);
const toxicity = fc.constantFrom(0, 0.5, 1);
/** Toxics that change timing and chunking but, by design, deliver every byte. */
const toxicBody = fc.oneof(
  fc.record({ type: fc.constant('latency'), stream, toxicity, attributes: fc.record({ latency: fc.integer({ min: 0, max: 20 }), jitter: fc.integer({ min: 0, max: 5 }) }) }),
  fc.record({ type: fc.constant('slicer'), stream, toxicity, attributes: fc
      .record({ average_size: fc.integer({ min: 300, max: 3000 }), size_variation: fc.integer({ min: 0, max: 300 }), delay: fc.constantFrom(0, 0, 50) })
      .map((a) => ({ ...a, size_variation: Math.min(a.size_variation, a.average_size) })) }),
  fc.record({ type: fc.constant('bandwidth'), stream, toxicity, attributes: fc.record({ rate: fc.integer({ min: 3_000, max: 100_000 }) }) }),
  fc.record({ type: fc.constant('slow_close'), stream, toxicity, attributes: fc.record({ delay: fc.integer({ min: 0, max: 5 }) }) }),
  fc.record({ type: fc.constant('limit_data'), stream, toxicity, attributes: fc.record({ bytes: fc.constant(1 << 30) }) }),
);

type Step =
  | { op: 'send'; size: number }
  | { op: 'add'; toxic: Record<string, unknown> }
  | { op: 'remove'; index: number }
  | { op: 'update'; index: number; latency: number }
  | { op: 'reset' }
  | { op: 'wait'; ms: number }
  | { op: 'stall'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('send' as const), size: fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 2000, max: 150_000 })) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('add' as const), toxic: toxicBody }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('remove' as const), index: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('update' as const), index: fc.nat(), latency: fc.integer({ min: 0, max: 10 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('reset' as const) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 25 }) }), weight: 2 },
  // The client stops reading for a while: the downstream writes fill up and must wait for 'drain'.
  { arbitrary: fc.record({ op: fc.constant('stall' as const), ms: fc.integer({ min: 1, max: 15 }) }), weight: 1 },
);

describe('fault proxy link: switching between the fast path and the toxic chain', () => {
  it('never loses, duplicates or reorders bytes when toxics are added, changed and removed mid-stream (property)', async () => {
    const collection = new ProxyCollection();
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (steps, seed) => {
          const name = `prop${run++}`;
          const proxy = await collection.add({ name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}`, enabled: true }, { random: mulberry32(seed) });
          try {
            const total = steps.reduce((n, s) => n + (s.op === 'send' ? s.size : 0), 0);
            const sent = pattern(total, seed);
            const client = connect({ port: Number(proxy.listen.split(':').pop()), host: '127.0.0.1', allowHalfOpen: true });
            const parts: Buffer[] = [];
            const received = new Promise<Buffer>((resolve, reject) => {
              client.on('data', (d: Buffer) => parts.push(d));
              client.on('end', () => resolve(Buffer.concat(parts)));
              client.on('error', reject);
            });
            await new Promise((r) => client.once('connect', r));
            let offset = 0;
            let added = 0;
            for (const s of steps) {
              const names = proxy.toxics.map((t) => t.name);
              switch (s.op) {
                case 'send':
                  client.write(sent.subarray(offset, offset + s.size));
                  offset += s.size;
                  await new Promise((r) => setImmediate(r)); // let the proxy read it before the next step
                  break;
                case 'add':
                  proxy.addToxic({ ...s.toxic, name: `t${added++}` });
                  break;
                case 'remove':
                  if (names.length) proxy.removeToxic(names[s.index % names.length]!);
                  break;
                case 'update': {
                  const t = proxy.toxics.filter((x) => x.type === 'latency');
                  if (t.length) proxy.updateToxic(t[s.index % t.length]!.name, { attributes: { latency: s.latency } });
                  break;
                }
                case 'reset':
                  proxy.resetToxics();
                  break;
                case 'wait':
                  await new Promise((r) => setTimeout(r, s.ms));
                  break;
                case 'stall':
                  client.pause();
                  await new Promise((r) => setTimeout(r, s.ms));
                  client.resume();
                  break;
              }
            }
            client.end();
            const got = await received;
            client.destroy();
            expect(got.length).toBe(sent.length);
            expect(got.equals(sent)).toBe(true);
          } finally {
            await collection.remove(name);
          }
        }),
        { numRuns: 100 },
      );
    } finally {
      await collection.close();
    }
  }, 60_000);

  it('data sent just after a toxic is removed waits behind the data still held by that toxic', async () => {
    const collection = new ProxyCollection();
    try {
      const proxy = await collection.add({ name: 'order', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}`, enabled: true });
      const client = connect({ port: Number(proxy.listen.split(':').pop()), host: '127.0.0.1', allowHalfOpen: true });
      await new Promise((r) => client.once('connect', r));
      const parts: Buffer[] = [];
      client.on('data', (d: Buffer) => parts.push(d));
      const ended = new Promise((r) => client.once('end', r));
      for (const stream of ['upstream', 'downstream'] as const) {
        proxy.addToxic({ name: 'hold', type: 'latency', stream, attributes: { latency: 80 } });
        client.write('A'.repeat(1000));
        await new Promise((r) => setTimeout(r, 30)); // A is inside the latency toxic now
        proxy.removeToxic('hold');
        client.write('B'.repeat(1000)); // the link must not take its plain path before A is out
        await new Promise((r) => setTimeout(r, 100));
      }
      client.end();
      await ended;
      expect(Buffer.concat(parts).toString()).toBe(`${'A'.repeat(1000)}${'B'.repeat(1000)}`.repeat(2));
      client.destroy();
    } finally {
      await collection.close();
    }
  });

  it('a toxic added and removed during a 4 MiB transfer, with data still queued in its chain, keeps every byte in order', async () => {
    const collection = new ProxyCollection();
    try {
      const proxy = await collection.add({ name: 'switch', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}`, enabled: true });
      const client = connect({ port: Number(proxy.listen.split(':').pop()), host: '127.0.0.1', allowHalfOpen: true });
      await new Promise((r) => client.once('connect', r));
      const parts: Buffer[] = [];
      client.on('data', (d: Buffer) => parts.push(d));
      const ended = new Promise((r) => client.once('end', r));
      const sent = pattern(4 << 20, 7);
      client.write(sent.subarray(0, 1 << 20));
      while (parts.length === 0) await new Promise((r) => setTimeout(r, 1));
      // Data is flowing on the plain path; a slow toxic arrives, more data queues in its chain…
      proxy.addToxic({ name: 'slow', type: 'bandwidth', stream: 'upstream', attributes: { rate: 5000 } });
      client.write(sent.subarray(1 << 20));
      await new Promise((r) => setTimeout(r, 150));
      // …and is removed while that queue is still full.
      proxy.removeToxic('slow');
      // Written after the removal: it must come after everything still queued in the chain.
      const tail = Buffer.from('tail');
      client.write(tail);
      client.end();
      await ended;
      expect(Buffer.concat(parts).equals(Buffer.concat([sent, tail]))).toBe(true);
      client.destroy();
    } finally {
      await collection.close();
    }
  }, 20_000);
});
