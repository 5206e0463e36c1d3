// Benchmark: `kiboko serve` answering GET /fleet/v1/units with 1,000 units, under load, in one run.
//
//   The real daemon (`node dist/kiboko.cjs serve --listen 127.0.0.1:0`, a temp KIBOKO_STATE_DIR) gets
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
// Then the attack tests' loads (test/cli/serve-attack.docker.test.ts), one after the other, and the
// daemon's idle RSS after them (the lowest VmRSS of a 3 s settling period, sampled every 250 ms),
// beside its idle RSS before them: 300 unauthenticated slow bodies (each declares a 60 KiB signed
// hook and sends 50 KiB of it in 10 slow rounds), 1,000 open event streams of one client (then
// closed), 100 requests with bad tokens (answered late by the throttle). Reported, not a goal; the
// peak-RSS goal above is read before them.
//
// Env: BENCH_SERVE_SECONDS (default 10), BENCH_SERVE_ROUNDS (default 5), BENCH_SERVE_RATE (default 500),
// BENCH_SERVE_UNITS (default 1000).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
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

// ---------------------------------------------------------------------------------------------
// the attack tests' loads

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The lowest VmRSS over a 3 s settling period (every 250 ms). */
async function settledRss(pid) {
  let low = Infinity;
  for (let i = 0; i < 12; i++) {
    await sleep(250);
    low = Math.min(low, memoryOf(pid).rssMb);
  }
  return low;
}

/** 300 connections declare a 60 KiB signed hook, send 50 KiB of it slowly, never the rest; RSS under load. */
async function slowBodies(port, pid) {
  const sockets = [];
  const chunk = Buffer.alloc(5 * 1024, 'a');
  try {
    await Promise.all(
      Array.from({ length: 300 }, () => new Promise((resolve) => {
        const s = connect(port, '127.0.0.1', () => {
          s.write(`POST /hooks/deploy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256=${'0'.repeat(64)}\r\nContent-Length: ${60 * 1024}\r\n\r\n`);
          resolve();
        });
        s.on('error', () => undefined);
        sockets.push(s);
      })),
    );
    for (let round = 0; round < 10; round++) {
      for (const s of sockets) if (!s.destroyed) s.write(chunk);
      await sleep(150);
    }
    await sleep(300);
    return memoryOf(pid).rssMb;
  } finally {
    for (const s of sockets) s.destroy();
  }
}

/** 1,000 event streams of one client, held open, then closed; RSS with them open and the status of each. */
async function eventStreams(port, token, pid) {
  const sockets = [];
  const open = () => new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    sockets.push(s);
    let out = '';
    const onData = (d) => {
      out += d.toString();
      if (out.includes('\r\n\r\n')) {
        s.off('data', onData);
        resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(out)?.[1] ?? 0));
      }
    };
    s.on('data', onData);
    s.on('error', () => resolve(0));
    s.write(`GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  });
  try {
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push(...(await Promise.all(Array.from({ length: 100 }, open))));
    const ok = statuses.filter((s) => s === 200).length;
    if (ok !== 1000) throw new Error(`event streams: ${ok} of 1,000 opened`);
    await sleep(1000);
    return memoryOf(pid).rssMb;
  } finally {
    for (const s of sockets) s.destroy();
  }
}

/** 100 requests with bad tokens at once; they are answered late (the throttle), all 401. */
async function badTokens(base) {
  const statuses = await Promise.all(Array.from({ length: 100 }, (_, i) => fetch(`${base}/fleet/v1/units`, { headers: { authorization: `Bearer bad-${i}-xxxxxxxxxxxxxxxx` } }).then((r) => r.status, () => 0)));
  const wrong = statuses.filter((s) => s !== 401 && s !== 429);
  if (wrong.length) throw new Error(`bad tokens: answered ${[...new Set(wrong)].join(', ')}`);
  return statuses;
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

  // 4b. The attack tests' loads, then the idle RSS after them.
  const pid = daemon.child.pid;
  const port = Number(new URL(base).port);
  const idleBefore = await settledRss(pid);
  const t1 = performance.now();
  const slowRss = await slowBodies(port, pid);
  const afterSlow = await settledRss(pid);
  const streamsRss = await eventStreams(port, token, pid);
  const afterStreams = await settledRss(pid);
  const bad = await badTokens(base);
  const attackSeconds = (performance.now() - t1) / 1000;
  const idleAfter = await settledRss(pid);
  const stillServes = (await api(paths[0])).status === 200;

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
  const attacks = { idleBeforeMb: idleBefore, slowBodiesMb: slowRss, afterSlowBodiesMb: afterSlow, eventStreamsMb: streamsRss, afterEventStreamsMb: afterStreams, badTokens: { total: bad.length, '401': bad.filter((x) => x === 401).length, '429': bad.filter((x) => x === 429).length }, idleAfterMb: idleAfter, seconds: attackSeconds, stillServes };
  console.log(
    `attacks (${attackSeconds.toFixed(1)} s): idle RSS ${idleBefore.toFixed(1)} MB → 300 slow unauthenticated bodies ${slowRss.toFixed(1)} MB, settled ${afterSlow.toFixed(1)} MB → 1,000 event streams ${streamsRss.toFixed(1)} MB, settled ${afterStreams.toFixed(1)} MB → 100 bad tokens (${attacks.badTokens['401']} × 401, ${attacks.badTokens['429']} × 429)`,
  );
  console.log(`idle RSS after the attacks: ${idleAfter.toFixed(1)} MB (${idleAfter - idleBefore >= 0 ? '+' : ''}${(idleAfter - idleBefore).toFixed(1)} MB from before them); the daemon ${stillServes ? 'still serves' : 'NO LONGER SERVES'}`);
  if (!stillServes) throw new Error('the daemon stopped serving after the attacks');
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
    attacks,
    goals,
  });
  console.log(`results: ${path}`);
  if (daemon.child.exitCode !== null) throw new Error(`the daemon exited during the bench:\n${daemon.stderr()}`);
} finally {
  await cleanup();
}
