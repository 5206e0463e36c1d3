// Benchmark: `kiboko serve` answering GET /fleet/v1/units with 1,000 units, under load, in one run.
//
//   The real daemon (`node dist/cli.js serve --listen 127.0.0.1:0`, a temp KIBOKO_STATE_DIR) gets
//   1,000 units (fleet-style unit files: Description, ExecStartPre ×2, `docker run` ExecStart,
//   ExecStop, [X-Fleet] Conflicts) created `inactive` through the API — stored units, no
//   containers. Then autocannon (programmatic, in this process) drives it at a fixed 500 requests/s
//   for BENCH_SERVE_SECONDS with the bearer token:
//
//     first-page   GET /fleet/v1/units (the first 100 units, fleet's page size)
//     page-walk    the 10 pages of a full pagination walk, cycled (?nextPageToken=…)
//
//   Baselines measured the same way, in the same run, at the same rate:
//     bare-node    a bare node:http server (its own process) answering the same paths with the
//                  same JSON bytes, precomputed — the floor for a Node HTTP server on this machine
//     docker-ps    the Docker engine's own GET /containers/json?all=1 over its unix socket
//
// The daemon's peak RSS is VmHWM from /proc/PID/status (the whole run: setup and load), plus the
// highest VmRSS sampled while under load. Goals (issue 5): p99 < 25 ms at 500 requests/s,
// daemon RSS < 120 MB.
//
// Cleanup (finally, and on SIGINT/SIGTERM): SIGTERM to the daemon and the bare server, any
// container labelled with a unit of this run (none expected), the temp folder.
//
// Each target runs BENCH_SERVE_SECONDS in total, in BENCH_SERVE_ROUNDS interleaved slices (so background
// activity on the machine hits all targets alike); latencies are every response's time as autocannon
// measures it (hrtime from request write to full response).
//
// Env: BENCH_SERVE_SECONDS (default 10), BENCH_SERVE_ROUNDS (default 5), BENCH_SERVE_RATE (default 500),
// BENCH_SERVE_UNITS (default 1000).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ensureBuilt, fmtMs, fmtRatio, machine, mapLimit, newRunId, percentile, positiveInt, printTable, SOCKET, writeResult } from './common.mjs';

const SECONDS = positiveInt('BENCH_SERVE_SECONDS', 10);
const RATE = positiveInt('BENCH_SERVE_RATE', 500);
const UNITS = positiveInt('BENCH_SERVE_UNITS', 1000);
const ROUNDS = positiveInt('BENCH_SERVE_ROUNDS', 5);
const CONNECTIONS = 10;
const GOAL_P99_MS = 25;
const GOAL_RSS_MB = 120;
const RUN_ID = newRunId();
const PREFIX = `kbs${RUN_ID}`;

await ensureBuilt();
const { default: autocannon } = await import('autocannon');
const { default: Docker } = await import('dockerode');
const admin = new Docker({ socketPath: SOCKET });
const work = mkdtempSync(join(tmpdir(), 'kbench-serve-'));
const children = new Set();

// ---------------------------------------------------------------------------------------------
// processes and cleanup

function startNode(args, env = {}) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = (re, ms = 30_000) =>
    new Promise((resolve, reject) => {
      const t0 = Date.now();
      const tick = () => {
        const m = re.exec(out);
        if (m) return resolve(m);
        if (child.exitCode !== null) return reject(new Error(`process exited (${child.exitCode}) before ${re}:\n${out}\n${err}`));
        if (Date.now() - t0 > ms) return reject(new Error(`timed out waiting for ${re}:\n${out}\n${err}`));
        setTimeout(tick, 20);
      };
      tick();
    });
  return { child, waitFor, exited, stderr: () => err };
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(t);
  children.delete(child);
}

let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    for (const c of [...children]) await stopChild(c).catch(() => undefined);
    const left = await admin.listContainers({ all: true, filters: JSON.stringify({ label: ['kiboko.units.unit'] }) }).catch(() => []);
    for (const c of left.filter((x) => x.Labels['kiboko.units.unit']?.startsWith(PREFIX))) await admin.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  })();
  return cleaning;
}
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`serve bench: ${sig}: cleaning up…`);
    cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

/** VmHWM (peak) and VmRSS of a process, in MB. */
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { hwmMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

// ---------------------------------------------------------------------------------------------
// load

/**
 * One slice of load: autocannon at a fixed overall rate for `seconds`, paths cycled per
 * connection; every response time is recorded (ms, from autocannon's hrtime per request).
 */
async function slice(target, paths, headers, seconds, into) {
  const t0 = performance.now();
  const instance = autocannon({ ...target, connections: CONNECTIONS, duration: seconds, overallRate: RATE, headers, requests: paths.map((path) => ({ method: 'GET', path })) });
  instance.on('response', (_client, status, bytes, ms) => {
    into.samples.push(ms);
    into.bytes += bytes;
    if (status !== 200) {
      into.bad++;
      into.firstError ??= `HTTP ${status}`;
    }
  });
  instance.on('reqError', (err) => (into.firstError ??= err.message));
  const result = await instance;
  into.seconds += (performance.now() - t0) / 1000;
  into.bad += result.errors + result.timeouts;
}

function summary(name, r) {
  if (r.bad > 0) throw new Error(`${name}: ${r.bad} failed requests (errors, timeouts or non-200 answers; first: ${r.firstError ?? 'timeout'})`);
  return {
    name,
    p50: percentile(r.samples, 50),
    p90: percentile(r.samples, 90),
    p99: percentile(r.samples, 99),
    max: Math.max(...r.samples),
    rps: r.samples.length / r.seconds,
    total: r.samples.length,
    bytesPerReq: r.bytes / Math.max(1, r.samples.length),
  };
}

const unitOptions = (i) => [
  { section: 'Unit', name: 'Description', value: `bench app ${i} (%i)` },
  { section: 'Service', name: 'ExecStartPre', value: '-/usr/bin/docker kill %p-%i' },
  { section: 'Service', name: 'ExecStartPre', value: '-/usr/bin/docker rm %p-%i' },
  { section: 'Service', name: 'ExecStart', value: `/usr/bin/docker run --name %p-%i -e INDEX=${i} -p 80 kiboko/busybox:local sleep 3600` },
  { section: 'Service', name: 'ExecStop', value: '/usr/bin/docker stop %p-%i' },
  { section: 'X-Fleet', name: 'Conflicts', value: `${PREFIX}@*.service` },
];

try {
  // 1. The daemon, and its units.
  const daemon = startNode([CLI, 'serve', '--listen', '127.0.0.1:0'], { KIBOKO_STATE_DIR: join(work, 'state') });
  const m = await daemon.waitFor(/"addresses":\["(http:\/\/[^"]+)"/);
  const base = m[1];
  const token = readFileSync(join(work, 'state', 'serve.token'), 'utf8').trim();
  const memStarted = memoryOf(daemon.child.pid);
  const auth = { authorization: `Bearer ${token}` };
  const api = (path, init = {}) => fetch(`${base}${path}`, { ...init, headers: { ...auth, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
  const t0 = performance.now();
  await mapLimit(
    Array.from({ length: UNITS }, (_, i) => i),
    16,
    async (i) => {
      const name = `${PREFIX}@${String(i).padStart(4, '0')}.service`;
      const r = await api(`/fleet/v1/units/${encodeURIComponent(name)}`, { method: 'PUT', body: JSON.stringify({ desiredState: 'inactive', options: unitOptions(i) }) });
      if (r.status !== 201) throw new Error(`PUT ${name}: ${r.status} ${await r.text()}`);
    },
  );
  const setupMs = performance.now() - t0;
  const memSetup = memoryOf(daemon.child.pid);

  // 2. The pagination walk the load will cycle through (and the bodies the bare server replays).
  const paths = [];
  const bodies = {};
  let next = '/fleet/v1/units';
  while (next) {
    const r = await api(next);
    if (r.status !== 200) throw new Error(`GET ${next}: ${r.status} ${await r.text()}`);
    const text = await r.text();
    paths.push(next);
    bodies[next] = text;
    const token = JSON.parse(text).nextPageToken;
    next = token ? `/fleet/v1/units?nextPageToken=${encodeURIComponent(token)}` : undefined;
  }
  const counted = Object.values(bodies).reduce((n, b) => n + JSON.parse(b).units.filter((u) => u.name.startsWith(PREFIX)).length, 0);
  if (counted !== UNITS) throw new Error(`the walk saw ${counted} units, expected ${UNITS}`);

  // 3. The bare baseline: same paths, same bytes, no work.
  const bareScript = `
    const http = require('node:http');
    const bodies = JSON.parse(require('node:fs').readFileSync(process.env.BODIES, 'utf8'));
    const s = http.createServer((req, res) => {
      const b = bodies[req.url];
      if (!b) { res.writeHead(404); return res.end(); }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) });
      res.end(b);
    });
    s.listen(0, '127.0.0.1', () => console.log('port=' + s.address().port));
    process.on('SIGTERM', () => s.close(() => process.exit(0)));`;
  writeFileSync(join(work, 'bodies.json'), JSON.stringify(bodies));
  const bare = startNode(['-e', bareScript], { BODIES: join(work, 'bodies.json') });
  const barePort = (await bare.waitFor(/port=(\d+)/))[1];

  // 4. Warm-up (untimed), then the measured runs, alternating kiboko and its baselines.
  const kibokoTarget = { url: base };
  const bareTarget = { url: `http://127.0.0.1:${barePort}` };
  const dockerTarget = { url: 'http://localhost', socketPath: SOCKET };
  await autocannon({ ...kibokoTarget, connections: CONNECTIONS, amount: 500, headers: auth, requests: [{ method: 'GET', path: paths[0] }] });
  await autocannon({ ...bareTarget, connections: CONNECTIONS, amount: 500, requests: [{ method: 'GET', path: paths[0] }] });

  // Interleaved rounds, so that whatever else the machine does in the meantime hits every target alike.
  let peakLoadRss = 0;
  const sampler = setInterval(() => {
    try {
      peakLoadRss = Math.max(peakLoadRss, memoryOf(daemon.child.pid).rssMb);
    } catch {
      // the daemon is gone; the load run reports it
    }
  }, 100);
  const plan = [
    ['kiboko first-page', kibokoTarget, [paths[0]], auth],
    ['bare-node first-page', bareTarget, [paths[0]], {}],
    ['kiboko page-walk', kibokoTarget, paths, auth],
    ['bare-node page-walk', bareTarget, paths, {}],
    ['docker-ps', dockerTarget, ['/containers/json?all=1'], {}],
  ];
  const acc = Object.fromEntries(plan.map(([name]) => [name, { samples: [], bytes: 0, bad: 0, seconds: 0 }]));
  const loadBefore = loadavg()[0];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, target, p, headers] of plan) await slice(target, p, headers, Math.max(1, Math.round(SECONDS / ROUNDS)), acc[name]);
  }
  const loadAfter = loadavg()[0];
  clearInterval(sampler);
  const runs = plan.map(([name]) => summary(name, acc[name]));
  const mem = memoryOf(daemon.child.pid);

  // 5. Report.
  const by = Object.fromEntries(runs.map((r) => [r.name, r]));
  console.log(`serve bench: ${UNITS} units (created in ${(setupMs / 1000).toFixed(1)} s), ${RATE} requests/s, ${SECONDS} s per target in ${ROUNDS} interleaved rounds, ${CONNECTIONS} connections; node ${process.version}; ${machine().cpus} CPU(s); load average ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)}`);
  printTable(
    [
      ['target', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'req/s', 'requests', 'bytes/req'],
      ...runs.map((r) => [r.name, fmtMs(r.p50), fmtMs(r.p90), fmtMs(r.p99), fmtMs(r.max), r.rps.toFixed(0), String(r.total), r.bytesPerReq.toFixed(0)]),
    ],
    [1, 2, 3, 4, 5, 6, 7],
  );
  const ratio = (a, b) => by[a].p99 / Math.max(by[b].p99, 0.001);
  console.log(`ratios (p99): kiboko/bare-node first-page ${fmtRatio(ratio('kiboko first-page', 'bare-node first-page'))}, page-walk ${fmtRatio(ratio('kiboko page-walk', 'bare-node page-walk'))}; kiboko first-page/docker-ps ${fmtRatio(ratio('kiboko first-page', 'docker-ps'))}`);
  const rateOk = (r) => r.rps >= RATE * 0.95;
  const goals = [
    { goal: `first page: p99 < ${GOAL_P99_MS} ms at ${RATE} req/s`, value: `${fmtMs(by['kiboko first-page'].p99)} ms at ${by['kiboko first-page'].rps.toFixed(0)} req/s`, pass: by['kiboko first-page'].p99 < GOAL_P99_MS && rateOk(by['kiboko first-page']) },
    { goal: `page walk: p99 < ${GOAL_P99_MS} ms at ${RATE} req/s`, value: `${fmtMs(by['kiboko page-walk'].p99)} ms at ${by['kiboko page-walk'].rps.toFixed(0)} req/s`, pass: by['kiboko page-walk'].p99 < GOAL_P99_MS && rateOk(by['kiboko page-walk']) },
    {
      goal: `daemon RSS < ${GOAL_RSS_MB} MB (peak, VmHWM)`,
      value: `${mem.hwmMb.toFixed(1)} MB (listening: ${memStarted.rssMb.toFixed(1)} MB; after the ${UNITS} PUTs: ${memSetup.rssMb.toFixed(1)} MB; highest under load: ${peakLoadRss.toFixed(1)} MB)`,
      pass: mem.hwmMb < GOAL_RSS_MB,
    },
  ];
  for (const g of goals) console.log(`goal: ${g.goal}: ${g.value} ${g.pass ? 'PASS' : 'MISS'}`);
  const path = writeResult('serve', {
    bench: 'serve',
    date: new Date().toISOString(),
    machine: machine(),
    units: UNITS,
    rate: RATE,
    seconds: SECONDS,
    rounds: ROUNDS,
    loadAverage: { before: loadBefore, after: loadAfter },
    connections: CONNECTIONS,
    setupMs,
    runs,
    daemonMemoryMb: { listening: memStarted.rssMb, afterSetup: memSetup.rssMb, peak: mem.hwmMb, peakUnderLoad: peakLoadRss, end: mem.rssMb },
    goals,
  });
  console.log(`results: ${path}`);
  if (daemon.child.exitCode !== null) throw new Error(`the daemon exited during the bench:\n${daemon.stderr()}`);
} finally {
  await cleanup();
}
