import { invalidArgument } from '../common/errors.js';
import { extractWord, isWs, splitWords, WordBuilder } from './unitfile-words.js';

export { splitWords } from './unitfile-words.js';

/**
 * systemd unit files, read the way systemd reads them (conf-parser.c, extract-word.c,
 * load-fragment.c): sections, `Key=Value` with repeats kept in order, `#`/`;` comments, trailing
 * `\` continuations, the Exec command-line syntax and the `%` specifiers. Pure: text in, values
 * out. Where systemd would only warn and skip a malformed line, this refuses it — a deploy tool
 * must not guess.
 */

export interface UnitEntry {
  readonly key: string;
  readonly value: string;
  /** 1-based line where the (possibly continued) assignment starts. */
  readonly line: number;
}

export interface UnitSection {
  readonly name: string;
  readonly line: number;
  readonly entries: readonly UnitEntry[];
}

/** A unit file: its sections in written order (a section name may repeat, as systemd allows). */
export interface UnitFile {
  readonly sections: readonly UnitSection[];
}

/** fleet's API shape of one option (`schema/v1.json` UnitOption). */
export interface UnitOption {
  section: string;
  name: string;
  value: string;
}

const strip = (s: string): string => s.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');

/** True when the text ends in an odd run of backslashes, i.e. a line continuation. */
function endsEscaped(text: string): boolean {
  let n = 0;
  for (let i = text.length - 1; i >= 0 && text[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

const at = (where: string, line: number) => `${where}:${line}`;

/**
 * Parses unit-file text. `where` names the file in error messages (`web.service:7: …`).
 * Comment lines are dropped even inside a continuation; a continuation's `\` becomes a space,
 * as in systemd.
 */
export function parseUnitFile(text: string, where = 'unit file'): UnitFile {
  const sections: { name: string; line: number; entries: UnitEntry[] }[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  let pending: { text: string; line: number } | undefined;

  const logical = (raw: string, line: number) => {
    const l = strip(raw);
    if (l === '') return;
    if (l.startsWith('[')) {
      if (l.length < 3 || !l.endsWith(']')) {
        throw invalidArgument(`${at(where, line)}: invalid section header '${l}'`, 'a section header is [Name] alone on its line, e.g. [Service]');
      }
      sections.push({ name: l.slice(1, -1), line, entries: [] });
      return;
    }
    if (l.startsWith('.include')) {
      throw invalidArgument(`${at(where, line)}: '.include' is not supported`, 'copy the included settings into this unit file');
    }
    const current = sections.at(-1);
    if (!current) {
      throw invalidArgument(`${at(where, line)}: assignment outside of a section: '${l}'`, 'put it under a section header such as [Unit] or [Service]');
    }
    const eq = l.indexOf('=');
    if (eq < 0) throw invalidArgument(`${at(where, line)}: expected Key=Value, got '${l}'`, "add '=' between the setting's name and its value");
    const key = strip(l.slice(0, eq));
    if (key === '') throw invalidArgument(`${at(where, line)}: missing the setting's name before '=' in '${l}'`, 'write Key=Value, e.g. ExecStart=/usr/bin/docker run …');
    current.entries.push({ key, value: strip(l.slice(eq + 1)), line });
  };

  lines.forEach((raw, i) => {
    const lead = raw.replace(/^[ \t\n\r]+/, '');
    if (lead.startsWith('#') || lead.startsWith(';')) return;
    const joined = pending ? pending.text + raw : raw;
    const line = pending ? pending.line : i + 1;
    if (endsEscaped(joined)) {
      pending = { text: `${joined.slice(0, -1)} `, line };
      return;
    }
    pending = undefined;
    logical(joined, line);
  });
  if (pending) logical(pending.text, pending.line);
  return { sections };
}

/**
 * Writes a unit back as text that `parseUnitFile` reads to the same sections, keys and values.
 * Values are read back trimmed (as systemd does). Refuses what a unit file cannot express: line
 * breaks in a name or value, a value ending in an unescaped `\` (it would swallow the next line).
 */
export function serialize(unit: UnitFile): string {
  const out: string[] = [];
  for (const s of unit.sections) {
    if (s.name === '' || /[\r\n]/.test(s.name) || strip(`[${s.name}]`) !== `[${s.name}]`) {
      throw invalidArgument(`cannot write section name ${JSON.stringify(s.name)}`, 'a section name is non-empty, on one line, without surrounding whitespace');
    }
    if (out.length) out.push('');
    out.push(`[${s.name}]`);
    for (const e of s.entries) {
      if (e.key === '' || /[=\r\n]/.test(e.key) || strip(e.key) !== e.key || /^[[#;]/.test(e.key) || e.key.startsWith('.include')) {
        throw invalidArgument(`cannot write setting name ${JSON.stringify(e.key)} in [${s.name}]`, "a setting name is non-empty, on one line, without '=', surrounding whitespace or a leading [ # ;");
      }
      if (/[\r\n]/.test(e.value)) {
        throw invalidArgument(`cannot write ${e.key}= in [${s.name}]: the value has a line break`, 'join the lines with a space (systemd reads a trailing \\ continuation as a space)');
      }
      if (endsEscaped(e.value)) {
        throw invalidArgument(`cannot write ${e.key}= in [${s.name}]: the value ends in a lone backslash`, 'escape it as \\\\ or remove it');
      }
      out.push(`${e.key}=${e.value}`);
    }
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/** Flat fleet-style options, in file order. */
export function toOptions(unit: UnitFile): UnitOption[] {
  return unit.sections.flatMap((s) => s.entries.map((e) => ({ section: s.name, name: e.key, value: e.value })));
}

/** Builds a unit from fleet-style options: sections in order of first appearance (as go-systemd serializes). */
export function fromOptions(options: readonly UnitOption[]): UnitFile {
  const sections = new Map<string, UnitEntry[]>();
  for (const o of options) {
    const list = sections.get(o.section) ?? [];
    list.push({ key: o.name, value: o.value, line: 0 });
    sections.set(o.section, list);
  }
  return { sections: [...sections].map(([name, entries]) => ({ name, line: 0, entries })) };
}

/** Every assignment of a key in every section of that name, in order. */
export function entries(unit: UnitFile, section: string, key: string): UnitEntry[] {
  return unit.sections.filter((s) => s.name === section).flatMap((s) => s.entries.filter((e) => e.key === key));
}

/** A list setting as systemd sees it: an empty assignment (`ExecStartPre=`) clears what came before. */
export function listSetting(unit: UnitFile, section: string, key: string): UnitEntry[] {
  const all = entries(unit, section, key);
  const reset = all.findLastIndex((e) => e.value === '');
  return all.slice(reset + 1);
}

/** A single-valued setting: the last assignment wins. */
export function lastSetting(unit: UnitFile, section: string, key: string): UnitEntry | undefined {
  return entries(unit, section, key).at(-1);
}

// ---------------------------------------------------------------------------------------------
// Exec command lines (load-fragment.c config_parse_exec).

export interface ExecFlags {
  /** `-`: a failing command (or a missing executable) does not fail the unit. */
  readonly ignoreFailure: boolean;
  /** `@`: the second word is argv[0]. */
  readonly separateArgv0: boolean;
  /** `:`: no `$VAR` substitution. */
  readonly noEnvironmentExpansion: boolean;
  /** `+`: full privileges, no sandboxing. */
  readonly fullPrivileges: boolean;
  /** `!`: sandboxing, but no user/group change. */
  readonly noSetuid: boolean;
  /** `!!`: user/group change only through ambient capabilities. */
  readonly ambientCapabilities: boolean;
}

export interface ExecCommand {
  /** The executable as written (specifiers expanded), without prefixes; may be a bare name like `docker`. */
  readonly path: string;
  /** argv, argv[0] included (the path, unless `@` named another). */
  readonly argv: readonly string[];
  readonly flags: ExecFlags;
  /** The prefix characters as written, e.g. `-` or `-@`. */
  readonly prefix: string;
}

export interface ExecParseOptions {
  /** When given, `%` specifiers are expanded in every word (after unquoting, as systemd does). */
  unitName?: string | UnitName | undefined;
  /** Names the place for error messages, e.g. `web.service:7`. */
  where?: string | undefined;
}

function execPrefix(word: string): { flags: ExecFlags; prefix: string; rest: string } {
  let ignoreFailure = false;
  let separateArgv0 = false;
  let noEnvironmentExpansion = false;
  let fullPrivileges = false;
  let noSetuid = false;
  let ambientCapabilities = false;
  let i = 0;
  for (; i < word.length; i++) {
    const c = word[i];
    if (c === '-' && !ignoreFailure) ignoreFailure = true;
    else if (c === '@' && !separateArgv0) separateArgv0 = true;
    else if (c === ':' && !noEnvironmentExpansion) noEnvironmentExpansion = true;
    else if (c === '+' && !fullPrivileges && !noSetuid && !ambientCapabilities) fullPrivileges = true;
    else if (c === '!' && !fullPrivileges && !noSetuid && !ambientCapabilities) noSetuid = true;
    else if (c === '!' && !fullPrivileges && !ambientCapabilities) {
      noSetuid = false;
      ambientCapabilities = true;
    } else break;
  }
  return {
    flags: { ignoreFailure, separateArgv0, noEnvironmentExpansion, fullPrivileges, noSetuid, ambientCapabilities },
    prefix: word.slice(0, i),
    rest: word.slice(i),
  };
}

/**
 * Parses the value of an `Exec…=` setting into its commands (several when separated by a lone
 * `;` word; `\;` is a literal `;` argument). An empty value gives [] — systemd's "reset the list".
 */
export function parseExec(value: string, options: ExecParseOptions = {}): ExecCommand[] {
  const where = options.where ?? 'Exec line';
  const unit = options.unitName === undefined ? undefined : typeof options.unitName === 'string' ? parseUnitName(options.unitName) : options.unitName;
  const expand = (w: string) => (unit ? expandSpecifiers(w, unit, where) : w);
  const commands: ExecCommand[] = [];
  let p = 0;
  let semicolon: boolean;
  do {
    semicolon = false;
    const first = extractWord(value, p, where);
    if (!first) break;
    p = first.next;
    const { flags, prefix, rest } = execPrefix(first.word);
    const path = expand(rest);
    if (path === '') throw invalidArgument(`${where}: empty executable in ${JSON.stringify(value)}`, 'write the program after its prefix, e.g. -/usr/bin/docker rm web');
    const argv: string[] = flags.separateArgv0 ? [] : [path];
    while (p < value.length) {
      if (value[p] === ';' && (p + 1 === value.length || isWs(value[p + 1]))) {
        p++;
        while (isWs(value[p])) p++;
        semicolon = true;
        break;
      }
      if (value[p] === '\\' && value[p + 1] === ';' && (p + 2 === value.length || isWs(value[p + 2]))) {
        argv.push(';');
        p += 2;
        while (isWs(value[p])) p++;
        continue;
      }
      const w = extractWord(value, p, where);
      if (!w) break;
      argv.push(expand(w.word));
      p = w.next;
    }
    if (argv.length === 0) throw invalidArgument(`${where}: '@' needs argv[0] after the executable in ${JSON.stringify(value)}`, 'write @/path/to/program argv0 args…');
    commands.push({ path, argv, flags, prefix });
  } while (semicolon);
  return commands;
}

// ---------------------------------------------------------------------------------------------
// Unit names and specifiers.

const UNIT_TYPES = ['service', 'socket', 'timer', 'path', 'mount', 'automount', 'busname', 'device', 'scope', 'slice', 'snapshot', 'swap', 'target'] as const;

export interface UnitName {
  /** `web@1.service` */
  readonly full: string;
  /** `web` (the part before `@`, or the whole name without suffix) */
  readonly prefix: string;
  /** `1`; '' for a template (`web@.service`); undefined for a plain unit. */
  readonly instance: string | undefined;
  /** `service` */
  readonly type: string;
}

/** Validates a unit name as systemd (and fleet's ValidateName) do and splits it up. */
export function parseUnitName(name: string): UnitName {
  const m = /^([A-Za-z0-9:_.\\-]+)(?:@([A-Za-z0-9:_.\\@-]*))?\.([a-z]+)$/.exec(name);
  if (!m || name.length > 256 || !(UNIT_TYPES as readonly string[]).includes(m[3]!)) {
    throw invalidArgument(
      `invalid unit name '${name}'`,
      `a unit name is letters, digits and : _ . - \\ (at most 256), optionally @instance, then a type suffix such as .service`,
    );
  }
  return { full: name, prefix: m[1]!, instance: m[2], type: m[3]! };
}

/** systemd's unit-name unescaping: `-` is `/`, `\xNN` a byte. */
export function unescapeUnitName(s: string): string {
  const out = new WordBuilder();
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '-') out.push('/');
    else if (c === '\\' && s[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      out.byte(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else out.push(c);
  }
  return out.done();
}

export const SUPPORTED_SPECIFIERS = ['%n', '%N', '%p', '%P', '%i', '%I', '%%'] as const;

/**
 * Expands `%n` (full unit name), `%N` (without the type suffix), `%p` (prefix: before `@`),
 * `%P` (prefix, unescaped), `%i` (instance), `%I` (instance, unescaped) and `%%`. Host-dependent
 * specifiers (`%H`, `%m`, …) are refused: kiboko does not deploy on the machine fleet would have.
 */
export function expandSpecifiers(text: string, unit: string | UnitName, where = 'unit file'): string {
  if (!text.includes('%')) return text;
  const u = typeof unit === 'string' ? parseUnitName(unit) : unit;
  const instance = u.instance ?? '';
  const values: Record<string, string> = {
    n: u.full,
    N: u.full.slice(0, -(u.type.length + 1)),
    p: u.prefix,
    P: unescapeUnitName(u.prefix),
    i: instance,
    I: unescapeUnitName(instance),
    '%': '%',
  };
  // A lone `%` at the very end stays as written.
  return text.replace(/%([\s\S]?)/g, (_, s: string) => {
    if (s === '') return '%';
    const v = values[s];
    if (v === undefined) {
      throw invalidArgument(
        `${where}: unsupported specifier %${s} in ${JSON.stringify(text)}`,
        `kiboko expands ${SUPPORTED_SPECIFIERS.join(' ')}; write the value itself, or %% for a literal %`,
      );
    }
    return v;
  });
}

// ---------------------------------------------------------------------------------------------
// Environment: `Environment=` assignments and `$VAR` / `${VAR}` substitution in Exec lines.

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The variables set by `Environment=` values (in order; an empty value clears them all; later
 * assignments win). Each value is a list of `KEY=VALUE` words, quoted like Exec arguments.
 */
export function parseEnvironment(values: readonly UnitEntry[], options: { unitName?: string | UnitName | undefined; where?: string } = {}): Record<string, string> {
  let env: Record<string, string> = {};
  for (const e of values) {
    const where = `${options.where ?? 'unit file'}:${e.line}`;
    if (e.value === '') {
      env = {};
      continue;
    }
    for (const word of splitWords(e.value, where)) {
      const w = options.unitName === undefined ? word : expandSpecifiers(word, options.unitName, where);
      const eq = w.indexOf('=');
      const name = eq < 0 ? w : w.slice(0, eq);
      if (eq < 0 || !ENV_NAME.test(name)) {
        throw invalidArgument(`${where}: invalid Environment= assignment '${w}'`, 'write NAME=value (quote the whole assignment when the value has spaces: "NAME=a b")');
      }
      env[name] = w.slice(eq + 1);
    }
  }
  return env;
}

/**
 * systemd's substitution in Exec argv: a word that is exactly `$NAME` becomes the variable's value
 * split into words (none if unset); inside words `${NAME}`, `${NAME:-default}`, `${NAME:+alt}` are
 * replaced and `$$` is a literal `$`. Returns the names that were referenced but unset, so callers
 * can refuse instead of silently running with empty values.
 */
export function expandEnvironment(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): { argv: string[]; missing: string[] } {
  const missing = new Set<string>();
  const out: string[] = [];
  for (const word of argv) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (whole) {
      const v = env[whole[1]!];
      if (v === undefined) missing.add(whole[1]!);
      else out.push(...splitWords(v, 'environment', { relax: true }));
      continue;
    }
    out.push(replaceEnv(word, env, missing));
  }
  return { argv: out, missing: [...missing] };
}

function replaceEnv(word: string, env: Readonly<Record<string, string | undefined>>, missing: Set<string>): string {
  // `$$` first, so `$${X}` is a literal `$` followed by `{X}`; a `$` that starts neither stays as written.
  return word.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-+])([^}]*))?\}/g, (_all, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (name === undefined) return '$';
    const v = env[name];
    if (op === ':-') return v ? v : arg ?? '';
    if (op === ':+') return v ? arg ?? '' : '';
    if (v === undefined) missing.add(name);
    return v ?? '';
  });
}
