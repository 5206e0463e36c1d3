import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFromBusybox, CLI, docker, scope, TEST_LABEL } from '../helpers.js';

/**
 * The docker-test flow of the design document, unchanged: an image carries
 * `ONBUILD COPY test.sh /test.sh` and `ONBUILD CMD ["/bin/sh","/test.sh"]`; in the application's
 * folder, which holds test.sh, `kiboko test app:1` builds the test image with that folder as the
 * context (docker-test's `docker build -f Dockerfile.test .`) and runs it.
 */
const s = scope('dtest');
const APP = `kiboko-dtest/${s.id}/app:1`;
const work = mkdtempSync(join(tmpdir(), 'kiboko-dtest-'));

beforeAll(async () => {
  await buildFromBusybox(APP, ['ONBUILD COPY test.sh /test.sh', 'ONBUILD CMD ["/bin/sh","/test.sh"]'], `${TEST_LABEL}=${s.id}`);
});
afterAll(async () => {
  await s.cleanup();
  await docker.getImage(APP).remove({ force: true }).catch(() => undefined);
  await docker.getImage(`${APP}-test`).remove({ force: true }).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

/** The application's folder: test.sh exiting with `code`. */
function appFolder(name: string, code: number): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'test.sh'), `echo "testing in $(hostname)"\nexit ${code}\n`);
  return dir;
}

/** The real CLI, run in `cwd`. */
function kiboko(args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('close', (code) => done({ code, out }));
  });
}

/** What kiboko test could leave behind: test containers of the image, the test image, a Dockerfile.test. */
async function leftovers(folder: string) {
  const containers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.test-of=${APP}`] }) });
  const images = await docker.listImages({ filters: JSON.stringify({ reference: [`${APP}-test`] }) });
  return { containers: containers.length, images: images.length, files: readdirSync(folder).sort() };
}

describe('docker-test’s flow: kiboko test IMAGE from the application’s folder', () => {
  it('passes when test.sh exits 0, fails when it exits 1, and leaves nothing behind', async () => {
    const good = appFolder('good', 0);
    const pass = await kiboko(['test', APP, '--report-dir', join(work, 'r1')], good);
    expect(pass.code, pass.out).toBe(0);
    expect(pass.out).toMatch(/✔ default: pass/);
    expect(await leftovers(good)).toEqual({ containers: 0, images: 0, files: ['test.sh'] });

    const bad = appFolder('bad', 1);
    const fail = await kiboko(['test', APP, '--report-dir', join(work, 'r2')], bad);
    expect(fail.code, fail.out).toBe(1);
    expect(fail.out).toMatch(/✖ default: fail/);
    expect(await leftovers(bad)).toEqual({ containers: 0, images: 0, files: ['test.sh'] });
  }, 300_000); // each run builds an image; generous for a loaded CI engine

  it('PATH names the folder from elsewhere; --context is the same; without test.sh the build fails as docker build would', async () => {
    const good = appFolder('good2', 0);
    const bad = appFolder('bad2', 1);
    expect((await kiboko(['test', APP, bad, '--report-dir', join(work, 'r4')], work)).code).toBe(1);
    expect((await kiboko(['test', APP, '--context', good, '--report-dir', join(work, 'r5')], work)).code).toBe(0);
    const empty = mkdtempSync(join(work, 'empty-'));
    const none = await kiboko(['test', APP, '--report-dir', join(work, 'r6')], empty);
    expect(none.code, none.out).toBe(1); // the ONBUILD COPY step fails: a failing test, as docker-test reports it
    expect(none.out).toMatch(/test\.sh/);
    expect(await leftovers(empty)).toEqual({ containers: 0, images: 0, files: [] });
    expect(existsSync(join(good, 'Dockerfile.test'))).toBe(false);
  }, 300_000);
});
