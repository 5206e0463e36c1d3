/**
 * A fast reader for the plain YAML most compose files are written in: block mappings and
 * sequences, one-line scalars (plain, or quoted without escapes) and one-line flow sequences of
 * them. It builds the same located tree as the full parser (./yaml.ts) — the same values, lines
 * and paths — at a fraction of the cost: the `yaml` package's lexer, parser and composer were most
 * of a 100-service file's load (a CPU profile of `deploy plan`: ~116 of ~350 ms).
 *
 * It gives up (returns undefined, and the full parser reads the file) at anything it does not
 * handle exactly as the full parser would: anchors, aliases, tags, merge keys, block scalars,
 * multi-line scalars, escapes, empty values, duplicate keys, tabs, documents markers, any doubt.
 * So every error message still comes from the full parser. `yaml-plain.test.ts` checks that both
 * readers agree on the compose corpus and on generated files.
 *
 * Strings are returned as written: the caller interpolates them (./yaml.ts), in document order.
 */
import type { Loc } from './problems.js';
import { childPath, itemPath, type Entry, type MapNode, type Node, type ScalarNode, type SeqNode } from './yaml-nodes.js';

/** A content line: its 1-based number, its indentation and the text after it. */
interface Line {
  no: number;
  indent: number;
  text: string;
}

/** Why a reader stopped: the full parser takes over. */
class GiveUp extends Error {}
const giveUp = (): never => {
  throw new GiveUp();
};

/** Plain scalars the YAML 1.2 core schema types (null, booleans, numbers), as the `yaml` package tests them. */
const CORE_TYPED = [
  /^(?:~|[Nn]ull|NULL)?$/,
  /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/,
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
  /^0o[0-7]+$/,
  /^[-+]?[0-9]+$/,
  /^0x[0-9a-fA-F]+$/,
];
/** First characters a core-typed scalar can start with (its patterns above); most keys and values start with none. */
const TYPED_START = /^[~NnTtFf.+\-0-9]/;
function isCoreTyped(s: string): boolean {
  if (s !== '' && !TYPED_START.test(s)) return false;
  for (const re of CORE_TYPED) if (re.test(s)) return true;
  return false;
}

/** A plain key (quoted keys are read apart); what follows the colon is a value or nothing. */
const KEY = /^([A-Za-z0-9_./][A-Za-z0-9_./-]*):(?: +(.*))?$/;
const QUOTED_KEY = /^("[^"\\]*"|'(?:[^']|'')*'):(?: +(.*))?$/;
/** Characters a plain scalar may not start with here (indicators, quotes handled apart). */
const PLAIN_START = /^[-?:,\]{}#&*!|>%@`]/;

/** The file as a located tree with strings not yet interpolated, or undefined when the full parser must read it. */
export function readPlainYaml(text: string, file: string, budget: number): MapNode | undefined {
  const lines = contentLines(text);
  if (!lines || lines.length === 0 || lines[0]!.indent !== 0) return undefined;
  const reader = new Reader(lines, file, budget);
  try {
    const root = reader.block(0, '', 0);
    if (reader.at < lines.length || root.kind !== 'map') return undefined;
    return root;
  } catch (err) {
    if (err instanceof GiveUp) return undefined;
    throw err;
  }
}

/** The lines that hold content (no blanks, no comment lines), or undefined at what this reader never handles (tabs, CR, a BOM, control and other line-break characters, document markers). */
function contentLines(text: string): Line[] | undefined {
  if (/[\t\r\uFEFF\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85\u2028\u2029]/.test(text)) return undefined;
  const out: Line[] = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const line = raw[i]!;
    const body = line.trimStart();
    if (body === '' || body.startsWith('#')) continue;
    if (line.startsWith('---') || line.startsWith('...') || line.startsWith('%')) return undefined;
    out.push({ no: i + 1, indent: line.length - body.length, text: body.trimEnd() });
  }
  return out;
}

class Reader {
  at = 0;
  constructor(
    private readonly lines: readonly Line[],
    private readonly file: string,
    private budget: number,
  ) {}

  private loc(line: number, path: string): Loc {
    return { file: this.file, line, path };
  }

  private count(depth: number): void {
    if (--this.budget < 0 || depth > 64) giveUp();
  }

  /** The collection starting at the current line, whose indentation is `indent`. */
  block(indent: number, path: string, depth: number): Node {
    const first = this.lines[this.at]!;
    if (first.indent !== indent) giveUp();
    return isItem(first.text) ? this.seq(indent, path, depth) : this.map(indent, path, depth);
  }

  private map(indent: number, path: string, depth: number): MapNode {
    this.count(depth);
    const entries = new Map<string, Entry>();
    const node: MapNode = { kind: 'map', entries, loc: this.loc(this.lines[this.at]!.no, path), tag: undefined };
    while (this.at < this.lines.length) {
      const line = this.lines[this.at]!;
      if (line.indent < indent) break;
      if (line.indent > indent || isItem(line.text)) giveUp();
      const { key, rest } = splitKey(line.text);
      if (entries.has(key)) giveUp(); // a duplicate: the full parser reports it
      const keyLoc = this.loc(line.no, childPath(path, key));
      this.at++;
      entries.set(key, { key, keyLoc, value: this.valueOf(rest, line, keyLoc.path, depth) });
    }
    return node;
  }

  /** The value after `key:` on `line`: on the same line, or the block below it (a sequence may sit at the key's own indentation). */
  private valueOf(rest: string, line: Line, path: string, depth: number): Node {
    if (rest !== '') {
      const value = this.inline(rest, line.no, path, depth + 1);
      this.expectNoContinuation(line.indent);
      return value;
    }
    const next = this.lines[this.at];
    if (next && (next.indent > line.indent || (next.indent === line.indent && isItem(next.text)))) {
      return this.block(next.indent, path, depth + 1);
    }
    return giveUp(); // an empty value: the full parser decides what it is
  }

  private seq(indent: number, path: string, depth: number): SeqNode {
    this.count(depth);
    const items: Node[] = [];
    const node: SeqNode = { kind: 'seq', items, loc: this.loc(this.lines[this.at]!.no, path), tag: undefined };
    while (this.at < this.lines.length) {
      const line = this.lines[this.at]!;
      if (line.indent < indent || (line.indent === indent && !isItem(line.text))) break;
      if (line.indent > indent) giveUp();
      const rest = line.text.slice(1).trimStart();
      // `- key: value` (a mapping in the list), `- - x`, `-` alone: the full parser reads those.
      if (rest === '' || rest.startsWith('#') || isItem(rest) || KEY.test(rest) || QUOTED_KEY.test(rest)) giveUp();
      this.at++;
      items.push(this.inline(rest, line.no, itemPath(path, items.length), depth + 1));
      this.expectNoContinuation(indent);
    }
    return node;
  }

  /** A line indented deeper after a one-line value would continue it (a multi-line scalar): not handled here. */
  private expectNoContinuation(indent: number): void {
    const next = this.lines[this.at];
    if (next && next.indent > indent) giveUp();
  }

  /** A value written on one line: a quoted or plain scalar, or a flow sequence `[a, "b"]`. */
  private inline(text: string, lineNo: number, path: string, depth: number): Node {
    this.count(depth);
    const loc = this.loc(lineNo, path);
    if (text.startsWith('[')) return this.flowSeq(text, loc, depth);
    const { node, after } = readScalar(text, false, loc);
    if (!endsLine(after)) giveUp();
    return node;
  }

  private flowSeq(text: string, loc: Loc, depth: number): SeqNode {
    const items: Node[] = [];
    let rest = text.slice(1).trimStart();
    if (rest.startsWith(']')) rest = rest.slice(1);
    else {
      for (;;) {
        this.count(depth + 1);
        const { node, after } = readScalar(rest, true, { ...loc, path: itemPath(loc.path, items.length) });
        items.push(node);
        const m = /^ *([,\]])/.exec(after) ?? giveUp();
        rest = after.slice(m[0].length);
        if (m[1] === ']') break;
        rest = rest.trimStart();
      }
    }
    if (!endsLine(rest)) giveUp();
    return { kind: 'seq', items, loc, tag: undefined };
  }
}

const isItem = (text: string): boolean => text === '-' || text.startsWith('- ');

/** What may follow a value on its line: nothing, or a comment after spaces (`/^(?: +#.*)?$/`: a line holds no line break). */
function endsLine(after: string): boolean {
  if (after === '') return true;
  let i = 0;
  while (after.charCodeAt(i) === 32) i++;
  return i > 0 && after.charCodeAt(i) === 35;
}

/** `key: rest` → the key and what follows (a comment alone counts as nothing). */
function splitKey(text: string): { key: string; rest: string } {
  const m = KEY.exec(text) ?? QUOTED_KEY.exec(text) ?? giveUp();
  const written = m[1]!;
  let key: string;
  if (written.startsWith('"')) key = written.slice(1, -1);
  else if (written.startsWith("'")) key = written.slice(1, -1).replaceAll("''", "'");
  else if (isCoreTyped(written)) return giveUp(); // `1:`, `true:`: typed keys, left to the full parser
  else key = written;
  const rest = m[2] ?? '';
  return { key, rest: rest.startsWith('#') ? '' : rest };
}

/** One scalar at the start of `text`, located at `loc`, and the text after it. */
function readScalar(text: string, inFlow: boolean, loc: Loc): { node: ScalarNode; after: string } {
  const q = text[0];
  if (q === '"' || q === "'") {
    const end = q === '"' ? /^"([^"\\]*)"/.exec(text) : /^'((?:[^']|'')*)'/.exec(text);
    if (!end) return giveUp(); // an escape, or a string that goes on to the next line
    const value = q === '"' ? end[1]! : end[1]!.replaceAll("''", "'");
    return { node: { kind: 'scalar', value, tag: undefined, loc }, after: text.slice(end[0].length) };
  }
  if (PLAIN_START.test(text) || text.startsWith('[')) giveUp();
  // A plain scalar ends at ` #` (a comment), and in a flow sequence at `,` or `]`.
  let written: string;
  if (inFlow) written = /^[^,\]\[{}#:]*/.exec(text)![0].trimEnd();
  else {
    const comment = text.indexOf(' #');
    written = (comment < 0 ? text : text.slice(0, comment)).trimEnd();
  }
  if (written === '' || written.includes(': ') || written.endsWith(':')) giveUp();
  return { node: plainScalar(written, loc), after: text.slice(written.length) };
}

/** A plain scalar typed as the core schema does it, for the cases read here; others are left to the full parser. */
function plainScalar(written: string, loc: Loc): ScalarNode {
  if (!isCoreTyped(written)) return { kind: 'scalar', value: written, tag: undefined, loc };
  if (/^-?[0-9]{1,15}$/.test(written)) return { kind: 'scalar', value: Number(written), raw: written, tag: undefined, loc };
  if (written === 'true' || written === 'false') return { kind: 'scalar', value: written === 'true', raw: written, tag: undefined, loc };
  return giveUp();
}
