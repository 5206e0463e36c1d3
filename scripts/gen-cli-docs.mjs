// Writes docs/cli/*.md from the commands' own definitions (options, descriptions, examples, exit
// codes), so the reference pages and `--help` cannot drift. `--check` only compares (exit 1 on a
// difference). src/cli/cli-docs.test.ts runs the same comparison in the unit tests.
//
// The program is TypeScript: it is bundled on the fly with esbuild (a dev dependency already used
// by the build) into a temporary module beside this script, imported, and removed.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = join(root, 'scripts', `.gen-cli-docs-${process.pid}.mjs`);
const outDir = join(root, 'docs', 'cli');
const check = process.argv.includes('--check');

await build({
  entryPoints: [join(root, 'src/cli/cli-docs.ts')],
  outfile: tmp,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'error',
});
let pages;
try {
  const { documentedProgram, renderCliDocs } = await import(pathToFileURL(tmp).href);
  pages = renderCliDocs(documentedProgram());
} finally {
  rmSync(tmp, { force: true });
}

const stale = existsSync(outDir) ? readdirSync(outDir).filter((f) => f.endsWith('.md') && !(f in pages)) : [];
const changed = Object.entries(pages).filter(([f, text]) => !existsSync(join(outDir, f)) || readFileSync(join(outDir, f), 'utf8') !== text).map(([f]) => f);
if (check) {
  if (changed.length || stale.length) {
    console.error(`docs/cli is out of date (${[...changed, ...stale.map((f) => `${f} (stale)`)].join(', ')}): run node scripts/gen-cli-docs.mjs`);
    process.exit(1);
  }
  console.log(`docs/cli: ${Object.keys(pages).length} pages up to date`);
} else {
  mkdirSync(outDir, { recursive: true });
  for (const f of stale) rmSync(join(outDir, f));
  for (const [f, text] of Object.entries(pages)) writeFileSync(join(outDir, f), text);
  console.log(`docs/cli: wrote ${Object.keys(pages).length} pages (${changed.length} changed, ${stale.length} removed)`);
}
