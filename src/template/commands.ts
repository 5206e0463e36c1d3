import { spawn } from 'node:child_process';
import { onAbort } from '../common/abort.js';
import { invalidArgument } from '../common/errors.js';
import { splitQuotedWords } from '../shellwords/index.js';

/**
 * check_cmd and reload_cmd are shell lines the operator wrote in the resource file (confd runs
 * them with `/bin/sh -c`, and so does kiboko). Nothing from the key/value store or a container is
 * ever spliced into them: `{{.src}}` in check_cmd becomes a reference to the positional
 * parameter `$1`, and the staged file's path is passed as that separate argument.
 */
const SRC_ACTION = /^\{\{-?\s*\.src\s*-?\}\}/;

/** Rewrites `{{.src}}` to a correctly quoted `$1` for where it stands (bare, in "…" or in '…'). */
export function checkScript(checkCmd: string, where = 'check_cmd'): string {
  let out = '';
  let quote: '' | "'" | '"' = '';
  for (let i = 0; i < checkCmd.length; i++) {
    const c = checkCmd[i]!;
    if (c === '{' && checkCmd[i + 1] === '{') {
      const m = SRC_ACTION.exec(checkCmd.slice(i));
      if (!m) {
        const end = checkCmd.indexOf('}}', i);
        throw invalidArgument(`unsupported template action in ${where}: ${end < 0 ? checkCmd.slice(i) : checkCmd.slice(i, end + 2)}`, 'check_cmd may use {{.src}} (the staged file) and nothing else');
      }
      out += quote === '' ? '"$1"' : quote === '"' ? '$1' : `'"$1"'`;
      i += m[0].length - 1;
      continue;
    }
    if (c === '\\' && quote !== "'" && i + 1 < checkCmd.length) {
      out += c + checkCmd[++i]!;
      continue;
    }
    if (quote === '' && (c === "'" || c === '"')) quote = c;
    else if (quote !== '' && c === quote) quote = '';
    out += c;
  }
  return out;
}

/** argv for a check: the operator's line run by sh, the staged path as `$1`. */
export function checkArgv(checkCmd: string, stagedPath: string, shell = '/bin/sh'): string[] {
  return [shell, '-c', checkScript(checkCmd), 'kiboko-check', stagedPath];
}

export function reloadArgv(reloadCmd: string, shell = '/bin/sh'): string[] {
  return [shell, '-c', reloadCmd, 'kiboko-reload'];
}

export interface CommandResult {
  exitCode: number | null;
  /** Set when it was killed (timeout, cancel) or died of a signal. */
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  /** Combined stdout and stderr (the last 64 KiB). */
  output: string;
  ms: number;
}

export const commandOk = (r: CommandResult) => r.exitCode === 0 && !r.timedOut && !r.cancelled;

export function describeFailure(what: string, r: CommandResult, timeoutMs: number): string {
  const tail = r.output.trim().split('\n').slice(-3).join(' | ');
  const why = r.timedOut ? `timed out after ${timeoutMs} ms (killed)` : r.cancelled ? 'cancelled' : r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`;
  return `${what} failed: ${why}${tail ? `: ${tail}` : ''}`;
}

export interface RunCommandOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  env?: NodeJS.ProcessEnv;
}

export type CommandRunner = (argv: readonly string[], options: RunCommandOptions) => Promise<CommandResult>;

const OUTPUT_LIMIT = 64 * 1024;

/**
 * Runs argv (no shell of kiboko's own) in a new process group; on timeout or cancel the whole
 * group is killed, so a hung `nginx -t` or a reload script's children do not linger.
 */
export const runCommand: CommandRunner = (argv, options) =>
  new Promise((resolve) => {
    const started = Date.now();
    let output = '';
    let timedOut = false;
    let cancelled = false;
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: options.env ?? process.env });
    const append = (b: Buffer) => {
      output += b.toString('utf8');
      if (output.length > OUTPUT_LIMIT * 2) output = output.slice(-OUTPUT_LIMIT);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    const offAbort = onAbort(options.signal, () => {
      cancelled = true;
      killGroup();
    });
    const finish = (exitCode: number | null, signal: string | null) => {
      clearTimeout(timer);
      offAbort();
      resolve({ exitCode, signal, timedOut, cancelled, output: output.slice(-OUTPUT_LIMIT), ms: Date.now() - started });
    };
    child.on('error', (err) => {
      append(Buffer.from(String(err.message)));
      finish(127, null);
    });
    child.on('close', (code, sig) => finish(code, sig));
  });

/** Splits a command line into words (quotes and backslashes as sh reads them), for containers without a shell. */
export function splitWords(line: string): string[] {
  const { words, unterminated } = splitQuotedWords(line, { escapedInDouble: '"\\$`', escapeOutside: true });
  if (unterminated) throw invalidArgument(`unterminated quote in command: ${line}`, 'close the quote in the resource file');
  return words;
}
