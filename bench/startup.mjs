// Benchmark: start-up time of `node dist/cli.js --version` against `node -e 0`, measured in the
// same run (interleaved, after an untimed warm-up). Env: BENCH_STARTUP_RUNS (default 20).
import { CLI, ensureBuilt, fmtMs, fmtRatio, machine, median, percentile, printTable, timeProcess, writeResult } from './common.mjs';

const RUNS = (() => {
  const raw = process.env.BENCH_STARTUP_RUNS;
  const n = raw ? Number(raw) : 20;
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_STARTUP_RUNS must be a whole number ≥ 1, got '${raw}'`);
  return n;
})();
const GOAL_MS = 150;

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
