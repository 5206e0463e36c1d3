/** The template parser, a transcription of Go's text/template/parse/parse.go (Go 1.23). */
import { ItemType, Lexer, itemString, type Item } from './lex.js';
import {
  ActionNode,
  BoolNode,
  BreakNode,
  ChainNode,
  CommandNode,
  CommentNode,
  ContinueNode,
  DotNode,
  ElseNode,
  EndNode,
  FieldNode,
  IdentifierNode,
  IfNode,
  ListNode,
  NilNode,
  NumberNode,
  PipeNode,
  RangeNode,
  StringNode,
  TemplateNode,
  TextNode,
  VariableNode,
  WithNode,
  isEmptyTree,
  type Node,
} from './node.js';
import { parseFloat64, parseInt64, parseUint64, quote, unquote, unquoteChar } from './strconv.js';

/** Raised inside the parser; carries Go's complete error text. */
export class ParseFailure extends Error {}

const MAX_STACK_DEPTH = 10000;
const MAX_PIPELINE_CMDS = 100000;

export type FuncNames = { has(name: string): boolean };

export class Tree {
  name: string;
  parseName = '';
  root: ListNode | undefined;
  text = '';
  skipFuncCheck = false;
  // parsing state
  private funcs: FuncNames[] = [];
  private lex: Lexer | undefined;
  private token: Item[] = [];
  private peekCount = 0;
  private vars: string[] = [];
  private treeSet: Map<string, Tree> = new Map();
  private actionLine = 0;
  private rangeDepth = 0;
  private stackDepth = 0;

  constructor(name: string) {
    this.name = name;
  }

  // ---- token stream

  private next(): Item {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.lex!.nextItem();
    return this.token[this.peekCount]!;
  }
  private backup(): void {
    this.peekCount++;
  }
  private backup2(t1: Item): void {
    this.token[1] = t1;
    this.peekCount = 2;
  }
  private backup3(t2: Item, t1: Item): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }
  private peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1]!;
    this.peekCount = 1;
    this.token[0] = this.lex!.nextItem();
    return this.token[0];
  }
  private nextNonSpace(): Item {
    let token: Item;
    do token = this.next();
    while (token.typ === ItemType.Space);
    return token;
  }
  private peekNonSpace(): Item {
    const token = this.nextNonSpace();
    this.backup();
    return token;
  }

  // ---- errors

  errorf(msg: string): never {
    this.root = undefined;
    throw new ParseFailure(`template: ${this.parseName}:${this.token[0]?.line ?? 1}: ${msg}`);
  }

  private expect(expected: ItemType, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== expected) this.unexpected(token, context);
    return token;
  }

  private expectOneOf(e1: ItemType, e2: ItemType, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== e1 && token.typ !== e2) this.unexpected(token, context);
    return token;
  }

  private unexpected(token: Item, context: string): never {
    if (token.typ === ItemType.Error) {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at ${this.parseName}:${this.actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${itemString(token)}${extra}`);
    }
    this.errorf(`unexpected ${itemString(token)} in ${context}`);
  }

  // ---- entry points

  private startParse(funcs: FuncNames[], lex: Lexer, treeSet: Map<string, Tree>): void {
    this.root = undefined;
    this.lex = lex;
    this.vars = ['$'];
    this.funcs = funcs;
    this.treeSet = treeSet;
    this.stackDepth = 0;
    lex.options = {
      emitComment: false,
      breakOK: !this.hasFunction('break'),
      continueOK: !this.hasFunction('continue'),
    };
  }

  private stopParse(): void {
    this.lex = undefined;
    this.vars = [];
    this.funcs = [];
  }

  /** Parses `text`, adding this tree and every {{define}}/{{block}} to treeSet. */
  parse(text: string, leftDelim: string, rightDelim: string, treeSet: Map<string, Tree>, funcs: FuncNames[]): Tree {
    this.parseName = this.name;
    const lexer = new Lexer(this.name, text, leftDelim, rightDelim);
    this.startParse(funcs, lexer, treeSet);
    this.text = text;
    try {
      this.parseTop();
      this.add();
    } finally {
      this.stopParse();
    }
    return this;
  }

  private add(): void {
    const tree = this.treeSet.get(this.name);
    if (!tree || isEmptyTree(tree.root)) {
      this.treeSet.set(this.name, this);
      return;
    }
    if (!isEmptyTree(this.root)) this.errorf(`template: multiple definition of template ${quote(this.name)}`);
  }

  private child(name: string): Tree {
    const t = new Tree(name);
    t.text = this.text;
    t.skipFuncCheck = this.skipFuncCheck;
    t.parseName = this.parseName;
    t.startParse(this.funcs, this.lex!, this.treeSet);
    return t;
  }

  private parseTop(): void {
    this.root = new ListNode(this.peek().pos, this);
    while (this.peek().typ !== ItemType.EOF) {
      if (this.peek().typ === ItemType.LeftDelim) {
        const delim = this.next();
        if (this.nextNonSpace().typ === ItemType.Define) {
          const newT = this.child('definition');
          newT.parseDefinition();
          continue;
        }
        this.backup2(delim);
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${n.toString()}`);
      this.root.nodes.push(n);
    }
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const name = this.expectOneOf(ItemType.String, ItemType.RawString, context);
    try {
      this.name = unquote(name.val);
    } catch (e) {
      this.errorf((e as Error).message);
    }
    this.expect(ItemType.RightDelim, context);
    const { list, next } = this.itemList();
    this.root = list;
    if (next.type !== 'end') this.errorf(`unexpected ${next.toString()} in ${context}`);
    this.add();
    this.stopParse();
  }

  private itemList(): { list: ListNode; next: Node } {
    const list = new ListNode(this.peekNonSpace().pos, this);
    while (this.peekNonSpace().typ !== ItemType.EOF) {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return { list, next: n };
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case ItemType.Text:
        return new TextNode(token.pos, this, token.val);
      case ItemType.LeftDelim:
        this.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      case ItemType.Comment:
        return new CommentNode(token.pos, this, token.val);
      default:
        this.unexpected(token, 'input');
    }
  }

  private action(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case ItemType.Block:
        return this.blockControl();
      case ItemType.Break:
        return this.breakControl(token.pos, token.line);
      case ItemType.Continue:
        return this.continueControl(token.pos, token.line);
      case ItemType.Else:
        return this.elseControl();
      case ItemType.End:
        return this.endControl();
      case ItemType.If:
        return this.ifControl();
      case ItemType.Range:
        return this.rangeControl();
      case ItemType.Template:
        return this.templateControl();
      case ItemType.With:
        return this.withControl();
    }
    this.backup();
    const t = this.peek();
    return new ActionNode(t.pos, this, t.line, this.pipeline('command', ItemType.RightDelim));
  }

  private breakControl(pos: number, line: number): Node {
    const token = this.nextNonSpace();
    if (token.typ !== ItemType.RightDelim) this.unexpected(token, '{{break}}');
    if (this.rangeDepth === 0) this.errorf('{{break}} outside {{range}}');
    return new BreakNode(pos, this, line);
  }

  private continueControl(pos: number, line: number): Node {
    const token = this.nextNonSpace();
    if (token.typ !== ItemType.RightDelim) this.unexpected(token, '{{continue}}');
    if (this.rangeDepth === 0) this.errorf('{{continue}} outside {{range}}');
    return new ContinueNode(pos, this, line);
  }

  private pipeline(context: string, end: ItemType): PipeNode {
    const token = this.peekNonSpace();
    const pipe = new PipeNode(token.pos, this, token.line);
    decls: for (;;) {
      const v = this.peekNonSpace();
      if (v.typ === ItemType.Variable) {
        this.next();
        const tokenAfterVariable = this.peek();
        const next = this.peekNonSpace();
        if (next.typ === ItemType.Assign || next.typ === ItemType.Declare) {
          pipe.isAssign = next.typ === ItemType.Assign;
          this.nextNonSpace();
          pipe.decl.push(new VariableNode(v.pos, this, v.val));
          this.vars.push(v.val);
        } else if (next.typ === ItemType.Char && next.val === ',') {
          this.nextNonSpace();
          pipe.decl.push(new VariableNode(v.pos, this, v.val));
          this.vars.push(v.val);
          if (context === 'range' && pipe.decl.length < 2) {
            const p = this.peekNonSpace().typ;
            if (p === ItemType.Variable || p === ItemType.RightDelim || p === ItemType.RightParen) continue decls;
            this.errorf('range can only initialize variables');
          }
          this.errorf(`too many declarations in ${context}`);
        } else if (tokenAfterVariable.typ === ItemType.Space) {
          this.backup3(v, tokenAfterVariable);
        } else {
          this.backup2(v);
        }
      }
      break;
    }
    for (;;) {
      const token = this.nextNonSpace();
      switch (token.typ) {
        case end:
          this.checkPipeline(pipe, context);
          return pipe;
        case ItemType.Bool:
        case ItemType.CharConstant:
        case ItemType.Complex:
        case ItemType.Dot:
        case ItemType.Field:
        case ItemType.Identifier:
        case ItemType.Number:
        case ItemType.Nil:
        case ItemType.RawString:
        case ItemType.String:
        case ItemType.Variable:
        case ItemType.LeftParen:
          this.backup();
          pipe.cmds.push(this.command());
          if (pipe.cmds.length > MAX_PIPELINE_CMDS) this.errorf('pipeline too long');
          break;
        default:
          this.unexpected(token, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const t = c.args[0]!.type;
      if (t === 'bool' || t === 'dot' || t === 'nil' || t === 'number' || t === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private parseControl(context: 'if' | 'range' | 'with'): {
    pos: number;
    line: number;
    pipe: PipeNode;
    list: ListNode;
    elseList: ListNode | undefined;
  } {
    const nvars = this.vars.length;
    try {
      const pipe = this.pipeline(context, ItemType.RightDelim);
      if (context === 'range') this.rangeDepth++;
      let { list, next } = this.itemList();
      if (context === 'range') this.rangeDepth--;
      let elseList: ListNode | undefined;
      if (next.type === 'else') {
        if (context === 'if' && this.peek().typ === ItemType.If) {
          this.next();
          elseList = new ListNode(next.pos, this);
          elseList.nodes.push(this.ifControl());
        } else if (context === 'with' && this.peek().typ === ItemType.With) {
          this.next();
          elseList = new ListNode(next.pos, this);
          elseList.nodes.push(this.withControl());
        } else {
          ({ list: elseList, next } = this.itemList());
          if (next.type !== 'end') this.errorf(`expected end; found ${next.toString()}`);
        }
      }
      return { pos: pipe.pos, line: pipe.line, pipe, list, elseList };
    } finally {
      this.vars.length = nvars;
    }
  }

  private ifControl(): Node {
    const c = this.parseControl('if');
    return new IfNode(c.pos, this, c.line, c.pipe, c.list, c.elseList);
  }

  private rangeControl(): Node {
    const c = this.parseControl('range');
    return new RangeNode(c.pos, this, c.line, c.pipe, c.list, c.elseList);
  }

  private withControl(): Node {
    const c = this.parseControl('with');
    return new WithNode(c.pos, this, c.line, c.pipe, c.list, c.elseList);
  }

  private endControl(): Node {
    return new EndNode(this.expect(ItemType.RightDelim, 'end').pos, this);
  }

  private elseControl(): Node {
    const peek = this.peekNonSpace();
    if (peek.typ === ItemType.If || peek.typ === ItemType.With) return new ElseNode(peek.pos, this, peek.line);
    const token = this.expect(ItemType.RightDelim, 'else');
    return new ElseNode(token.pos, this, token.line);
  }

  private blockControl(): Node {
    const context = 'block clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    const pipe = this.pipeline(context, ItemType.RightDelim);
    const block = this.child(name);
    const { list, next } = block.itemList();
    block.root = list;
    if (next.type !== 'end') this.errorf(`unexpected ${next.toString()} in ${context}`);
    block.add();
    block.stopParse();
    return new TemplateNode(token.pos, this, token.line, name, pipe);
  }

  private templateControl(): Node {
    const context = 'template clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    let pipe: PipeNode | undefined;
    if (this.nextNonSpace().typ !== ItemType.RightDelim) {
      this.backup();
      pipe = this.pipeline(context, ItemType.RightDelim);
    }
    return new TemplateNode(token.pos, this, token.line, name, pipe);
  }

  private parseTemplateName(token: Item, context: string): string {
    if (token.typ === ItemType.String || token.typ === ItemType.RawString) {
      try {
        return unquote(token.val);
      } catch (e) {
        this.errorf((e as Error).message);
      }
    }
    this.unexpected(token, context);
  }

  private command(): CommandNode {
    const cmd = new CommandNode(this.peekNonSpace().pos, this);
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const token = this.next();
      if (token.typ === ItemType.Space) continue;
      if (token.typ === ItemType.RightDelim || token.typ === ItemType.RightParen) this.backup();
      else if (token.typ !== ItemType.Pipe) this.unexpected(token, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): Node | undefined {
    let node = this.term();
    if (!node) return undefined;
    if (this.peek().typ === ItemType.Field) {
      const chain = new ChainNode(this.peek().pos, this, node);
      while (this.peek().typ === ItemType.Field) chain.add(this.next().val);
      switch (node.type) {
        case 'field':
          node = new FieldNode(chain.pos, this, chain.toString());
          break;
        case 'variable':
          node = new VariableNode(chain.pos, this, chain.toString());
          break;
        case 'bool':
        case 'string':
        case 'number':
        case 'nil':
        case 'dot':
          this.errorf(`unexpected . after term ${quote(node.toString())}`);
        // falls through (errorf never returns)
        default:
          node = chain;
      }
    }
    return node;
  }

  private term(): Node | undefined {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case ItemType.Identifier:
        if (!this.skipFuncCheck && !this.hasFunction(token.val)) {
          this.errorf(`function ${quote(token.val)} not defined`);
        }
        return new IdentifierNode(token.pos, this, token.val);
      case ItemType.Dot:
        return new DotNode(token.pos, this);
      case ItemType.Nil:
        return new NilNode(token.pos, this);
      case ItemType.Variable:
        return this.useVar(token.pos, token.val);
      case ItemType.Field:
        return new FieldNode(token.pos, this, token.val);
      case ItemType.Bool:
        return new BoolNode(token.pos, this, token.val === 'true');
      case ItemType.CharConstant:
      case ItemType.Complex:
      case ItemType.Number:
        return this.newNumber(token.pos, token.val, token.typ);
      case ItemType.LeftParen: {
        if (this.stackDepth >= MAX_STACK_DEPTH) this.errorf('max expression depth exceeded');
        this.stackDepth++;
        try {
          return this.pipeline('parenthesized pipeline', ItemType.RightParen);
        } finally {
          this.stackDepth--;
        }
      }
      case ItemType.String:
      case ItemType.RawString: {
        let s: string;
        try {
          s = unquote(token.val);
        } catch (e) {
          this.errorf((e as Error).message);
        }
        return new StringNode(token.pos, this, token.val, s);
      }
    }
    this.backup();
    return undefined;
  }

  hasFunction(name: string): boolean {
    return this.funcs.some((f) => f.has(name));
  }

  private useVar(pos: number, name: string): Node {
    const v = new VariableNode(pos, this, name);
    if (this.vars.includes(v.ident[0]!)) return v;
    this.errorf(`undefined variable ${quote(v.ident[0]!)}`);
  }

  private newNumber(pos: number, text: string, typ: ItemType): NumberNode {
    const n = new NumberNode(pos, this, text);
    if (typ === ItemType.CharConstant) {
      let r: { value: number; tail: string };
      try {
        r = unquoteChar(text.slice(1), text[0]!);
      } catch (e) {
        this.errorf((e as Error).message);
      }
      if (r.tail !== "'") this.errorf(`malformed character constant: ${text}`);
      n.int64 = BigInt(r.value);
      n.isInt = true;
      n.uint64 = BigInt(r.value);
      n.isUint = true;
      n.float64 = r.value;
      n.isFloat = true;
      return n;
    }
    if (typ === ItemType.Complex) {
      const c = parseComplex(text);
      if (!c) this.errorf(`expected integer`);
      n.isComplex = true;
      n.complex = c;
      simplifyComplex(n);
      return n;
    }
    if (text.length > 0 && text[text.length - 1] === 'i') {
      const f = parseFloat64(text.slice(0, -1));
      if (f !== undefined) {
        n.isComplex = true;
        n.complex = { re: 0, im: f };
        simplifyComplex(n);
        return n;
      }
    }
    const u = parseUint64(text);
    if (u !== undefined) {
      n.isUint = true;
      n.uint64 = u;
    }
    const i = parseInt64(text);
    if (i !== undefined) {
      n.isInt = true;
      n.int64 = i;
      if (i === 0n) {
        n.isUint = true;
        n.uint64 = u ?? 0n;
      }
    }
    if (n.isInt) {
      n.isFloat = true;
      n.float64 = Number(n.int64);
    } else if (n.isUint) {
      n.isFloat = true;
      n.float64 = Number(n.uint64);
    } else {
      const f = parseFloat64(text);
      if (f !== undefined) {
        if (!/[.eEpP]/.test(text)) this.errorf(`integer overflow: ${quote(text)}`);
        n.isFloat = true;
        n.float64 = f;
        if (!n.isInt && Number.isInteger(f) && f >= -(2 ** 63) && f < 2 ** 63) {
          n.isInt = true;
          n.int64 = BigInt(f);
        }
        if (!n.isUint && Number.isFinite(f) && Number.isInteger(f) && f >= 0 && f < 2 ** 64) {
          n.isUint = true;
          n.uint64 = BigInt(f);
        }
      }
    }
    if (!n.isInt && !n.isUint && !n.isFloat) this.errorf(`illegal number syntax: ${quote(text)}`);
    return n;
  }
}

function simplifyComplex(n: NumberNode): void {
  n.isFloat = n.complex.im === 0;
  if (n.isFloat) {
    n.float64 = n.complex.re;
    n.isInt = Number.isInteger(n.float64) && n.float64 >= -(2 ** 63) && n.float64 < 2 ** 63;
    if (n.isInt) n.int64 = BigInt(n.float64);
    n.isUint = Number.isInteger(n.float64) && n.float64 >= 0 && n.float64 < 2 ** 64;
    if (n.isUint) n.uint64 = BigInt(n.float64);
  }
}

/** Parses "1+2i" style complex literals (real part, then a signed imaginary part ending in i). */
function parseComplex(text: string): { re: number; im: number } | undefined {
  for (let i = text.length - 2; i > 0; i--) {
    const c = text[i];
    if ((c === '+' || c === '-') && !/[eEpP]/.test(text[i - 1]!)) {
      const re = parseFloat64(text.slice(0, i));
      const im = parseFloat64(text.slice(i, -1));
      if (re === undefined || im === undefined) return undefined;
      return { re, im };
    }
  }
  return undefined;
}

/** parse.Parse: every tree defined by `text`, keyed by name. */
export function parseTrees(
  name: string,
  text: string,
  leftDelim: string,
  rightDelim: string,
  funcs: FuncNames[],
  skipFuncCheck = false,
): Map<string, Tree> {
  const treeSet = new Map<string, Tree>();
  const t = new Tree(name);
  t.text = text;
  t.skipFuncCheck = skipFuncCheck;
  t.parse(text, leftDelim, rightDelim, treeSet, funcs);
  return treeSet;
}
