// The whole product in about two minutes, on the local engine, with nothing from a registry:
// a two-service stack deployed; a rolling update while a request counter runs (zero failed
// requests expected, and checked); a failing update rolled back by itself, the compose file
// brought back in line; chaos during traffic with the counter's verdict; the daemon started and
// its dashboard URL printed (and a screenshot taken when Chromium is installed).
// Everything it creates is removed at the end, on Ctrl-C and on SIGTERM.
//
//   node scripts/demo.mjs [--keep-open]   (npm run demo: installs and builds first)
//   --keep-open: on a terminal, wait for Enter before cleaning up (to open the dashboard yourself)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine } from '../dist/lib/engine/index.js';
import { ensureBusyboxImage } from '../dist/lib/images/index.js';

const CLI = new URL('../dist/kiboko.cjs', import.meta.url).pathname;
const CHROMIUM = process.env.KIBOKO_DEMO_CHROMIUM ?? '/usr/bin/chromium';
const PROJECT = process.env.KIBOKO_DEMO_PROJECT ?? 'kiboko-demo';
const REPO = `${PROJECT}/web`;
const tty = Boolean(process.stdout.isTTY);
const bold = (s) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;

const work = mkdtempSync(join(tmpdir(), 'kiboko-demo-'));
const stateDir = mkdtempSync(join(tmpdir(), 'kiboko-demo-state-'));
const compose = join(work, 'compose.yaml');
const children = new Set();
let engine;
let cleaning;

function step(n, title) {
  console.log(`\n${bold(`── ${n}. ${title}`)} ${dim(`(${elapsed()})`)}`);
}

/** Runs the CLI (argv, never a shell string), output straight to this terminal; resolves with the exit code. */
function kiboko(args, { quiet = false } = {}) {
  console.log(bold(`$ kiboko ${args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(' ')}`));
  const child = spawn(process.execPath, [CLI, ...args], { cwd: work, stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'], env: { ...process.env, KIBOKO_STATE_DIR: stateDir } });
  children.add(child);
  return new Promise((resolve) => child.on('close', (code) => (children.delete(child), resolve(code))));
}

async function must(args) {
  const code = await kiboko(args);
  if (code !== 0) throw new Error(`kiboko ${args.join(' ')} exited with ${code}`);
}

/** A port nobody listens on now (the engine publishes it for the stack's front proxy). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** web:<version>: busybox httpd serving its version, healthy once it answers; `broken`'s check always fails, saying why. */
async function buildImages(base) {
  const versions = [
    ['v1', 'wget -q -O /dev/null http://127.0.0.1/health || exit 1'],
    ['v2', 'wget -q -O /dev/null http://127.0.0.1/health || exit 1'],
    ['v3', 'echo "cannot reach the database at db:5432"; exit 1'],
  ];
  await Promise.all(versions.map(async ([tag, check]) => {
    const ctx = mkdtempSync(join(work, 'img-'));
    writeFileSync(
      join(ctx, 'Dockerfile'),
      [
        `FROM ${base}`,
        `RUN mkdir -p /www && echo "${tag}" > /www/index.html && echo ok > /www/health`,
        `HEALTHCHECK --interval=1s --timeout=3s --retries=3 CMD ${check}`,
        `LABEL kiboko.demo=${PROJECT}`,
        'CMD ["httpd", "-f", "-p", "80", "-h", "/www"]',
        '',
      ].join('\n'),
    );
    await engine.buildImage({ contextDir: ctx, tag: `${REPO}:${tag}` });
  }));
}

const composeText = (port) => `# kiboko demo: a web service behind kiboko's front proxy, and a worker that needs it
name: ${PROJECT}
services:
  web:
    image: ${REPO}:v1
    ports: ["127.0.0.1:${port}:80"]
    stop_grace_period: 2s
    deploy:
      replicas: 2
      update_config: {parallelism: 1, order: start-first, monitor: 1s}
  worker:
    image: kiboko/busybox:local
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do wget -q -O /dev/null http://web/ ; sleep 1; done"]
    stop_grace_period: 1s
    depends_on:
      web: {condition: service_healthy}
`;

/**
 * A request counter: new connection per request (so every replica gets some), one at a time,
 * each with a 2 s deadline; counts answers by body (the version) and failures by cause.
 */
function counter(port) {
  const c = { ok: 0, failed: 0, versions: new Map(), causes: new Map(), running: true, maxMs: 0 };
  const once = () =>
    new Promise((resolve) => {
      const t0 = Date.now();
      const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 2000 }, (res) => {
        let body = '';
        res.on('data', (b) => (body += b));
        res.on('end', () => {
          c.maxMs = Math.max(c.maxMs, Date.now() - t0);
          if (res.statusCode === 200) {
            c.ok++;
            const v = body.trim();
            c.versions.set(v, (c.versions.get(v) ?? 0) + 1);
          } else {
            c.failed++;
            c.causes.set(`HTTP ${res.statusCode}`, (c.causes.get(`HTTP ${res.statusCode}`) ?? 0) + 1);
          }
          resolve();
        });
      });
      const fail = (cause) => {
        c.failed++;
        c.causes.set(cause, (c.causes.get(cause) ?? 0) + 1);
        resolve();
      };
      req.on('timeout', () => (req.destroy(new Error('timeout')), undefined));
      req.on('error', (err) => fail(err.message === 'timeout' ? 'no answer within 2s' : err.code ?? err.message));
      req.end();
    });
  c.done = (async () => {
    while (c.running) {
      await once();
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  c.stop = async () => {
    c.running = false;
    await c.done;
    return c;
  };
  c.verdict = () => {
    const versions = [...c.versions].map(([v, n]) => `${v}×${n}`).join(' ');
    const causes = [...c.causes].map(([v, n]) => `${v}×${n}`).join(', ');
    return `${c.ok + c.failed} requests: ${c.ok} ok (${versions || 'none'}), ${c.failed} failed${causes ? ` (${causes})` : ''}; slowest ${c.maxMs} ms`;
  };
  return c;
}

/** The daemon on a free loopback port; resolves with its address and token file once it listens. */
function startDaemon() {
  console.log(bold(`$ kiboko serve --listen 127.0.0.1:0 --project ${PROJECT}=compose.yaml &`));
  const child = spawn(process.execPath, [CLI, 'serve', '--listen', '127.0.0.1:0', '--project', `${PROJECT}=${compose}`], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KIBOKO_STATE_DIR: stateDir } });
  children.add(child);
  // Its log (JSON lines) is shown only if it fails.
  let log = '';
  child.stderr.on('data', (b) => (log += b));
  child.on('close', (code) => {
    children.delete(child);
    if (code && !cleaning) console.error(log);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) {
        const { addresses, tokenFile } = JSON.parse(line);
        resolve({ child, base: addresses.find((a) => a.startsWith('http')) ?? addresses[0], tokenFile });
      }
    });
    child.on('close', (code) => reject(new Error(`kiboko serve exited with ${code}: ${log.trim().split('\n').at(-1)}`)));
  });
}

/** Signs in with the token in headless Chromium and saves a screenshot of the dashboard. */
async function screenshot(base, token) {
  if (!existsSync(CHROMIUM)) return undefined;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/dashboard`);
    await page.fill('input[name="token"]', token);
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    await page.waitForTimeout(1500); // the live parts fill in
    const file = join(tmpdir(), `${PROJECT}-dashboard.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  } finally {
    await browser.close();
  }
}

async function cleanup() {
  cleaning ??= (async () => {
    // A kiboko command stopped with SIGTERM restores what it changed (an apply finishes its batch): give it 10 s.
    const running = [...children];
    for (const c of running) c.kill('SIGTERM');
    await Promise.race([Promise.all(running.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('close', r)) : undefined))), new Promise((r) => setTimeout(r, 10_000))]);
    for (const c of children) c.kill('SIGKILL');
    if (engine) {
      // deploy down removes the project's containers, front proxy, networks and volumes.
      await new Promise((resolve) => {
        const down = spawn(process.execPath, [CLI, 'deploy', 'down', '-p', PROJECT, '--volumes'], { stdio: 'ignore', env: { ...process.env, KIBOKO_STATE_DIR: stateDir } });
        down.on('close', resolve);
      });
      for (const c of await engine.list({ all: true, labels: [`kiboko.deploy.project=${PROJECT}`] }).catch(() => [])) {
        if (c.status === 'paused') await engine.unpause(c.id).catch(() => {});
        await engine.remove(c.id, { force: true, volumes: true }).catch(() => {});
      }
      for (const tag of ['v1', 'v2', 'v3']) await engine.removeImage(`${REPO}:${tag}`, true).catch(() => {});
    }
    rmSync(work, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  })();
  return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    console.log(`\n${sig}: cleaning up…`);
    await cleanup();
    console.log('removed everything the demo created');
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

let failed = false;
try {
  console.log(bold('kiboko demo — deploy, update, roll back, break on purpose, watch: on your local Docker engine'));
  engine = await connectEngine();
  await engine.info();
  const base = await ensureBusyboxImage(engine, undefined, () => process.stdout.write('.'));
  await buildImages(base);
  const port = await freePort();
  writeFileSync(compose, composeText(port));
  console.log(`images ${REPO}:v1, v2, v3 built locally from ${base} (no registry); the stack is in ${compose}:`);
  console.log(dim(readFileSync(compose, 'utf8').replace(/^/gm, '  ').trimEnd()));

  step(1, 'deploy the stack');
  await must(['deploy', 'apply']);
  await must(['deploy', 'ps']);

  step(2, 'a rolling update while a request counter runs');
  const traffic = counter(port);
  await must(['deploy', 'set-tag', 'web', 'v2']);
  await must(['deploy', 'apply']);
  await new Promise((r) => setTimeout(r, 500));
  await traffic.stop();
  console.log(bold(`counter: ${traffic.verdict()}`));
  console.log(traffic.failed === 0 ? '→ zero failed requests: new replicas took traffic only once healthy, old ones were drained first' : '→ some requests failed during the update (see above)');

  step(3, 'a failing update: v3 never gets healthy, kiboko rolls it back by itself');
  const traffic3 = counter(port);
  await must(['deploy', 'set-tag', 'web', 'v3']);
  const code = await kiboko(['deploy', 'apply']);
  await traffic3.stop();
  console.log(`(deploy apply exited with ${code}: the update failed and was rolled back)`);
  console.log(bold(`counter: ${traffic3.verdict()}`));
  console.log(`compose.yaml names ${/image: (\S+)/.exec(readFileSync(compose, 'utf8'))[1]} again; the next plan:`);
  const planCode = await kiboko(['deploy', 'plan']);
  console.log(`(plan exited with ${planCode}: ${planCode === 0 ? 'nothing to do' : 'changes'})`);
  await must(['deploy', 'history', '--project', PROJECT]);

  step(4, 'chaos during traffic: one web replica paused for 5 seconds');
  const traffic4 = counter(port);
  await new Promise((r) => setTimeout(r, 1000));
  await must(['chaos', 'pause', '--duration', '5s', '--project', PROJECT, '--service', 'web', '--random', '--seed', '7']);
  await new Promise((r) => setTimeout(r, 1000));
  await traffic4.stop();
  console.log(bold(`counter: ${traffic4.verdict()}`));
  console.log(
    traffic4.failed
      ? '→ the verdict: requests the front proxy sent to the paused replica got no answer until it was unpaused (its TCP connections are accepted, nothing replies). Clients of this service need a timeout and a retry.'
      : '→ the verdict: no request failed while a replica was paused.',
  );

  step(5, 'the daemon and its dashboard');
  const daemon = await startDaemon();
  const token = readFileSync(daemon.tokenFile, 'utf8').trim();
  console.log(`dashboard: ${bold(`${daemon.base}/dashboard`)}  (sign in with the token in ${daemon.tokenFile})`);
  const shot = await screenshot(daemon.base, token).catch((err) => (console.log(`no screenshot: ${err.message}`), undefined));
  if (shot) console.log(`screenshot: ${bold(shot)} (kept)`);
  else if (!existsSync(CHROMIUM)) console.log(dim(`(no screenshot: ${CHROMIUM} is not installed)`));
  if (!process.argv.includes('--keep-open')) console.log(dim('(the daemon stops when the demo ends; `npm run demo -- --keep-open` keeps it until you press Enter)'));
  else if (process.stdin.isTTY) {
    console.log('Press Enter to stop the daemon and remove everything…');
    await new Promise((r) => process.stdin.once('data', r));
  }
} catch (err) {
  failed = true;
  console.error(`demo failed: ${err.message}`);
} finally {
  await cleanup();
  console.log(`\nremoved the demo's containers, networks, images and state ${dim(`(${elapsed()} in all)`)}`);
  process.exit(failed ? 1 : 0);
}
