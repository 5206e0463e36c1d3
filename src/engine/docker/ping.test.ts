import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerEngine } from './adapter.js';

/** A stand-in engine on a unix socket that answers /_ping and /version as dockerd does. */
async function standIn(socket: string): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    const path = (req.url ?? '').replace(/^\/v[\d.]+/, '');
    if (path === '/_ping') {
      res.writeHead(200, { 'api-version': '1.41', 'content-type': 'text/plain' });
      return res.end('OK');
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ Version: '20.10.0', ApiVersion: '1.41', Os: 'linux', Arch: 'amd64' }));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return server;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('DockerEngine.ping', () => {
  it('asks the engine at every call: it fails once the engine is gone, while info() keeps its first answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiboko-ping-'));
    dirs.push(dir);
    const socket = join(dir, 'docker.sock');
    const server = await standIn(socket);
    const engine = new DockerEngine({ kind: 'unix', endpoint: `unix://${socket}`, socketPath: socket }, { connectTimeoutMs: 2000 });
    try {
      await engine.ping();
      expect((await engine.info()).serverVersion).toBe('20.10.0');
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      rmSync(socket, { force: true });
      // what the event watcher used to ask on a reconnect: still "fine"
      expect((await engine.info()).serverVersion).toBe('20.10.0');
      await expect(engine.ping()).rejects.toMatchObject({ code: 'ENGINE_UNREACHABLE' });
      // and it answers again once the engine is back
      const again = await standIn(socket);
      try {
        await engine.ping();
      } finally {
        again.close();
        again.closeAllConnections();
      }
    } finally {
      engine.close();
      server.close();
    }
  });
});
