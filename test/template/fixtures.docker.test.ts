import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, events } from '../helpers.js';
import { fixtureCases, fixtureConfdir, fixturesDir } from './confd-fixtures.js';

/**
 * The confd fixture set rendered by the real CLI (`kiboko template --onetime`), byte for byte
 * against expected/ (made by Go text/template with confd's functions), with the file backend
 * (data.json as is) and with the env backend (each key as confd's env variable name).
 * Lines that depend on the wall clock or on DNS (datetime, lookupIP/lookupSRV) are compared
 * in src/template/confd-fixtures.e2e.test.ts, where clock and DNS are fixed.
 */
const present = existsSync(join(fixturesDir, 'conf.d'));
const data = present ? (JSON.parse(readFileSync(join(fixturesDir, 'data.json'), 'utf8')) as Record<string, string>) : {};
const fixtureEnv = present ? (JSON.parse(readFileSync(join(fixturesDir, 'env.json'), 'utf8')) as Record<string, string>) : {};
/** Fixtures whose output depends on the clock or DNS. */
const CLOCK_OR_DNS = new Set(['docs-snippets']);
const MASKED = /^(datetime|lookup)/;

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** Runs the bundled CLI with exactly this environment (nothing inherited but PATH). */
function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function renderAll(backendArgs: string[], env: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'kiboko-fixtures-cli-'));
  roots.push(root);
  const { confdir, out } = fixtureConfdir(root);
  const r = await run(['template', '--onetime', '--confdir', confdir, '--json', ...backendArgs], env);
  return { ...r, out, evs: events(r.stdout) };
}

function compare(name: string, actual: string, expected: string) {
  if (name === 'functions') {
    // One line each for datetime and the DNS functions: compare every other line exactly.
    const a = actual.split('\n');
    const e = expected.split('\n');
    expect(a.length).toBe(e.length);
    e.forEach((line, i) => {
      if (!MASKED.test(line)) expect(a[i], `line ${i + 1}`).toBe(line);
    });
  } else {
    expect(actual).toBe(expected);
  }
}

describe.runIf(present)('confd fixtures through the CLI', () => {
  it('file backend: every fixture renders as confd renders it', async () => {
    const r = await renderAll(['--backend', 'file', '--file', join(fixturesDir, 'data.json')], fixtureEnv);
    expect(r.code, r.stderr).toBe(1); // the two error fixtures fail, as in confd
    for (const c of fixtureCases()) {
      if (c.error) {
        const failed = r.evs.find((e) => e.event === 'render-failed' && e.resource === `${c.name}.toml`);
        expect(`${(failed?.error as { message: string } | undefined)?.message}\n`).toBe(c.expected);
        expect(existsSync(join(r.out, c.dest))).toBe(false);
      } else if (!CLOCK_OR_DNS.has(c.name)) {
        compare(c.name, readFileSync(join(r.out, c.dest), 'utf8'), c.expected);
      } else {
        expect(existsSync(join(r.out, c.dest))).toBe(true);
      }
    }
  });

  it('env backend: keys map to variables as in confd (/services/web/cust1/2 ↔ SERVICES_WEB_CUST1_2)', async () => {
    const env: Record<string, string> = { ...fixtureEnv };
    for (const [k, v] of Object.entries(data)) env[k.slice(1).replaceAll('/', '_').toUpperCase()] = v;
    const r = await renderAll(['--backend', 'env'], env);
    expect(r.code, r.stderr).toBe(1);
    for (const c of fixtureCases()) {
      // confd's env mapping cannot carry '_' in a key: /nginx/worker_processes comes back as
      // /nginx/worker/processes, so the nginx fixture differs under env in confd too.
      if (c.error || CLOCK_OR_DNS.has(c.name) || c.name === 'nginx') continue;
      compare(c.name, readFileSync(join(r.out, c.dest), 'utf8'), c.expected);
    }
    const nginx = r.evs.find((e) => e.event === 'render-failed' && e.resource === 'nginx.toml');
    expect((nginx?.error as { message: string } | undefined)?.message).toMatch(/key does not exist: \/nginx\/worker_processes/);
  });
});
