import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

/** The TypeScript examples users read: fenced ```ts blocks that import kiboko, and the @example of each entry point. */
function examples(): { name: string; code: string }[] {
  const out: { name: string; code: string }[] = [];
  for (const doc of ['README.md', 'docs/library.md', 'docs/internals.md', 'docs/template.md']) {
    const text = readFileSync(join(root, doc), 'utf8');
    let i = 0;
    for (const m of text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
      if (/from 'kiboko(\/[a-z]+)?'/.test(m[1]!)) out.push({ name: `${doc.replace(/[/.]/g, '_')}_${++i}`, code: m[1]! });
    }
  }
  const doors = ['src/index.ts', ...readdirSync(join(root, 'src/api')).filter((f) => /^[a-z]+\.ts$/.test(f)).map((f) => `src/api/${f}`)];
  for (const file of doors) {
    const head = /^\/\*\*([\s\S]*?)\*\//.exec(readFileSync(join(root, file), 'utf8'))?.[1] ?? '';
    const block = /@example\s*\n\s*\* ```ts\n([\s\S]*?)\n\s*\* ```/.exec(head)?.[1];
    out.push({ name: file.replace(/[/.]/g, '_'), code: (block ?? '').split('\n').map((l) => l.replace(/^\s*\* ?/, '')).join('\n') });
  }
  return out;
}

describe('library examples', () => {
  const all = examples();

  it('every entry point has a @module comment with an example, and the docs have examples', () => {
    for (const file of ['src/index.ts', 'src/api/chaos.ts', 'src/api/deploy.ts', 'src/api/units.ts', 'src/api/template.ts', 'src/api/engine.ts', 'src/api/testing.ts']) {
      const text = readFileSync(join(root, file), 'utf8');
      expect(text, file).toMatch(/^\/\*\*[\s\S]*?@example[\s\S]*?@module kiboko[\s\S]*?\*\//);
    }
    expect(all.filter((e) => e.name.startsWith('README')).length).toBeGreaterThanOrEqual(1);
    expect(all.filter((e) => e.name.startsWith('docs_library')).length).toBeGreaterThanOrEqual(5);
    for (const e of all) expect(e.code.trim(), e.name).not.toBe('');
  });

  it('type-check against the sources, imported the way users import them', () => {
    // Virtual files beside package.json (so they are ES modules with top-level await); `kiboko` and
    // `kiboko/*` resolve to the entry points' sources, as the exports map resolves them to dist/.
    const files = new Map(all.map((e) => [join(root, '.examples', `${e.name}.mts`), e.code]));
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2023,
      lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: true,
      esModuleInterop: true,
      resolveJsonModule: true,
      noEmit: true,
      types: ['node'],
      baseUrl: root,
      paths: { kiboko: ['src/index.ts'], 'kiboko/*': ['src/api/*.ts'] },
    };
    const host = ts.createCompilerHost(options);
    const { fileExists, readFile, getSourceFile } = host;
    host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
    host.readFile = (f) => files.get(f) ?? readFile.call(host, f);
    host.getSourceFile = (f, lang, ...rest) => {
      const code = files.get(f);
      return code !== undefined ? ts.createSourceFile(f, code, lang) : getSourceFile.call(host, f, lang, ...rest);
    };
    const program = ts.createProgram([...files.keys()], options, host);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map((d) => `${d.file ? `${d.file.fileName.replace(`${root}/`, '')}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(problems).toEqual([]);
    // The examples really went through the sources, not an `any` from a failed resolution.
    const resolved = program.getSourceFiles().map((f) => f.fileName.replace(`${root}/`, ''));
    expect(resolved).toEqual(expect.arrayContaining(['src/api/chaos.ts', 'src/api/deploy.ts', 'src/api/units.ts', 'src/api/template.ts', 'src/api/testing.ts', 'src/index.ts']));
  }, 180_000);
});
