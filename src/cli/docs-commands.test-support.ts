// The `kiboko …` command lines the docs show (README.md and docs/*.md), for the tests that parse them.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { splitShellWords } from '../shellwords/index.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const DOC_FILES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** `kiboko …` lines of ```sh / ```console blocks, comments and `$ ` prompts removed, with line numbers. */
export function commandLines(text: string): Array<{ line: number; words: string[]; error?: string }> {
  const out: Array<{ line: number; words: string[]; error?: string }> = [];
  let shell = false;
  text.split('\n').forEach((raw, i) => {
    const fence = /^\s*```(\w*)/.exec(raw);
    if (fence) {
      shell = !shell && ['sh', 'bash', 'console', 'shell'].includes(fence[1]!);
      return;
    }
    if (!shell) return;
    const line = raw.replace(/^\s*\$ /, '').trim();
    if (!line.startsWith('kiboko ') && line !== 'kiboko') return;
    // Drop a trailing comment, a trailing `&` and what follows a pipe: only kiboko's own words count.
    const code = line.replace(/\s+#\s.*$/, '').replace(/\s*&$/, '').split(/\s+\|\s+/)[0]!;
    try {
      out.push({ line: i + 1, words: splitShellWords(code.replace(/\$\([^)]*\)|\$\{?\w+\}?/g, 'X')).slice(1) });
    } catch (err) {
      out.push({ line: i + 1, words: [], error: err instanceof Error ? err.message : String(err) });
    }
  });
  return out;
}

