// The demo: three "web" containers and a protected "db"; kiboko pauses one at random, kills one
// with SIGTERM, survives a SIGKILLed run through its journal, and cleans up after itself.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine } from '../dist/lib/engine/index.js';
import { ensureBusyboxImage } from '../dist/lib/images/index.js';

const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const stateDir = mkdtempSync(join(tmpdir(), 'kiboko-demo-state-'));
const engine = await connectEngine();
const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const LABEL = 'kiboko.role=demo';

async function cleanup() {
  for (const c of await engine.list({ all: true, labels: [LABEL] })) {
    if (c.status === 'paused') await engine.unpause(c.id).catch(() => {});
    await engine.remove(c.id, { force: true, volumes: true }).catch(() => {});
  }
  rmSync(stateDir, { recursive: true, force: true });
}

async function table(title) {
  const rows = (await engine.list({ all: true, labels: [LABEL] })).sort((a, b) => a.name.localeCompare(b.name));
  console.log(`\n  ${title}`);
  for (const c of rows) {
    const d = await engine.inspect(c.id);
    const extra = d.status === 'exited' ? ` (exit ${d.exitCode})` : '';
    const skip = c.labels['kiboko.skip'] === 'true' ? '  [kiboko.skip=true]' : '';
    console.log(`    ${c.name.padEnd(18)} ${(d.status + extra).padEnd(16)}${skip}`);
  }
}

function kiboko(args, { background = false } = {}) {
  console.log(`\n${bold(`$ kiboko ${args.map((a) => (/[\s^$*()|]/.test(a) ? `'${a}'` : a)).join(' ')}`)}`);
  if (background) return;
  const r = spawnSync(process.execPath, [CLI, ...args], { stdio: 'inherit', env: { ...process.env, KIBOKO_STATE_DIR: stateDir } });
  return r.status;
}

process.on('SIGINT', async () => {
  await cleanup();
  process.exit(130);
});

try {
  console.log(bold('kiboko demo — chaos experiments on the local Docker engine'));
  const image = await ensureBusyboxImage(engine, undefined, () => process.stdout.write('.'));
  await cleanup();
  const trap = ['sh', '-c', 'trap "echo bye; exit 42" TERM; while true; do sleep 0.1; done'];
  for (const name of ['kiboko-demo-web-1', 'kiboko-demo-web-2', 'kiboko-demo-web-3']) {
    const c = await engine.create({ image, name, cmd: trap, labels: { 'kiboko.role': 'demo', 'kiboko.managed': 'true', tier: 'web' } });
    await engine.start(c.id);
  }
  const db = await engine.create({ image, name: 'kiboko-demo-db', cmd: ['sleep', '3600'], labels: { 'kiboko.role': 'demo', 'kiboko.managed': 'true', 'kiboko.skip': 'true' } });
  await engine.start(db.id);
  await table('demo containers (built locally from busybox, no registry needed):');

  kiboko(['chaos', '--dry-run', 'kill', 're2:^kiboko-demo-']);
  console.log('  → a dry run changes nothing; the db is protected by its kiboko.skip label');

  kiboko(['chaos', 'pause', '--duration', '3s', '--random', '--seed', '42', '--label', 'tier=web', 're2:^kiboko-demo-']);
  await table('after the pause (restored automatically when the duration ended):');

  kiboko(['chaos', 'kill', '--signal', 'SIGTERM', 'kiboko-demo-web-2']);
  await engine.wait('kiboko-demo-web-2', AbortSignal.timeout(5000)).catch(() => {});
  await table('web-2 trapped SIGTERM and exited with its own code:');

  console.log(`\n${bold('crash safety:')} a pause whose kiboko process is SIGKILLed mid-way…`);
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [CLI, 'chaos', '--json', 'pause', '--duration', '1h', 'kiboko-demo-web-3'], {
    env: { ...process.env, KIBOKO_STATE_DIR: stateDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve) => child.stdout.on('data', (b) => String(b).includes('fault-held') && resolve()));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('close', resolve));
  await table('kiboko was SIGKILLed; web-3 is left paused, but the change is in the journal:');
  kiboko(['chaos', 'recover']);
  await table('after `kiboko chaos recover`:');
  console.log(`\n${bold('done.')} Try \`node dist/cli.js chaos --help\`; the full suite runs with \`npm test\`.`);
} finally {
  await cleanup();
  console.log('  (demo containers removed)');
}
