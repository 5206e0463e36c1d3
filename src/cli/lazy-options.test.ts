import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { splitShellWords } from '../shellwords/index.js';
import { commandLines, DOC_FILES, ROOT } from './docs-commands.test-support.js';
import { allCommands, applyHelp } from './help.js';
import { commandHelpTable } from './help-text.js';
import { buildProgram, normalizeBoolFlags } from './program.js';

/**
 * The CLI declares a command's options only when commander dispatches to it (`lazy`, see
 * ./register.ts); help and the docs build the tree eagerly. Each command line must parse to the
 * same command, options and arguments — or fail with the same error, or print the same help — in
 * both trees, as main() builds them.
 */
type Outcome = { ran?: { path: string; options: unknown; args: string[] }; error?: string; output: string };

async function outcome(words: string[], lazy: boolean): Promise<Outcome> {
  const result: Outcome = { output: '' };
  const program = buildProgram({
    only: words[0],
    lazy,
    dispatch: async (path, options, args) => {
      result.ran = { path, options, args };
      return 0;
    },
  });
  applyHelp(program);
  const write = (s: string) => void (result.output += s);
  for (const c of [program, ...allCommands(program)] as Command[]) c.configureOutput({ writeOut: write, writeErr: write, outputError: write });
  try {
    await program.parseAsync(normalizeBoolFlags(words), { from: 'user' });
  } catch (err) {
    result.error = `${(err as { code?: string }).code}: ${err instanceof Error ? err.message : String(err)}`;
  }
  return result;
}

const docLines = DOC_FILES.flatMap((file) => commandLines(readFileSync(join(ROOT, file), 'utf8')).filter((l) => !l.error).map((l) => l.words));
const exampleLines = Object.values(commandHelpTable()).flatMap((h) => h.examples.map(([line]) => splitShellWords(line.replace(/\$\([^)]*\)|\$\{?\w+\}?/g, 'X')).slice(1)));
const tricky = [
  ['chaos', '--random', '--label', 'kill', 'kill', '--signal', 'SIGTERM', 'web'],
  ['chaos', 'kill', '--pull-image=false', '--dry-run=true', 'web'],
  ['chaos', '--interval', '5s', 'netem', '--duration', '1s', 'delay', '--time', '100', 'web'],
  ['chaos', 'netem', 'delay', '--time', '100', '--nope', 'web'],
  ['chaos', 'kil', 'web'],
  ['chaos'],
  ['chaos', 'netem'],
  ['deploy'],
  ['deploy', 'plan', '--project-name', 'x', '--json'],
  ['units'],
  ['template', '-onetime', '-backend', 'env', '-confdir', '/etc/confd'],
  ['serve', '--listen', '127.0.0.1:0', '--bogus'],
];

describe('options declared when a command runs (lazy) parse as the eager tree does', () => {
  it.each([...docLines, ...exampleLines, ...tricky].filter((w) => !w.includes('--help')).map((w) => [w.join(' '), w]))('kiboko %s', async (_line, words) => {
    const lazy = await outcome(words as string[], true);
    expect(lazy).toEqual(await outcome(words as string[], false));
    expect(lazy.ran !== undefined || lazy.error !== undefined).toBe(true);
  });

  it('a lazy tree declares only the options of the commands the line runs', async () => {
    const program = buildProgram({ only: 'chaos', lazy: true, dispatch: async () => 0 });
    applyHelp(program);
    const chaos = program.commands.find((c) => c.name() === 'chaos')!;
    const optionCount = (c: Command) => c.options.length;
    const leaves = allCommands(chaos).filter((c) => c.commands.length === 0);
    expect(leaves.length).toBeGreaterThan(15);
    expect(leaves.filter((c) => optionCount(c) > 0).map((c) => c.name())).toEqual([]);
    await program.parseAsync(['chaos', 'kill', 'web'], { from: 'user' });
    const kill = chaos.commands.find((c) => c.name() === 'kill')!;
    expect(optionCount(kill)).toBeGreaterThan(10);
    expect(leaves.filter((c) => c !== kill).map(optionCount).every((n) => n === 0)).toBe(true);
  });
});
