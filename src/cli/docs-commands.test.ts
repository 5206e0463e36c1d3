import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { allCommands, applyHelp } from './help.js';
import { buildProgram, normalizeBoolFlags } from './program.js';
import { commandLines, DOC_FILES as files, ROOT } from './docs-commands.test-support.js';

/**
 * Every `kiboko …` command shown in a shell block of README.md and docs/*.md parses against the
 * real program (commands and flags exist, arguments are complete): the docs cannot show a command
 * or flag kiboko does not have. Nothing runs — the actions are replaced.
 */

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
