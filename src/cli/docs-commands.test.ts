import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { splitShellWords } from '../shellwords/index.js';
import { allCommands, applyHelp } from './help.js';
import { buildProgram, normalizeBoolFlags } from './program.js';

/**
 * Every `kiboko …` command shown in a shell block of README.md and docs/*.md parses against the
 * real program (commands and flags exist, arguments are complete): the docs cannot show a command
 * or flag kiboko does not have. Nothing runs — the actions are replaced.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** `kiboko …` lines of ```sh / ```console blocks, comments and `$ ` prompts removed, with line numbers. */
function commandLines(text: string): Array<{ line: number; words: string[]; error?: string }> {
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

describe('commands shown in the docs exist', () => {
  const program = buildProgram({ dispatch: async () => 0 });
  applyHelp(program);
  for (const cmd of allCommands(program)) if (cmd.commands.length === 0) cmd.action(() => undefined);
  const silence = (c: Command) => c.configureOutput({ writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined });
  for (const c of [program, ...allCommands(program)]) silence(c);

  it.each(files)('%s', async (file) => {
    const bad: string[] = [];
    for (const { line, words, error } of commandLines(readFileSync(join(ROOT, file), 'utf8'))) {
      if (error) {
        bad.push(`${file}:${line}: ${error}`);
        continue;
      }
      if (words.includes('--help') || words.includes('--version')) continue;
      await program.parseAsync(normalizeBoolFlags(words), { from: 'user' }).catch((err: unknown) => {
        const code = (err as { code?: string }).code;
        if (code === 'commander.help') return; // a bare group prints its help: fine
        bad.push(`${file}:${line}: kiboko ${words.join(' ')} — ${err instanceof Error ? err.message : String(err)}`);
      });
    }
    expect(bad).toEqual([]);
  });
});
