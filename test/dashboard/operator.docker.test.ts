import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, events, IMAGE, journalFiles, startCli, waitFor, type CliProcess } from '../helpers.js';

/**
 * The dashboard as an operator's page, end to end: the real daemon over a one-service project
 * with a healthcheck, a CLI `kiboko chaos pause` run in the daemon's state directory, and headless
 * Chromium (Debian's, driven by playwright-core). The page lists the CLI run with its container
 * and a countdown, stops it with the Stop button (token and confirmation; the engine shows the
 * container unpaused), marks the configured image differing from the running one, follows a
 * deploy to a new tag while it runs (progress), then shows the new running image. Screenshots go
 * to a temporary folder whose path is printed.
 */
const CHROMIUM = '/usr/bin/chromium';
const RAND = Math.random().toString(16).slice(2, 8);
const PROJECT = `kt-ops-${RAND}`;
const REPO = `kiboko-test/opsapp-${RAND}`;
const TAGS = ['1.0.0', '1.1.0'];
const dir = mkdtempSync(join(tmpdir(), 'kiboko-ops-'));
const stateDir = mkdtempSync(join(tmpdir(), 'kiboko-state-ops-'));
const SHOTS = mkdtempSync(join(tmpdir(), 'kiboko-dashboard-shots-'));
const compose = join(dir, 'compose.yaml');
let daemon: CliProcess | undefined;
let pause: CliProcess | undefined;
let browser: Browser | undefined;
let base = '';
let token = '';

const api = (path: string, init: RequestInit & { json?: unknown } = {}) =>
  fetch(`${base}${path}`, {
    ...init,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    headers: { authorization: `Bearer ${token}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}) },
  });
// A healthcheck that prints, run often (its output is what the page shows); the deploy watches a
// new replica for 2 s before it counts, so the page can see the deploy running.
const composeText = (tag: string) => `services:
  web:
    image: ${REPO}:${tag}
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "sh", "-c", "echo health-ok from web"]
      interval: 500ms
      timeout: 2s
      retries: 3
    deploy: {update_config: {monitor: 2s}}
`;
type Job = { id: string; status: string };
async function deployed(): Promise<Job> {
  const r = await api('/v1/deploys', { method: 'POST', json: { project: PROJECT } });
  expect(r.status, await r.clone().text()).toBe(202);
  const { id } = (await r.json()) as Job;
  return waitFor(async () => {
    const j = (await (await api(`/v1/deploys/${id}`)).json()) as Job;
    return ['queued', 'running'].includes(j.status) ? undefined : j;
  }, 60_000, 100);
}
const webContainers = () => docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}`, 'kiboko.deploy.service=web'] }) });
const cells = (page: Page, selector: string) => page.$$eval(`${selector} td`, (tds) => tds.map((td) => (td.textContent ?? '').trim()));
const shot = async (page: Page, name: string) => {
  const path = join(SHOTS, name);
  await page.screenshot({ path, fullPage: true });
  expect(readFileSync(path).subarray(1, 4).toString('latin1')).toBe('PNG');
  console.log(`dashboard screenshot: ${path}`);
};

beforeAll(async () => {
  for (const t of TAGS) await docker.getImage(IMAGE).tag({ repo: REPO, tag: t });
  writeFileSync(compose, composeText('1.0.0'));
  daemon = startCli(['serve', '--listen', '127.0.0.1:0', '--project', `${PROJECT}=${compose}`], { stateDir });
  await daemon.waitForOutput('"event":"listening"');
  const line = JSON.parse(daemon.stdout().split('\n').find((l) => l.includes('"listening"'))!) as { addresses: string[]; tokenFile: string };
  base = line.addresses[0]!;
  token = readFileSync(line.tokenFile, 'utf8').trim();
  expect(await deployed()).toMatchObject({ status: 'succeeded' });
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  if (pause && pause.child.exitCode === null) {
    pause.child.kill('SIGTERM'); // the CLI restores its pause on SIGTERM
    await Promise.race([pause.done, new Promise((r) => setTimeout(r, 10_000))]);
  }
  if (daemon && daemon.child.exitCode === null) {
    daemon.child.kill('SIGTERM');
    await Promise.race([daemon.done, new Promise((r) => setTimeout(r, 10_000))]);
    if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
  }
  for (const c of await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}`] }) })) {
    const ctr = docker.getContainer(c.Id);
    if (c.State === 'paused') await ctr.unpause().catch(() => undefined);
    await ctr.remove({ force: true, v: true }).catch(() => undefined);
  }
  for (const n of await docker.listNetworks({ filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}`] }) })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  for (const t of TAGS) await docker.getImage(`${REPO}:${t}`).remove().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  rmSync(stateDir, { recursive: true, force: true });
});

describe('the dashboard as an operator page (headless Chromium)', () => {
  // Skipped only where Debian's chromium package is not installed (scripts/ensure-docker.sh installs it in CI).
  it.skipIf(!existsSync(CHROMIUM))('lists a CLI chaos run with container and countdown, stops it, and follows a deploy to a new tag', async () => {
    const [web] = await webContainers();
    const webName = web!.Names[0]!.replace(/^\//, '');
    // A CLI run in the daemon's state directory: it pauses the replica for 2 minutes.
    pause = startCli(['chaos', '--json', 'pause', '--duration', '2m', webName], { stateDir });
    await pause.waitForOutput('"fault-held"');
    expect((await docker.getContainer(web!.Id).inspect()).State.Paused).toBe(true);

    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const consoleErrors: string[] = [];
    const failed: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location().url})`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
    });
    await page.goto(`${base}/dashboard`);
    await page.fill('input[name="token"]', token);
    await Promise.all([page.waitForNavigation(), page.click('form[action="/dashboard/login"] button[type="submit"]')]);
    await page.waitForSelector('body[data-loaded]');

    // The CLI run: its source, its container, time left counting down from 2 minutes.
    const row = '[data-testid="chaos"] tr[data-run]:has(td:text-is("pause"))';
    await page.waitForSelector(`${row}:has(td:text-matches("^CLI \\\\(pid \\\\d+\\\\)$"))`, { timeout: 10_000 });
    const runId = await page.getAttribute(row, 'data-run');
    const [, source, action, hits, left, , status] = await cells(page, `${row}`);
    expect([source, action, hits, status]).toEqual([`CLI (pid ${pause.child.pid})`, 'pause', webName, 'running']);
    const seconds = (text: string) => {
      const m = /^(?:(\d+)m )?(\d+)s left$/.exec(text);
      expect(m, text).not.toBeNull();
      return Number(m![1] ?? 0) * 60 + Number(m![2]);
    };
    const first = seconds(left!);
    expect(first).toBeGreaterThan(60);
    expect(first).toBeLessThanOrEqual(120);
    // The countdown ticks (every second, without a reload).
    const countdown = `[data-testid="chaos"] tr[data-run="${runId}"] td[data-testid="countdown"]`;
    await waitFor(async () => seconds((await page.textContent(countdown)) ?? '') < first, 5000, 200);

    // Services: the configured image, the running one, the replica's state and its last healthcheck output.
    const svc = `[data-testid="services"] tr.svc[data-service="${PROJECT}/web"]`;
    const [, configured, running, replicas] = await cells(page, svc);
    expect([configured, running, replicas]).toEqual([`${REPO}:1.0.0`, `${REPO}:1.0.0`, 'paused 1 \u00b7 running 0/1']);
    await page.click(`${svc} summary`);
    expect(await page.textContent(`${svc} [data-testid="healthcheck-output"]`)).toMatch(/^last healthcheck .*, exit 0: health-ok from web$/);
    await shot(page, '1-cli-chaos-run.png');

    // Stop: confirmation with the token, then the CLI run ends and the engine has the container unpaused.
    await page.click(`[data-testid="chaos"] tr[data-run="${runId}"] [data-testid="stop"]`);
    expect(await page.textContent('#confirm-message')).toContain(`${webName} will be restored now`);
    await page.fill('[data-testid="confirm-token"]', token);
    await page.click('[data-testid="confirm-ok"]');
    expect(await (await page.waitForSelector('[data-testid="action-status"].ok:has-text("Stopped")', { timeout: 20_000 })).textContent()).toContain(`${webName} restored`);
    const inspected = await docker.getContainer(web!.Id).inspect();
    expect([inspected.State.Paused, inspected.State.Running]).toEqual([false, true]);
    const ended = await pause.done;
    expect(ended.code, ended.stderr).toBe(0);
    expect(events(ended.stdout).find((e) => e.event === 'run-finished')?.interrupted).toBe(true);
    expect(journalFiles(stateDir)).toEqual([]);
    await page.waitForSelector(`[data-testid="chaos"] tr[data-run="${runId}"] td.state-stopped`, { timeout: 10_000 });
    expect(await page.$(`[data-testid="chaos"] tr[data-run="${runId}"] [data-testid="stop"]`)).toBeNull();

    // The file now names a new tag: the page marks the configured image as differing from the running one.
    writeFileSync(compose, composeText('1.1.0'));
    await page.waitForSelector(`${svc}.drift [data-testid="image-drift"]`, { timeout: 10_000 });
    expect((await cells(page, svc)).slice(1, 3)).toEqual([`${REPO}:1.1.0`, `${REPO}:1.0.0 \u2260 differs from configured`]);
    await shot(page, '2-image-drift.png');

    // The deploy to the new tag: running, with a progress bar and per-service progress, then the new running image.
    const r = await api('/v1/deploys', { method: 'POST', json: { project: PROJECT } });
    expect(r.status).toBe(202);
    const { id } = (await r.json()) as Job;
    const flight = `[data-testid="deploys"] tr.in-flight[data-revision="${id}"]`;
    await page.waitForSelector(`${flight} [data-testid="deploy-progress-text"]:has-text("web:")`, { timeout: 15_000 });
    expect((await page.textContent(`${flight} td.state-running`))?.startsWith('running')).toBe(true);
    expect(await page.textContent(`${flight} [data-testid="deploy-progress-text"]`)).toMatch(/^web: (\d\/1 replaced|ok)/);
    expect(await page.$(`${flight} progress[data-testid="deploy-progress"]`)).not.toBeNull();
    await shot(page, '3-deploy-running.png');
    const after = await waitFor(async () => {
      const j = (await (await api(`/v1/deploys/${id}`)).json()) as Job;
      return ['queued', 'running'].includes(j.status) ? undefined : j;
    }, 60_000, 100);
    expect(after.status).toBe('succeeded');
    // The page follows a deploy every second, then refreshes every 5 s; a loaded machine has been seen to need more than 10 s.
    await page.waitForSelector(`${svc}:not(.drift) td.running-image:text-is("${REPO}:1.1.0")`, { timeout: 30_000 });
    // The deploys section refreshes on its own fetch: the in-flight row goes when it next answers.
    await page.waitForSelector(flight, { state: 'detached', timeout: 15_000 });

    // The event feed: healthcheck exec events are there but hidden until asked for; the project filter keeps only its events.
    const exec = () => page.$$eval('[data-testid="events"] li[data-exec="1"]', (lis) => ({ all: lis.length, shown: lis.filter((li) => !li.hasAttribute('hidden')).length }));
    expect(await exec()).toMatchObject({ shown: 0, all: expect.any(Number) });
    expect((await exec()).all).toBeGreaterThan(0);
    await page.check('[data-testid="filter-exec"]');
    // One reading: healthcheck exec events keep arriving (one a second), so two readings may differ by one.
    const checked = await exec();
    expect(checked.shown).toBe(checked.all);
    await page.uncheck('[data-testid="filter-exec"]');
    await page.selectOption('[data-testid="filter-project"]', PROJECT);
    const shown = await page.$$eval('[data-testid="events"] li:not([hidden])', (lis) => lis.map((li) => li.getAttribute('data-project')));
    expect(shown.length).toBeGreaterThan(0);
    expect(new Set(shown)).toEqual(new Set([PROJECT]));
    await page.selectOption('[data-testid="filter-type"]', 'deploy');
    expect(await page.$$eval('[data-testid="events"] li:not([hidden])', (lis) => lis.every((li) => li.getAttribute('data-type')!.startsWith('deploy.')))).toBe(true);
    await shot(page, '4-deployed.png');

    // The registry watch panel is shown exactly when the daemon serves GET /v1/watch/reports.
    // (404 before that endpoint existed, 503 NOT_ENABLED on a daemon started without --watch, as here)
    const watch = (await api('/v1/watch/reports')).status;
    const absent = watch === 404 || watch === 503;
    expect(await page.isHidden('#watch-section')).toBe(absent);

    // Nothing threw or was refused by the CSP; the only failed requests are the sign-in page's
    // own 401 and (on a daemon without watching) the panel's one probe.
    const expected = ['401 GET /dashboard', ...(absent ? [`${watch} GET /v1/watch/reports`] : [])];
    expect(failed).toEqual(expected);
    expect(consoleErrors.filter((e) => !(e.startsWith('Failed to load resource') && (e.includes('/dashboard ') || e.includes('/dashboard)') || e.includes('/v1/watch/reports'))))).toEqual([]);
  });
});
