/**
 * Every compose file of ../shared/compat/compose-corpus (awesome-compose's real stacks and
 * compose-go's loader fixtures) through the loader. Real stacks docker compose accepts must load;
 * the files invalid on purpose (cycles, an empty file, remote extends) must be refused with a
 * message saying why. Prints `N accepted of M`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KibokoError } from '../../common/errors.js';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadCompose, renderConfig } from './index.js';

// CI runs on a fresh clone with ../shared beside it; the corpus is data, not part of the repo.
// KIBOKO_COMPOSE_CORPUS points elsewhere (a worktree whose parent has no shared/).
const CORPUS = process.env.KIBOKO_COMPOSE_CORPUS ?? path.resolve(import.meta.dirname, '../../../../shared/compat/compose-corpus');
const present = existsSync(path.join(CORPUS, 'LIST.tsv'));

interface Row {
  n: number;
  file: string;
  cls: string;
  v1: string;
  note: string;
}

const rows: Row[] = present
  ? readFileSync(path.join(CORPUS, 'LIST.tsv'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split('\t'))
      .map((c) => ({ n: Number(c[0]), file: c[1]!, cls: c[2]!, v1: c[4]!, note: c[7] ?? '' }))
  : [];

/** Invalid on purpose, and the words the refusal must contain. */
const INVALID: Record<string, RegExp> = {
  'compose-go/loader/testdata/compose-depends-on-cycle.yaml': /depends_on cycle/,
  'compose-go/loader/testdata/compose-depends-on-profile-no-cycle.yaml': /depends_on cycle/,
  'compose-go/loader/testdata/compose-depends-on-self.yaml': /depends on itself|depends_on cycle/,
  'compose-go/loader/testdata/compose-include-cycle.yaml': /include cycle/,
  'compose-go/loader/testdata/empty.yaml': /the file is empty/,
  'compose-go/loader/testdata/remote/cycle/compose-cycle.yaml': /remote source/,
  'compose-go/loader/testdata/remote/cycle/compose.yaml': /remote source/,
  'compose-go/loader/testdata/remote/nested/compose.yaml': /remote source/,
};

function load(file: string): { ok: true; rendered: unknown } | { ok: false; message: string } {
  const abs = path.join(CORPUS, file);
  try {
    const config = loadCompose([abs], { cwd: path.dirname(abs), env: { HOME: '/root' } });
    return { ok: true, rendered: renderConfig(config) };
  } catch (err) {
    if (!(err instanceof KibokoError)) throw err;
    return { ok: false, message: err.message };
  }
}

describe.skipIf(!present)('compose corpus (../shared/compat/compose-corpus)', () => {
  const results = rows.map((r) => ({ ...r, result: load(r.file) }));

  it('loads every real stack that docker compose accepts', () => {
    const real = results.filter((r) => r.cls === 'real' && r.v1 === 'accepts');
    const refused = real.filter((r) => !r.result.ok).map((r) => `${r.file}: ${(r.result as { message: string }).message}`);
    expect(refused).toEqual([]);
    expect(real.length).toBeGreaterThanOrEqual(38);
  });

  it('loads every fixture docker-compose accepts too', () => {
    const refused = results.filter((r) => r.v1 === 'accepts' && !r.result.ok).map((r) => r.file);
    expect(refused).toEqual([]);
  });

  it('refuses the files invalid on purpose, saying why', () => {
    for (const [file, why] of Object.entries(INVALID)) {
      const r = results.find((x) => x.file === file);
      expect(r, file).toBeDefined();
      expect(r!.result.ok, file).toBe(false);
      expect((r!.result as { message: string }).message, file).toMatch(why);
    }
  });

  it('renders every accepted file as deploy config does, and the YAML reads back the same', () => {
    for (const r of results) {
      if (!r.result.ok) continue;
      const rendered = r.result.rendered as { name: string; services: Record<string, { image: string }> };
      expect(Object.keys(rendered.services).length, r.file).toBeGreaterThan(0);
      for (const s of Object.values(rendered.services)) expect(s.image, r.file).toMatch(/\S/);
      expect(parseYaml(stringifyYaml(rendered, { version: '1.1' }), { version: '1.1' }), r.file).toEqual(rendered);
    }
  });

  it('prints N accepted of M', () => {
    const accepted = results.filter((r) => r.result.ok).length;
    const lines = results.map((r) => `${r.result.ok ? 'accepts' : 'refuses'}\t${r.file}${r.result.ok ? '' : `\t${(r.result as { message: string }).message.split('\n').slice(0, 3).join(' | ')}`}`);
    console.log(`${lines.join('\n')}\ncompose corpus: ${accepted} accepted of ${results.length}`);
    expect(results.length).toBe(rows.length);
  });
});

it.skipIf(present)('compose corpus skipped: ../shared/compat/compose-corpus is not beside the repository', () => {});
