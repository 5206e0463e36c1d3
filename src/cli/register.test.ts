import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { addOptions, flag, inherited, list, negatable, optional, value, type OptionTable } from './command-options.js';
import { readOptions, registerWith } from './register.js';

/** Parses argv through a program whose `sub` command has `table`, and returns what its run read. */
async function readThrough<T extends OptionTable>(table: T, argv: string[], parentTable: OptionTable = {}) {
  const program = new Command('kiboko').exitOverride().enablePositionalOptions();
  addOptions(program, parentTable);
  let seen: { options: unknown; args: string[] } | undefined;
  const sub = program.command('sub').argument('[names...]').exitOverride();
  registerWith()(sub, table, async (options, args) => {
    seen = { options, args };
    return 0;
  });
  await program.parseAsync(argv, { from: 'user' });
  return seen!;
}

describe('option tables', () => {
  const saved = process.exitCode;
  afterEach(() => {
    process.exitCode = saved;
  });

  it('reads each kind as the table says, with the positional arguments', async () => {
    const table = {
      dryRun: flag('--dry-run', 'd'),
      project: value('-p, --project <name>', 'p'),
      file: list('-f, --file <path>', 'f'),
      fleetSocket: optional('--fleet-socket [path]', 's'),
    };
    const r = await readThrough(table, ['sub', 'x', 'y', '--dry-run', '-p', 'shop', '-f', 'a.yaml', '-f', 'b.yaml', '--fleet-socket']);
    expect(r.options).toEqual({ dryRun: true, project: 'shop', file: ['a.yaml', 'b.yaml'], fleetSocket: true });
    expect(r.args).toEqual(['x', 'y']);
  });

  it('a negatable option is false with --no-X, and the negation keeps its own help line', async () => {
    const table = { build: negatable(flag('--build', 'build'), { help: 'build nothing' }), links: negatable(flag('--links', 'l'), { hidden: true }) };
    expect((await readThrough(table, ['sub', '--no-build', '--no-links'])).options).toEqual({ build: false, links: false });
    const cmd = addOptions(new Command('x'), table);
    expect(cmd.helpInformation()).toContain('--no-build');
    expect(cmd.helpInformation()).not.toContain('--no-links');
  });

  it('merges the ancestors’ options (nearest scalar wins, lists add up) and leaves out what the table does not name', async () => {
    const parent = { label: list('--label <kv>', 'l'), host: value('-H, --host <host>', 'h'), other: flag('--other', 'o') };
    const table = { label: list('--label <kv>', 'l'), host: value('-H, --host <host>', 'h') };
    const r = await readThrough(table, ['--label', 'a=1', '-H', 'one', '--other', 'sub', '--label', 'b=2', '-H', 'two'], parent);
    expect(r.options).toEqual({ label: ['a=1', 'b=2'], host: 'two' });
  });

  it('a local option is the command’s own; an inherited one is read but not declared again', async () => {
    const parent = { host: value('-H, --host <host>', 'engine'), stateDir: value('--state-dir <dir>', 's') };
    const table = { host: value('--host <host>', 'api', { local: true }), stateDir: inherited(parent.stateDir) };
    expect((await readThrough(table, ['-H', 'tcp://engine', '--state-dir', '/s', 'sub'], parent)).options).toEqual({ stateDir: '/s' });
    const cmd = addOptions(new Command('x'), table);
    expect(cmd.options.map((o) => o.long)).toEqual(['--host']);
  });

  it('refuses a table whose key is not the name commander stores the option under', () => {
    expect(() => addOptions(new Command('x'), { dry: flag('--dry-run', 'd') })).toThrow(/--dry-run is stored as dryRun, not dry/);
  });

  it('refuses values of another shape than the table says (a bug in a table, not a user error)', () => {
    const cmd = addOptions(new Command('x'), { limit: flag('--limit', 'l') });
    cmd.setOptionValue('limit', '3');
    expect(() => readOptions(cmd, { limit: flag('--limit', 'l') })).toThrow(/do not match its table/);
  });
});
