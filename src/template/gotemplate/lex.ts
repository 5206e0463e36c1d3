/**
 * The template lexer, a transcription of Go's text/template/parse/lex.go (Go 1.20+ design: the
 * parser pulls one item at a time). Positions are UTF-16 offsets into the input; error messages
 * convert them to Go's byte-based columns where needed.
 */
import { isPrint, quote } from './strconv.js';

export enum ItemType {
  Error,
  Bool,
  Char,
  CharConstant,
  Comment,
  Complex,
  Assign,
  Declare,
  EOF,
  Field,
  Identifier,
  LeftDelim,
  LeftParen,
  Number,
  Pipe,
  RawString,
  RightDelim,
  RightParen,
  Space,
  String,
  Text,
  Variable,
  // keywords after this
  Keyword,
  Block,
  Break,
  Continue,
  Dot,
  Define,
  Else,
  End,
  If,
  Nil,
  Range,
  Template,
  With,
}

const KEYWORDS: ReadonlyMap<string, ItemType> = new Map([
  ['.', ItemType.Dot],
  ['block', ItemType.Block],
  ['break', ItemType.Break],
  ['continue', ItemType.Continue],
  ['define', ItemType.Define],
  ['else', ItemType.Else],
  ['end', ItemType.End],
  ['if', ItemType.If],
  ['range', ItemType.Range],
  ['nil', ItemType.Nil],
  ['template', ItemType.Template],
  ['with', ItemType.With],
]);

export interface Item {
  typ: ItemType;
  pos: number;
  val: string;
  line: number;
}

/** item.String() as Go prints it inside parse errors. */
export function itemString(i: Item): string {
  if (i.typ === ItemType.EOF) return 'EOF';
  if (i.typ === ItemType.Error) return i.val;
  if (i.typ > ItemType.Keyword) return `<${i.val}>`;
  if ([...i.val].length > 10) return `${quote([...i.val].slice(0, 10).join(''))}...`;
  return quote(i.val);
}

const EOF = -1;
const SPACE_CHARS = ' \t\r\n';
const LEFT_COMMENT = '/*';
const RIGHT_COMMENT = '*/';
const TRIM_MARKER_LEN = 2;

type StateFn = ((l: Lexer) => StateFn) | null;

const isSpace = (r: number): boolean => r === 0x20 || r === 0x09 || r === 0x0d || r === 0x0a;
const LETTER_OR_DIGIT = /^[\p{L}\p{Nd}]$/u;
export const isAlphaNumeric = (r: number): boolean =>
  r === 0x5f || (r >= 0 && LETTER_OR_DIGIT.test(String.fromCodePoint(r)));

function hasLeftTrimMarker(s: string, at: number): boolean {
  return s.length - at >= 2 && s[at] === '-' && isSpace(s.charCodeAt(at + 1));
}
function hasRightTrimMarker(s: string, at: number): boolean {
  return s.length - at >= 2 && isSpace(s.charCodeAt(at)) && s[at + 1] === '-';
}
function countNewlines(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === 0x0a) n++;
  return n;
}

export interface LexOptions {
  emitComment: boolean;
  breakOK: boolean;
  continueOK: boolean;
}

/** "%#U" formatting of a rune for lexer errors: U+0021 '!'. */
function sharpU(r: number): string {
  const hex = r.toString(16).toUpperCase().padStart(4, '0');
  return isPrint(r) ? `U+${hex} '${String.fromCodePoint(r)}'` : `U+${hex}`;
}

export class Lexer {
  name: string;
  input: string;
  leftDelim: string;
  rightDelim: string;
  pos = 0;
  start = 0;
  atEOF = false;
  parenDepth = 0;
  line = 1;
  startLine = 1;
  item: Item;
  insideAction = false;
  options: LexOptions = { emitComment: false, breakOK: true, continueOK: true };

  constructor(name: string, input: string, left: string, right: string) {
    this.name = name;
    this.input = input;
    this.leftDelim = left || '{{';
    this.rightDelim = right || '}}';
    this.item = { typ: ItemType.EOF, pos: 0, val: 'EOF', line: 1 };
  }

  next(): number {
    if (this.pos >= this.input.length) {
      this.atEOF = true;
      return EOF;
    }
    const r = this.input.codePointAt(this.pos)!;
    this.pos += r > 0xffff ? 2 : 1;
    if (r === 0x0a) this.line++;
    return r;
  }

  peek(): number {
    const r = this.next();
    this.backup();
    return r;
  }

  backup(): void {
    if (!this.atEOF && this.pos > 0) {
      let w = 1;
      const c = this.input.charCodeAt(this.pos - 1);
      if (c >= 0xdc00 && c <= 0xdfff && this.pos >= 2) {
        const h = this.input.charCodeAt(this.pos - 2);
        if (h >= 0xd800 && h <= 0xdbff) w = 2;
      }
      this.pos -= w;
      if (c === 0x0a) this.line--;
    }
  }

  thisItem(t: ItemType): Item {
    const i: Item = { typ: t, pos: this.start, val: this.input.slice(this.start, this.pos), line: this.startLine };
    this.start = this.pos;
    this.startLine = this.line;
    return i;
  }

  emit(t: ItemType): StateFn {
    return this.emitItem(this.thisItem(t));
  }

  emitItem(i: Item): StateFn {
    this.item = i;
    return null;
  }

  ignore(): void {
    this.line += countNewlines(this.input, this.start, this.pos);
    this.start = this.pos;
    this.startLine = this.line;
  }

  accept(valid: string): boolean {
    const r = this.next();
    if (r !== EOF && valid.includes(String.fromCodePoint(r))) return true;
    this.backup();
    return false;
  }

  acceptRun(valid: string): void {
    for (;;) {
      const r = this.next();
      if (r === EOF || !valid.includes(String.fromCodePoint(r))) break;
    }
    this.backup();
  }

  errorf(msg: string): StateFn {
    this.item = { typ: ItemType.Error, pos: this.start, val: msg, line: this.startLine };
    this.start = 0;
    this.pos = 0;
    this.input = '';
    return null;
  }

  nextItem(): Item {
    this.item = { typ: ItemType.EOF, pos: this.pos, val: 'EOF', line: this.startLine };
    let state: StateFn = this.insideAction ? lexInsideAction : lexText;
    while (state) state = state(this);
    return this.item;
  }

  atRightDelim(): { delim: boolean; trimSpaces: boolean } {
    if (hasRightTrimMarker(this.input, this.pos) && this.input.startsWith(this.rightDelim, this.pos + TRIM_MARKER_LEN)) {
      return { delim: true, trimSpaces: true };
    }
    if (this.input.startsWith(this.rightDelim, this.pos)) return { delim: true, trimSpaces: false };
    return { delim: false, trimSpaces: false };
  }

  atTerminator(): boolean {
    const r = this.peek();
    if (isSpace(r)) return true;
    switch (r) {
      case EOF:
      case 0x2e: // .
      case 0x2c: // ,
      case 0x7c: // |
      case 0x3a: // :
      case 0x29: // )
      case 0x28: // (
        return true;
    }
    return this.input.startsWith(this.rightDelim, this.pos);
  }

  scanNumber(): boolean {
    this.accept('+-');
    let digits = '0123456789_';
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (this.accept('oO')) digits = '01234567_';
      else if (this.accept('bB')) digits = '01_';
    }
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    this.accept('i');
    if (isAlphaNumeric(this.peek())) {
      this.next();
      return false;
    }
    return true;
  }
}

function rightTrimLength(s: string): number {
  let n = 0;
  while (n < s.length && SPACE_CHARS.includes(s[s.length - 1 - n]!)) n++;
  return n;
}

function leftTrimLength(s: string, from: number): number {
  let n = 0;
  while (from + n < s.length && SPACE_CHARS.includes(s[from + n]!)) n++;
  return n;
}

function lexText(l: Lexer): StateFn {
  const x = l.input.indexOf(l.leftDelim, l.pos);
  if (x >= 0) {
    if (x > l.pos) {
      l.pos = x;
      let trimLength = 0;
      const delimEnd = l.pos + l.leftDelim.length;
      if (hasLeftTrimMarker(l.input, delimEnd)) trimLength = rightTrimLength(l.input.slice(l.start, l.pos));
      l.pos -= trimLength;
      l.line += countNewlines(l.input, l.start, l.pos);
      const i = l.thisItem(ItemType.Text);
      l.pos += trimLength;
      l.ignore();
      if (i.val.length > 0) return l.emitItem(i);
    }
    return lexLeftDelim;
  }
  l.pos = l.input.length;
  if (l.pos > l.start) {
    l.line += countNewlines(l.input, l.start, l.pos);
    return l.emit(ItemType.Text);
  }
  return l.emit(ItemType.EOF);
}

function lexLeftDelim(l: Lexer): StateFn {
  l.pos += l.leftDelim.length;
  const trimSpace = hasLeftTrimMarker(l.input, l.pos);
  const afterMarker = trimSpace ? TRIM_MARKER_LEN : 0;
  if (l.input.startsWith(LEFT_COMMENT, l.pos + afterMarker)) {
    l.pos += afterMarker;
    l.ignore();
    return lexComment;
  }
  const i = l.thisItem(ItemType.LeftDelim);
  l.insideAction = true;
  l.pos += afterMarker;
  l.ignore();
  l.parenDepth = 0;
  return l.emitItem(i);
}

function lexComment(l: Lexer): StateFn {
  l.pos += LEFT_COMMENT.length;
  const x = l.input.indexOf(RIGHT_COMMENT, l.pos);
  if (x < 0) return l.errorf('unclosed comment');
  l.pos = x + RIGHT_COMMENT.length;
  const { delim, trimSpaces } = l.atRightDelim();
  if (!delim) return l.errorf('comment ends before closing delimiter');
  l.line += countNewlines(l.input, l.start, l.pos);
  const i = l.thisItem(ItemType.Comment);
  if (trimSpaces) l.pos += TRIM_MARKER_LEN;
  l.pos += l.rightDelim.length;
  if (trimSpaces) l.pos += leftTrimLength(l.input, l.pos);
  l.ignore();
  if (l.options.emitComment) return l.emitItem(i);
  return lexText;
}

function lexRightDelim(l: Lexer): StateFn {
  const { trimSpaces } = l.atRightDelim();
  if (trimSpaces) {
    l.pos += TRIM_MARKER_LEN;
    l.ignore();
  }
  l.pos += l.rightDelim.length;
  const i = l.thisItem(ItemType.RightDelim);
  if (trimSpaces) {
    l.pos += leftTrimLength(l.input, l.pos);
    l.ignore();
  }
  l.insideAction = false;
  return l.emitItem(i);
}

function lexInsideAction(l: Lexer): StateFn {
  const { delim } = l.atRightDelim();
  if (delim) {
    if (l.parenDepth === 0) return lexRightDelim;
    return l.errorf('unclosed left paren');
  }
  const r = l.next();
  if (r === EOF) return l.errorf('unclosed action');
  if (isSpace(r)) {
    l.backup();
    return lexSpace;
  }
  switch (r) {
    case 0x3d: // =
      return l.emit(ItemType.Assign);
    case 0x3a: // :
      if (l.next() !== 0x3d) return l.errorf('expected :=');
      return l.emit(ItemType.Declare);
    case 0x7c:
      return l.emit(ItemType.Pipe);
    case 0x22:
      return lexQuote;
    case 0x60:
      return lexRawQuote;
    case 0x24:
      return lexVariable;
    case 0x27:
      return lexChar;
    case 0x28:
      l.parenDepth++;
      return l.emit(ItemType.LeftParen);
    case 0x29:
      l.parenDepth--;
      if (l.parenDepth < 0) return l.errorf('unexpected right paren');
      return l.emit(ItemType.RightParen);
  }
  if (r === 0x2e) {
    if (l.pos < l.input.length) {
      const c = l.input.charCodeAt(l.pos);
      if (c < 0x30 || c > 0x39) return lexField;
    }
    l.backup();
    return lexNumber;
  }
  if (r === 0x2b || r === 0x2d || (r >= 0x30 && r <= 0x39)) {
    l.backup();
    return lexNumber;
  }
  if (isAlphaNumeric(r)) {
    l.backup();
    return lexIdentifier;
  }
  if (r <= 0x7f && r >= 0x20 && r !== 0x7f) return l.emit(ItemType.Char);
  return l.errorf(`unrecognized character in action: ${sharpU(r)}`);
}

function lexSpace(l: Lexer): StateFn {
  let numSpaces = 0;
  for (;;) {
    const r = l.peek();
    if (!isSpace(r)) break;
    l.next();
    numSpaces++;
  }
  if (hasRightTrimMarker(l.input, l.pos - 1) && l.input.startsWith(l.rightDelim, l.pos - 1 + TRIM_MARKER_LEN)) {
    l.backup();
    if (numSpaces === 1) return lexRightDelim;
  }
  return l.emit(ItemType.Space);
}

function lexIdentifier(l: Lexer): StateFn {
  for (;;) {
    const r = l.next();
    if (isAlphaNumeric(r)) continue;
    l.backup();
    const word = l.input.slice(l.start, l.pos);
    if (!l.atTerminator()) return l.errorf(`bad character ${sharpU(r)}`);
    const kw = KEYWORDS.get(word);
    if (kw !== undefined && kw > ItemType.Keyword) {
      if ((kw === ItemType.Break && !l.options.breakOK) || (kw === ItemType.Continue && !l.options.continueOK)) {
        return l.emit(ItemType.Identifier);
      }
      return l.emit(kw);
    }
    if (word[0] === '.') return l.emit(ItemType.Field);
    if (word === 'true' || word === 'false') return l.emit(ItemType.Bool);
    return l.emit(ItemType.Identifier);
  }
}

function lexField(l: Lexer): StateFn {
  return lexFieldOrVariable(l, ItemType.Field);
}

function lexVariable(l: Lexer): StateFn {
  if (l.atTerminator()) return l.emit(ItemType.Variable);
  return lexFieldOrVariable(l, ItemType.Variable);
}

function lexFieldOrVariable(l: Lexer, typ: ItemType): StateFn {
  if (l.atTerminator()) {
    return l.emit(typ === ItemType.Variable ? ItemType.Variable : ItemType.Dot);
  }
  let r: number;
  for (;;) {
    r = l.next();
    if (!isAlphaNumeric(r)) {
      l.backup();
      break;
    }
  }
  if (!l.atTerminator()) return l.errorf(`bad character ${sharpU(r)}`);
  return l.emit(typ);
}

function lexChar(l: Lexer): StateFn {
  for (;;) {
    let r = l.next();
    if (r === 0x5c) {
      r = l.next();
      if (r !== EOF && r !== 0x0a) continue;
      return l.errorf('unterminated character constant');
    }
    if (r === EOF || r === 0x0a) return l.errorf('unterminated character constant');
    if (r === 0x27) break;
  }
  return l.emit(ItemType.CharConstant);
}

function lexNumber(l: Lexer): StateFn {
  if (!l.scanNumber()) return l.errorf(`bad number syntax: ${quote(l.input.slice(l.start, l.pos))}`);
  const sign = l.peek();
  if (sign === 0x2b || sign === 0x2d) {
    if (!l.scanNumber() || l.input[l.pos - 1] !== 'i') {
      return l.errorf(`bad number syntax: ${quote(l.input.slice(l.start, l.pos))}`);
    }
    return l.emit(ItemType.Complex);
  }
  return l.emit(ItemType.Number);
}

function lexQuote(l: Lexer): StateFn {
  for (;;) {
    let r = l.next();
    if (r === 0x5c) {
      r = l.next();
      if (r !== EOF && r !== 0x0a) continue;
      return l.errorf('unterminated quoted string');
    }
    if (r === EOF || r === 0x0a) return l.errorf('unterminated quoted string');
    if (r === 0x22) break;
  }
  return l.emit(ItemType.String);
}

function lexRawQuote(l: Lexer): StateFn {
  for (;;) {
    const r = l.next();
    if (r === EOF) return l.errorf('unterminated raw quoted string');
    if (r === 0x60) break;
  }
  return l.emit(ItemType.RawString);
}
