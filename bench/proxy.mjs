// Proxy overhead: requests per second and p99 latency of a small HTTP backend on loopback,
// direct vs through a zero-toxic kiboko fault proxy (`kiboko proxy serve`, its own process), in
// one run. Goal: ≥ 80% of direct throughput, p99 overhead < 1 ms.
//
// Three targets, each measured the same way, in alternating slices (direct, kiboko, pipe, direct,
// …) so that background load on the machine hits them alike:
//   direct            the backend itself
//   kiboko proxy      `kiboko proxy serve --config …` with one proxy and no toxics
//   node pipe relay   the least any Node TCP relay does (accept, connect, socket.pipe both ways),
//                     the floor kiboko's own code is judged against
// Two phases:
//   throughput  autocannon, CONNECTIONS keep-alive connections, one request at a time on each
//               (the same client settings for every target); req/s, p50/p99 under that load
//               (autocannon records whole milliseconds), and the CPU time the relay process
//               spent per request (from /proc, robust to the load others put on the machine)
//   latency     one keep-alive connection, one request at a time, timed in µs: the latency the
//               relay adds when nothing queues (autocannon's 1 ms resolution cannot show < 1 ms)
// Optional fourth target, for comparison with the tool users come from:
//   BENCH_TOXIPROXY_SERVER=/path/to/toxiproxy-server  toxiproxy itself (Go), one proxy, no toxics
//   (built by the user from Shopify/toxiproxy; nothing here builds or fetches it)
//   BENCH_PROXY_SECONDS  seconds per throughput slice (default 4)   BENCH_PROXY_SLICES  slices per target (default 3)
//   BENCH_PROXY_CONNECTIONS  concurrent connections (default 16)   BENCH_PROXY_REQUESTS  sequential requests per target and slice, in blocks of 200 alternating targets (default 2000)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ensureBuilt, fmtMs, liveChildren, killLiveChildren, machine, median, percentile, positiveInt, printTable, writeResult } from './common.mjs';

const SECONDS = positiveInt('BENCH_PROXY_SECONDS', 4);
const SLICES = positiveInt('BENCH_PROXY_SLICES', 3);
const CONNECTIONS = positiveInt('BENCH_PROXY_CONNECTIONS', 16);
const REQUESTS = positiveInt('BENCH_PROXY_REQUESTS', 2000);

await ensureBuilt();
const { default: autocannon } = await import('autocannon');

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killLiveChildren();
    process.exit(130);
  });
}

/** Starts a child (node unless `file` is given) and resolves with its first stdout line matching `re`. */
function startChild(args, re, file = process.execPath) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
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

/** The reference relay: accept, connect upstream, socket.pipe both ways (no toxics, no API). */
const PIPE_RELAY = `
const net = require('net');
const upstream = Number(process.argv[1]);
const s = net.createServer({ pauseOnConnect: true, noDelay: true, allowHalfOpen: true }, (c) => {
  const u = net.connect({ port: upstream, host: '127.0.0.1', noDelay: true, allowHalfOpen: true }, () => { c.pipe(u); u.pipe(c); c.resume(); });
  u.on('error', () => c.destroy());
  c.on('error', () => u.destroy());
});
s.listen(0, '127.0.0.1', () => console.log('PORT=' + s.address().port));`;

// CPU accounting from /proc (Linux): a process's user+system ticks, and the machine's busy share.
const TICK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();
function cpuMs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICK;
  } catch {
    return NaN;
  }
}
function machineTicks() {
  try {
    const v = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { total: v.reduce((a, b) => a + b, 0), idle: v[3] + (v[4] ?? 0) };
  } catch {
    return { total: NaN, idle: NaN };
  }
}

/** `n` GET requests one after the other on one keep-alive connection; each one's time in ms (µs resolution). */
function sequential(port, n) {
  return new Promise((resolve, reject) => {
    const request = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const times = new Array(n);
    let done = 0;
    let t0 = 0;
    let buf = '';
    const s = connect({ port, host: '127.0.0.1', noDelay: true });
    const send = () => {
      t0 = performance.now();
      s.write(request);
    };
    s.once('connect', send);
    s.on('error', reject);
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/\r\ncontent-length: *(\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        if (!buf.startsWith('HTTP/1.1 200 ')) {
          s.destroy();
          return reject(new Error(`unexpected response: ${buf.slice(0, end)}`));
        }
        buf = buf.slice(end + 4 + len);
        times[done++] = performance.now() - t0;
        if (done === n) {
          s.destroy();
          return resolve(times);
        }
        send();
      }
    });
  });
}

const TOXIPROXY = process.env.BENCH_TOXIPROXY_SERVER;

/** A free loopback port (toxiproxy-server takes a fixed API port). */
const freePort = () =>
  new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

/** toxiproxy-server with one proxy to the backend, created through its own API. */
async function startToxiproxy(file, backendPort) {
  const apiPort = await freePort();
  const child = spawn(file, ['-host', '127.0.0.1', '-port', String(apiPort)], { stdio: ['ignore', 'ignore', 'ignore'] });
  liveChildren.add(child);
  const listen = `127.0.0.1:${await freePort()}`;
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${apiPort}/proxies`, { method: 'POST', body: JSON.stringify({ name: 'bench', listen, upstream: `127.0.0.1:${backendPort}` }) });
      if (r.status !== 201) throw new Error(`toxiproxy-server: POST /proxies answered ${r.status}: ${await r.text()}`);
      return { child, port: Number(listen.split(':')[1]) };
    } catch (err) {
      if (i >= 50 || child.exitCode !== null) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'kiboko-bench-proxy-'));
let toxiproxy;
let backend;
let proxy;
let relay;
try {
  backend = await startChild(['-e', BACKEND], /PORT=(\d+)/);
  const backendPort = Number(backend.match[1]);
  const config = join(dir, 'proxies.json');
  writeFileSync(config, JSON.stringify([{ name: 'bench', listen: '127.0.0.1:0', upstream: `127.0.0.1:${backendPort}` }]));
  proxy = await startChild([CLI, 'proxy', 'serve', '--port', '0', '--config', config], /^\{[^\n]*"event":"listening"[^\n]*\n/m);
  const proxyPort = Number(JSON.parse(proxy.match[0]).proxies[0].listen.split(':').pop());
  relay = await startChild(['-e', PIPE_RELAY, String(backendPort)], /PORT=(\d+)/);
  const relayPort = Number(relay.match[1]);
  const targets = [
    { key: 'direct', label: 'direct', port: backendPort, pid: undefined },
    { key: 'proxy', label: 'kiboko proxy (no toxics)', port: proxyPort, pid: proxy.child.pid },
    { key: 'pipe', label: 'node pipe relay (reference)', port: relayPort, pid: relay.child.pid },
  ];
  if (TOXIPROXY) {
    toxiproxy = await startToxiproxy(TOXIPROXY, backendPort);
    targets.push({ key: 'toxiproxy', label: 'toxiproxy-server (Go, no toxics)', port: toxiproxy.port, pid: toxiproxy.child.pid });
  }

  const cannon = (opts) => new Promise((resolve, reject) => autocannon(opts, (err, result) => (err ? reject(err) : resolve(result))));
  // Warm every path (JIT, connection setup) before measuring.
  for (const t of targets) {
    await cannon({ url: `http://127.0.0.1:${t.port}/`, connections: CONNECTIONS, amount: 2000 });
    await sequential(t.port, 200);
  }
  const load0 = loadavg()[0];

  const runs = Object.fromEntries(targets.map((t) => [t.key, []]));
  for (let i = 0; i < SLICES; i++) {
    for (const t of targets) {
      const cpu0 = t.pid ? cpuMs(t.pid) : NaN;
      const backend0 = cpuMs(backend.child.pid);
      const client0 = process.cpuUsage();
      const m0 = machineTicks();
      const r = await cannon({ url: `http://127.0.0.1:${t.port}/`, connections: CONNECTIONS, duration: SECONDS });
      const m1 = machineTicks();
      if (r.non2xx || r.errors) throw new Error(`${t.label}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      const relayCpuUsPerReq = t.pid ? ((cpuMs(t.pid) - cpu0) * 1000) / r.requests.total : NaN;
      const backendCpuUsPerReq = ((cpuMs(backend.child.pid) - backend0) * 1000) / r.requests.total;
      const c = process.cpuUsage(client0);
      const clientCpuUsPerReq = (c.user + c.system) / r.requests.total;
      const busy = 1 - (m1.idle - m0.idle) / (m1.total - m0.total);
      runs[t.key].push({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, relayCpuUsPerReq, backendCpuUsPerReq, clientCpuUsPerReq, machineBusy: busy });
    }
  }
  const latency = Object.fromEntries(targets.map((t) => [t.key, []]));
  // Blocks of 200 requests, alternating targets, so a burst of load from elsewhere hits all alike.
  for (let i = 0; i < SLICES; i++) {
    for (let left = REQUESTS; left > 0; left -= 200) {
      for (const t of targets) latency[t.key].push(...(await sequential(t.port, Math.min(200, left))));
    }
  }
  const load1 = loadavg()[0];

  const summary = (key) => {
    const r = runs[key];
    const l = latency[key];
    return {
      rps: median(r.map((x) => x.rps)),
      p50: median(r.map((x) => x.p50)),
      p99: median(r.map((x) => x.p99)),
      relayCpuUsPerReq: median(r.map((x) => x.relayCpuUsPerReq)),
      backendCpuUsPerReq: median(r.map((x) => x.backendCpuUsPerReq)),
      clientCpuUsPerReq: median(r.map((x) => x.clientCpuUsPerReq)),
      machineBusy: median(r.map((x) => x.machineBusy)),
      seqP50: percentile(l, 50),
      seqP99: percentile(l, 99),
    };
  };
  const direct = summary('direct');
  const through = summary('proxy');
  const pipe = summary('pipe');
  const toxi = toxiproxy ? summary('toxiproxy') : undefined;
  const ratio = through.rps / direct.rps;
  const p99Overhead = through.seqP99 - direct.seqP99;
  const loadedP99Overhead = through.p99 - direct.p99;
  const us = (ms) => (Number.isFinite(ms) ? (ms * 1000).toFixed(0) : 'n/a');
  console.log(`proxy overhead on loopback; load average ${load0.toFixed(2)} → ${load1.toFixed(2)}, ${machine().cpus} CPUs`);
  console.log(`throughput: autocannon, ${CONNECTIONS} keep-alive connections, ${SLICES} × ${SECONDS} s slices per target (medians of the slices)`);
  console.log(`latency: 1 connection, one request at a time, ${SLICES} × ${REQUESTS} requests per target (all samples)`);
  printTable(
    [
      ['target', 'req/s', 'p50 ms', 'p99 ms', 'relay CPU µs/req', 'machine busy', 'seq p50 µs', 'seq p99 µs'],
      ...[
        ['direct', direct],
        ['kiboko proxy (no toxics)', through],
        ['node pipe relay (reference)', pipe],
        ...(toxi ? [['toxiproxy-server (Go, no toxics)', toxi]] : []),
      ].map(([label, x]) => [label, x.rps.toFixed(0), fmtMs(x.p50), fmtMs(x.p99), Number.isFinite(x.relayCpuUsPerReq) ? x.relayCpuUsPerReq.toFixed(1) : '-', `${(x.machineBusy * 100).toFixed(0)}%`, us(x.seqP50), us(x.seqP99)]),
    ],
    [1, 2, 3, 4, 5, 6, 7],
  );
  const goals = { throughput: ratio >= 0.8, p99: p99Overhead < 1 };
  console.log(`throughput through the proxy: ${(ratio * 100).toFixed(1)}% of direct (goal ≥ 80%: ${goals.throughput ? 'met' : 'NOT met'}); the node pipe relay: ${((pipe.rps / direct.rps) * 100).toFixed(1)}% of direct`);
  console.log(`p99 overhead, one request at a time: ${us(p99Overhead)} µs (goal < 1 ms: ${goals.p99 ? 'met' : 'NOT met'}); under ${CONNECTIONS} connections: ${fmtMs(loadedP99Overhead)} ms (1 ms resolution)`);
  console.log(`relay CPU per request: kiboko ${through.relayCpuUsPerReq.toFixed(1)} µs, node pipe relay ${pipe.relayCpuUsPerReq.toFixed(1)} µs${toxi ? `, toxiproxy-server ${toxi.relayCpuUsPerReq.toFixed(1)} µs` : ''}`);
  if (toxi) console.log(`toxiproxy-server (Go): ${((toxi.rps / direct.rps) * 100).toFixed(1)}% of direct throughput; p99 overhead one request at a time ${us(toxi.seqP99 - direct.seqP99)} µs`);
  // What the CPU costs imply, independent of how much of the machine others took during the run:
  // with every process CPU-bound on the machine's cores, requests/s ∝ 1 / (sum of per-request costs).
  const client = direct.clientCpuUsPerReq;
  const server = direct.backendCpuUsPerReq;
  const projected = (client + server) / (client + server + through.relayCpuUsPerReq);
  console.log(
    `CPU per request: client ${client.toFixed(1)} µs, backend ${server.toFixed(1)} µs, kiboko relay ${through.relayCpuUsPerReq.toFixed(1)} µs → ` +
      `when the CPUs are the limit, the proxy can carry about ${(projected * 100).toFixed(0)}% of direct throughput (a projection from the measured costs, not a measurement)`,
  );
  writeResult('proxy', {
    machine: machine(),
    loadavg: [load0, load1],
    connections: CONNECTIONS,
    seconds: SECONDS,
    slices: SLICES,
    requests: REQUESTS,
    direct,
    proxy: through,
    pipe,
    toxiproxy: toxi,
    ratio,
    projectedCpuBoundRatio: projected,
    p99Overhead,
    loadedP99Overhead,
    goals,
    runs,
  });
} finally {
  for (const c of [toxiproxy?.child, relay?.child, proxy?.child, backend?.child]) if (c && c.exitCode === null) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
