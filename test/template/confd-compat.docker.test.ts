import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers.js';

/**
 * confd's own test cases (../shared/compat/confd, beside the repository in CI: derived from confd's
 * unit tests, each confirmed against confd) run with confd's own command lines — Go flags, single
 * dash, `-flag=value` — through the real CLI, byte for byte against what confd writes.
 * KIBOKO_COMPAT_DIR points elsewhere (a worktree has no ../shared beside it).
 */
const COMPAT = process.env.KIBOKO_COMPAT_DIR ?? resolve(import.meta.dirname, '..', '..', '..', 'shared', 'compat');
const FUNCS = join(COMPAT, 'confd', 'funcs');
const present = existsSync(FUNCS);

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** Runs the bundled CLI with exactly this environment (nothing inherited but PATH). */
function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)).map((x) => join(f, x)) : [f]));

/** A copy of the case's confdir with its `@OUT@` destinations pointing into a fresh folder. */
function stage(name: string): { confdir: string; out: string } {
  const root = mkdtempSync(join(tmpdir(), `kiboko-confd-${name}-`));
  roots.push(root);
  const confdir = join(root, 'confdir');
  const out = join(root, 'out');
  cpSync(join(FUNCS, name, 'confdir'), confdir, { recursive: true });
  mkdirSync(out);
  for (const f of walk(join(confdir, 'conf.d')).filter((x) => x.endsWith('.toml'))) {
    const p = join(confdir, 'conf.d', f);
    writeFileSync(p, readFileSync(p, 'utf8').replaceAll('@OUT@', out));
  }
  return { confdir, out };
}

const cases = present ? readdirSync(FUNCS).filter((d) => existsSync(join(FUNCS, d, 'confdir'))).sort() : [];

/** confd's command line for a case, in the spellings confd's users write; alternated across cases. */
function commandLine(name: string, confdir: string, i: number): { args: string[]; env: Record<string, string> } {
  const dir = join(FUNCS, name);
  if (existsSync(join(dir, 'env'))) {
    const env = Object.fromEntries(
      readFileSync(join(dir, 'env'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    return { args: ['template', '-onetime', '-backend', 'env', '-confdir', confdir], env };
  }
  const data = existsSync(join(dir, 'data.yaml')) ? join(dir, 'data.yaml') : join(dir, 'data.json');
  return i % 2 === 0
    ? { args: ['template', '-onetime', '-backend', 'file', '-file', data, '-confdir', confdir], env: {} }
    : { args: ['template', '-backend=file', `-file=${data}`, `-confdir=${confdir}`, '-onetime', '-watch'], env: {} }; // confd's scripts: -onetime wins
}

describe.skipIf(!present)(`confd's test cases with confd's command lines (${present ? FUNCS : 'skipped: ../shared/compat/confd is absent beside the repository'})`, () => {
  it.each(cases.map((c, i) => [c, i] as const))('%s', async (name, i) => {
    const { confdir, out } = stage(name);
    const { args, env } = commandLine(name, confdir, i);
    const r = await run(args, env);
    const dir = join(FUNCS, name);
    if (existsSync(join(dir, 'expect-error'))) {
      const text = readFileSync(join(dir, 'expect-error'), 'utf8').trim();
      expect(r.code, r.stdout + r.stderr).not.toBe(0);
      expect(r.stdout + r.stderr).toContain(text.split('\n')[0]!);
      expect(readdirSync(out)).toEqual([]); // nothing written
      return;
    }
    expect(r.code, `${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
    const expected = readdirSync(join(dir, 'expect')).filter((f) => !/\.alt\d+$/.test(f));
    expect(readdirSync(out).sort()).toEqual(expected.sort());
    for (const f of expected) {
      const actual = readFileSync(join(out, f), 'utf8');
      const accepted = [f, ...readdirSync(join(dir, 'expect')).filter((x) => x.startsWith(`${f}.alt`))].map((x) => readFileSync(join(dir, 'expect', x), 'utf8'));
      expect(accepted, `${name}/${f}`).toContain(actual);
    }
  });
});

describe('confd command lines on a confdir of our own (no ../shared needed)', () => {
  function confdir(): { dir: string; out: string } {
    const root = mkdtempSync(join(tmpdir(), 'kiboko-confd-own-'));
    roots.push(root);
    const dir = join(root, 'conf');
    const out = join(root, 'out');
    mkdirSync(join(dir, 'conf.d'), { recursive: true });
    mkdirSync(join(dir, 'templates'));
    mkdirSync(out);
    writeFileSync(join(dir, 'conf.d', 'app.toml'), `[template]\nsrc = "app.conf.tmpl"\ndest = "${join(out, 'app.conf')}"\nkeys = ["/app"]\n`);
    writeFileSync(join(dir, 'templates', 'app.conf.tmpl'), 'port={{getv "/app/port"}}\nname={{getv "/app/name" "none"}}\n');
    writeFileSync(join(root, 'values.yaml'), 'app:\n  port: 8080\n  name: shop\n');
    return { dir, out };
  }

  it('kiboko template -onetime -backend env -confdir DIR', async () => {
    const { dir, out } = confdir();
    const r = await run(['template', '-onetime', '-backend', 'env', '-confdir', dir], { APP_PORT: '9090' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(join(out, 'app.conf'), 'utf8')).toBe('port=9090\nname=none\n');
  });

  it('kiboko template -onetime -backend=file -file values.yaml -confdir=DIR (relative file, as in a confd script)', async () => {
    const { dir, out } = confdir();
    const r = await new Promise<{ code: number | null; out: string }>((done) => {
      const child = spawn(process.execPath, [CLI, 'template', '-onetime', '-backend=file', '-file', 'values.yaml', `-confdir=${dir}`], { cwd: join(dir, '..'), env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (b: Buffer) => (text += b.toString()));
      child.stderr.on('data', (b: Buffer) => (text += b.toString()));
      child.on('close', (code) => done({ code, out: text }));
    });
    expect(r.code, r.out).toBe(0);
    expect(readFileSync(join(out, 'app.conf'), 'utf8')).toBe('port=8080\nname=shop\n');
  });
});
