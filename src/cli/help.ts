import type { Command, CommanderError } from 'commander';
import { KibokoError } from '../common/errors.js';
import { whenDeclared } from './register.js';
import { commandHelpTable, GLOBAL_OPTION_NAMES, STATE_DIR_HELP, type CommandHelp } from './help-text.js';

/**
 * The help layer, applied to the built program (so the option definitions stay where they are
 * and commands added later get the same treatment): help on bare command groups, the engine/TLS
 * flags shown once under "Global Options" on `kiboko --help`, examples and exit codes after every
 * command's options, `--state-dir` described for what it holds in each family, and usage errors
 * that name the command that failed and point at a help that exists.
 */
export interface HelpLayer {
  /** A commander parse error as a one-line kiboko error: "did you mean" on the same line, the right --help. */
  usageError(err: CommanderError): KibokoError;
}

export function applyHelp(program: Command): HelpLayer {
  let failing: Command = program;
  for (const cmd of [program, ...allCommands(program)]) {
    // The help a bare group prints (commander's "error" help) goes to stdout like any help; parse
    // errors are reported once by main() as a kiboko error, never by commander.
    cmd.configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stdout.write(s),
      getErrHelpWidth: () => (process.stdout.isTTY ? process.stdout.columns : undefined) ?? 80,
      getErrHasColors: () => false,
      outputError: () => undefined,
    });
    cmd.exitOverride((err) => {
      failing = cmd;
      throw err;
    });
    // (a command whose options are declared when it runs: then, as they need them)
    whenDeclared(cmd, () => {
      describeOptions(cmd);
      // written when help is shown: a command that runs never builds it
      cmd.addHelpText('after', () => helpFooter(cmd));
    });
  }
  return {
    usageError(err) {
      const cmd = failing;
      const [message, suggestion] = splitSuggestion(err.message.replace(/^error: /, ''));
      let help = commandPath(cmd);
      // For an unknown command, the suggestion is a sibling command: point at its help.
      if (suggestion && err.code === 'commander.unknownCommand' && cmd.commands.some((c) => c.name() === suggestion)) help = `${help} ${suggestion}`.trim();
      const line = suggestion ? `${message} (did you mean ${suggestion}?)` : message;
      return new KibokoError('INVALID_ARGUMENT', line, { hint: `see \`${['kiboko', help].filter(Boolean).join(' ')} --help\`` });
    },
  };
}

/** Every command below `cmd`, depth first. */
export function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** `chaos netem delay` for that command; '' for the program itself. */
export function commandPath(cmd: Command): string {
  const words: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) words.unshift(c.name());
  return words.join(' ');
}

export function commandHelp(cmd: Command): CommandHelp | undefined {
  return commandHelpTable()[commandPath(cmd)];
}

/** The families whose --state-dir means something; the first word of the command path. */
const family = (cmd: Command): string => commandPath(cmd).split(' ')[0] ?? '';

function describeOptions(cmd: Command): void {
  const root = !cmd.parent;
  for (const opt of cmd.options) {
    const long = opt.long ?? '';
    if (GLOBAL_OPTION_NAMES.includes(long)) {
      if (root) opt.helpGroup('Global Options:');
      else opt.hideHelp();
    } else if (long === '--state-dir') {
      const text = STATE_DIR_HELP[family(cmd)];
      if (text === undefined) opt.hideHelp();
      else opt.description = text;
      if (root) opt.helpGroup('Global Options:');
    }
  }
}

function helpFooter(cmd: Command): string {
  const help = commandHelp(cmd);
  const parts: string[] = [];
  if (help) {
    const width = Math.max(...help.exitCodes.map(([c]) => String(c).length));
    parts.push(
      'Examples:',
      ...help.examples.flatMap(([line, what]) => [`  $ ${line}`, `      ${what}`]),
      '',
      'Exit codes:',
      ...help.exitCodes.map(([code, meaning]) => `  ${String(code).padEnd(width)}  ${meaning}`),
    );
  }
  if (cmd.parent && cmd.options.some((o) => o.long === '--host')) {
    parts.push('', 'Global options (-H/--host, --tls, --tlsverify, --tlscacert, --tlscert, --tlskey): see `kiboko --help`.');
  }
  if (!cmd.parent) parts.push('', 'Run `kiboko COMMAND --help` for a command’s options, examples and exit codes.');
  return parts.length ? `\n${parts.join('\n').replace(/^\n/, '')}` : '';
}

function splitSuggestion(message: string): [string, string | undefined] {
  const m = /^([\s\S]*?)\s*\(Did you mean ([^?]+)\?\)\s*$/.exec(message);
  return m ? [m[1]!.trim(), m[2]!.trim()] : [message.trim(), undefined];
}

