import { Command } from 'commander';
import { VERSION } from '../common/version.js';
import { addOptions, ENGINE_OPTIONS } from './command-options.js';
import { declareOnDispatch, registerWith, type Dispatch, type Register } from './register.js';

/** A group of top-level commands as one module defines them; `names` are the commands it defines. */
export interface CommandGroup {
  names: readonly string[];
  /**
   * `words`: the command line, when the tree is built to run it (not for help or docs): a group
   * may then define only the commands it names.
   */
  define: (program: Command, register: Register, words?: readonly string[]) => void;
}

export interface BuildOptions {
  /** A top-level command: build only the group that defines it (an unknown name gets every group). */
  only?: string | undefined;
  /** Stands in for what every command runs (docs, tests). */
  dispatch?: Dispatch;
  /** Declare each command's options only when it runs (./register.ts): for a command line, never for help. */
  lazy?: boolean;
  /** The command line the tree is built to run (never for help): see CommandGroup's define. */
  words?: readonly string[] | undefined;
}

/**
 * The command tree of `groups`; with `only: NAME` (a top-level command) just the group that
 * defines it (and the global engine options): `kiboko chaos kill …` then skips defining the
 * several hundred options of the other commands, which every start would otherwise pay. An
 * unknown name gets every group (for commander's "did you mean"); help lists everything, so main
 * asks for the whole tree whenever help is wanted.
 */
export function buildTree(groups: readonly CommandGroup[], options: BuildOptions = {}): Command {
  const program = new Command('kiboko')
    .description('Run Docker containers well: break them on purpose (chaos), ship them (deploys, the units daemon), check them (images as packages, tests) and keep them configured (templates, events).')
    .version(VERSION, '-v, --version', 'print the version')
    .enablePositionalOptions()
    .showSuggestionAfterError(true);
  addOptions(program, ENGINE_OPTIONS);
  const register = registerWith(options.dispatch, { lazy: options.lazy ?? false });
  const only = options.only === undefined ? undefined : groups.find((g) => g.names.includes(options.only!));
  for (const group of only ? [only] : groups) group.define(program, register, options.words);
  if (options.lazy) declareOnDispatch(program);
  return program;
}
