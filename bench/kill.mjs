// Benchmark: kill 40 running containers matched by name, four ways, in one run on one machine.
//
//   kiboko-cli  `node dist/kiboko.cjs chaos kill --json 're2:^kbench-…-'` (whole process)
//   kiboko-lib  in-process: connectEngine() + chaos.runExperiment() with a Journal on a temp dir
//   raw-api     dockerode: listContainers(name filter) + Promise.all(kill) (parallel, no limit)
//   docker-cli  `docker ps -q --filter name=^…` then `docker kill id…` (execFile, argv arrays)
//
// For each method and repeat: 40 fresh `sleep 3600` containers are created (bounded parallelism)
// and started, the bench waits until all are running, times only the kill step, checks that all
// 40 are exited (fails loudly otherwise) and removes them. Every container carries the label
// kiboko.bench=<runid> and is removed by that label in a finally block and on SIGINT/SIGTERM.
//
// Env: BENCH_REPEAT (default 3), BENCH_CONTAINERS (default 40), BENCH_CREATE_PARALLEL (default 8).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ensureBuilt, fmtMs, fmtRatio, killLiveChildren, machine, median, printTable, timeProcess, writeResult, newRunId, SOCKET, positiveInt, mapLimit } from './common.mjs';

const REPEAT = positiveInt('BENCH_REPEAT', 3);
const COUNT = positiveInt('BENCH_CONTAINERS', 40);
const CREATE_PARALLEL = positiveInt('BENCH_CREATE_PARALLEL', 8);
const IMAGE = 'kiboko/busybox:local';
const GOAL_RATIO = 1.15;
/** Lets the engine go idle after the last start before the timed step (not timed). */
const SETTLE_MS = 300;

const RUN_ID = newRunId();
const BENCH_LABEL = 'kiboko.bench';


await ensureBuilt();
const { default: Docker } = await import('dockerode');
const { connectEngine } = await import('../dist/lib/engine/index.js');
const { chaos, targets, journal } = await import('../dist/lib/index.js');
const { ensureBusyboxImage } = await import('../dist/lib/images/index.js');

/** The client used for setup, verification and cleanup (never for a timed step). */
const admin = new Docker({ socketPath: SOCKET });
const stateDir = mkdtempSync(join(tmpdir(), 'kbench-state-'));

// ---------------------------------------------------------------------------------------------
// cleanup, also on Ctrl-C / SIGTERM

let aborting = false;
let cleaning;

async function removeAllOurs() {
  // Several passes: a create that was in flight when we were interrupted may land after a pass.
  for (let pass = 0; pass < 5; pass++) {
    const left = await admin.listContainers({ all: true, filters: JSON.stringify({ label: [`${BENCH_LABEL}=${RUN_ID}`] }) });
    if (left.length === 0 && pass > 0) return 0;
    await mapLimit(left, CREATE_PARALLEL, (c) =>
      admin
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch((err) => {
          if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
        }),
    );
    await new Promise((r) => setTimeout(r, 200));
  }
  const left = await admin.listContainers({ all: true, filters: JSON.stringify({ label: [`${BENCH_LABEL}=${RUN_ID}`] }) });
  return left.length;
}

function cleanup() {
  cleaning ??= (async () => {
    try {
      const left = await removeAllOurs();
      if (left) console.error(`kill bench: ${left} container(s) labelled ${BENCH_LABEL}=${RUN_ID} could not be removed; remove them with: docker rm -f $(docker ps -aq --filter label=${BENCH_LABEL}=${RUN_ID})`);
    } catch (err) {
      console.error(`kill bench: cleanup failed: ${err.message}; remove leftovers with: docker rm -f $(docker ps -aq --filter label=${BENCH_LABEL}=${RUN_ID})`);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  })();
  return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (aborting) {
      console.error(`kill bench: ${sig} again: exiting without finishing cleanup (label ${BENCH_LABEL}=${RUN_ID})`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    aborting = true;
    console.error(`kill bench: ${sig}: removing the bench containers…`);
    killLiveChildren();
    cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

// ---------------------------------------------------------------------------------------------
// setup and verification (not timed)


function checkAborted() {
  if (aborting) throw new Error('interrupted');
}

/** Creates and starts COUNT containers named `<prefix><i>`; resolves when all are running. */
async function createBatch(prefix) {
  const ids = await mapLimit(
    Array.from({ length: COUNT }, (_, i) => i),
    CREATE_PARALLEL,
    async (i) => {
      checkAborted();
      const c = await admin.createContainer({
        Image: IMAGE,
        name: `${prefix}${String(i).padStart(2, '0')}`,
        Cmd: ['sleep', '3600'],
        Labels: { [BENCH_LABEL]: RUN_ID, 'kiboko.managed': 'true' },
      });
      checkAborted();
      await c.start();
      return c.id;
    },
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    checkAborted();
    const states = await inspectAll(ids);
    const notRunning = states.filter((s) => s.status !== 'running');
    if (notRunning.length === 0) break;
    if (Date.now() > deadline) throw new Error(`${notRunning.length} of ${COUNT} containers never reached running: ${notRunning.map((s) => `${s.name}=${s.status}`).join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  return ids;
}

async function inspectAll(ids) {
  return mapLimit(ids, 16, async (id) => {
    const c = await admin.getContainer(id).inspect();
    return { id, name: c.Name.replace(/^\//, ''), status: c.State.Status, exitCode: c.State.ExitCode };
  });
}

/**
 * Checks that every container of the batch is exited. Returns how many were already exited when
 * the timed step returned; waits up to 10 s for stragglers and throws if any remain.
 */
async function verifyExited(method, ids) {
  const first = await inspectAll(ids);
  const atOnce = first.filter((s) => s.status === 'exited').length;
  let states = first;
  const deadline = Date.now() + 10_000;
  while (states.some((s) => s.status !== 'exited') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    states = await inspectAll(ids);
  }
  const bad = states.filter((s) => s.status !== 'exited');
  if (bad.length) {
    throw new Error(`${method}: ${bad.length} of ${ids.length} containers are not exited after the kill: ${bad.map((s) => `${s.name}=${s.status}`).join(', ')}`);
  }
  return atOnce;
}

async function removeBatch(ids) {
  await mapLimit(ids, CREATE_PARALLEL, (id) => admin.getContainer(id).remove({ force: true, v: true }));
}

// ---------------------------------------------------------------------------------------------
// the four methods; each resolves with { ms, killed } where killed is what the method reports

const METHODS = {
  async 'kiboko-cli'(prefix) {
    const args = [CLI, 'chaos', 'kill', '--json', `re2:^${prefix}`];
    const env = { ...process.env, KIBOKO_STATE_DIR: stateDir };
    const wall0 = Date.now();
    const { ms, stdout } = await timeProcess(process.execPath, args, { env });
    const events = stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const finished = events.find((e) => e.event === 'run-finished');
    if (!finished) throw new Error(`kiboko-cli: no run-finished event in its output:\n${stdout}`);
    if (finished.failed) throw new Error(`kiboko-cli: ${finished.failed} kill(s) failed:\n${stdout}`);
    const selected = events.find((e) => e.event === 'targets-selected');
    // Event times are wall-clock ms from the child, so these phases are good to about ±1 ms.
    const tSelected = selected ? Date.parse(selected.at) - wall0 : NaN;
    const tFinished = Date.parse(finished.at) - wall0;
    return { ms, killed: finished.ok, phases: { setup: tSelected, kill: tFinished - tSelected, exit: ms - tFinished } };
  },

  async 'kiboko-lib'(prefix) {
    let tSelected = NaN;
    let tFinished = NaN;
    const t0 = performance.now();
    const engine = await connectEngine({ host: `unix://${SOCKET}` });
    try {
      const report = await chaos.runExperiment(
        { action: { kind: 'kill', signal: 'SIGKILL' }, targets: targets.parseTargetArgs([`re2:^${prefix}`]) },
        {
          engine,
          journal: new journal.Journal(stateDir),
          onEvent: (e) => {
            if (e.type === 'targets-selected') tSelected = performance.now() - t0;
            if (e.type === 'run-finished') tFinished = performance.now() - t0;
          },
        },
      );
      const ms = performance.now() - t0;
      if (report.totals.failed) throw new Error(`kiboko-lib: ${report.totals.failed} kill(s) failed: ${JSON.stringify(report.cycles.at(-1)?.actions.filter((a) => a.outcome === 'failed'))}`);
      return { ms, killed: report.totals.ok, phases: { setup: tSelected, kill: tFinished - tSelected, exit: ms - tFinished } };
    } finally {
      engine.close();
    }
  },

  async 'raw-api'(prefix) {
    const t0 = performance.now();
    const docker = new Docker({ socketPath: SOCKET });
    const list = await docker.listContainers({ filters: JSON.stringify({ name: [`^${prefix}`] }) });
    const tListed = performance.now() - t0;
    await Promise.all(list.map((c) => docker.getContainer(c.Id).kill({ signal: 'SIGKILL' })));
    const ms = performance.now() - t0;
    return { ms, killed: list.length, phases: { setup: tListed, kill: ms - tListed, exit: 0 } };
  },

  async 'docker-cli'(prefix) {
    const ps = await timeProcess('docker', ['ps', '-q', '--filter', `name=^${prefix}`]);
    const ids = ps.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
    if (ids.length === 0) return { ms: ps.ms, killed: 0, phases: { setup: ps.ms, kill: 0, exit: 0 } };
    const kill = await timeProcess('docker', ['kill', ...ids]);
    // `docker kill`'s own process start and exit are inside its kill phase here.
    return { ms: ps.ms + kill.ms, killed: kill.stdout.split('\n').filter(Boolean).length, phases: { setup: ps.ms, kill: kill.ms, exit: 0 } };
  },
};
const ORDER = ['kiboko-cli', 'kiboko-lib', 'raw-api', 'docker-cli'];

// ---------------------------------------------------------------------------------------------

async function main() {
  // Image (built from the host's static busybox if missing) and engine details.
  const setupEngine = await connectEngine({ host: `unix://${SOCKET}` });
  const engineInfo = await setupEngine.info();
  await ensureBusyboxImage(setupEngine);
  setupEngine.close();

  // Warm-up, untimed: page cache for the CLI bundle and the docker binary, modules already loaded.
  await timeProcess(process.execPath, [CLI, '--version']);
  await timeProcess('docker', ['version', '--format', '{{.Server.Version}}']);
  const nodeFloor = [];
  for (let i = 0; i < 5; i++) nodeFloor.push((await timeProcess(process.execPath, ['-e', '0'])).ms);

  console.log(
    `kill bench: ${COUNT} containers × ${ORDER.length} methods × ${REPEAT} repeat(s); run id ${RUN_ID}; ` +
      `engine ${engineInfo.serverVersion} (API ${engineInfo.negotiatedApiVersion}); node ${process.version}; ${machine().cpus} CPU(s)`,
  );

  const samples = Object.fromEntries(ORDER.map((m) => [m, []]));
  let batch = 0;
  for (let rep = 0; rep < REPEAT; rep++) {
    const order = rep % 2 === 0 ? ORDER : [...ORDER].reverse();
    for (const method of order) {
      checkAborted();
      const prefix = `kbench-${RUN_ID}-${String(batch++).padStart(2, '0')}-`;
      const ids = await createBatch(prefix);
      checkAborted();
      const { ms, killed, phases } = await METHODS[method](prefix);
      checkAborted();
      if (killed !== COUNT) throw new Error(`${method}: killed ${killed} containers, expected ${COUNT} (prefix ${prefix})`);
      const exitedAtOnce = await verifyExited(method, ids);
      await removeBatch(ids);
      samples[method].push({ ms, exitedAtOnce, phases });
      console.log(`  rep ${rep + 1}/${REPEAT}  ${method.padEnd(10)}  ${fmtMs(ms).padStart(8)} ms${exitedAtOnce < COUNT ? `  (${COUNT - exitedAtOnce} still exiting when it returned)` : ''}`);
    }
  }

  const stats = Object.fromEntries(
    ORDER.map((m) => {
      const ms = samples[m].map((s) => s.ms);
      const phase = (k) => median(samples[m].map((s) => s.phases[k]));
      return [m, { median: median(ms), min: Math.min(...ms), max: Math.max(...ms), samples: ms, phasesMedian: { setup: phase('setup'), kill: phase('kill'), exit: phase('exit') } }];
    }),
  );
  const raw = stats['raw-api'].median;
  const ratio = (m) => stats[m].median / raw;

  console.log('');
  console.log(`kill ${COUNT} running containers (SIGKILL), median of ${REPEAT}, times in ms`);
  printTable(
    [
      ['method', 'median', 'min', 'max', 'vs raw'],
      ...['raw-api', 'kiboko-lib', 'kiboko-cli', 'docker-cli'].map((m) => [m, fmtMs(stats[m].median), fmtMs(stats[m].min), fmtMs(stats[m].max), fmtRatio(ratio(m))]),
    ],
    [1, 2, 3, 4],
  );
  console.log('');
  console.log('where the time goes (median ms): setup = start → kill requests can go out (process start, module load,');
  console.log('engine handshake, listing); kill = kill requests until all answered; exit = after that until the process ended');
  printTable(
    [
      ['method', 'setup', 'kill', 'exit'],
      ...['raw-api', 'kiboko-lib', 'kiboko-cli', 'docker-cli'].map((m) => {
        const p = stats[m].phasesMedian;
        return [m, fmtMs(p.setup), fmtMs(p.kill), fmtMs(p.exit)];
      }),
    ],
    [1, 2, 3],
  );
  console.log(`(context: \`node -e 0\` takes ${fmtMs(median(nodeFloor))} ms here, the floor of any CLI process)`);
  console.log('');
  console.log(`ratios: kiboko-cli/raw = ${fmtRatio(ratio('kiboko-cli'))}, kiboko-lib/raw = ${fmtRatio(ratio('kiboko-lib'))}, docker-cli/raw = ${fmtRatio(ratio('docker-cli'))}`);
  console.log(`goal: kiboko within ${GOAL_RATIO}x of raw API`);
  const goal = {};
  for (const m of ['kiboko-cli', 'kiboko-lib']) {
    const r = ratio(m);
    const pass = r <= GOAL_RATIO;
    goal[m] = { ratio: r, pass, overByMs: pass ? 0 : stats[m].median - raw * GOAL_RATIO };
    console.log(
      `  ${m}: ${fmtRatio(r)} ${pass ? 'PASS' : `MISS (by ${(r - GOAL_RATIO).toFixed(2)}x, ${fmtMs(goal[m].overByMs)} ms over the ${fmtMs(raw * GOAL_RATIO)} ms budget)`}`,
    );
  }

  const path = writeResult('kill', {
    bench: 'kill',
    runId: RUN_ID,
    date: new Date().toISOString(),
    machine: machine(),
    engine: engineInfo,
    config: { containers: COUNT, repeat: REPEAT, createParallel: CREATE_PARALLEL, image: IMAGE, settleMs: SETTLE_MS, order: 'alternating (forward, reverse, …)' },
    commands: {
      'kiboko-cli': `node dist/kiboko.cjs chaos kill --json 're2:^kbench-${RUN_ID}-NN-'`,
      'kiboko-lib': 'connectEngine() + chaos.runExperiment({ action: kill SIGKILL, targets: parseTargetArgs([re2:…]) }, { engine, journal })',
      'raw-api': 'dockerode listContainers({ filters: { name: [^prefix] } }) + Promise.all(kill)',
      'docker-cli': 'docker ps -q --filter name=^prefix; docker kill id…',
    },
    nodeFloorMs: median(nodeFloor),
    samples,
    stats,
    ratios: { 'kiboko-cli/raw': ratio('kiboko-cli'), 'kiboko-lib/raw': ratio('kiboko-lib'), 'docker-cli/raw': ratio('docker-cli') },
    goal: { description: `kiboko within ${GOAL_RATIO}x of raw API`, ...goal },
  });
  console.log(`results: ${path}`);
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  if (!aborting) console.error(`kill bench FAILED: ${err.stack ?? err}`);
} finally {
  if (!aborting) await cleanup();
}
if (aborting) await new Promise(() => {}); // the signal handler exits once cleanup is done
process.exitCode = failed ? 1 : 0;
