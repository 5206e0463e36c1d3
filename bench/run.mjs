// `npm run bench`: runs every bench script in turn, each in its own process, and prints its
// output. Builds dist/ first if it is missing. Exits non-zero if any bench failed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilt, ROOT } from './common.mjs';

const SCRIPTS = ['startup.mjs', 'kill.mjs', 'deploy.mjs', 'serve.mjs', 'watch.mjs', 'proxy.mjs'];

await ensureBuilt();

let current;
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  // Ctrl-C reaches the child through the terminal's process group; SIGTERM sent to this process
  // alone is passed on. Either way the child cleans up and we stop after it.
  process.on(sig, () => {
    stopping = true;
    if (sig === 'SIGTERM' && current) current.kill('SIGTERM');
  });
}

const results = [];
for (const script of SCRIPTS) {
  if (stopping) break;
  console.log(`\n=== bench/${script} ===`);
  const t0 = performance.now();
  const code = await new Promise((resolve) => {
    current = spawn(process.execPath, [join(ROOT, 'bench', script)], { cwd: ROOT, stdio: 'inherit' });
    current.on('error', (err) => {
      console.error(`cannot start bench/${script}: ${err.message}`);
      resolve(1);
    });
    current.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  current = undefined;
  results.push({ script, code, seconds: (performance.now() - t0) / 1000 });
}

console.log('\n=== summary ===');
for (const r of results) console.log(`bench/${r.script}: ${r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`} in ${r.seconds.toFixed(1)} s`);
process.exitCode = stopping ? 130 : results.some((r) => r.code !== 0) ? 1 : 0;
