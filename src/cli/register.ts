import type { Command } from 'commander';
import { addOptions, type OptionSpec, type OptionsOf, type OptionTable } from './command-options.js';

/**
 * The one way a command is registered: its option table and what it runs. The action reads the
 * options once (merged with its ancestors', checked against the table) and hands them, typed,
 * to `run` with the positional arguments; what `run` returns is the exit code. `run` loads its
 * module lazily, so defining the tree stays cheap.
 */
export type Register = <T extends OptionTable>(cmd: Command, table: T, run: (options: OptionsOf<T>, args: string[]) => Promise<number>) => Command;

/**
 * Stands in for every command's `run` (the docs and the parsing tests): it gets the command's
 * path (`chaos netem delay`), the options as read and the positional arguments.
 */
export type Dispatch = (path: string, options: OptionsOf<OptionTable>, args: string[]) => Promise<number>;

export function registerWith(dispatch?: Dispatch, options: { lazy?: boolean } = {}): Register {
  return (cmd, table, run) => {
    if (options.lazy) pending.set(cmd, [() => addOptions(cmd, table)]);
    else addOptions(cmd, table);
    return cmd.action(async () => {
      const options = readOptions(cmd, table);
      // Commander keeps a variadic argument as one array: spread it, and leave out absent ones.
      const args = cmd.processedArgs.flat().filter((a): a is string => typeof a === 'string');
      process.exitCode = await (dispatch ? dispatch(pathOf(cmd), options, args) : run(options, args));
    });
  };
}

/**
 * Lazily registered commands (`registerWith(…, { lazy: true })`): what is still to be declared on
 * each, in order. A command line runs one command, yet the tree has several hundred options whose
 * declaration every start would pay (~5 % of `chaos kill`'s instructions): the CLI declares a
 * command's options only when commander dispatches to it (see `declareOnDispatch`), which is
 * before it parses that command's arguments, so parsing is unchanged. Help and the docs build
 * the tree eagerly.
 */
const pending = new WeakMap<Command, (() => void)[]>();

/** Runs `work` on `cmd` once its options are declared: now, or after them when they are deferred. */
export function whenDeclared(cmd: Command, work: () => void): void {
  const later = pending.get(cmd);
  if (later) later.push(work);
  else work();
}

/** Declares what is deferred on `cmd` (idempotent). */
export function declareDeferred(cmd: Command): void {
  const later = pending.get(cmd);
  if (!later) return;
  pending.delete(cmd);
  for (const work of later) work();
}

/**
 * Has every command of the tree declare its deferred options just before commander dispatches to
 * it, and a command about to print its help (a bare group prints its own) declare its whole subtree.
 */
export function declareOnDispatch(root: Command): void {
  declareDeferred(root);
  hookTree(root);
}

function hookTree(cmd: Command): void {
  if (cmd.commands.length === 0) return;
  cmd.hook('preSubcommand', (_parent, sub) => declareDeferred(sub));
  cmd.on('beforeHelp', () => declareTree(cmd));
  for (const sub of cmd.commands) hookTree(sub);
}

function declareTree(cmd: Command): void {
  declareDeferred(cmd);
  for (const sub of cmd.commands) declareTree(sub);
}

/** The command's options as its table declares them, merged with its ancestors' (see mergedOptions). */
export function readOptions<T extends OptionTable>(cmd: Command, table: T): OptionsOf<T> {
  const merged = mergedOptions(cmd);
  const read: Record<string, unknown> = {};
  // In the order commander set them (the debug line of a chaos run prints them so).
  for (const [key, v] of Object.entries(merged)) if (Object.hasOwn(table, key) && !table[key]!.local) read[key] = v;
  for (const [key, spec] of Object.entries(table)) if (spec.local && cmd.getOptionValue(key) !== undefined) read[key] = cmd.getOptionValue(key);
  if (!matchesTable(read, table)) throw new Error(`options of '${pathOf(cmd)}' do not match its table`);
  return read;
}

/** Whether each value has the shape its option's kind gives it (a mismatch is a bug in a table). */
function matchesTable<T extends OptionTable>(read: Record<string, unknown>, table: T): read is OptionsOf<T> {
  return Object.entries(read).every(([key, v]) => fits(table[key]!, v));
}

function fits(spec: OptionSpec, v: unknown): boolean {
  if (v === false) return spec.kind === 'flag' || spec.negation !== undefined;
  switch (spec.kind) {
    case 'flag':
      return v === true;
    case 'value':
      return typeof v === 'string';
    case 'list':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'optional':
      return v === true || typeof v === 'string';
  }
}

/**
 * Options of a command merged with its ancestors' (the chaos globals may sit on either side of
 * the command name); repeatable options are concatenated, scalar ones taken nearest first.
 */
export function mergedOptions(cmd: Command): Record<string, unknown> {
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.unshift(c);
  const out: Record<string, unknown> = {};
  for (const c of chain) {
    for (const [k, v] of Object.entries(c.opts())) {
      if (v === undefined) continue;
      const before = out[k];
      out[k] = Array.isArray(v) && Array.isArray(before) ? [...before, ...v] : v;
    }
  }
  return out;
}

/** `chaos netem delay`: the command's words below the program. */
function pathOf(cmd: Command): string {
  const words: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) words.unshift(c.name());
  return words.join(' ');
}
