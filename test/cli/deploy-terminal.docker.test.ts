import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, buildFromBusybox, docker, runCli, TEST_LABEL, TEST_RUN, TEST_RUN_LABEL } from '../helpers.js';

/**
 * `deploy apply` on a terminal (a pseudo-terminal from util-linux's `script`, which also logs
 * when each byte came) and the compose file after a failed update or a rollback.
 * Images: `slow` gets healthy ~4 s after it starts (its check prints "warming up" until then);
 * `broken` never does (its check prints "db connection refused" and exits 3).
 */
const ID = Math.random().toString(16).slice(2, 8);
const PROJECT = `kt-term-${ID}`;
const REPO = `kiboko-test/term-${ID}`;
const IMAGE_LABEL = `kiboko.test.image=${PROJECT}`;
const dir = mkdtempSync(join(tmpdir(), 'kiboko-term-'));
const stateDir = join(dir, 'state');
const compose = join(dir, 'compose.yaml');

const composeText = (image: string) => `# the shop — CI rewrites the tag
name: ${PROJECT}
services:
  web:
    image: ${image}   # keep this comment
    stop_grace_period: 1s
    labels:
      ${TEST_LABEL}: ${PROJECT}
      ${TEST_RUN_LABEL}: "${TEST_RUN}"
    deploy:
      update_config:
        order: start-first
        monitor: 1s
`;

const cli = (args: string[]) => runCli(['deploy', ...args, '-f', compose], { stateDir });

beforeAll(async () => {
  const trap = 'CMD ["sh", "-c", "trap \\"exit 0\\" TERM; sleep 4; touch /tmp/ready; while true; do sleep 0.2; done"]';
  await buildFromBusybox(`${REPO}:slow`, ['COPY check.sh /check.sh', 'HEALTHCHECK --interval=1s --timeout=2s --start-period=30s --retries=2 CMD /check.sh', trap], IMAGE_LABEL, {
    'check.sh': '#!/bin/sh\ntest -f /tmp/ready && exit 0\necho "warming up: no /tmp/ready yet"\nexit 1\n',
  });
  await buildFromBusybox(`${REPO}:broken`, ['COPY check.sh /check.sh', 'HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD /check.sh', trap], IMAGE_LABEL, {
    'check.sh': '#!/bin/sh\necho "db connection refused"\nexit 3\n',
  });
  // A second good tag: the same image.
  await docker.getImage(`${REPO}:slow`).tag({ repo: REPO, tag: 'slow2' });
}, 120_000);

afterAll(async () => {
  await runCli(['deploy', 'down', '-p', PROJECT], { stateDir }).catch(() => undefined);
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}`] }) });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  for (const t of ['slow', 'slow2', 'broken']) await docker.getImage(`${REPO}:${t}`).remove({ force: true }).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** Runs the CLI in a pseudo-terminal; returns what it printed and when (from script's timing log). */
async function inTerminal(args: string[]): Promise<{ code: number | null; text: string; chunks: { ms: number; text: string }[] }> {
  const out = join(dir, `typescript-${Date.now()}`);
  const timing = `${out}.timing`;
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  const env: NodeJS.ProcessEnv = { ...process.env, KIBOKO_STATE_DIR: stateDir, TERM: 'xterm', SHELL: '/bin/sh', COLUMNS: '200' };
  delete env.CI;
  const child = spawn('script', ['-q', '-f', '-e', '--log-out', out, '--log-timing', timing, '-c', command], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((res) => child.on('close', res));
  const bytes = readFileSync(out);
  // script's classic timing format: "<seconds since the previous chunk> <bytes>" per chunk.
  const chunks: { ms: number; text: string }[] = [];
  let t = 0;
  let offset = bytes.indexOf('\n') + 1; // the "Script started …" header line
  for (const line of readFileSync(timing, 'utf8').split('\n').filter(Boolean)) {
    const [delay, n] = line.split(' ').map(Number) as [number, number];
    t += delay * 1000;
    chunks.push({ ms: t, text: bytes.subarray(offset, offset + n).toString() });
    offset += n;
  }
  return { code, text: chunks.map((c) => c.text).join(''), chunks };
}

describe('deploy apply on a terminal', () => {
  it('shows each replica waiting, its healthcheck runs and their last output, refreshed at least every second', async () => {
    writeFileSync(compose, composeText(`${REPO}:slow`));
    const r = await inTerminal(['deploy', 'apply', '-f', compose]);
    expect(r.code, r.text).toBe(0);
    expect(r.text).toMatch(/web\[1\] healthy after [3-9]\.\d+s/);
    // The live block while it waited: state, checks, the check's own output, the time waited.
    expect(r.text).toMatch(/\[1\] running, health starting · waited \ds · \d+ checks? · last exit 1: warming up: no \/tmp\/ready yet/);
    const frames = r.chunks.filter((c) => c.text.includes('· waited '));
    const start = r.chunks.find((c) => c.text.includes('started'))!.ms;
    const end = r.chunks.find((c) => c.text.includes('healthy after'))!.ms;
    const during = [start, ...frames.filter((f) => f.ms > start && f.ms < end).map((f) => f.ms), end];
    const gaps = during.slice(1).map((ms, i) => ms - during[i]!);
    expect(end - start).toBeGreaterThan(3000);
    console.log(`deploy-terminal: ${frames.length} frames; gaps between redraws while waiting (ms): ${gaps.map(Math.round).join(' ')}`);
    expect(Math.max(...gaps), `gaps between redraws (ms): ${gaps.map(Math.round).join(' ')}`).toBeLessThanOrEqual(1000);
    // The time waited goes up second by second on screen.
    expect(r.text).toMatch(/running, health healthy · waited \ds · monitoring 0s of 1s/);
    const waited = [...r.text.matchAll(/\[1\] running, health starting · waited (\d+)s/g)].map((m) => Number(m[1]));
    expect(new Set(waited).size).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('quiet when not on a terminal: the log lines only', async () => {
    writeFileSync(compose, composeText(`${REPO}:slow2`));
    const r = await cli(['apply']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toContain('waited');
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stdout).toContain('web: 1/1 replaced');
  }, 90_000);
});

describe('the compose file after a failed update and after a rollback', () => {
  it('a failed update says why it was unhealthy, is rolled back, and the file names the running tag again: the next plan is empty', async () => {
    writeFileSync(compose, composeText(`${REPO}:slow2`));
    expect((await cli(['plan'])).code).toBe(0);
    const good = readFileSync(compose, 'utf8');
    writeFileSync(compose, composeText(`${REPO}:broken`));
    const r = await cli(['apply']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/✖ web\[1\] unhealthy \(2 failed checks in a row, last exit 3: db connection refused\)/);
    expect(r.stdout).toContain('web: 0/1 replaced, 1 failed');
    expect(r.stdout).not.toMatch(/1\/1 replaced/);
    expect(r.stdout).toContain(`compose.yaml: web set back to ${REPO}:slow2 (was ${REPO}:broken), the image that runs`);
    expect(readFileSync(compose, 'utf8')).toBe(good);
    const plan = await cli(['plan']);
    expect(plan.code, plan.stdout).toBe(0);
    expect(plan.stdout).toContain('no change');
  }, 120_000);

  it('deploy rollback brings the file back; an image from a variable is left alone and the set-tag to run is printed', async () => {
    // Revision: slow2 runs (previous test). Deploy slow, then roll back to slow2.
    writeFileSync(compose, composeText(`${REPO}:slow`));
    expect((await cli(['apply'])).code).toBe(0);
    const rb = await runCli(['deploy', 'rollback', '--project', PROJECT], { stateDir });
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(rb.stdout).toContain(`web set back to ${REPO}:slow2 (was ${REPO}:slow)`);
    expect(readFileSync(compose, 'utf8')).toBe(composeText(`${REPO}:slow2`));
    expect((await cli(['plan'])).code).toBe(0);

    // The same with the tag from a variable: the file is not touched, the command is printed.
    const templated = composeText(`${REPO}:\${WEB_TAG}`);
    writeFileSync(compose, templated);
    writeFileSync(join(dir, '.env'), 'WEB_TAG=slow\n');
    expect((await cli(['apply'])).code).toBe(0);
    const rb2 = await runCli(['deploy', 'rollback', '--project', PROJECT], { stateDir });
    expect(rb2.code, rb2.stdout + rb2.stderr).toBe(0);
    expect(rb2.stdout).toContain('the image comes from a variable');
    expect(rb2.stdout).toContain(`to bring it in line, run: kiboko deploy set-tag -f ${compose} web slow2`);
    expect(readFileSync(compose, 'utf8')).toBe(templated);
    rmSync(join(dir, '.env'));
  }, 120_000);
});
