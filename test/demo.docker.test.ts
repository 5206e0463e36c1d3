import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { docker } from './helpers.js';

/**
 * `npm run demo` (scripts/demo.mjs, after its install/build step) runs through on the engine, says
 * true things, and leaves nothing behind. It takes about 80 s on a quiet machine (2.5 min with the
 * load of several test runs beside it).
 */
const DEMO = resolve(import.meta.dirname, '..', 'scripts', 'demo.mjs');
const PROJECT = `kt-demo-${Math.random().toString(16).slice(2, 8)}`;

describe('npm run demo', () => {
  it('deploys, updates with zero failed requests, rolls back a failing update, runs chaos, starts the dashboard, and cleans up', async () => {
    const child = spawn(process.execPath, [DEMO], { env: { ...process.env, KIBOKO_DEMO_PROJECT: PROJECT }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    const started = Date.now();
    const code = await new Promise<number | null>((res) => child.on('close', res));
    console.log(`demo: exit ${code} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    expect(code, out).toBe(0);
    for (let n = 1; n <= 5; n++) expect(out).toContain(`── ${n}. `);
    // The update: every request answered, by both versions.
    const update = /counter: (\d+) requests: (\d+) ok \(v1×\d+ v2×\d+\), 0 failed/.exec(out.slice(out.indexOf('── 2.'), out.indexOf('── 3.')));
    expect(update, out).not.toBeNull();
    expect(update![1]).toBe(update![2]);
    // The failing update: why, rolled back, the file in line again, an empty plan.
    expect(out).toContain('unhealthy (3 failed checks in a row, last exit 1: cannot reach the database at db:5432)');
    expect(out).toContain(`compose.yaml: web set back to ${PROJECT}/web:v2 (was ${PROJECT}/web:v3), the image that runs`);
    expect(out).toContain('(plan exited with 0: nothing to do)');
    // Chaos with the counter's verdict, then the daemon.
    expect(out.slice(out.indexOf('── 4.'))).toMatch(/✔ pause \S+-web-\d .* — restored[\s\S]*counter: \d+ requests/);
    expect(out).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard/);
    const shot = join(tmpdir(), `${PROJECT}-dashboard.png`);
    if (existsSync('/usr/bin/chromium')) {
      expect(out).toContain(`screenshot: ${shot}`);
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
      rmSync(shot);
    }
    // Nothing left: containers, networks, images.
    const label = JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}`] });
    expect(await docker.listContainers({ all: true, filters: label })).toEqual([]);
    expect((await docker.listNetworks()).filter((n) => n.Name.startsWith(PROJECT))).toEqual([]);
    expect((await docker.listImages()).flatMap((i) => i.RepoTags ?? []).filter((t) => t.startsWith(`${PROJECT}/`))).toEqual([]);
  }, 300_000);
});
