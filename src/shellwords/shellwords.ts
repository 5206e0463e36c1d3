/**
 * Shell-flavoured text that Compose files carry: command strings split into words, `${VAR:-x}`
 * interpolation, and dotenv files. Each follows what `docker compose` (compose-go) does, and says
 * where kiboko is stricter.
 */
import { invalidArgument } from '../common/errors.js';

const OPERATORS = new Set([';', '&', '|', '<', '>']);
const isBlank = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/**
 * Splits a command string into words the way compose does (mattn/go-shellwords, no env, no
 * backticks): blanks separate words, single quotes are literal, double quotes keep blanks and let
 * a backslash escape the next character, a backslash outside quotes escapes the next character,
 * `$(…)` and `` `…` `` are kept as written. Stricter than compose: an unquoted `;`, `&`, `|`, `<`
 * or `>` is an error, where compose silently drops everything from it on.
 */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let single = false;
  let double = false;
  let backtick = false;
  let dollarParen = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (single) {
      if (c === "'") single = false;
      else word += c;
      continue;
    }
    if (backtick || dollarParen > 0) {
      // Kept as written, escapes included: a shell inside the container expands these.
      if (c === '\\' && i + 1 < line.length) word += c + line[++i]!;
      else word += c;
      if (backtick && c === '`') backtick = false;
      else if (!backtick && c === '(') dollarParen++;
      else if (!backtick && c === ')') dollarParen--;
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= line.length) throw shellError(line, 'ends with a lone backslash');
      word += line[++i]!;
      inWord = true;
      continue;
    }
    if (double) {
      if (c === '"') double = false;
      else word += c;
      continue;
    }
    if (isBlank(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") single = true;
    else if (c === '"') double = true;
    else if (c === '`') {
      backtick = true;
      word += c;
    } else if (c === '(') {
      if (!word.endsWith('$')) throw shellError(line, "has an unquoted '('");
      dollarParen = 1;
      word += c;
    } else if (c === ')') {
      throw shellError(line, "has an unquoted ')'");
    } else if (OPERATORS.has(c)) {
      throw invalidArgument(
        `command ${JSON.stringify(line)} has an unquoted shell operator '${c}'; compose would silently drop everything from it on`,
        `run it through a shell: ["sh", "-c", ${JSON.stringify(line)}], or quote the '${c}'`,
      );
    } else word += c;
  }
  if (single || double) throw shellError(line, 'has an unterminated quote');
  if (backtick || dollarParen > 0) throw shellError(line, 'has an unterminated $( or `');
  if (inWord) words.push(word);
  return words;
}

function shellError(line: string, what: string) {
  return invalidArgument(
    `command ${JSON.stringify(line)} ${what}`,
    'quote arguments that contain blanks or special characters, or write the command as a list',
  );
}

/** Looks a variable up; undefined means unset (which differs from empty for `-`, `?` and `+`). */
export type Lookup = (name: string) => string | undefined;

const NAME = /[_a-zA-Z][_a-zA-Z0-9]*/y;
const OPS = [':-', ':?', ':+', '-', '?', '+'] as const;

/**
 * Compose's variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty),
 * `${VAR-default}` (unset), `${VAR:?message}`, `${VAR?message}`, `${VAR:+alt}`, `${VAR+alt}`,
 * nested in defaults (`${A:-${B}}`), and `$$` for a literal `$`. An unset variable becomes ''.
 * Like compose, any other `$` (`$1`, a trailing `$`, `${}`) is an invalid template. Unlike
 * compose, a default is only evaluated when it is used. `onUnset` hears each unset variable that
 * became '' for want of a default (compose warns about those).
 */
export function interpolate(text: string, lookup: Lookup, onUnset?: (name: string) => void): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
    } else if (next === '{') {
      const close = closingBrace(text, dollar + 2);
      if (close < 0) throw invalidTemplate(text, 'an unclosed ${');
      out += substituteBraced(text.slice(dollar + 2, close), lookup, text, onUnset);
      i = close + 1;
    } else {
      NAME.lastIndex = dollar + 1;
      const m = NAME.exec(text);
      if (!m) throw invalidTemplate(text, `a '$' not followed by a variable name`);
      const value = lookup(m[0]);
      if (value === undefined) onUnset?.(m[0]);
      out += value ?? '';
      i = dollar + 1 + m[0].length;
    }
  }
  return out;
}

function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let j = from; j < text.length; j++) {
    if (text.startsWith('$$', j)) j++;
    else if (text.startsWith('${', j)) {
      depth++;
      j++;
    } else if (text[j] === '}' && --depth === 0) return j;
  }
  return -1;
}

function substituteBraced(body: string, lookup: Lookup, whole: string, onUnset?: (name: string) => void): string {
  NAME.lastIndex = 0;
  const m = NAME.exec(body);
  if (!m) throw invalidTemplate(whole, `\${${body}} is not a variable name`);
  const name = m[0];
  const rest = body.slice(name.length);
  const value = lookup(name);
  if (rest === '') {
    if (value === undefined) onUnset?.(name);
    return value ?? '';
  }
  const op = OPS.find((o) => rest.startsWith(o));
  if (!op) throw invalidTemplate(whole, `\${${body}} has an unknown operator (use :- - :? ? :+ +)`);
  const arg = () => interpolate(rest.slice(op.length), lookup, onUnset);
  const empty = value === undefined || value === '';
  switch (op) {
    case ':-':
      return empty ? arg() : value;
    case '-':
      return value === undefined ? arg() : value;
    case ':+':
      return empty ? '' : arg();
    case '+':
      return value === undefined ? '' : arg();
    case ':?':
    case '?':
      if (op === ':?' ? empty : value === undefined) {
        const why = arg();
        throw invalidArgument(
          `required variable ${name} is missing a value${why ? `: ${why}` : ''}`,
          `set ${name} in the environment or in the project's .env file`,
        );
      }
      return value!;
  }
}

function invalidTemplate(text: string, what: string) {
  return invalidArgument(
    `invalid interpolation format in ${JSON.stringify(text)}: ${what}`,
    'write a literal $ as $$',
  );
}

export interface DotenvProblem {
  line: number;
  message: string;
}

export interface DotenvResult {
  /** In file order; a later duplicate overrides an earlier one. */
  values: Record<string, string>;
  problems: DotenvProblem[];
}

const KEY = /[A-Za-z0-9_.-]+/y;

/**
 * Parses a dotenv file as compose does: `KEY=VALUE` (or `KEY: VALUE`) lines, an optional
 * `export `, `#` comment lines and ` #` trailing comments on unquoted values, single quotes
 * (literal, may span lines), double quotes (`\n \r \t \\ \" \$` escapes, may span lines,
 * interpolated) and unquoted values (trimmed, interpolated). A bare `KEY` takes its value from
 * `lookup`, and is skipped when unset. Interpolation sees `lookup` first, then earlier keys.
 * Every problem is collected with its line.
 */
export function parseDotenv(text: string, lookup: Lookup): DotenvResult {
  const values: Record<string, string> = {};
  const problems: DotenvProblem[] = [];
  const vars: Lookup = (name) => lookup(name) ?? (Object.hasOwn(values, name) ? values[name] : undefined);
  let i = 0;
  let line = 1;
  const advanceTo = (j: number) => {
    for (let k = i; k < j && k < text.length; k++) if (text[k] === '\n') line++;
    i = j;
  };
  const endOfLine = (from: number) => {
    const nl = text.indexOf('\n', from);
    return nl < 0 ? text.length : nl;
  };
  const skipLine = () => advanceTo(endOfLine(i));
  while (i < text.length) {
    const c = text[i]!;
    if (isBlank(c)) {
      advanceTo(i + 1);
      continue;
    }
    if (c === '#') {
      skipLine();
      continue;
    }
    const startLine = line;
    if (/^export[ \t]/.test(text.slice(i, i + 7))) advanceTo(i + 7);
    while (text[i] === ' ' || text[i] === '\t') advanceTo(i + 1);
    KEY.lastIndex = i;
    const key = KEY.exec(text)?.[0];
    if (!key) {
      problems.push({ line: startLine, message: `expected KEY=VALUE, got ${JSON.stringify(text.slice(i, endOfLine(i)).trim())}` });
      skipLine();
      continue;
    }
    advanceTo(i + key.length);
    while (text[i] === ' ' || text[i] === '\t') advanceTo(i + 1);
    const sep = text[i];
    if (sep === undefined || sep === '\n' || sep === '\r' || sep === '#') {
      const inherited = lookup(key);
      if (inherited !== undefined) values[key] = inherited;
      skipLine();
      continue;
    }
    if (sep !== '=' && sep !== ':') {
      problems.push({ line: startLine, message: `unexpected ${JSON.stringify(sep)} after the variable name ${key}; expected KEY=VALUE` });
      skipLine();
      continue;
    }
    advanceTo(i + 1);
    while (text[i] === ' ' || text[i] === '\t') advanceTo(i + 1);
    const quote = text[i];
    let raw: string;
    let expand: boolean;
    if (quote === "'" || quote === '"') {
      const end = closingQuote(text, i + 1, quote);
      if (end < 0) {
        problems.push({ line: startLine, message: `unterminated ${quote === '"' ? 'double' : 'single'}-quoted value of ${key}` });
        advanceTo(text.length);
        break;
      }
      raw = quote === '"' ? unescapeDouble(text.slice(i + 1, end)) : text.slice(i + 1, end);
      expand = quote === '"';
      advanceTo(end + 1);
      const after = text.slice(i, endOfLine(i)).trim();
      if (after !== '' && !after.startsWith('#')) {
        problems.push({ line, message: `unexpected ${JSON.stringify(after)} after the quoted value of ${key}` });
      }
      skipLine();
    } else {
      const eol = endOfLine(i);
      raw = text.slice(i, eol).replace(/(^|[ \t])#.*$/, '').trim();
      expand = true;
      advanceTo(eol);
    }
    try {
      values[key] = expand ? interpolate(raw, vars) : raw;
    } catch (err) {
      problems.push({ line: startLine, message: `${key}: ${(err as Error).message}` });
    }
  }
  return { values, problems };
}

function closingQuote(text: string, from: number, quote: string): number {
  for (let j = from; j < text.length; j++) {
    if (quote === '"' && text[j] === '\\') j++;
    else if (text[j] === quote) return j;
  }
  return -1;
}

/** Double-quoted escapes; `\$` becomes `$$` so interpolation leaves a literal `$`. */
function unescapeDouble(s: string): string {
  return s.replace(/\\(.)/gs, (all, c: string) => {
    switch (c) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case '"':
      case '\\':
        return c;
      case '$':
        return '$$';
      default:
        return all;
    }
  });
}
