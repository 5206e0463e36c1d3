import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFromBusybox, docker, events, IMAGE, runCli, scope, startCli, TEST_LABEL } from '../helpers.js';

const s = scope('pkg-test');
const repo = `kiboko-pkgtest/${s.id}`;
const FAILING = `${repo}:failing`;
const PASSING = `${repo}:passing`;
const ITEST = `${repo}-it:1`;
const PROJECT = `kt${s.id.replace(/[^a-z0-9]/g, '')}`;
const NETWORK = `${PROJECT}_default`;
const work = mkdtempSync(join(tmpdir(), 'kiboko-pkgtest-work-'));

/** Builds an image FROM the local busybox image through the engine (no registry), labelled for cleanup. */
const buildImage = (tag: string, lines: string[], files: Record<string, string> = {}) => buildFromBusybox(tag, lines, `${TEST_LABEL}=${s.id}`, files);

const label = (key: string, value: unknown) => `LABEL ${key}=${JSON.stringify(typeof value === 'string' ? value : JSON.stringify(value))}`;
const WRITE_JUNIT = `echo '<testsuite tests="2" failures="0"/>' > /var/tests/results/unit.xml`;

beforeAll(async () => {
  await buildImage(FAILING, [
    label('kiboko.ontest', [
      { name: 'unit-tests', cmd: ['sh', '-c', `echo running unit tests; ${WRITE_JUNIT}`] },
      { name: 'config-is-valid', cmd: ['sh', '-c', 'echo "config: missing key <db.url> & more" >&2; exit 3'] },
    ]),
  ]);
  // ONTEST instructions replayed only in Dockerfile.test: the test script comes from --context.
  await buildImage(PASSING, [label('kiboko.ontest.build', ['COPY tests/ /tests/']), label('kiboko.ontest', [['/tests/run.sh'], 'sh -c "test -x /tests/run.sh"'])]);
  await buildImage(ITEST, [
    `LABEL test.type=integration test.results=/out test.project=${PROJECT}`,
    // Reaches the service by its name on the project network, with a 1 s answer budget; the results file says how it went.
    `CMD ["sh", "-c", "if printf 'GET /index.html HTTP/1.0\\\\r\\\\n\\\\r\\\\n' | timeout 1 nc svc 8080 | grep -q hello; then echo '<testsuite tests=\\"1\\" failures=\\"0\\"/>' > /out/junit.xml; else echo '<testsuite tests=\\"1\\" failures=\\"1\\"/>' > /out/junit.xml; fi"]`,
  ]);
  mkdirSync(join(work, 'ctx', 'tests'), { recursive: true });
  writeFileSync(join(work, 'ctx', 'tests', 'run.sh'), `#!/bin/sh\necho suite ok\n${WRITE_JUNIT}\n`, { mode: 0o755 });
  await docker.createNetwork({ Name: NETWORK, Labels: { 'kiboko.deploy.project': PROJECT, [TEST_LABEL]: s.id } });
  const svc = await docker.createContainer({
    Image: IMAGE,
    name: `${s.prefix}svc`,
    Cmd: ['sh', '-c', 'mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www'],
    Labels: { [TEST_LABEL]: s.id, 'kiboko.deploy.project': PROJECT },
    HostConfig: { NetworkMode: NETWORK },
    NetworkingConfig: { EndpointsConfig: { [NETWORK]: { Aliases: ['svc'] } } },
  });
  await svc.start();
});

afterAll(async () => {
  await s.cleanup();
  for (const tag of [FAILING, PASSING, ITEST, `${FAILING}-test`, `${PASSING}-test`]) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
  await docker.getNetwork(NETWORK).remove().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

/** Containers kiboko test made for an image (by the label it puts on them), in any state. */
async function testContainers(image: string) {
  return docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.test-of=${image}`] }) });
}

describe('kiboko test: test-aware images (real engine)', () => {
  it('a failing test: exit 1, the JUnit file names it; no Dockerfile.test, test image or test container is left', async () => {
    const tmp = mkdtempSync(join(work, 'tmp-'));
    const reports = join(work, 'failing-reports');
    // An empty folder as docker-test's PATH (the default, the current directory, is the repository here).
    const empty = mkdtempSync(join(work, 'empty-'));
    const r = await runCli(['test', FAILING, empty, '--report-dir', reports], { env: { TMPDIR: tmp } });
    expect(r.code, r.stderr).toBe(1);
    const xml = readFileSync(join(reports, 'junit.xml'), 'utf8');
    expect(xml).toContain('<testsuites name="kiboko test" tests="2" failures="1" errors="0"');
    expect(xml).toMatch(/<testcase name="unit-tests" classname="[^"]+" time="[\d.]+">\n\s*<system-out>running unit tests\n<\/system-out>/);
    expect(xml).toContain('<testcase name="config-is-valid"');
    expect(xml).toContain('<failure message="exited with 3: config: missing key &lt;db.url&gt; &amp; more" type="exit-code">');
    const json = JSON.parse(readFileSync(join(reports, 'report.json'), 'utf8'));
    expect(json).toMatchObject({ pass: false, tests: 2, passed: 1, failures: 1 });
    // What the passing test wrote to /var/tests/results was copied out.
    expect(readFileSync(join(reports, 'results', 'unit-tests', 'unit.xml'), 'utf8')).toContain('tests="2"');
    // Nothing left behind: temp folder empty (no Dockerfile.test), no test image, no test container.
    expect(readdirSync(tmp)).toEqual([]);
    expect(await docker.getImage(`${FAILING}-test`).inspect().then(() => true, () => false)).toBe(false);
    expect(await testContainers(FAILING)).toEqual([]);
  });

  it('passing tests (ONTEST instructions + --context): exit 0; --keep keeps image:tag-test', async () => {
    const reports = join(work, 'passing-reports');
    const tmp = mkdtempSync(join(work, 'tmp-'));
    const r = await runCli(['test', PASSING, '--context', join(work, 'ctx'), '--report-dir', reports, '--keep'], { env: { TMPDIR: tmp } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(reports, 'report.json'), 'utf8'))).toMatchObject({ pass: true, tests: 2, passed: 2 });
    expect(existsSync(join(reports, 'results', 'test-1', 'unit.xml'))).toBe(true);
    const kept = await docker.getImage(`${PASSING}-test`).inspect();
    expect(kept.Config.Labels).toMatchObject({ 'kiboko.test-of': PASSING, 'kiboko.role': 'test' });
    // The ONTEST instructions went only into the test image: the image itself has no /tests.
    const probe = await docker.createContainer({ Image: PASSING, Cmd: ['test', '-e', '/tests/run.sh'], Labels: { [TEST_LABEL]: s.id } });
    await probe.start();
    expect((await probe.wait()).StatusCode).toBe(1);
    expect(readdirSync(tmp)).toEqual([]);
    expect(await testContainers(PASSING)).toEqual([]);
  });

  it('an image without tests: exit 2; a missing image: exit 3', async () => {
    expect((await runCli(['test', IMAGE, '--report-dir', join(work, 'none')])).code).toBe(2);
    expect((await runCli(['test', `${repo}:absent`, '--report-dir', join(work, 'none')])).code).toBe(3);
  });
});

describe('kiboko test --integration (real engine)', () => {
  it("discovers test containers by label, runs them on the project's network, collects test.results", async () => {
    const reports = join(work, 'it-reports');
    const r = await runCli(['test', '--integration', '--label', `${TEST_LABEL}=${s.id}`, '--type', 'integration', '--project', PROJECT, '--json', '--report-dir', reports]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const discovered = events(r.stdout).find((e) => e.event === 'discovered') as { images: { ref: string; resultsPath: string }[]; networks: string[] };
    expect(discovered.images).toEqual([expect.objectContaining({ ref: ITEST, resultsPath: '/out' })]);
    expect(discovered.networks).toEqual([NETWORK]);
    expect(readFileSync(join(reports, 'results', ITEST.replace(/[^A-Za-z0-9_.-]+/g, '_'), 'junit.xml'), 'utf8')).toContain('failures="0"');
    expect(await testContainers(ITEST)).toEqual([]);
  });

  it('gives a resilience verdict while a chaos experiment pauses the service: fails during it, passes after', async () => {
    const chaos = startCli(['chaos', '--json', 'pause', '--duration', '4s', `${s.prefix}svc`], { stateDir: s.stateDir });
    await chaos.waitForOutput('"fault-held"');
    const during = await runCli(['test', '--integration', '--label', `${TEST_LABEL}=${s.id}`, '--project', PROJECT, '--report-dir', join(work, 'chaos-reports')]);
    expect(during.code, during.stderr).toBe(1);
    expect(readFileSync(join(work, 'chaos-reports', 'junit.xml'), 'utf8')).toMatch(/<failure message="exited 0 but its results report 1 failure/);
    expect((await chaos.done).code).toBe(0);
    const after = await runCli(['test', '--integration', '--label', `${TEST_LABEL}=${s.id}`, '--project', PROJECT, '--report-dir', join(work, 'after-reports')]);
    expect(after.code, after.stderr).toBe(0);
  });
});
