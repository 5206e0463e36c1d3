import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The confd fixture set (written with the Go template engine; expected/ made by Go itself). */
export const fixturesDir = resolve(import.meta.dirname, '..', '..', 'src', 'template', 'fixtures', 'confd');
const fixtures = fixturesDir;

/** A copy of the fixture confdir whose destinations point into `out`. */
export function fixtureConfdir(root: string): { confdir: string; out: string } {
  const confdir = join(root, 'confd');
  const out = join(root, 'out');
  mkdirSync(out, { recursive: true });
  cpSync(join(fixtures, 'templates'), join(confdir, 'templates'), { recursive: true });
  mkdirSync(join(confdir, 'conf.d'), { recursive: true });
  for (const f of readdirSync(join(fixtures, 'conf.d'))) {
    const text = readFileSync(join(fixtures, 'conf.d', f), 'utf8');
    writeFileSync(join(confdir, 'conf.d', f), text.replace(/dest = "\/etc\/kiboko-fixture\/([^"]+)"/g, (_m, name: string) => `dest = "${join(out, name)}"`));
  }
  return { confdir, out };
}

/** expected/<name> for conf.d/<name>.toml, and the dest file name it renders to. */
export function fixtureCases(): { name: string; dest: string; expected: string; error: boolean }[] {
  return readdirSync(join(fixtures, 'conf.d'))
    .filter((f) => f.endsWith('.toml'))
    .sort()
    .map((f) => {
      const name = f.replace(/\.toml$/, '');
      const dest = /dest = "\/etc\/kiboko-fixture\/([^"]+)"/.exec(readFileSync(join(fixtures, 'conf.d', f), 'utf8'))![1]!;
      const error = existsSync(join(fixtures, 'expected', `${name}.error`));
      return { name, dest, error, expected: readFileSync(join(fixtures, 'expected', error ? `${name}.error` : name), 'utf8') };
    });
}

