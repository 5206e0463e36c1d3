import { CommanderError } from 'commander';
import { asKibokoError, EXIT_CODES, KibokoError } from '../common/errors.js';
import { VERSION } from '../common/version.js';
import { applyHelp } from './help.js';
import { wantsHelp } from './help-args.js';
import { normalizeBoolFlags } from './chaos-bool-flags.js';
import { normalizeConfdFlags } from './confd-flags.js';
import { buildTree, type CommandGroup } from './program-core.js';
import { jsonLine } from '../common/ndjson.js';

/**
 * The CLI edge: parse, call the library, print. Errors are caught here once and printed as one
 * line — message, then the hint after a dash — with a stable exit code per error code.
 */
export async function main(argv: string[], groups: readonly CommandGroup[]): Promise<number> {
  const json = argv.includes('--json') || argv.includes('-j');
  // `kiboko deploy …` needs only the deploy commands (the whole tree for help and anything else).
  const help = wantsHelp(argv);
  const program = buildTree(groups, { only: help ? undefined : argv[0], lazy: !help, words: help ? undefined : argv });
  const helpText = applyHelp(program);
  try {
    // Pumba's (urfave/cli) and confd's (Go flag) spellings, rewritten for commander.
    await program.parseAsync(normalizeConfdFlags(normalizeBoolFlags(argv)), { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const code = reportError(err, argv, json, helpText);
    // fleetctl exits 1 on every error; `kiboko units` does the same so fleetctl scripts keep working.
    return FLEETCTL_EXIT_COMMANDS.has(argv.find((a) => !a.startsWith('-')) ?? '') && code !== 0 ? 1 : code;
  }
}

function reportError(err: unknown, argv: string[], json: boolean, help: ReturnType<typeof applyHelp>): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    const code = report(help.usageError(err), json);
    // lifecycle and test have typed exit codes where 2 means "not declared": usage errors are 3 there.
    return TYPED_EXIT_COMMANDS.has(argv.find((a) => !a.startsWith('-')) ?? '') ? 3 : code;
  }
  return report(asKibokoError(err), json);
}

const TYPED_EXIT_COMMANDS = new Set(['lifecycle', 'test']);
const FLEETCTL_EXIT_COMMANDS = new Set(['units']);

function report(err: KibokoError, json: boolean): number {
  if (json) {
    process.stdout.write(jsonLine('error', 'error', err.message, { error: err.toJSON() }));
  } else {
    process.stderr.write(`kiboko: ${err.message}${err.hint ? ` — ${err.hint}` : ''}\n`);
    if (err.code === 'INTERNAL' && err.cause instanceof Error && process.env.KIBOKO_DEBUG) process.stderr.write(`${err.cause.stack}\n`);
  }
  return EXIT_CODES[err.code];
}

export { VERSION };
