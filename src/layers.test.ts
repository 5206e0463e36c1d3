import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

// The boundary check that `npm test` runs (.dependency-cruiser.cjs), shown failing on deliberate violations
// in a tiny source tree of its own.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const config = createRequire(import.meta.url)(join(root, '.dependency-cruiser.cjs'));
const dir = mkdtempSync(join(tmpdir(), 'kiboko-layers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const base = mkdtempSync(join(dir, 't-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(base, path)), { recursive: true });
    writeFileSync(join(base, path), text);
  }
  return base;
}

async function violations(files: Record<string, string>): Promise<string[]> {
  const base = tree(files);
  const { tsConfig: _, ...options } = config.options;
  const result = await cruise(['src'], { ...options, validate: true, ruleSet: { forbidden: config.forbidden }, baseDir: base });
  const output = result.output as ICruiseResult;
  return output.summary.violations.map((v) => `${v.rule.name} ${v.from} -> ${v.to}`).sort();
}

describe('the layer check', () => {
  it('passes a tree that keeps the rules', async () => {
    expect(
      await violations({
        'src/engine/index.ts': "export { x } from './x.js';\n",
        'src/engine/x.ts': 'export const x = 1;\n',
        'src/deploy/index.ts': "import { x } from '../engine/index.js';\nexport const y = x;\n",
      }),
    ).toEqual([]);
  }, 30_000);

  it('fails on a cycle inside a folder, a deep import and an import up the layers', async () => {
    const found = await violations({
      'src/engine/index.ts': "import { main } from '../cli/index.js';\nexport const x = main;\n",
      'src/cli/index.ts': 'export const main = 1;\n',
      'src/deploy/index.ts': "export { a } from './a.js';\n",
      'src/deploy/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'src/deploy/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
      'src/packages/index.ts': "import { b } from '../deploy/b.js';\nexport const p = b;\n",
    });
    expect(found).toEqual([
      'layer-engine-journal src/engine/index.ts -> src/cli/index.ts',
      'no-circular src/deploy/a.ts -> src/deploy/b.ts',
      'no-deep-import src/packages/index.ts -> src/deploy/b.ts',
    ]);
  }, 30_000);

  it('counts an `await import()` that closes a cycle between folders', async () => {
    const found = await violations({
      'src/deploy/index.ts': "export async function f() { return (await import('../packages/index.js')).p; }\n",
      'src/packages/index.ts': "import { f } from '../deploy/index.js';\nexport const p = f;\n",
    });
    expect(found).toContain('no-circular src/deploy/index.ts -> src/packages/index.ts');
    expect(found).toContain('layer-chaos-deploy-proxy src/deploy/index.ts -> src/packages/index.ts');
  }, 30_000);
});
