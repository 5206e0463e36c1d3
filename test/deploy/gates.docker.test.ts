import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFromBusybox, CLI, dexec, docker, events, exists, removeLabelled, type CliResult } from '../helpers.js';

/**
 * The two deploy gates against the real engine, through the bundled CLI and a compose file's
 * `x-kiboko` keys: a lifecycle method each new replica must pass (`gate`), and the project's
 * integration-test containers after the apply (`post_deploy_tests`). Images are built here from
 * the local busybox image (busybox httpd on 8080) and carry this file's label for cleanup — not
 * kiboko.test, which every test run's global setup sweeps: the replicas inherit image labels.
 */
const id = Math.random().toString(16).slice(2, 8);
const FILE_LABEL = 'kiboko.test.gates';
const PROJECT_A = `kt-gates-${id}`;
const PROJECT_B = `kt-gates-${id}-tests`;
const REPO = `kiboko-test/gates-${id}`;
const ITEST = `${REPO}-it:1`;
const work = mkdtempSync(join(tmpdir(), 'kiboko-gates-'));
const stateDir = join(work, 'state');

/** Builds `tag` FROM the local busybox image through the engine, labelled with this file's id. */
const build = (tag: string, lines: string[]) => buildFromBusybox(tag, lines, `${FILE_LABEL}=${id}`);

/** An httpd image answering `body` on :8080. */
const site = (body: string, cmd = 'exec httpd -f -p 8080 -h /www') => [`RUN mkdir -p /www && echo "${body}" > /www/index.html`, `CMD ["sh", "-c", "${cmd}"]`];

/** The real CLI, run in the work folder (post-deploy tests write their report folder under the cwd). */
function kiboko(args: string[]): Promise<CliResult> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { cwd: work, env: { ...process.env, CI: 'true', KIBOKO_STATE_DIR: stateDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr, ms: Date.now() - started })));
}

const apply = (file: string, ...extra: string[]) => kiboko(['deploy', 'apply', '-f', file, '--engine', 'docker', '--json', ...extra]);

function writeCompose(name: string, text: string): string {
  const file = join(work, name);
  writeFileSync(file, text);
  return file;
}

const replicas = (project: string) =>
  docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.deploy.project=${project}`, 'kiboko.deploy.service=web'] }) });

beforeAll(async () => {
  await Promise.all([
    // validate passes only once /tmp/ready exists, which the container creates 1.5 s after it starts;
    // each attempt leaves a line in /tmp/attempts.
    build(`${REPO}:gate-ok`, [`LABEL kiboko.method.validate="sh -c 'echo attempt >> /tmp/attempts; test -f /tmp/ready'"`, ...site('gated v1', 'sleep 1.5; touch /tmp/ready; exec httpd -f -p 8080 -h /www')]),
    build(`${REPO}:gate-bad`, [`LABEL kiboko.method.validate="sh -c 'echo never ready >&2; exit 1'"`, ...site('gated v2')]),
    build(`${REPO}:v1`, site('ok v1')),
    build(`${REPO}:v3`, site('broken v3')),
    // The project's integration test: the service, by its DNS name on the project network, must answer "ok …".
    build(ITEST, [`LABEL test.type=integration test.project=${PROJECT_B}`, `CMD ["sh", "-c", "timeout 5 wget -q -O- http://web:8080/ | grep '^ok'"]`]),
  ]);
});

afterAll(async () => {
  // Service replicas and test containers run from this file's images, which carry its label.
  await removeLabelled(`${FILE_LABEL}=${id}`);
  const mine = (labels: Record<string, string> | undefined) => (labels?.['kiboko.deploy.project'] ?? '').startsWith(PROJECT_A);
  for (const c of (await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['kiboko.deploy.project'] }) })).filter((x) => mine(x.Labels))) {
    await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  }
  for (const n of (await docker.listNetworks({ filters: JSON.stringify({ label: ['kiboko.deploy.project'] }) })).filter((x) => mine(x.Labels))) {
    await docker.getNetwork(n.Id).remove().catch(() => undefined);
  }
  for (const img of await docker.listImages({ filters: JSON.stringify({ label: [`${FILE_LABEL}=${id}`] }) })) {
    await docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
  }
  rmSync(work, { recursive: true, force: true });
});

describe('deploy gate: x-kiboko.gate (real engine)', () => {
  const compose = (tag: string) =>
    writeCompose(
      'gate.yaml',
      `name: ${PROJECT_A}
services:
  web:
    image: ${REPO}:${tag}
    stop_grace_period: 1s
    deploy:
      update_config: {monitor: 500ms}
    x-kiboko:
      gate: {method: validate, timeout: 3s}
`,
    );

  it('a replica is ready only after validate exits 0 in it', async () => {
    const r = await apply(compose('gate-ok'));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const ready = events(r.stdout).filter((e) => e.event === 'replica-ready' && e.service === 'web');
    expect(ready).toHaveLength(1);
    expect(ready[0]).toMatchObject({ health: 'running, validate passed' });
    // The file appears 1.5 s after the start: readiness waited for it.
    expect(Number(ready[0]!.ms)).toBeGreaterThanOrEqual(1000);
    const [web] = await replicas(PROJECT_A);
    expect(web?.State).toBe('running');
    expect(web?.Id).toBe(ready[0]!.id);
    // validate failed at least once (no file yet), then passed; the gate ran inside the replica.
    const attempts = await dexec(web!.Id, ['cat', '/tmp/attempts']);
    expect(attempts.out.trim().split('\n').length).toBeGreaterThanOrEqual(2);
    expect((await dexec(web!.Id, ['test', '-f', '/tmp/ready'])).code).toBe(0);
  });

  it('an update whose validate never passes fails, is rolled back, and the old replica keeps serving', async () => {
    const [old] = await replicas(PROJECT_A);
    const r = await apply(compose('gate-bad'));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const ev = events(r.stdout);
    const started = ev.find((e) => e.event === 'replica-started' && e.image === `${REPO}:gate-bad`);
    expect(started).toBeDefined();
    expect(ev.find((e) => e.event === 'replica-failed')).toMatchObject({ reason: expect.stringMatching(/^gate not passed within 3s \(validate exited with 1 — never ready\)/) });
    expect(ev.find((e) => e.event === 'service-finished')).toMatchObject({ outcome: 'rolled-back' });
    // Only the old container is left, still running the old image and answering.
    const now = await replicas(PROJECT_A);
    expect(now.map((c) => [c.Id, c.State, c.Image])).toEqual([[old!.Id, 'running', `${REPO}:gate-ok`]]);
    expect(await exists(String(started!.id))).toBe(false);
    expect((await dexec(old!.Id, ['wget', '-q', '-O-', 'http://127.0.0.1:8080/'])).out).toContain('gated v1');
  });
});

describe('post-deploy gate: x-kiboko.post_deploy_tests (real engine)', () => {
  const compose = (tag: string) =>
    writeCompose(
      'tests.yaml',
      `name: ${PROJECT_B}
x-kiboko:
  post_deploy_tests: {type: integration, timeout: 30s}
services:
  web:
    image: ${REPO}:${tag}
    stop_grace_period: 1s
    deploy:
      update_config: {monitor: 500ms}
`,
    );
  const history = async () => {
    const h = await kiboko(['deploy', 'history', '--json', '--project', PROJECT_B]);
    expect(h.code, h.stderr).toBe(0);
    return (JSON.parse(h.stdout) as { revisions: { rev: number; outcome: string; trigger: string; rollbackOf?: number; images: Record<string, string> }[] }).revisions;
  };
  const testContainers = () => docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.test-of=${ITEST}`] }) });

  it('tests that pass: the revision is ok', async () => {
    const r = await apply(compose('v1'));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const done = events(r.stdout).find((e) => e.event === 'deploy-finished');
    expect(done).toMatchObject({ revision: 1, outcome: 'ok', tests: { code: 0, cases: [{ name: ITEST, status: 'pass' }] } });
    expect((await history()).map((x) => [x.rev, x.outcome])).toEqual([[1, 'ok']]);
    expect(await testContainers()).toEqual([]);
  });

  it('tests that fail: the revision is marked failed and the project rolled back to the previous one', async () => {
    const r = await apply(compose('v3'));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const done = events(r.stdout).find((e) => e.event === 'deploy-finished');
    expect(done).toMatchObject({ revision: 2, outcome: 'failed', tests: { code: 1, cases: [{ name: ITEST, status: 'fail' }] }, rollback: { revision: 3, target: 1, outcome: 'ok' } });
    expect((await history()).map((x) => [x.rev, x.outcome, x.trigger, x.rollbackOf ?? null, x.images.web])).toEqual([
      [3, 'ok', 'rollback', 1, `${REPO}:v1`],
      [2, 'failed', 'apply', null, `${REPO}:v3`],
      [1, 'ok', 'apply', null, `${REPO}:v1`],
    ]);
    const web = (await replicas(PROJECT_B)).filter((c) => c.State === 'running');
    expect(web.map((c) => c.Image)).toEqual([`${REPO}:v1`]);
    expect(await testContainers()).toEqual([]);
    // Nothing written under the cwd: the test wrote no results.
    expect(readdirSync(work).filter((f) => f === 'test-results')).toEqual([]);
  });

  it('--no-require-tests overrides the configuration: no tests run, the revision is ok', async () => {
    const r = await apply(compose('v3'), '--no-require-tests');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const done = events(r.stdout).find((e) => e.event === 'deploy-finished');
    expect(done).toMatchObject({ revision: 4, outcome: 'ok' });
    expect(done).not.toHaveProperty('tests');
    expect((await replicas(PROJECT_B)).filter((c) => c.State === 'running').map((c) => c.Image)).toEqual([`${REPO}:v3`]);
  });
});
