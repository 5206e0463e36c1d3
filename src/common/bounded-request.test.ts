import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { boundedRequest } from './bounded-request.js';

const errors = {
  tooBig: () => new Error('too big'),
  timedOut: () => new Error('timed out'),
  aborted: () => new Error('aborted'),
  failed: (e: NodeJS.ErrnoException) => new Error(`failed: ${e.code}`),
};

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A loopback server answering each request with `handler`; resolves to its port. */
function serve(handler: Parameters<typeof createServer>[1]): Promise<number> {
  server = createServer(handler);
  return new Promise((resolve) => server!.listen(0, '127.0.0.1', () => resolve((server!.address() as AddressInfo).port)));
}

const get = (port: number, options: { maxBytes?: number; timeoutMs?: number; signal?: AbortSignal; body?: Buffer } = {}) =>
  boundedRequest((onResponse) => request({ host: '127.0.0.1', port, method: options.body ? 'POST' : 'GET', path: '/' }, onResponse), { maxBytes: 1024, timeoutMs: 2000, ...options }, errors);

describe('boundedRequest', () => {
  it('reads the whole response: status, headers and body (and sends the body given)', async () => {
    const port = await serve((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.writeHead(201, { 'x-seen': String(Buffer.concat(chunks).length) }).end('hello'));
    });
    const r = await get(port, { body: Buffer.from('abc') });
    expect(r.status).toBe(201);
    expect(r.headers['x-seen']).toBe('3');
    expect(r.body.toString()).toBe('hello');
  });

  it('ends with tooBig past maxBytes', async () => {
    const port = await serve((_req, res) => res.end(Buffer.alloc(4096)));
    await expect(get(port, { maxBytes: 100 })).rejects.toThrow('too big');
  });

  it('ends with timedOut when the peer accepts and then stalls', async () => {
    const port = await serve((_req, res) => res.writeHead(200).write('partial'));
    await expect(get(port, { timeoutMs: 100 })).rejects.toThrow('timed out');
  });

  it('ends with aborted when the signal fires, and at once when it already has', async () => {
    const port = await serve((_req, res) => res.writeHead(200).write('partial'));
    const ac = new AbortController();
    const pending = get(port, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(pending).rejects.toThrow('aborted');
    await expect(get(port, { signal: ac.signal })).rejects.toThrow('aborted');
  });

  it('ends with failed when nothing listens', async () => {
    const port = await serve((_req, res) => res.end());
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    await expect(get(port)).rejects.toThrow('failed: ECONNREFUSED');
  });
});
