import { Option, type Command } from 'commander';
import { KibokoError } from '../common/errors.js';
import { whenDeclared } from './register.js';

/**
 * Every boolean flag of `kiboko chaos` and its commands (Pumba's urfave/cli BoolFlag/BoolTFlag:
 * its scripts write `--pull-image=false`, `--random=true`, `--force=false`).
 */
export const CHAOS_BOOL_FLAGS: ReadonlySet<string> = new Set([
  'random',
  'dry-run',
  'dry',
  'skip-error',
  'json',
  'tls',
  'tlsverify',
  'restart',
  'force',
  'links',
  'volumes',
  'pull-image',
  'inject-cgroup',
  'strict',
]);
const GO_TRUE = ['true', '1', 't'];
const GO_FALSE = ['false', '0', 'f'];

/** A hidden `--no-X` beside every boolean `--X` of the chaos commands, so `--X=false` can say false. */
export function addBoolNegations(root: Command): void {
  for (const c of [root, ...root.commands.flatMap(function all(x: Command): Command[] {
    return [x, ...x.commands.flatMap(all)];
  })]) {
    whenDeclared(c, () => addNegations(c));
  }
}

function addNegations(c: Command): void {
  const longs = new Set(c.options.map((o) => o.long));
  for (const o of [...c.options]) {
    if (o.required || o.optional || o.negate || !o.long) continue;
    const name = o.long.slice(2);
    if (!CHAOS_BOOL_FLAGS.has(name)) continue;
    if (!longs.has(`--no-${name}`)) c.addOption(new Option(`--no-${name}`).hideHelp());
  }
}

/**
 * Rewrites urfave/cli's boolean syntax in `kiboko chaos …` (Pumba scripts): `--X=true|false`
 * (Go's strconv.ParseBool spellings: true/false, 1/0, t/f, any case) becomes the `--X` /
 * `--no-X` commander understands. Only words after `chaos` and before `--` are looked at, and
 * never the value of an option that takes one (`exec -a --force=false` stays as written). As in
 * urfave/cli, a bare `--X` never takes the next word: `--pull-image false` leaves `false` a
 * target name.
 */
export function normalizeBoolFlags(argv: readonly string[]): string[] {
  const at = argv.indexOf('chaos');
  if (at < 0) return [...argv];
  const dashes = argv.indexOf('--', at);
  const end = dashes < 0 ? argv.length : dashes;
  return argv.map((arg, i) => {
    if (i <= at || i >= end) return arg;
    if (VALUE_OPTIONS.has(argv[i - 1]!)) return arg; // the value of the previous option, as written
    const m = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (!m || !CHAOS_BOOL_FLAGS.has(m[1]!)) return arg;
    const v = m[2]!.toLowerCase();
    if (GO_TRUE.includes(v) || v === 'yes') return `--${m[1]}`;
    if (GO_FALSE.includes(v) || v === 'no') return `--no-${m[1]}`;
    throw new KibokoError('INVALID_ARGUMENT', `invalid --${m[1]} '${m[2]}': expected true or false`, { hint: `write --${m[1]}, --${m[1]}=true or --${m[1]}=false` });
  });
}

/** Options of the chaos commands that take a value in the next word (so that word is never rewritten). */
const VALUE_OPTIONS: ReadonlySet<string> = new Set(['-a', '--args', '-s', '--command', '--label', '--stressors', '-u', '--user']);
