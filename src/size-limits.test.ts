import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** scripts/check-size.mjs (run by `npm test`): files ≤ 500 lines, functions ≤ 100 in src/. */
const SCRIPT = resolve(import.meta.dirname, '..', 'scripts', 'check-size.mjs');
const run = async (args: string[]) => {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT, ...args]);
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
};

describe('size limits', () => {
  it('this repository is within them', async () => {
    const r = await run([]);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
  }, 60_000);

  it('a file of 501 lines and a function of 101 lines fail the check, each named with its size', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kiboko-size-'));
    try {
      mkdirSync(join(root, 'src', 'x'), { recursive: true });
      writeFileSync(join(root, 'src', 'x', 'long.ts'), Array.from({ length: 501 }, (_, i) => `export const v${i} = ${i};`).join('\n') + '\n');
      writeFileSync(join(root, 'src', 'x', 'fn.ts'), `export function big(): number {\n${Array.from({ length: 99 }, (_, i) => `  const a${i} = ${i};`).join('\n')}\n}\nexport function ok(): void {}\n`);
      writeFileSync(join(root, 'src', 'x', 'fine.test.ts'), Array.from({ length: 600 }, () => '// a test may be long').join('\n'));
      const r = await run(['--root', root]);
      expect(r.code).toBe(1);
      expect(r.stdout.trim().split('\n').sort()).toEqual(['src/x/fn.ts:1: big is 101 lines (at most 100)', 'src/x/long.ts: 501 lines (at most 500)']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});
