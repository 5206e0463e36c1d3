// A stand-in Docker engine on a unix socket for start-up benchmarks: answers the few requests
// `kiboko chaos kill NAME` makes (the ping it negotiates from, the recovery lists, the container list, the kill) with
// one running container, and timestamps every request on this process's clock
// (performance.now()), so a bench can time a child from spawn to its first engine request and to
// its kill request without a real engine's latency in the numbers.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ID = 'a'.repeat(64);
const CONTAINER = {
  Id: ID, Names: ['/web-1'], Image: 'busybox', ImageID: `sha256:${'b'.repeat(64)}`, Command: 'sleep 3600', Created: 1,
  State: 'running', Status: 'Up', Labels: {}, Ports: [], NetworkSettings: { Networks: {} }, Mounts: [],
};
const VERSION = { ApiVersion: '1.43', MinAPIVersion: '1.12', Version: '24.0.0', Os: 'linux', Arch: 'amd64' };

/** Starts the fake engine; `requests` gets { method, path, at } for every request. */
export async function startFakeEngine() {
  const dir = mkdtempSync(join(tmpdir(), 'kiboko-bench-engine-'));
  const socket = join(dir, 'docker.sock');
  const requests = [];
  const server = http.createServer((req, res) => {
    const at = performance.now();
    const path = decodeURIComponent(req.url ?? '').replace(/^\/v[\d.]+/, '');
    requests.push({ method: req.method, path, at });
    req.resume();
    // /_ping answers as dockerd does: its Api-Version header is what clients negotiate from
    // (without it kiboko, like the docker CLI, asks /version as well: a round trip a real engine
    // never causes).
    if (path === '/_ping') {
      res.writeHead(200, { 'api-version': VERSION.ApiVersion, ostype: VERSION.Os, server: `Docker/${VERSION.Version} (${VERSION.Os})`, 'content-type': 'text/plain; charset=utf-8' });
      return res.end('OK');
    }
    res.setHeader('content-type', 'application/json');
    if (path === '/version') return res.end(JSON.stringify(VERSION));
    // Label-filtered lists are the recovery sweeps for kiboko's own helpers: none here.
    if (path.startsWith('/containers/json')) return res.end(JSON.stringify(path.includes('label') ? [] : [CONTAINER]));
    if (req.method === 'POST' && path.startsWith(`/containers/${ID}/kill`)) {
      res.statusCode = 204;
      return res.end();
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ message: `fake engine: no answer for ${req.method} ${path}` }));
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(socket, resolve));
  return {
    socket,
    requests,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
