// Proxy overhead: requests per second and p99 latency of a small HTTP backend on loopback,
// direct vs through a zero-toxic kiboko fault proxy (`kiboko proxy serve`, its own process), in
// one run. Goal: ≥ 80% of direct throughput, p99 overhead < 1 ms.
//
// The backend and the proxy each run in their own process; autocannon drives both targets from
// this process with the same connections, alternating short slices (direct, proxy, direct, …)
// so that background load on the machine hits both alike.
//   BENCH_PROXY_SECONDS  seconds per slice (default 4)   BENCH_PROXY_SLICES  slices per target (default 3)
//   BENCH_PROXY_CONNECTIONS  concurrent connections (default 16)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ensureBuilt, fmtMs, liveChildren, killLiveChildren, machine, median, positiveInt, printTable, writeResult } from './common.mjs';

const SECONDS = positiveInt('BENCH_PROXY_SECONDS', 4);
const SLICES = positiveInt('BENCH_PROXY_SLICES', 3);
const CONNECTIONS = positiveInt('BENCH_PROXY_CONNECTIONS', 16);

await ensureBuilt();
const { default: autocannon } = await import('autocannon');

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killLiveChildren();
    process.exit(130);
  });
}

/** Starts a child and resolves with its first stdout line matching `re`. */
function startChild(args, re) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    liveChildren.add(child);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = re.exec(out);
      if (m) resolve({ child, match: m });
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

const BACKEND = `
const http = require('http');
const body = Buffer.from('ok from the backend\\n');
const s = http.createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length }); res.end(body); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log('PORT=' + s.address().port));`;

const dir = mkdtempSync(join(tmpdir(), 'kiboko-bench-proxy-'));
let backend;
let proxy;
try {
  backend = await startChild(['-e', BACKEND], /PORT=(\d+)/);
  const backendPort = Number(backend.match[1]);
  const config = join(dir, 'proxies.json');
  writeFileSync(config, JSON.stringify([{ name: 'bench', listen: '127.0.0.1:0', upstream: `127.0.0.1:${backendPort}` }]));
  proxy = await startChild([CLI, "proxy", "serve", "--port", "0", "--config", config], /^\{"event":"listening".*\n/m);
  const listening = JSON.parse(proxy.match[0]);
  const proxyPort = Number(listening.proxies[0].listen.split(':').pop());

  const slice = (port) =>
    new Promise((resolve, reject) => {
      autocannon({ url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, duration: SECONDS }, (err, result) => (err ? reject(err) : resolve(result)));
    });
  // Warm both paths (JIT, connection setup) before measuring.
  await new Promise((r) => autocannon({ url: `http://127.0.0.1:${backendPort}/`, connections: CONNECTIONS, amount: 2000 }, r));
  await new Promise((r) => autocannon({ url: `http://127.0.0.1:${proxyPort}/`, connections: CONNECTIONS, amount: 2000 }, r));

  const runs = { direct: [], proxy: [] };
  for (let i = 0; i < SLICES; i++) {
    for (const [name, port] of [['direct', backendPort], ['proxy', proxyPort]]) {
      const r = await slice(port);
      if (r.non2xx || r.errors) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      runs[name].push({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 });
    }
  }
  const summary = (name) => ({ rps: median(runs[name].map((r) => r.rps)), p50: median(runs[name].map((r) => r.p50)), p99: median(runs[name].map((r) => r.p99)) });
  const direct = summary('direct');
  const through = summary('proxy');
  const ratio = through.rps / direct.rps;
  const p99Overhead = through.p99 - direct.p99;
  console.log(`proxy overhead on loopback: ${CONNECTIONS} connections, ${SLICES} × ${SECONDS} s slices per target (medians of the slices)`);
  printTable(
    [
      ['target', 'req/s', 'p50 ms', 'p99 ms'],
      ['direct', direct.rps.toFixed(0), fmtMs(direct.p50), fmtMs(direct.p99)],
      ['kiboko proxy (no toxics)', through.rps.toFixed(0), fmtMs(through.p50), fmtMs(through.p99)],
    ],
    [1, 2, 3],
  );
  const goals = { throughput: ratio >= 0.8, p99: p99Overhead < 1 };
  console.log(`throughput through the proxy: ${(ratio * 100).toFixed(1)}% of direct (goal ≥ 80%: ${goals.throughput ? 'met' : 'NOT met'})`);
  console.log(`p99 overhead: ${fmtMs(p99Overhead)} ms (goal < 1 ms: ${goals.p99 ? 'met' : 'NOT met'})`);
  writeResult('proxy', { machine: machine(), connections: CONNECTIONS, seconds: SECONDS, slices: SLICES, direct, proxy: through, ratio, p99Overhead, goals, runs });
} finally {
  for (const c of [proxy?.child, backend?.child]) if (c && c.exitCode === null) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
