import { CommanderError, type Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { splitShellWords } from '../shellwords/index.js';
import { documentedProgram } from './cli-docs.js';
import { allCommands, applyHelp, commandPath } from './help.js';
import { commandHelpTable, GLOBAL_OPTION_NAMES } from './help-text.js';
import { buildProgram, normalizeBoolFlags } from './program.js';

/** Every command a user can type (commander's implicit `help` excepted), with its path. */
function registered(program: Command): Command[] {
  return [program, ...allCommands(program)].filter((c) => c.name() !== 'help');
}

/** What `--help` prints for one command (its footer included), without running anything. */
function fullHelp(cmd: Command): string {
  let text = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    text += String(s);
    return true;
  });
  try {
    cmd.outputHelp();
  } finally {
    spy.mockRestore();
  }
  return text;
}

const helpOf = (program: Command, path: string): string => {
  let cmd = program;
  for (const w of path.split(' ').filter(Boolean)) cmd = cmd.commands.find((c) => c.name() === w)!;
  return fullHelp(cmd);
};

/** Option lines listing a flag (`--tls` is not `--tlsverify`). */
const count = (text: string, flag: string) => (text.match(new RegExp(`^\\s+(-\\w, )?${flag}(?![\\w-])`, 'gm')) ?? []).length;

describe('help text table', () => {
  const program = documentedProgram();

  it('every registered command has 1–3 examples and its exit codes', () => {
    const missing: string[] = [];
    for (const cmd of registered(program)) {
      const path = commandPath(cmd);
      const h = commandHelpTable()[path];
      if (!h) {
        missing.push(path || '(kiboko)');
        continue;
      }
      expect(h.examples.length, path).toBeGreaterThanOrEqual(1);
      expect(h.examples.length, path).toBeLessThanOrEqual(3);
      expect(h.exitCodes.some(([c]) => c === 0), `${path}: exit 0 is documented`).toBe(true);
      expect(new Set(h.exitCodes.map(([c]) => c)).size, `${path}: no duplicate codes`).toBe(h.exitCodes.length);
    }
    expect(missing, 'add these commands to src/cli/help-text.ts').toEqual([]);
  });

  it('names no command that does not exist', () => {
    const paths = new Set(registered(program).map(commandPath));
    expect(Object.keys(commandHelpTable()).filter((p) => !paths.has(p))).toEqual([]);
  });

  it("every example parses against the real program and reaches a command under the example's own path", async () => {
    const parsed = buildProgram({ dispatch: async () => 0 });
    applyHelp(parsed);
    let reached = '';
    for (const cmd of allCommands(parsed)) if (cmd.commands.length === 0) cmd.action(() => void (reached = commandPath(cmd)));
    for (const [path, h] of Object.entries(commandHelpTable())) {
      for (const [line] of h.examples) {
        const words = splitShellWords(line);
        expect(words[0], line).toBe('kiboko');
        reached = '';
        await parsed.parseAsync(normalizeBoolFlags(words.slice(1)), { from: 'user' }).catch((err: unknown) => {
          throw new Error(`${line}: ${err instanceof Error ? err.message : String(err)}`);
        });
        expect(reached, line).not.toBe('');
        expect(`${reached} `.startsWith(path ? `${path} ` : ''), `${line} reaches ${reached}, outside ${path || 'kiboko'}`).toBe(true);
      }
    }
  });
});

describe('help output', () => {
  const program = documentedProgram();

  it('shows the engine/TLS flags once, under Global Options, on kiboko --help', () => {
    const root = helpOf(program, '');
    expect(root).toMatch(/Global Options:\n\s+-H, --host <host>/);
    for (const flag of GLOBAL_OPTION_NAMES) expect(count(root, flag), flag).toBe(1);
    expect(root).toContain('Examples:');
    expect(root).toContain('Exit codes:');
  });

  it('leaves them out of every subcommand help, with a pointer to kiboko --help', () => {
    for (const cmd of registered(program).slice(1)) {
      const text = fullHelp(cmd);
      const options = text.slice(0, text.indexOf('\nExamples:'));
      for (const flag of GLOBAL_OPTION_NAMES) expect(count(options, flag), `${commandPath(cmd)} shows ${flag}`).toBe(0);
      if (cmd.options.some((o) => o.long === '--host')) expect(text, commandPath(cmd)).toContain('Global options (-H/--host, --tls, --tlsverify, --tlscacert, --tlscert, --tlskey): see `kiboko --help`.');
      expect(text, commandPath(cmd)).toContain('Examples:\n  $ kiboko ');
      expect(text, commandPath(cmd)).toMatch(/Exit codes:\n\s+0 /);
    }
  });

  it('keeps the global flags working on subcommands (hidden from help, not removed)', async () => {
    const p = buildProgram({ dispatch: async () => 0 });
    applyHelp(p);
    let seen: Record<string, unknown> = {};
    const kill = p.commands.find((c) => c.name() === 'chaos')!.commands.find((c) => c.name() === 'kill')!;
    kill.action((_args: unknown, _o: unknown, c: Command) => void (seen = c.opts()));
    await p.parseAsync(['chaos', 'kill', '-H', 'tcp://127.0.0.1:1', '--tlsverify', '--state-dir', '/tmp/x', 'web-1'], { from: 'user' });
    expect(seen).toMatchObject({ host: 'tcp://127.0.0.1:1', tlsverify: true, stateDir: '/tmp/x' });
  });

  it('describes --state-dir for what it holds in each family, and hides it where nothing is kept', () => {
    expect(helpOf(program, 'chaos kill')).toMatch(/--state-dir <dir>\s+holds the restore journal/);
    expect(helpOf(program, 'deploy apply')).toMatch(/--state-dir <dir>\s+holds the deploy history/);
    expect(helpOf(program, 'serve')).toMatch(/--state-dir <dir>\s+holds the token \(serve\.token\)/);
    expect(helpOf(program, 'units start')).toMatch(/--state-dir <dir>\s+the daemon’s state directory/);
    expect(helpOf(program, 'doctor')).not.toContain('--state-dir');
    expect(helpOf(program, 'template')).not.toContain('--state-dir');
    expect(helpOf(program, 'chaos kill')).not.toContain('where the restore journal lives');
  });
});

describe('bare command groups and usage errors', () => {
  let out = '';
  beforeEach(() => {
    out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out += String(s);
      return true;
    });
  });
  afterEach(() => vi.restoreAllMocks());

  const parse = async (argv: string[]) => {
    const p = buildProgram({ dispatch: async () => 0 });
    const layer = applyHelp(p);
    try {
      await p.parseAsync(argv, { from: 'user' });
      return { layer, err: undefined };
    } catch (err) {
      if (!(err instanceof CommanderError)) throw err;
      return { layer, err };
    }
  };

  it.each([[[]], [['chaos']], [['deploy']], [['units']], [['chaos', 'netem']], [['chaos', 'iptables']]])('`kiboko %j` prints its help on stdout', async (argv) => {
    const { err } = await parse(argv);
    expect(err?.code).toBe('commander.help');
    expect(out).toContain(`Usage: ${['kiboko', ...argv].join(' ')} [options] [command]`);
    expect(out).toContain('Examples:');
  });

  it('puts "did you mean" on the same line and points at the suggested command’s help', async () => {
    const { layer, err } = await parse(['chaos', 'kil', 'web-1']);
    const e = layer.usageError(err!);
    expect(`${e.message} — ${e.hint}`).toBe("unknown command 'kil' (did you mean kill?) — see `kiboko chaos kill --help`");
  });

  it('points an unknown option at the help of the command that refused it', async () => {
    const { layer, err } = await parse(['chaos', 'netem', '-d', '1s', 'delay', '--jiter', '5', 'web-1']);
    const e = layer.usageError(err!);
    expect(`${e.message} — ${e.hint}`).toBe("unknown option '--jiter' (did you mean --jitter?) — see `kiboko chaos netem delay --help`");
  });

  it('without a suggestion, points at the nearest help that exists', async () => {
    const { layer, err } = await parse(['deploy', 'frobnicate']);
    const e = layer.usageError(err!);
    expect(e.message).not.toContain('\n');
    expect(e.hint).toBe('see `kiboko deploy --help`');
  });
});
