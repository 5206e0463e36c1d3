// Benchmark: start-up time of `node dist/kiboko.cjs --version` against `node -e 0`, and the set-up
// time of `kiboko chaos kill NAME` before its first kill request, against a stand-in engine on a
// unix socket (./fake-engine.mjs) that timestamps each request, with the same-run baseline of bare
// `node` making one request to that socket. All measured in one run, interleaved, after an untimed
// warm-up; then the modules each command runs (./module-graph.mjs). Env: BENCH_STARTUP_RUNS (default 20).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, ensureBuilt, fmtMs, fmtRatio, machine, median, percentile, printTable, timeProcess, writeResult } from './common.mjs';
import { startFakeEngine } from './fake-engine.mjs';
import { moduleGraph } from './module-graph.mjs';

// The bundle a command line runs from (src/cli/bin.ts: a group's own bundle, or the whole CLI for help).
const bundleOf = (file) => fileURLToPath(new URL(`../dist/${file}`, import.meta.url));

const RUNS = (() => {
  const raw = process.env.BENCH_STARTUP_RUNS;
  const n = raw ? Number(raw) : 20;
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_STARTUP_RUNS must be a whole number ≥ 1, got '${raw}'`);
  return n;
})();
const GOAL_MS = 150;
const KILL_GOAL_MS = 150;

await ensureBuilt();

const variants = {
  'node -e 0': [process.execPath, ['-e', '0']],
  'kiboko --version': [process.execPath, [CLI, '--version']],
};

// Warm-up (untimed), and a check that the CLI answers with a version.
for (const [file, args] of Object.values(variants)) await timeProcess(file, args);
const { stdout: version } = await timeProcess(process.execPath, [CLI, '--version']);
if (!/^\d+\.\d+\.\d+/.test(version.trim())) throw new Error(`unexpected --version output: ${JSON.stringify(version)}`);

const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let i = 0; i < RUNS; i++) {
  // alternate which goes first so neither always benefits from the other's warm caches
  const names = i % 2 === 0 ? Object.keys(variants) : Object.keys(variants).reverse();
  for (const name of names) {
    const [file, args] = variants[name];
    samples[name].push((await timeProcess(file, args)).ms);
  }
}

const stats = Object.fromEntries(
  Object.entries(samples).map(([k, v]) => [k, { median: median(v), p90: percentile(v, 90), min: Math.min(...v), max: Math.max(...v), samples: v }]),
);
const base = stats['node -e 0'];
const kib = stats['kiboko --version'];
const ratio = kib.median / base.median;
const pass = kib.median < GOAL_MS;

console.log(`startup bench: ${RUNS} runs each, interleaved; kiboko ${version.trim()}; node ${process.version}; ${machine().cpus} CPU(s)`);
printTable(
  [
    ['command', 'median ms', 'p90 ms', 'min ms', 'max ms'],
    ...Object.entries(stats).map(([k, s]) => [k, fmtMs(s.median), fmtMs(s.p90), fmtMs(s.min), fmtMs(s.max)]),
  ],
  [1, 2, 3, 4],
);
console.log(`ratio kiboko --version / node -e 0 (median): ${fmtRatio(ratio)}; kiboko's own cost over bare node: ${fmtMs(kib.median - base.median)} ms`);
console.log(`goal: kiboko --version under ${GOAL_MS} ms (median): ${fmtMs(kib.median)} ms ${pass ? 'PASS' : `MISS (by ${fmtMs(kib.median - GOAL_MS)} ms)`} (p90 ${fmtMs(kib.p90)} ms)`);

const path = writeResult('startup', {
  bench: 'startup',
  date: new Date().toISOString(),
  machine: machine(),
  version: version.trim(),
  runs: RUNS,
  stats,
  ratio,
  goal: { description: `kiboko --version under ${GOAL_MS} ms (median)`, goalMs: GOAL_MS, medianMs: kib.median, p90Ms: kib.p90, pass },
});
console.log(`results: ${path}`);

// ---- kiboko chaos kill: spawn → first engine request → kill request, against the stand-in engine ----
const engine = await startFakeEngine();
const stateDir = mkdtempSync(join(tmpdir(), 'kiboko-bench-state-'));
// The bench's own code cache folder: the untimed warm-up run writes it, as a user's first run does.
const env = { ...process.env, DOCKER_HOST: `unix://${engine.socket}`, KIBOKO_STATE_DIR: stateDir, KIBOKO_CACHE_DIR: join(stateDir, 'code-cache') };
delete env.DOCKER_TLS_VERIFY;
const PING = `require('node:http').get({ socketPath: ${JSON.stringify(engine.socket)}, path: '/_ping' }, (r) => r.resume())`;

/** Spawns a child and resolves with ms from spawn to its first request, to its kill request (if any), and to its exit. */
function timeRequests(args, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    const from = engine.requests.length;
    const t0 = performance.now();
    // (a variable set to undefined in extraEnv is left out of the child's environment)
    const childEnv = Object.fromEntries(Object.entries({ ...env, ...extraEnv }).filter(([, v]) => v !== undefined));
    execFile(process.execPath, args, { env: childEnv }, (err, stdout, stderr) => {
      const exit = performance.now() - t0;
      if (err) return reject(new Error(`${args.join(' ')} failed: ${err.message}\n${stderr}`));
      const mine = engine.requests.slice(from);
      const kill = mine.find((r) => r.method === 'POST' && r.path.includes('/kill'));
      resolve({ first: mine[0] ? mine[0].at - t0 : NaN, kill: kill ? kill.at - t0 : NaN, exit, requests: mine.length, stdout });
    });
  });
}

// NODE_EXTRA_CA_CERTS, when the environment sets it, costs every Node 20 process ~40 ms before any
// JavaScript runs (Node builds its whole root certificate store at start to add the file's
// certificates): the same for bare node and for kiboko, and nothing kiboko's code can avoid. The
// bench then also times both without it, in the same interleaved runs, and reports both.
const EXTRA_CA = process.env.NODE_EXTRA_CA_CERTS;
const NO_CA = ', no NODE_EXTRA_CA_CERTS';
const killVariants = {
  'node: one request': ['-e', PING],
  'kiboko chaos kill': [CLI, 'chaos', 'kill', '--json', 'web-1'],
  'kiboko chaos kill, no code cache': [CLI, 'chaos', 'kill', '--json', 'web-1'],
  ...(EXTRA_CA ? { [`node: one request${NO_CA}`]: ['-e', PING], [`kiboko chaos kill${NO_CA}`]: [CLI, 'chaos', 'kill', '--json', 'web-1'] } : {}),
};
const variantEnv = (name) => ({
  ...(name.endsWith('no code cache') ? { KIBOKO_NO_COMPILE_CACHE: '1' } : {}),
  ...(name.endsWith(NO_CA) ? { NODE_EXTRA_CA_CERTS: undefined } : {}),
});
try {
  for (const [name, args] of Object.entries(killVariants)) await timeRequests(args, variantEnv(name)); // warm-up (writes the code cache)
  const check = await timeRequests(killVariants['kiboko chaos kill']);
  const lines = check.stdout.trim().split('\n').map((l) => JSON.parse(l));
  if (!lines.some((l) => l.event === 'action-finished' && l.result?.outcome === 'ok') || !Number.isFinite(check.kill)) {
    throw new Error(`kiboko chaos kill did not kill through the stand-in engine:\n${check.stdout}`);
  }
  const k = Object.fromEntries(Object.keys(killVariants).map((n) => [n, { first: [], kill: [], exit: [] }]));
  for (let i = 0; i < RUNS; i++) {
    const names = i % 2 === 0 ? Object.keys(killVariants) : Object.keys(killVariants).reverse();
    for (const name of names) {
      const r = await timeRequests(killVariants[name], variantEnv(name));
      k[name].first.push(r.first);
      k[name].kill.push(r.kill);
      k[name].exit.push(r.exit);
    }
  }
  const bare = median(k['node: one request'].first);
  const first = median(k['kiboko chaos kill'].first);
  const kill = median(k['kiboko chaos kill'].kill);
  const exit = median(k['kiboko chaos kill'].exit);
  console.log(`\nchaos kill bench: ${RUNS} runs each, interleaved, against a stand-in engine on a unix socket (no engine latency); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  printTable(
    [
      ['command', 'first request ms', 'kill request ms', 'exit ms', 'p90 kill ms'],
      ['node: one request', fmtMs(bare), '', fmtMs(median(k['node: one request'].exit)), ''],
      ...['kiboko chaos kill', 'kiboko chaos kill, no code cache'].map((n) => [n, fmtMs(median(k[n].first)), fmtMs(median(k[n].kill)), fmtMs(median(k[n].exit)), fmtMs(percentile(k[n].kill, 90))]),
      ...(EXTRA_CA
        ? [
            [`node: one request${NO_CA}`, fmtMs(median(k[`node: one request${NO_CA}`].first)), '', fmtMs(median(k[`node: one request${NO_CA}`].exit)), ''],
            ...[`kiboko chaos kill${NO_CA}`].map((n) => [n, fmtMs(median(k[n].first)), fmtMs(median(k[n].kill)), fmtMs(median(k[n].exit)), fmtMs(percentile(k[n].kill, 90))]),
          ]
        : []),
    ],
    [1, 2, 3, 4],
  );
  console.log(`where the time goes (medians): node itself ${fmtMs(bare)} ms · loading and parsing the CLI until the first engine request ${fmtMs(first - bare)} ms · version negotiation, the journal, recovery sweeps and target selection until the kill ${fmtMs(kill - first)} ms`);
  const killPass = kill <= KILL_GOAL_MS;
  const verdict = (ms) => `${fmtMs(ms)} ms ${ms <= KILL_GOAL_MS ? 'PASS' : `MISS (by ${fmtMs(ms - KILL_GOAL_MS)} ms)`}`;
  let withoutCa;
  if (EXTRA_CA) {
    withoutCa = { bareMs: median(k[`node: one request${NO_CA}`].first), killMs: median(k[`kiboko chaos kill${NO_CA}`].kill) };
    console.log(`NODE_EXTRA_CA_CERTS is set here: it adds ${fmtMs(bare - withoutCa.bareMs)} ms to bare node's first request and ${fmtMs(kill - withoutCa.killMs)} ms to kiboko's kill request (medians, same runs)`);
    console.log(`goal: kiboko chaos kill set-up ≤ ${KILL_GOAL_MS} ms before the first kill request (median), in this environment (NODE_EXTRA_CA_CERTS set): ${verdict(kill)}`);
    console.log(`goal: the same without NODE_EXTRA_CA_CERTS (bare node ${fmtMs(withoutCa.bareMs)} ms): ${verdict(withoutCa.killMs)}`);
  } else {
    console.log(`goal: kiboko chaos kill set-up ≤ ${KILL_GOAL_MS} ms before the first kill request (median): ${verdict(kill)}`);
  }

  // The modules each command runs (one run each, from V8's coverage: ./module-graph.mjs).
  const graphs = [];
  for (const [name, args, bundle] of [
    ['kiboko chaos kill', [CLI, 'chaos', 'kill', '--json', 'web-1'], 'cli-chaos.cjs'],
    ['kiboko deploy plan --help', [CLI, 'deploy', 'plan', '--help'], 'cli.cjs'],
  ]) {
    const g = await moduleGraph(args, env, bundleOf(bundle));
    graphs.push({ name, src: g.src.length, packages: g.packages, srcModules: g.src });
  }
  console.log('\nmodules each command runs (of the bundle it runs from, from V8 coverage; `kiboko --version` runs none of it):');
  printTable([['command', 'src modules', 'npm packages'], ...graphs.map((g) => [g.name, String(g.src), `${g.packages.length}: ${g.packages.join(' ')}`])], [1]);

  const killPath = writeResult('startup-kill', {
    bench: 'startup-kill',
    date: new Date().toISOString(),
    machine: machine(),
    loadavg: loadavg(),
    runs: RUNS,
    samples: k,
    graphs,
    goal: {
      description: `kiboko chaos kill set-up ≤ ${KILL_GOAL_MS} ms before the first kill request (median)`,
      goalMs: KILL_GOAL_MS,
      medianMs: kill,
      baselineMs: bare,
      pass: killPass,
      nodeExtraCaCerts: Boolean(EXTRA_CA),
      ...(withoutCa ? { withoutNodeExtraCaCerts: { ...withoutCa, pass: withoutCa.killMs <= KILL_GOAL_MS } } : {}),
    },
  });
  console.log(`results: ${killPath}`);
  if (!pass || !killPass) process.exitCode = 0; // a missed goal is reported, not a failed bench
} finally {
  await engine.close();
  rmSync(stateDir, { recursive: true, force: true });
}
