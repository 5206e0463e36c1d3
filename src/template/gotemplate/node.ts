/** The parse tree of Go's text/template/parse/node.go, with the same String() renderings. */
import { quote } from './strconv.js';

export type Node =
  | TextNode
  | CommentNode
  | ActionNode
  | PipeNode
  | CommandNode
  | IdentifierNode
  | VariableNode
  | DotNode
  | NilNode
  | FieldNode
  | ChainNode
  | BoolNode
  | NumberNode
  | StringNode
  | EndNode
  | ElseNode
  | IfNode
  | RangeNode
  | WithNode
  | TemplateNode
  | BreakNode
  | ContinueNode
  | ListNode;

/** What every node knows: its kind, its position and the tree (for error locations). */
export interface TreeRef {
  readonly name: string;
  readonly parseName: string;
  readonly text: string;
}

abstract class Base {
  constructor(
    readonly pos: number,
    readonly tree: TreeRef,
  ) {}
  abstract toString(): string;
}

export class ListNode extends Base {
  readonly type = 'list';
  nodes: Node[] = [];
  toString(): string {
    return this.nodes.map((n) => n.toString()).join('');
  }
}

export class TextNode extends Base {
  readonly type = 'text';
  constructor(
    pos: number,
    tree: TreeRef,
    readonly text: string,
  ) {
    super(pos, tree);
  }
  toString(): string {
    return this.text;
  }
}

export class CommentNode extends Base {
  readonly type = 'comment';
  constructor(
    pos: number,
    tree: TreeRef,
    readonly text: string,
  ) {
    super(pos, tree);
  }
  toString(): string {
    return `{{${this.text}}}`;
  }
}

export class PipeNode extends Base {
  readonly type = 'pipe';
  isAssign = false;
  decl: VariableNode[] = [];
  cmds: CommandNode[] = [];
  constructor(
    pos: number,
    tree: TreeRef,
    readonly line: number,
  ) {
    super(pos, tree);
  }
  toString(): string {
    let s = '';
    if (this.decl.length > 0) {
      s += this.decl.map((v) => v.toString()).join(', ');
      s += this.isAssign ? ' = ' : ' := ';
    }
    return s + this.cmds.map((c) => c.toString()).join(' | ');
  }
}

export class ActionNode extends Base {
  readonly type = 'action';
  constructor(
    pos: number,
    tree: TreeRef,
    readonly line: number,
    readonly pipe: PipeNode,
  ) {
    super(pos, tree);
  }
  toString(): string {
    return `{{${this.pipe.toString()}}}`;
  }
}

export class CommandNode extends Base {
  readonly type = 'command';
  args: Node[] = [];
  toString(): string {
    return this.args.map((a) => (a.type === 'pipe' ? `(${a.toString()})` : a.toString())).join(' ');
  }
}

export class IdentifierNode extends Base {
  readonly type = 'identifier';
  constructor(
    pos: number,
    tree: TreeRef,
    readonly ident: string,
  ) {
    super(pos, tree);
  }
  toString(): string {
    return this.ident;
  }
}

export class VariableNode extends Base {
  readonly type = 'variable';
  readonly ident: string[];
  constructor(pos: number, tree: TreeRef, ident: string) {
    super(pos, tree);
    this.ident = ident.split('.');
  }
  toString(): string {
    return this.ident.join('.');
  }
}

export class DotNode extends Base {
  readonly type = 'dot';
  toString(): string {
    return '.';
  }
}

export class NilNode extends Base {
  readonly type = 'nil';
  toString(): string {
    return 'nil';
  }
}

export class FieldNode extends Base {
  readonly type = 'field';
  readonly ident: string[];
  constructor(pos: number, tree: TreeRef, ident: string) {
    super(pos, tree);
    this.ident = ident.slice(1).split('.');
  }
  toString(): string {
    return this.ident.map((id) => `.${id}`).join('');
  }
}

export class ChainNode extends Base {
  readonly type = 'chain';
  field: string[] = [];
  constructor(
    pos: number,
    tree: TreeRef,
    readonly node: Node,
  ) {
    super(pos, tree);
  }
  add(field: string): void {
    if (field.length === 0 || field[0] !== '.') throw new Error('no dot in field');
    field = field.slice(1);
    if (field === '') throw new Error('empty field');
    this.field.push(field);
  }
  toString(): string {
    const head = this.node.type === 'pipe' ? `(${this.node.toString()})` : this.node.toString();
    return head + this.field.map((f) => `.${f}`).join('');
  }
}

export class BoolNode extends Base {
  readonly type = 'bool';
  constructor(
    pos: number,
    tree: TreeRef,
    readonly value: boolean,
  ) {
    super(pos, tree);
  }
  toString(): string {
    return this.value ? 'true' : 'false';
  }
}

export class NumberNode extends Base {
  readonly type = 'number';
  isInt = false;
  isUint = false;
  isFloat = false;
  isComplex = false;
  int64 = 0n;
  uint64 = 0n;
  float64 = 0;
  complex: { re: number; im: number } = { re: 0, im: 0 };
  constructor(
    pos: number,
    tree: TreeRef,
    readonly text: string,
  ) {
    super(pos, tree);
  }
  toString(): string {
    return this.text;
  }
}

export class StringNode extends Base {
  readonly type = 'string';
  constructor(
    pos: number,
    tree: TreeRef,
    readonly quoted: string,
    readonly text: string,
  ) {
    super(pos, tree);
  }
  toString(): string {
    return this.quoted;
  }
}

export class EndNode extends Base {
  readonly type = 'end';
  toString(): string {
    return '{{end}}';
  }
}

export class ElseNode extends Base {
  readonly type = 'else';
  constructor(
    pos: number,
    tree: TreeRef,
    readonly line: number,
  ) {
    super(pos, tree);
  }
  toString(): string {
    return '{{else}}';
  }
}

abstract class BranchBase extends Base {
  constructor(
    pos: number,
    tree: TreeRef,
    readonly line: number,
    readonly pipe: PipeNode,
    readonly list: ListNode,
    readonly elseList: ListNode | undefined,
  ) {
    super(pos, tree);
  }
  protected branch(name: string): string {
    let s = `{{${name} ${this.pipe.toString()}}}${this.list.toString()}`;
    if (this.elseList) s += `{{else}}${this.elseList.toString()}`;
    return s + '{{end}}';
  }
}

export class IfNode extends BranchBase {
  readonly type = 'if';
  toString(): string {
    return this.branch('if');
  }
}

export class RangeNode extends BranchBase {
  readonly type = 'range';
  toString(): string {
    return this.branch('range');
  }
}

export class WithNode extends BranchBase {
  readonly type = 'with';
  toString(): string {
    return this.branch('with');
  }
}

export class TemplateNode extends Base {
  readonly type = 'template';
  constructor(
    pos: number,
    tree: TreeRef,
    readonly line: number,
    readonly name: string,
    readonly pipe: PipeNode | undefined,
  ) {
    super(pos, tree);
  }
  toString(): string {
    return `{{template ${quote(this.name)}${this.pipe ? ' ' + this.pipe.toString() : ''}}}`;
  }
}

export class BreakNode extends Base {
  readonly type = 'break';
  constructor(
    pos: number,
    tree: TreeRef,
    readonly line: number,
  ) {
    super(pos, tree);
  }
  toString(): string {
    return '{{break}}';
  }
}

export class ContinueNode extends Base {
  readonly type = 'continue';
  constructor(
    pos: number,
    tree: TreeRef,
    readonly line: number,
  ) {
    super(pos, tree);
  }
  toString(): string {
    return '{{continue}}';
  }
}

/** unicode.IsSpace characters only (what bytes.TrimSpace would remove entirely). */
const GO_SPACE_ONLY = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

/** parse.IsEmptyTree: only spaces and comments. */
export function isEmptyTree(n: Node | undefined): boolean {
  if (!n) return true;
  switch (n.type) {
    case 'comment':
      return true;
    case 'list':
      return n.nodes.every((c) => isEmptyTree(c));
    case 'text':
      return GO_SPACE_ONLY.test(n.text);
    default:
      return false;
  }
}
