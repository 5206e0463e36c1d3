// Benchmark: kiboko's declarative deploys, in one run on one machine.
//
//   1. no-op plan over 100 services
//      A compose file with 100 services (kiboko/busybox:local, `sleep 3600`, stop_grace_period 1s,
//      one replica, a label) is deployed once with `node dist/kiboko.cjs deploy apply -f FILE`; then
//      `node dist/kiboko.cjs deploy plan -f FILE` (must exit 0 = no change) is timed against
//      `docker-compose -f FILE -p PROJECT up -d` doing nothing. Compose does not recognise
//      kiboko's containers, so it gets its own identical copy of the 100 services under its own
//      project name, brought up first (untimed); its timed `up -d` is a no-op on its own stack.
//   2. apply 20 new services
//      `node dist/kiboko.cjs deploy apply --json -f FILE` of a fresh 20-service project against raw
//      parallel create+start through the Engine API (dockerode, Promise.all) of 20 containers
//      with the same image, command, labels and network alias, on a network created for them
//      (the network create is timed on both sides: kiboko creates its project network too).
//
// kiboko waits update_config.monitor (default 5s, Swarm's rule) before it calls a replica without
// healthcheck ready. The generated files set `deploy.update_config.monitor: 0s` so both sides
// measure create+start (and the 100-service setup deploy does not take 100 × 5 s).
//
// Everything created carries the label kiboko.bench=<runid> and every project name starts with
// kbd<runid>. Cleanup (finally, and on SIGINT/SIGTERM): `docker-compose down` for the compose
// projects, then every container with the label, then every network named kbd<runid>…, then the
// temp folder (compose files and KIBOKO_STATE_DIR).
//
// Needs `docker-compose` (v1, Debian's package): when it is not on PATH the bench installs it with
// `apt-get install -y docker-compose` (as root, or through `sudo -n`), and says so.
//
// For context the bench also times the raw calls one container after another (kiboko applies
// services one at a time) and splits kiboko's time into phases; the goals use the runs above.
//
// Env: BENCH_REPEAT (default 5).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ensureBuilt, fmtMs, fmtRatio, killLiveChildren, liveChildren, machine, median, printTable, ROOT, timeProcess, writeResult, newRunId, SOCKET, positiveInt, mapLimit, settle } from './common.mjs';

const REPEAT = positiveInt('BENCH_REPEAT', 5);
const NOOP_SERVICES = 100;
const NEW_SERVICES = 20;
const IMAGE = 'kiboko/busybox:local';
const GOAL_PLAN_MS = 500;
const GOAL_PLAN_VS_COMPOSE = 10;
const GOAL_APPLY_RATIO = 1.3;
// Issue 17 (fast start): a no-op plan over 100 services ≤ 250 ms, ≥ 9× faster than docker-compose's.
const GOAL_FAST_PLAN_MS = 250;
const GOAL_FAST_PLAN_VS_COMPOSE = 9;

const RUN_ID = newRunId();
const PREFIX = `kbd${RUN_ID}`;
const BENCH_LABEL = 'kiboko.bench';
const SERVICE_LABEL = 'kiboko.bench.service';


await ensureBuilt();
const { default: Docker } = await import('dockerode');
const { stringify: toYaml } = await import('yaml');
const { connectEngine } = await import('../dist/lib/engine/index.js');
const { ensureBusyboxImage } = await import('../dist/lib/images/index.js');
const deployLib = await import('../dist/lib/deploy/index.js');

/** The client used for setup, verification and cleanup (never for a timed step). */
const admin = new Docker({ socketPath: SOCKET });
const WORK = mkdtempSync(join(tmpdir(), 'kbench-deploy-'));
const STATE_DIR = join(WORK, 'state');
mkdirSync(STATE_DIR);
// The bench's own code cache folder (src/cli/code-cache.ts): the untimed first plan writes it, as a user's first run does.
const KIBOKO_ENV = { ...process.env, KIBOKO_STATE_DIR: STATE_DIR, KIBOKO_CACHE_DIR: join(WORK, 'code-cache') };
// NODE_EXTRA_CA_CERTS, when the environment sets it, costs every Node 20 process ~40 ms before any
// JavaScript runs (Node builds its whole root certificate store at start), a cost docker-compose
// (Python) does not have: the plan is then also timed without it, in the same reps, and both reported.
const EXTRA_CA = Boolean(process.env.NODE_EXTRA_CA_CERTS);
const KIBOKO_ENV_NO_CA = Object.fromEntries(Object.entries(KIBOKO_ENV).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'));
/**
 * docker-compose v1 deadlocks bringing up more services than about half its COMPOSE_PARALLEL_LIMIT
 * (default 64): each service's task holds a slot of the global limit while it waits for a nested
 * task that needs another (docker/compose#7486, #8161). Setup and teardown raise the limit; the
 * timed no-op `up -d` runs without it (see COMPOSE_TIMED_ENV below).
 */
const COMPOSE_SETUP_ENV = { ...process.env, COMPOSE_PARALLEL_LIMIT: String(Math.max(64, 4 * NOOP_SERVICES)), COMPOSE_HTTP_TIMEOUT: '600' };
/**
 * On a loaded machine v1's default 60 s read timeout ends a 100-service bring-up half done
 * ("Read timed out"): setup brings the services up in batches of COMPOSE_SETUP_BATCH with a long
 * timeout. The timed no-op `up -d` gets the same long read timeout (it only waits longer; it
 * changes nothing in what compose does).
 */
const COMPOSE_SETUP_BATCH = 20;
const COMPOSE_TIMED_ENV = { ...process.env, COMPOSE_HTTP_TIMEOUT: '600' };
/** Compose projects this run started (or tried to): each gets `docker-compose down` in cleanup. */
const composeProjects = [];

// ---------------------------------------------------------------------------------------------
// cleanup, also on Ctrl-C / SIGTERM

let aborting = false;
let cleaning;

const byLabel = (label) => ({ all: true, filters: JSON.stringify({ label: [label] }) });

async function removeContainers(label) {
  const list = await admin.listContainers(byLabel(label));
  await mapLimit(list, 8, (c) =>
    admin
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .catch((err) => {
        if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
      }),
  );
  return list.length;
}

/**
 * Removes a network, retrying for a few seconds while the engine still counts endpoints of
 * containers just removed. Resolves false when it is still there (Docker 20.10 can keep a stale
 * endpoint count for good, moby/moby#42119: only a daemon restart clears it).
 */
async function removeNetwork(idOrName) {
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.getNetwork(idOrName).remove();
      return true;
    } catch (err) {
      if (err.statusCode === 404) return true;
      if (!/active endpoints/.test(err.message) || attempt >= 15) {
        console.error(`deploy bench: cannot remove network ${idOrName}: ${firstLine(err.message)}`);
        return false;
      }
      await sleep(200);
    }
  }
}

async function removeNetworks(namePrefix) {
  const nets = (await admin.listNetworks()).filter((n) => n.Name.startsWith(namePrefix));
  for (const n of nets) await removeNetwork(n.Id);
}

/** Waits for our child processes (kiboko, docker-compose) to end, then SIGKILLs what is left. */
async function settleChildren(ms) {
  const deadline = Date.now() + ms;
  while (liveChildren.size && Date.now() < deadline) await sleep(100);
  for (const c of liveChildren) c.kill('SIGKILL');
}

async function composeDown({ file, project }) {
  try {
    await timed('docker-compose', ['-f', file, '-p', project, 'down', '-t', '1', '--remove-orphans'], { timeout: 600_000, env: COMPOSE_SETUP_ENV });
  } catch (err) {
    const last = String(err.message).trim().split('\n').at(-1);
    console.error(`deploy bench: docker-compose down of ${project} failed (${last}); the label and network sweeps that follow remove what is left`);
  }
}

function cleanup() {
  cleaning ??= (async () => {
    const manual = `remove leftovers with: docker rm -f $(docker ps -aq --filter label=${BENCH_LABEL}=${RUN_ID}); docker network rm $(docker network ls -q --filter name=${PREFIX})`;
    try {
      await settleChildren(5_000);
      for (const p of composeProjects.splice(0)) await composeDown(p);
      // Several passes: a create that was in flight when we were interrupted may land after a pass.
      for (let pass = 0; pass < 5; pass++) {
        const n = await removeContainers(`${BENCH_LABEL}=${RUN_ID}`);
        if (n === 0 && pass > 0) break;
        await sleep(200);
      }
      await removeNetworks(PREFIX);
      const left = await admin.listContainers(byLabel(`${BENCH_LABEL}=${RUN_ID}`));
      const nets = (await admin.listNetworks()).filter((n) => n.Name.startsWith(PREFIX));
      if (left.length || nets.length) {
        console.error(`deploy bench: ${left.length} container(s) and ${nets.length} network(s) could not be removed; ${manual}`);
        if (nets.length && !left.length) {
          console.error(`deploy bench: a network that says "has active endpoints" with no container attached is Docker 20.10's stale endpoint count (moby/moby#42119); a dockerd restart clears it: ${nets.map((n) => n.Name).join(' ')}`);
        }
      }
    } catch (err) {
      console.error(`deploy bench: cleanup failed: ${err.message}; ${manual}`);
    } finally {
      rmSync(WORK, { recursive: true, force: true });
    }
  })();
  return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (aborting) {
      console.error(`deploy bench: ${sig} again: exiting without finishing cleanup (label ${BENCH_LABEL}=${RUN_ID}, networks ${PREFIX}…)`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    aborting = true;
    console.error(`deploy bench: ${sig}: removing the bench containers, compose projects and networks…`);
    killLiveChildren();
    cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

// ---------------------------------------------------------------------------------------------
// helpers (not timed)

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const firstLine = (s) => String(s).split('\n')[0];

function checkAborted() {
  if (aborting) throw new Error('interrupted');
}


/** timeProcess with a short error: exit code or signal, and the last lines of output (compose's warnings left out). */
async function timed(file, args, options = {}) {
  try {
    return await timeProcess(file, args, options);
  } catch (err) {
    const how = err.killed ? `killed after the ${Math.round((options.timeout ?? 0) / 1000)} s time limit` : err.signal ? `killed by ${err.signal}` : `exit ${err.code}`;
    const tail = `${err.stdout ?? ''}\n${err.stderr ?? ''}`
      .split('\n')
      .filter((l) => l.trim() && !/deploy sub-keys are not supported/.test(l))
      .slice(-12)
      .join('\n');
    const e = new Error(`${[file, ...args].join(' ')}: ${how}${tail ? `\n${tail}` : ''}`);
    e.code = err.code;
    e.stdout = err.stdout;
    throw e;
  }
}

/** Runs a program for setup (not timed), resolving with { code, stdout, stderr }; never throws on exit codes. */
function runQuiet(file, args, options = {}) {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, ...options }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : err.code === 'ENOENT' ? 'ENOENT' : 1) : 0, stdout, stderr, err });
    });
  });
}

const serviceName = (i, n) => `s${String(i).padStart(String(n - 1).length, '0')}`;

/** Writes `<WORK>/<project>/compose.yaml` with n services; the folder name is kiboko's project name. */
function writeComposeFile(project, n) {
  const dir = join(WORK, project);
  mkdirSync(dir, { recursive: true });
  const services = {};
  for (let i = 0; i < n; i++) {
    const name = serviceName(i, n);
    services[name] = {
      image: IMAGE,
      command: ['sleep', '3600'],
      stop_grace_period: '1s',
      labels: { [BENCH_LABEL]: RUN_ID, [SERVICE_LABEL]: name },
      deploy: { replicas: 1, update_config: { monitor: '0s' } },
    };
  }
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, `# generated by bench/deploy.mjs (run ${RUN_ID})\n${toYaml({ services })}`);
  return file;
}

/** Containers of a label, as { id, name, state, service }. */
async function containersOf(label) {
  const list = await admin.listContainers(byLabel(label));
  return list.map((c) => ({ id: c.Id, name: c.Names[0]?.replace(/^\//, ''), state: c.State, service: c.Labels[SERVICE_LABEL] }));
}

/** Throws unless exactly one running container per service of the n carries the label. */
async function verifyRunning(what, label, n) {
  const cs = await containersOf(label);
  const running = cs.filter((c) => c.state === 'running');
  const services = new Set(running.map((c) => c.service));
  if (cs.length !== n || running.length !== n || services.size !== n) {
    const bad = cs.filter((c) => c.state !== 'running').map((c) => `${c.name}=${c.state}`);
    const missing = Array.from({ length: n }, (_, i) => serviceName(i, n)).filter((s) => !services.has(s));
    if (missing.length) bad.push(`no running container for ${missing.slice(0, 20).join(' ')}`);
    throw new Error(`${what}: expected ${n} running containers (one per service) labelled ${label}, found ${cs.length} (${running.length} running, ${services.size} services)${bad.length ? `: ${bad.slice(0, 10).join(', ')}` : ''}`);
  }
  return cs;
}

/** Removes one part-2 project: its containers (by its label) and its network. */
async function removeProject(label, network) {
  await removeContainers(label);
  await removeNetwork(network);
}

/** Finds docker-compose, installing Debian's package when it is missing. */
async function ensureCompose() {
  const probe = () => runQuiet('docker-compose', ['version', '--short']);
  let v = await probe();
  if (v.code === 0) return { version: v.stdout.trim(), installedNow: false };
  if (v.code !== 'ENOENT') throw new Error(`docker-compose is on PATH but \`docker-compose version\` failed: ${v.stderr || v.err?.message}`);
  const asRoot = process.getuid?.() === 0;
  const apt = (args) => (asRoot ? runQuiet('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 300_000 }) : runQuiet('sudo', ['-n', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args], { timeout: 300_000 }));
  console.log(`docker-compose is not installed: installing Debian's docker-compose (v1) with \`${asRoot ? '' : 'sudo '}apt-get install -y docker-compose\` (one-time)…`);
  let r = await apt(['install', '-y', '--no-install-recommends', 'docker-compose']);
  if (r.code !== 0 && r.code !== 'ENOENT') {
    console.log('apt-get install failed; running `apt-get update` and trying once more…');
    await apt(['update']);
    r = await apt(['install', '-y', '--no-install-recommends', 'docker-compose']);
  }
  if (r.code !== 0) {
    throw new Error(
      `could not install docker-compose (${r.code === 'ENOENT' ? `${asRoot ? 'apt-get' : 'sudo'} not found` : (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}); ` +
        'install docker-compose (Debian/Ubuntu: sudo apt-get install -y docker-compose) and run the bench again',
    );
  }
  v = await probe();
  if (v.code !== 0) throw new Error(`docker-compose was installed but \`docker-compose version\` fails: ${v.stderr || v.err?.message}`);
  return { version: v.stdout.trim(), installedNow: true };
}

function stat(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), samples: values };
}

// ---------------------------------------------------------------------------------------------
// part 1: no-op plan over 100 services vs docker-compose up -d doing nothing

async function partNoop() {
  const project = `${PREFIX}noop`;
  const composeProject = `${PREFIX}compose`;
  const file = writeComposeFile(project, NOOP_SERVICES);
  const kibokoLabel = `kiboko.deploy.project=${project}`;
  const composeLabel = `com.docker.compose.project=${composeProject}`;

  console.log(`\n[1] no-op plan over ${NOOP_SERVICES} services`);
  // setup, untimed for the goals (reported for context)
  const kSetup = await timed(process.execPath, [CLI, 'deploy', 'apply', '-f', file], { env: KIBOKO_ENV, timeout: 300_000 });
  checkAborted();
  const kIds = (await verifyRunning('kiboko setup deploy', kibokoLabel, NOOP_SERVICES)).map((c) => c.id).sort();
  console.log(`  setup: kiboko deploy apply of ${NOOP_SERVICES} services (project ${project}) took ${(kSetup.ms / 1000).toFixed(1)} s`);

  composeProjects.push({ file, project: composeProject });
  const all = Array.from({ length: NOOP_SERVICES }, (_, i) => serviceName(i, NOOP_SERVICES));
  const cSetup = { ms: 0 };
  for (let i = 0; i < all.length; i += COMPOSE_SETUP_BATCH) {
    const batch = all.slice(i, i + COMPOSE_SETUP_BATCH);
    cSetup.ms += (await timed('docker-compose', ['-f', file, '-p', composeProject, 'up', '-d', ...batch], { timeout: 600_000, env: COMPOSE_SETUP_ENV })).ms;
    checkAborted();
  }
  const cIds = (await verifyRunning('docker-compose setup up', composeLabel, NOOP_SERVICES)).map((c) => c.id).sort();
  console.log(
    `  setup: docker-compose up -d of the same ${NOOP_SERVICES} services (project ${composeProject}) took ${(cSetup.ms / 1000).toFixed(1)} s ` +
      `(in batches of ${COMPOSE_SETUP_BATCH}, COMPOSE_PARALLEL_LIMIT=${COMPOSE_SETUP_ENV.COMPOSE_PARALLEL_LIMIT} for setup only: v1 deadlocks on ${NOOP_SERVICES} new services at its default 64)`,
  );

  const plan = async (env = KIBOKO_ENV) => {
    try {
      const r = await timed(process.execPath, [CLI, 'deploy', 'plan', '-f', file], { env, timeout: 60_000 });
      if (!/: no change$/m.test(r.stdout.split('\n')[0] ?? '')) throw new Error(`kiboko deploy plan exited 0 but did not say "no change":\n${r.stdout}`);
      return r.ms;
    } catch (err) {
      if (err.code === 10) throw new Error(`kiboko deploy plan exited 10 (changes planned) on a stack it just deployed — a no-op was expected:\n${err.stdout}`);
      throw err;
    }
  };
  const composeUp = async () => {
    const r = await timed('docker-compose', ['-f', file, '-p', composeProject, 'up', '-d'], { timeout: 600_000, env: COMPOSE_TIMED_ENV });
    // v1 prints "<service> is up-to-date" per service on stderr when it does nothing
    const acted = r.stderr.split('\n').filter((l) => /^(Creating|Recreating|Starting|Stopping|Removing)\b/.test(l.trim()));
    if (acted.length) throw new Error(`docker-compose up -d was not a no-op: ${acted.slice(0, 5).join(' | ')}`);
    return r.ms;
  };

  // Let the machine settle after starting 200 containers (both sides are timed in the same quiet).
  const busy = await settle();
  console.log(`  machine ${Math.round(busy * 100)}% busy when timing starts (settled below 25%, or waited 90 s); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  // warm-up, untimed: page cache, the engine's first answers for these containers, kiboko's code cache
  await plan();
  await composeUp();

  const samples = { plan: [], compose: [], ...(EXTRA_CA ? { planNoCa: [] } : {}) };
  const measure = { plan: () => plan(), compose: composeUp, planNoCa: () => plan(KIBOKO_ENV_NO_CA) };
  for (let rep = 0; rep < REPEAT; rep++) {
    checkAborted();
    const order = rep % 2 === 0 ? Object.keys(samples) : Object.keys(samples).reverse();
    for (const m of order) samples[m].push(await measure[m]());
    const noCa = EXTRA_CA ? `   (plan without NODE_EXTRA_CA_CERTS ${fmtMs(samples.planNoCa.at(-1)).padStart(8)} ms)` : '';
    console.log(`  rep ${rep + 1}/${REPEAT}  kiboko plan ${fmtMs(samples.plan.at(-1)).padStart(8)} ms   docker-compose up -d ${fmtMs(samples.compose.at(-1)).padStart(8)} ms${noCa}`);
  }

  // both stacks must be exactly what they were: nothing recreated
  const kAfter = (await verifyRunning('kiboko stack after the timed runs', kibokoLabel, NOOP_SERVICES)).map((c) => c.id).sort();
  const cAfter = (await verifyRunning('compose stack after the timed runs', composeLabel, NOOP_SERVICES)).map((c) => c.id).sort();
  if (kAfter.join() !== kIds.join()) throw new Error('the kiboko stack changed during the no-op runs');
  if (cAfter.join() !== cIds.join()) throw new Error('docker-compose recreated containers during its no-op runs');

  // where kiboko's plan time goes (context, not the goals):
  // - the CLI up to its first deploy step: `deploy plan -f <missing file>` fails right after
  //   process start, module load and argument parsing;
  // - the plan's own steps in this process, first call (cold JIT, as in a fresh CLI) and warm.
  const missing = join(WORK, 'missing', 'compose.yaml');
  const toFirstStep = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const r = await runQuiet(process.execPath, [CLI, 'deploy', 'plan', '-f', missing], { env: KIBOKO_ENV });
    toFirstStep.push(performance.now() - t);
    if (r.code === 0 || !/does not exist/.test(r.stderr + r.stdout)) throw new Error(`deploy plan -f <missing file> should fail with "does not exist": ${r.stderr}${r.stdout}`);
  }
  const inproc = { load: [], connect: [], observePlan: [] };
  for (let i = 0; i < 4; i++) {
    let t = performance.now();
    const loaded = await deployLib.loadConfiguration([file]);
    inproc.load.push(performance.now() - t);
    t = performance.now();
    const engine = await connectEngine({ host: `unix://${SOCKET}` });
    await engine.info();
    inproc.connect.push(performance.now() - t);
    t = performance.now();
    const { config } = await deployLib.resolveConfiguration(engine, loaded);
    const p = await deployLib.planProject(engine, config);
    inproc.observePlan.push(performance.now() - t);
    engine.close();
    if (p.changes) throw new Error('in-process plan reports changes');
  }
  const coldWarm = (list) => ({ cold: list[0], warm: median(list.slice(1)) });

  // tear the two stacks down now (not timed), so part 2 runs on an idle engine
  const tDown = performance.now();
  await composeDown(composeProjects.pop());
  await removeProject(kibokoLabel, `${project}_default`);
  await removeContainers(composeLabel);
  console.log(`  teardown of both stacks took ${((performance.now() - tDown) / 1000).toFixed(1)} s`);

  return {
    project,
    composeProject,
    setupMs: { kibokoApply: kSetup.ms, composeUp: cSetup.ms },
    plan: stat(samples.plan),
    compose: stat(samples.compose),
    ...(EXTRA_CA ? { planNoCa: stat(samples.planNoCa) } : {}),
    cliToFirstStepMs: median(toFirstStep),
    inProcessMs: { loadCompose: coldWarm(inproc.load), connect: coldWarm(inproc.connect), observeAndPlan: coldWarm(inproc.observePlan) },
  };
}

// ---------------------------------------------------------------------------------------------
// part 2: apply 20 new services vs raw parallel create+start

async function kibokoApply(rep) {
  const project = `${PREFIX}k${rep}`;
  const file = writeComposeFile(project, NEW_SERVICES);
  const label = `kiboko.deploy.project=${project}`;
  const wall0 = Date.now();
  try {
    const { ms, stdout } = await timed(process.execPath, [CLI, 'deploy', 'apply', '--json', '-f', file], { env: KIBOKO_ENV, timeout: 120_000 });
    const events = stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const finished = events.find((e) => e.event === 'deploy-finished');
    if (!finished || finished.outcome !== 'ok') throw new Error(`kiboko deploy apply did not finish ok:\n${stdout}`);
    await verifyRunning(`kiboko apply (${project})`, label, NEW_SERVICES);
    // Event times are wall-clock ms from the child, so these phases are good to about ±1 ms.
    const starts = events.filter((e) => e.event === 'service-started').map((e) => Date.parse(e.at) - wall0);
    const ends = events.filter((e) => e.event === 'service-finished').map((e) => Date.parse(e.at) - wall0);
    const first = Math.min(...starts);
    const last = Math.max(...ends);
    // per service: create (service-started → replica-started, emitted after create), start
    // (→ start returned = replica-ready.at − its ms), ready check (inspect until running, monitor 0s)
    const at = (e) => Date.parse(e.at);
    const per = { create: [], start: [], ready: [] };
    for (const svc of new Set(events.filter((e) => e.event === 'service-started').map((e) => e.service))) {
      const of = (type) => events.find((e) => e.event === type && e.service === svc);
      const [s0, r0, ok] = [of('service-started'), of('replica-started'), of('replica-ready')];
      if (!s0 || !r0 || !ok) continue;
      per.create.push(at(r0) - at(s0));
      per.start.push(at(ok) - ok.ms - at(r0));
      per.ready.push(ok.ms);
    }
    const perService = Object.fromEntries(Object.entries(per).map(([k, v]) => [k, median(v)]));
    return { ms, phases: { setup: first, services: last - first, exit: ms - last }, perService };
  } finally {
    await removeProject(label, `${project}_default`);
  }
}

async function rawApply(rep, sequential = false) {
  const project = `${PREFIX}${sequential ? 'q' : 'r'}${rep}`;
  const network = `${project}_default`;
  const label = `${BENCH_LABEL}.project=${project}`;
  const names = Array.from({ length: NEW_SERVICES }, (_, i) => serviceName(i, NEW_SERVICES));
  try {
    const t0 = performance.now();
    const docker = new Docker({ socketPath: SOCKET });
    await docker.createNetwork({ Name: network, Driver: 'bridge', CheckDuplicate: true, Labels: { [BENCH_LABEL]: RUN_ID } });
    const tNet = performance.now() - t0;
    const one = async (svc) => {
      const c = await docker.createContainer({
        name: `${project}-${svc}-1`,
        Image: IMAGE,
        Cmd: ['sleep', '3600'],
        Labels: { [BENCH_LABEL]: RUN_ID, [SERVICE_LABEL]: svc, [BENCH_LABEL + '.project']: project },
        StopTimeout: 1,
        NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [svc] } } },
        HostConfig: { NetworkMode: network },
      });
      await c.start();
      return (await c.inspect()).State.Status;
    };
    const states = [];
    if (sequential) for (const n of names) states.push(await one(n));
    else states.push(...(await Promise.all(names.map(one))));
    const ms = performance.now() - t0;
    const notRunning = states.filter((s) => s !== 'running');
    if (notRunning.length) throw new Error(`raw create+start: ${notRunning.length} containers not running: ${notRunning.join(', ')}`);
    await verifyRunning(`raw create+start (${project})`, label, NEW_SERVICES);
    return { ms, phases: { setup: tNet, services: ms - tNet, exit: 0 } };
  } finally {
    await removeProject(label, network);
  }
}

async function partApply() {
  console.log(`\n[2] apply ${NEW_SERVICES} new services (update_config.monitor: 0s, so kiboko's ready = running at once)`);
  const METHODS = { kiboko: (rep) => kibokoApply(rep), raw: (rep) => rawApply(rep), rawSeq: (rep) => rawApply(rep, true) };
  const ORDER = ['kiboko', 'raw', 'rawSeq'];
  // warm-up, untimed
  await kibokoApply('w');
  await rawApply('w');
  const samples = { kiboko: [], raw: [], rawSeq: [] };
  for (let rep = 0; rep < REPEAT; rep++) {
    checkAborted();
    const order = rep % 2 === 0 ? ORDER : [...ORDER].reverse();
    for (const m of order) samples[m].push(await METHODS[m](rep));
    console.log(
      `  rep ${rep + 1}/${REPEAT}  kiboko apply ${fmtMs(samples.kiboko.at(-1).ms).padStart(8)} ms   raw parallel ${fmtMs(samples.raw.at(-1).ms).padStart(8)} ms   ` +
        `raw sequential ${fmtMs(samples.rawSeq.at(-1).ms).padStart(8)} ms`,
    );
  }
  const summarize = (list) => ({
    ...stat(list.map((s) => s.ms)),
    phasesMedian: Object.fromEntries(['setup', 'services', 'exit'].map((k) => [k, median(list.map((s) => s.phases[k]))])),
  });
  const perService = Object.fromEntries(['create', 'start', 'ready'].map((k) => [k, median(samples.kiboko.map((s) => s.perService[k]))]));
  return { kiboko: { ...summarize(samples.kiboko), perServiceMedianMs: perService }, raw: summarize(samples.raw), rawSequential: summarize(samples.rawSeq) };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const tStart = performance.now();
  const setupEngine = await connectEngine({ host: `unix://${SOCKET}` });
  const engineInfo = await setupEngine.info();
  await ensureBusyboxImage(setupEngine);
  setupEngine.close();
  const compose = await ensureCompose();

  // Warm-up and process floors, untimed for the goals.
  await timeProcess(process.execPath, [CLI, '--version']);
  const floors = { node: [], kibokoVersion: [], composeVersion: [] };
  for (let i = 0; i < 3; i++) {
    floors.node.push((await timeProcess(process.execPath, ['-e', '0'])).ms);
    floors.kibokoVersion.push((await timeProcess(process.execPath, [CLI, '--version'])).ms);
    floors.composeVersion.push((await timeProcess('docker-compose', ['version', '--short'])).ms);
  }

  console.log(
    `deploy bench: run id ${RUN_ID}; ${REPEAT} repeat(s); engine ${engineInfo.serverVersion} (API ${engineInfo.negotiatedApiVersion}); ` +
      `docker-compose ${compose.version}${compose.installedNow ? ' (installed by this run with apt-get)' : ''}; node ${process.version}; ${machine().cpus} CPU(s)`,
  );
  console.log('note: the generated compose files set deploy.update_config.monitor: 0s, so kiboko declares a replica');
  console.log('ready as soon as it runs (default monitor 5s) and both sides measure create+start');

  const noop = await partNoop();
  checkAborted();
  const apply = await partApply();

  // ---- report
  const planMs = noop.plan.median;
  const composeMs = noop.compose.median;
  const speedup = composeMs / planMs;
  const applyRatio = apply.kiboko.median / apply.raw.median;
  const floorNode = median(floors.node);
  const floorKiboko = median(floors.kibokoVersion);
  const floorCompose = median(floors.composeVersion);

  console.log('');
  console.log(`[1] no-op over ${NOOP_SERVICES} running services, median of ${REPEAT}, times in ms`);
  printTable(
    [
      ['command', 'median', 'min', 'max'],
      ['kiboko deploy plan -f FILE', fmtMs(planMs), fmtMs(noop.plan.min), fmtMs(noop.plan.max)],
      ['docker-compose -f FILE -p P up -d', fmtMs(composeMs), fmtMs(noop.compose.min), fmtMs(noop.compose.max)],
      ...(noop.planNoCa ? [['kiboko deploy plan, no NODE_EXTRA_CA_CERTS', fmtMs(noop.planNoCa.median), fmtMs(noop.planNoCa.min), fmtMs(noop.planNoCa.max)]] : []),
    ],
    [1, 2, 3],
  );
  const ip = noop.inProcessMs;
  const cw = (x) => `${fmtMs(x.cold)} cold / ${fmtMs(x.warm)} warm`;
  console.log("where kiboko's plan time goes (median ms):");
  console.log(`  process start (\`node -e 0\`) ${fmtMs(floorNode)}; CLI start + module load + argument parsing up to the first deploy step ${fmtMs(noop.cliToFirstStepMs)}`);
  console.log(`  then, measured in-process: load+validate compose ${cw(ip.loadCompose)}, connect ${cw(ip.connect)}, list containers + plan ${cw(ip.observeAndPlan)}`);
  console.log(`  (\`kiboko --version\` ${fmtMs(floorKiboko)} ms; docker-compose's own floor, \`docker-compose version\`, ${fmtMs(floorCompose)} ms)`);
  console.log('');
  console.log(`[2] ${NEW_SERVICES} new services until all are running, median of ${REPEAT}, times in ms`);
  console.log('    phases: setup = until the first container request (kiboko: process start, load, plan, revision');
  console.log('    record, network; raw: network create), services = container create/start/inspect, exit = after that');
  printTable(
    [
      ['method', 'median', 'min', 'max', 'setup', 'services', 'exit', 'vs raw'],
      ...[
        ['raw create+start, parallel', apply.raw],
        ['kiboko deploy apply', apply.kiboko],
        ['(raw create+start, sequential)', apply.rawSequential],
      ].map(([name, s]) => [name, fmtMs(s.median), fmtMs(s.min), fmtMs(s.max), fmtMs(s.phasesMedian.setup), fmtMs(s.phasesMedian.services), fmtMs(s.phasesMedian.exit), fmtRatio(s.median / apply.raw.median)]),
    ],
    [1, 2, 3, 4, 5, 6, 7],
  );
  const ps = apply.kiboko.perServiceMedianMs;
  console.log(
    `kiboko per service (median ms; independent services run concurrently): create ${fmtMs(ps.create)}, start ${fmtMs(ps.start)}, ready check ${fmtMs(ps.ready)}; ` +
      `kiboko / raw sequential = ${fmtRatio(apply.kiboko.median / apply.rawSequential.median)}`,
  );

  const goals = {
    planUnder: { description: `no-op plan ≤ ${GOAL_PLAN_MS / 1000} s`, value: planMs, pass: planMs <= GOAL_PLAN_MS },
    planVsCompose: { description: `≥ ${GOAL_PLAN_VS_COMPOSE}× faster than docker-compose up -d doing nothing`, value: speedup, pass: speedup >= GOAL_PLAN_VS_COMPOSE },
    fastStart: {
      description: `fast start: no-op plan ≤ ${GOAL_FAST_PLAN_MS} ms and ≥ ${GOAL_FAST_PLAN_VS_COMPOSE}× faster than docker-compose`,
      value: planMs,
      pass: planMs <= GOAL_FAST_PLAN_MS && speedup >= GOAL_FAST_PLAN_VS_COMPOSE,
      nodeExtraCaCerts: EXTRA_CA,
    },
    ...(noop.planNoCa
      ? {
          fastStartWithoutNodeExtraCaCerts: {
            description: `the same, kiboko timed without NODE_EXTRA_CA_CERTS`,
            value: noop.planNoCa.median,
            speedup: composeMs / noop.planNoCa.median,
            pass: noop.planNoCa.median <= GOAL_FAST_PLAN_MS && composeMs / noop.planNoCa.median >= GOAL_FAST_PLAN_VS_COMPOSE,
          },
        }
      : {}),
    applyRatio: { description: `apply of ${NEW_SERVICES} new services ≤ ${GOAL_APPLY_RATIO}× raw parallel create+start`, value: applyRatio, pass: applyRatio <= GOAL_APPLY_RATIO },
  };
  console.log('');
  console.log(`ratios: docker-compose no-op / kiboko plan = ${fmtRatio(speedup)}, kiboko apply / raw = ${fmtRatio(applyRatio)}`);
  console.log('goals:');
  const g1 = goals.planUnder;
  console.log(`  ${g1.description}: ${fmtMs(planMs)} ms ${g1.pass ? 'PASS' : `MISS (by ${fmtMs(planMs - GOAL_PLAN_MS)} ms)`}`);
  const g2 = goals.planVsCompose;
  console.log(`  ${g2.description}: ${speedup.toFixed(1)}x ${g2.pass ? 'PASS' : `MISS (by ${(GOAL_PLAN_VS_COMPOSE - speedup).toFixed(1)}x; would need plan ≤ ${fmtMs(composeMs / GOAL_PLAN_VS_COMPOSE)} ms)`}`);
  const g4 = goals.fastStart;
  const g4need = `MISS (would need plan ≤ ${fmtMs(Math.min(GOAL_FAST_PLAN_MS, composeMs / GOAL_FAST_PLAN_VS_COMPOSE))} ms)`;
  console.log(`  ${g4.description}${EXTRA_CA ? ', in this environment (NODE_EXTRA_CA_CERTS set)' : ''}: ${fmtMs(planMs)} ms, ${speedup.toFixed(1)}x ${g4.pass ? 'PASS' : g4need}`);
  const g5 = goals.fastStartWithoutNodeExtraCaCerts;
  if (g5) console.log(`  ${g4.description}, without NODE_EXTRA_CA_CERTS: ${fmtMs(g5.value)} ms, ${g5.speedup.toFixed(1)}x ${g5.pass ? 'PASS' : g4need}`);
  const g3 = goals.applyRatio;
  const budget = apply.raw.median * GOAL_APPLY_RATIO;
  console.log(`  ${g3.description}: ${fmtRatio(applyRatio)} ${g3.pass ? 'PASS' : `MISS (by ${(applyRatio - GOAL_APPLY_RATIO).toFixed(2)}x, ${fmtMs(apply.kiboko.median - budget)} ms over the ${fmtMs(budget)} ms budget)`}`);

  const path = writeResult('deploy', {
    bench: 'deploy',
    runId: RUN_ID,
    date: new Date().toISOString(),
    machine: machine(),
    engine: engineInfo,
    compose: { version: compose.version, installedByThisRun: compose.installedNow },
    config: {
      repeat: REPEAT,
      image: IMAGE,
      noopServices: NOOP_SERVICES,
      newServices: NEW_SERVICES,
      service: "command [sleep, '3600'], stop_grace_period 1s, deploy.replicas 1, deploy.update_config.monitor 0s, labels kiboko.bench + kiboko.bench.service",
      order: 'alternating (forward, reverse, …), one untimed warm-up each',
    },
    commands: {
      plan: 'KIBOKO_STATE_DIR=<tmp> node dist/kiboko.cjs deploy plan -f <tmp>/<project>/compose.yaml (exit 0 = no change)',
      compose: 'COMPOSE_HTTP_TIMEOUT=600 docker-compose -f <same file> -p <own project> up -d (on its own identical running stack, brought up in batches of 20)',
      kibokoApply: 'KIBOKO_STATE_DIR=<tmp> node dist/kiboko.cjs deploy apply --json -f <tmp>/<fresh project>/compose.yaml',
      raw: 'dockerode: createNetwork, then Promise.all(createContainer → start → inspect) of 20 containers, same image/command/labels/alias',
      rawSequential: 'the same, one container after another (context only)',
    },
    processFloorsMs: { node: floorNode, kibokoVersion: floorKiboko, composeVersion: floorCompose },
    noop,
    apply,
    ratios: { composeNoopOverPlan: speedup, kibokoApplyOverRaw: applyRatio },
    goals,
    totalSeconds: (performance.now() - tStart) / 1000,
  });
  console.log(`results: ${path}`);
  console.log(`bench time: ${((performance.now() - tStart) / 1000).toFixed(0)} s (plus cleanup)`);
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  if (!aborting) console.error(`deploy bench FAILED: ${err.stack ?? err}`);
} finally {
  if (!aborting) await cleanup();
}
if (aborting) await new Promise(() => {}); // the signal handler exits once cleanup is done
process.exitCode = failed ? 1 : 0;
