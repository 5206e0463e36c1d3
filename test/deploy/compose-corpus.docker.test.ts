import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, docker, type CliResult } from '../helpers.js';

/**
 * awesome-compose's real stacks (../shared/compat/compose-corpus) through the real CLI against
 * the real engine: `deploy config` prints each resolved model, `deploy plan --engine docker`
 * plans it (every service to create), and planning leaves nothing behind on the engine.
 */
const CORPUS = process.env.KIBOKO_COMPOSE_CORPUS ?? resolve(import.meta.dirname, '../../../shared/compat/compose-corpus');
const present = existsSync(join(CORPUS, 'LIST.tsv'));
const id = Math.random().toString(16).slice(2, 8);
const stateDir = mkdtempSync(join(tmpdir(), 'kiboko-corpus-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

const stacks = present
  ? readFileSync(join(CORPUS, 'LIST.tsv'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split('\t'))
      .filter((c) => c[2] === 'real')
      .map((c) => ({ n: Number(c[0]), file: join(CORPUS, c[1]!), v1: c[4]! }))
  : [];

function kiboko(args: string[], cwd: string): Promise<CliResult> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, CI: 'true', KIBOKO_STATE_DIR: stateDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr, ms: Date.now() - started })));
}

/** Runs `fn` over `items`, `limit` at a time (the machine is shared). */
async function pool<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

describe.skipIf(!present)('awesome-compose through kiboko deploy config and deploy plan', () => {
  it('accepts every stack docker compose accepts, plans it, and creates nothing', async () => {
    // Every stack is planned; `deploy config` runs through the CLI for every fifth one (the unit
    // corpus test renders all of them in-process), to keep this file quick on a shared machine.
    const skipped: CliResult = { code: 0, signal: null, stdout: '', stderr: '', ms: 0 };
    const results = await pool(stacks, 4, async (s) => {
      const project = `kt-corpus-${id}-${s.n}`;
      const config = s.n % 5 === 1 ? await kiboko(['deploy', 'config', '-f', s.file, '-p', project, '--json'], dirname(s.file)) : skipped;
      const plan = await kiboko(['deploy', 'plan', '-f', s.file, '-p', project, '--engine', 'docker', '--json'], dirname(s.file));
      return { ...s, project, config, plan };
    });
    const accepted = results.filter((r) => r.config.code === 0 && r.plan.code === 10);
    const lines = results.map((r) => `${r.config.code === 0 && r.plan.code === 10 ? 'accepts' : 'refuses'}\t${r.file.slice(CORPUS.length + 1)}\tconfig ${r.config.code} plan ${r.plan.code}${r.plan.code === 10 ? '' : `\t${(r.plan.stderr || r.config.stderr).split('\n').slice(0, 3).join(' | ')}`}`);
    console.log(`${lines.join('\n')}\nawesome-compose via the CLI: ${accepted.length} accepted of ${results.length}`);

    for (const r of results.filter((x) => x.v1 === 'accepts')) {
      expect(r.config.code, `${r.file}: ${r.config.stderr}`).toBe(0);
      expect(r.plan.code, `${r.file}: ${r.plan.stderr}`).toBe(10);
      if (r.config === skipped) continue;
      const model = JSON.parse(r.config.stdout) as { name: string; services: Record<string, unknown> };
      expect(model.name).toBe(r.project);
      expect(Object.keys(model.services).length).toBeGreaterThan(0);
    }
    // Planning touches nothing: no container, network or volume of these projects exists.
    const containers = await docker.listContainers({ all: true, filters: JSON.stringify({ name: [`kt-corpus-${id}-`] }) });
    const networks = await docker.listNetworks({ filters: JSON.stringify({ name: [`kt-corpus-${id}-`] }) });
    const volumes = (await docker.listVolumes({ filters: { name: [`kt-corpus-${id}-`] } })).Volumes ?? [];
    expect([containers.length, networks.length, volumes.length]).toEqual([0, 0, 0]);
  }, 240_000);
});

it.skipIf(present)('awesome-compose corpus skipped: ../shared/compat/compose-corpus is not beside the repository', () => {});
