/** Template execution, a transcription of Go's text/template/exec.go (Go 1.23). */
import { call as callBuiltin, indirectInterface, truth, zeroValue } from './builtins.js';
import { sprintf, sprintIndirect } from './fmt.js';
import type {
  ChainNode,
  CommandNode,
  FieldNode,
  IdentifierNode,
  ListNode,
  Node,
  NumberNode,
  PipeNode,
  RangeNode,
  TemplateNode,
  VariableNode,
} from './node.js';
import { quote } from './strconv.js';
import type { Tree } from './parse.js';
import {
  T,
  assignableTo,
  canBeNil,
  isFloatKind,
  isIntKind,
  isUintKind,
  type FuncSignature,
  type GoType,
} from './types.js';
import {
  GoComplex,
  GoNumber,
  intOf,
  isTrue,
  makeInt,
  makeNumber,
  mapGet,
  mapKeys,
  methodOf,
  signatureOf,
  structGet,
  structHasField,
  typeOf,
} from './values.js';
import { compareKeys } from './fmt.js';

export type MissingKey = 'invalid' | 'zero' | 'error';

export interface ResolvedFunc {
  fn: (...args: unknown[]) => unknown;
  sig: FuncSignature;
  isBuiltin: boolean;
}

/** What the executor needs from a template (implemented by Template in template.ts). */
export interface ExecTemplate {
  readonly name: string;
  readonly tree: Tree | undefined;
  lookup(name: string): ExecTemplate | undefined;
  findFunction(name: string): ResolvedFunc | undefined;
  readonly missingKey: MissingKey;
}

export interface ExecLimits {
  /** Nested {{template}} calls (Go: 100000; lower here because JS stacks are smaller). */
  maxDepth: number;
  /** Evaluation steps before giving up (a guard against exponential templates). */
  maxSteps: number;
  /** Output size in UTF-16 code units before giving up. */
  maxOutput: number;
}

export const DEFAULT_LIMITS: ExecLimits = { maxDepth: 1000, maxSteps: 10_000_000, maxOutput: 256 * 1024 * 1024 };

/** Raised inside the executor; carries Go's complete error text. */
export class ExecFailure extends Error {
  constructor(
    message: string,
    readonly templateName: string,
    readonly original?: unknown,
  ) {
    super(message);
  }
}

const MISSING = Symbol('missing');

/**
 * A non-nil value held in an interface{}-typed slot (a map[string]interface{} element, a
 * []interface{} element while ranging, a function result declared as interface{}). Go keeps
 * such values as reflect.Values of interface kind until a pipeline ends, which only shows in
 * error messages ("can't evaluate field x in type interface {}"). Never escapes the executor.
 */
class Iface {
  constructor(readonly v: unknown) {}
}
const unbox = (v: unknown): unknown => (v instanceof Iface ? v.v : v);
/** Boxes a value taken out of a slot whose static type is `slot`. */
const box = (v: unknown, slot: GoType | undefined): unknown =>
  v !== null && v !== undefined && (slot === undefined || slot.kind === 'interface') && !(v instanceof Iface)
    ? new Iface(v)
    : v;
type Value = unknown;

const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');

interface Variable {
  name: string;
  value: Value;
}

interface Shared {
  out: string[];
  outLen: number;
  steps: number;
  limits: ExecLimits;
}

/** Go's ErrorContext: "name:line:col" (col in bytes) and the node's text. */
export function errorContext(n: Node): { location: string; context: string } {
  const text = n.tree.text.slice(0, n.pos);
  const nl = text.lastIndexOf('\n');
  const lineStart = nl === -1 ? 0 : nl + 1;
  const byteNum = Buffer.byteLength(text.slice(lineStart), 'utf8');
  let lineNum = 1;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0x0a) lineNum++;
  return { location: `${n.tree.parseName}:${lineNum}:${byteNum}`, context: n.toString() };
}

function errMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

const fmtV = (v: Value): string => sprintf('%v', [v]);

function isExported(name: string): boolean {
  const first = String.fromCodePoint(name.codePointAt(0) ?? 0);
  return first !== first.toLowerCase() && first === first.toUpperCase();
}

export class State {
  private node: Node | undefined;

  constructor(
    private tmpl: ExecTemplate,
    private vars: Variable[],
    private depth: number,
    private readonly shared: Shared,
  ) {}

  static run(tmpl: ExecTemplate, data: Value, limits: ExecLimits): string {
    const shared: Shared = { out: [], outLen: 0, steps: 0, limits };
    const s = new State(tmpl, [{ name: '$', value: data }], 0, shared);
    if (!tmpl.tree || !tmpl.tree.root) s.errorf(`${quote(tmpl.name)} is an incomplete or empty template`);
    try {
      s.walk(data, tmpl.tree!.root!);
    } catch (e) {
      if (e instanceof RangeError && /call stack/i.test(e.message)) {
        s.errorf(`exceeded maximum template depth (stack exhausted at depth ${s.depth})`);
      }
      throw e;
    }
    return shared.out.join('');
  }

  private at(node: Node): void {
    this.node = node;
  }

  errorf(msg: string, original?: unknown): never {
    const name = this.tmpl.name;
    let full: string;
    if (!this.node) {
      full = `template: ${name}: ${msg}`;
    } else {
      const { location, context } = errorContext(this.node);
      full = `template: ${location}: executing ${quote(name)} at <${context}>: ${msg}`;
    }
    throw new ExecFailure(full, name, original);
  }

  private step(): void {
    if (++this.shared.steps > this.shared.limits.maxSteps) {
      this.errorf(`execution exceeded ${this.shared.limits.maxSteps} steps`);
    }
  }

  private write(s: string): void {
    this.shared.outLen += s.length;
    if (this.shared.outLen > this.shared.limits.maxOutput) {
      this.errorf(`output exceeded ${this.shared.limits.maxOutput} characters`);
    }
    this.shared.out.push(s);
  }

  // ---- variables

  private push(name: string, value: Value): void {
    this.vars.push({ name, value });
  }
  private mark(): number {
    return this.vars.length;
  }
  private pop(mark: number): void {
    this.vars.length = mark;
  }
  private setVar(name: string, value: Value): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }
  private setTopVar(n: number, value: Value): void {
    this.vars[this.vars.length - n]!.value = value;
  }
  private varValue(name: string): Value {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) return this.vars[i]!.value;
    }
    this.errorf(`undefined variable: ${name}`);
  }

  // ---- walking

  walk(dot: Value, node: Node): void {
    this.at(node);
    this.step();
    switch (node.type) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'break':
        throw BREAK;
      case 'comment':
        return;
      case 'continue':
        throw CONTINUE;
      case 'if':
      case 'with':
        this.walkIfOrWith(node.type, dot, node.pipe, node.list, node.elseList);
        return;
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'template':
        this.walkTemplate(dot, node);
        return;
      case 'text':
        this.write(node.text);
        return;
      default:
        this.errorf(`unknown node: ${node.toString()}`);
    }
  }

  private walkIfOrWith(typ: 'if' | 'with', dot: Value, pipe: PipeNode, list: ListNode, elseList: ListNode | undefined): void {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, pipe);
      const t = isTrue(indirectInterface(val));
      if (t === undefined) this.errorf(`if/with can't use ${fmtV(val)}`);
      if (t) {
        this.walk(typ === 'with' ? val : dot, list);
      } else if (elseList) {
        this.walk(dot, elseList);
      }
    } finally {
      this.pop(mark);
    }
  }

  private walkRange(dot: Value, r: RangeNode): void {
    this.at(r);
    const outerMark = this.mark();
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.mark();
      const decl = r.pipe.decl;
      const oneIteration = (idx: Value, elem: Value): void => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) {
            if (decl.length > 1) this.setVar(decl[0]!.ident[0]!, idx);
            else this.setVar(decl[0]!.ident[0]!, elem);
          } else {
            this.setTopVar(1, elem);
          }
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem);
          else this.setTopVar(2, idx);
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e !== CONTINUE) throw e;
        } finally {
          this.pop(mark);
        }
      };
      let ran = false;
      const v = indirectInterface(val);
      const t = typeOf(v);
      if (t === undefined) {
        // an invalid value (nil map etc.) acts like an empty collection
      } else if (isIntKind(t.kind) || isUintKind(t.kind)) {
        if (decl.length > 1) this.errorf(`can't use ${fmtV(v)} to iterate over more than one variable`);
        const n = intOf(v);
        for (let i = 0n; i < n; i++) {
          ran = true;
          this.step();
          oneIteration(undefined, t === T.int ? makeInt(i) : new GoNumber(t, i));
        }
      } else if (t.kind === 'slice' || t.kind === 'array') {
        const arr = v as unknown[];
        const elemT = t.elem ?? T.any;
        for (let i = 0; i < arr.length; i++) {
          ran = true;
          const el = arr[i];
          oneIteration(i, box(el === undefined ? null : el, elemT));
        }
      } else if (t.kind === 'map') {
        const keys = mapKeys(v as object).sort(compareKeys);
        const elemT = t.elem ?? T.any;
        for (const k of keys) {
          ran = true;
          oneIteration(box(k, t.key ?? T.string), box(mapGet(v as object, k).value, elemT));
        }
      } else {
        this.errorf(`range can't iterate over ${fmtV(v)}`);
      }
      if (!ran && r.elseList) this.walk(dot, r.elseList);
    } catch (e) {
      if (e !== BREAK) throw e;
    } finally {
      this.pop(outerMark);
    }
  }

  private walkTemplate(dot: Value, t: TemplateNode): void {
    this.at(t);
    const tmpl = this.tmpl.lookup(t.name);
    if (!tmpl || !tmpl.tree?.root) this.errorf(`template ${quote(t.name)} not defined`);
    if (this.depth >= this.shared.limits.maxDepth) {
      this.errorf(`exceeded maximum template depth (${this.shared.limits.maxDepth})`);
    }
    const newDot = this.evalPipeline(dot, t.pipe);
    const inner = new State(tmpl, [{ name: '$', value: newDot }], this.depth + 1, this.shared);
    inner.walk(newDot, tmpl.tree!.root!);
  }

  // ---- evaluation

  private evalPipeline(dot: Value, pipe: PipeNode | undefined): Value {
    if (!pipe) return undefined;
    this.at(pipe);
    let value: Value = MISSING;
    for (const cmd of pipe.cmds) {
      value = unbox(this.evalCommand(dot, cmd, value));
      // a nil interface{} unwraps to an invalid value
      if (value === null) value = undefined;
    }
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0]!, value);
      else this.push(v.ident[0]!, value);
    }
    return value;
  }

  private notAFunction(args: Node[] | undefined, final: Value): void {
    if ((args && args.length > 1) || final !== MISSING) {
      this.errorf(`can't give argument to non-function ${args![0]!.toString()}`);
    }
  }

  private evalCommand(dot: Value, cmd: CommandNode, final: Value): Value {
    this.step();
    const first = cmd.args[0]!;
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.errorf('nil is not a command');
      // falls through (errorf never returns)
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
    }
    this.errorf(`can't evaluate command ${quote(first.toString())}`);
  }

  private idealConstant(constant: NumberNode): Value {
    this.at(constant);
    const text = constant.text;
    if (constant.isComplex) return new GoComplex(constant.complex.re, constant.complex.im);
    const isHexInt = text.length > 2 && text[0] === '0' && (text[1] === 'x' || text[1] === 'X') && !/[pP]/.test(text);
    const isRuneInt = text.length > 0 && text[0] === "'";
    if (constant.isFloat && !isHexInt && !isRuneInt && /[.eEpP]/.test(text)) {
      return makeNumber(T.float64, constant.float64);
    }
    if (constant.isInt) return makeInt(constant.int64);
    if (constant.isUint) this.errorf(`${text} overflows int`);
    return undefined;
  }

  private evalFieldNode(dot: Value, field: FieldNode, args: Node[] | undefined, final: Value): Value {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: Value, chain: ChainNode, args: Node[] | undefined, final: Value): Value {
    this.at(chain);
    if (chain.field.length === 0) this.errorf('internal error: no fields in evalChainNode');
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${chain.toString()}`);
    const pipe = this.evalArg(dot, undefined, chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: Value, variable: VariableNode, args: Node[] | undefined, final: Value): Value {
    this.at(variable);
    const value = this.varValue(variable.ident[0]!);
    if (variable.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, variable, variable.ident.slice(1), args, final);
  }

  private evalFieldChain(
    dot: Value,
    receiver: Value,
    node: Node,
    ident: readonly string[],
    args: Node[] | undefined,
    final: Value,
  ): Value {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, ident[i]!, node, undefined, MISSING, receiver);
    return this.evalField(dot, ident[n - 1]!, node, args, final, receiver);
  }

  private evalFunction(dot: Value, node: IdentifierNode, cmd: Node, args: Node[] | undefined, final: Value): Value {
    this.at(node);
    const name = node.ident;
    const f = this.tmpl.findFunction(name);
    if (!f) this.errorf(`${quote(name)} is not a defined function`);
    return this.evalCall(dot, f.fn, f.sig, f.isBuiltin, cmd, name, args, final);
  }

  private evalField(
    dot: Value,
    fieldName: string,
    node: Node,
    args: Node[] | undefined,
    final: Value,
    receiver: Value,
  ): Value {
    if (receiver === undefined) {
      if (this.tmpl.missingKey === 'error') this.errorf(`nil data; no entry for key ${quote(fieldName)}`);
      return undefined;
    }
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${fieldName}`);
    const staticName = receiver instanceof Iface ? 'interface {}' : undefined;
    receiver = unbox(receiver);
    const typ = typeOf(receiver)!;
    const method = methodOf(receiver, fieldName);
    if (method) {
      const bound = (...a: unknown[]): unknown => method.fn(receiver, ...a);
      return this.evalCall(dot, bound, method.sig, false, node, fieldName, args, final);
    }
    const hasArgs = (args !== undefined && args.length > 1) || final !== MISSING;
    let structType: GoType | undefined;
    if (typ.kind === 'struct') structType = typ;
    else if (typ.kind === 'ptr' && typ.elem?.kind === 'struct') structType = typ.elem;
    if (structType) {
      if (structHasField(receiver as object, structType, fieldName)) {
        if (!isExported(fieldName)) {
          this.errorf(`${fieldName} is an unexported field of struct type ${staticName ?? typ.name}`);
        }
        if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
        return structGet(receiver as object, fieldName);
      }
    } else if (typ.kind === 'map') {
      const keyKind = typ.key?.kind ?? 'string';
      if (keyKind === 'string' || keyKind === 'interface') {
        if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
        const r = mapGet(receiver as object, fieldName);
        if (r.found) return box(r.value, typ.elem ?? T.any);
        switch (this.tmpl.missingKey) {
          case 'invalid':
            return undefined;
          case 'zero':
            return zeroValue(typ.elem ?? T.any);
          case 'error':
            this.errorf(`map has no entry for key ${quote(fieldName)}`);
        }
      }
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${staticName ?? typ.name}`);
  }

  private evalCall(
    dot: Value,
    fun: (...args: unknown[]) => unknown,
    sig: FuncSignature,
    isBuiltin: boolean,
    node: Node,
    name: string,
    args: Node[] | undefined,
    final: Value,
  ): Value {
    const argNodes = args ? args.slice(1) : [];
    let numIn = argNodes.length;
    if (final !== MISSING) numIn++;
    let numFixed = argNodes.length;
    const nParams = sig.params.length;
    if (sig.variadic) {
      numFixed = nParams - 1;
      if (numIn < numFixed) {
        this.errorf(`wrong number of args for ${name}: want at least ${nParams - 1} got ${argNodes.length}`);
      }
    } else if (numIn !== nParams) {
      this.errorf(`wrong number of args for ${name}: want ${nParams} got ${numIn}`);
    }

    if (isBuiltin && (name === 'and' || name === 'or')) {
      const argType = sig.params[0]!;
      let v: Value = undefined;
      for (const arg of argNodes) {
        v = this.evalArg(dot, argType, arg);
        if (truth(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = this.validateType(final, argType);
      return v;
    }

    const argv: Value[] = [];
    let i = 0;
    for (; i < numFixed && i < argNodes.length; i++) argv[i] = this.evalArg(dot, sig.params[i]!, argNodes[i]!);
    if (sig.variadic) {
      const argType = sig.params[nParams - 1]!;
      for (; i < argNodes.length; i++) argv[i] = this.evalArg(dot, argType, argNodes[i]!);
    }
    if (final !== MISSING) {
      let t = sig.params[nParams - 1]!;
      if (sig.variadic && numIn - 1 < numFixed) t = sig.params[numIn - 1]!;
      argv[i] = this.validateType(final, t);
    }

    let fn = fun;
    if (isBuiltin && name === 'call') {
      const calleeName =
        argNodes.length === 0 ? `<${typeOf(final)?.name ?? 'invalid'} Value>` : argNodes[0]!.toString();
      argv.unshift(calleeName);
      fn = callBuiltin as (...a: unknown[]) => unknown;
    }
    try {
      const result = fn(...argv);
      return sig.result.kind === 'interface' ? box(result, sig.result) : result;
    } catch (e) {
      if (e instanceof ExecFailure) throw e;
      if (e instanceof RangeError && /call stack/i.test(e.message)) throw e;
      this.at(node);
      this.errorf(`error calling ${name}: ${errMessage(e)}`, e);
    }
  }

  private validateType(value: Value, typ: GoType | undefined): Value {
    if (typ) value = unbox(value);
    if (value === undefined) {
      if (!typ) return undefined;
      if (canBeNil(typ)) return zeroValue(typ);
      this.errorf(`invalid value; expected ${typ.name}`);
    }
    if (!typ || typ.kind === 'reflectValue') return value;
    const vt = value === null ? T.any : typeOf(value)!;
    if (value === null && typ.kind === 'interface') return null;
    if (!assignableTo(vt, typ)) {
      if (vt.kind === 'ptr' && vt.elem && assignableTo(vt.elem, typ)) return value;
      this.errorf(`wrong type for value; expected ${typ.name}; got ${vt.name}`);
    }
    return value;
  }

  private evalArg(dot: Value, typ: GoType | undefined, n: Node): Value {
    this.at(n);
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, typ);
      case 'nil':
        if (typ && canBeNil(typ)) return zeroValue(typ);
        this.errorf(`cannot assign nil to ${typ?.name ?? 'interface {}'}`);
      // falls through (errorf never returns)
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, undefined, MISSING), typ);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), typ);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, undefined, MISSING), typ);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, undefined, MISSING), typ);
    }
    const k = typ?.kind ?? 'interface';
    if (k === 'bool') {
      if (n.type === 'bool') return n.value;
      this.errorf(`expected bool; found ${n.toString()}`);
    }
    if (k === 'complex128' || k === 'complex64') {
      if (n.type === 'number' && n.isComplex) return new GoComplex(n.complex.re, n.complex.im);
      this.errorf(`expected complex; found ${n.toString()}`);
    }
    if (isFloatKind(k)) {
      if (n.type === 'number' && n.isFloat) return makeNumber(typ!, n.float64);
      this.errorf(`expected float; found ${n.toString()}`);
    }
    if (isIntKind(k)) {
      if (n.type === 'number' && n.isInt) return makeNumber(typ!, n.int64);
      this.errorf(`expected integer; found ${n.toString()}`);
    }
    if (k === 'interface' || k === 'reflectValue') return this.evalEmptyInterface(dot, n);
    if (k === 'string') {
      if (n.type === 'string') return n.text;
      this.errorf(`expected string; found ${n.toString()}`);
    }
    if (isUintKind(k)) {
      if (n.type === 'number' && n.isUint) return makeNumber(typ!, n.uint64);
      this.errorf(`expected unsigned integer; found ${n.toString()}`);
    }
    this.errorf(`can't handle ${n.toString()} for arg of type ${typ?.name}`);
  }

  private evalEmptyInterface(dot: Value, n: Node): Value {
    this.at(n);
    switch (n.type) {
      case 'bool':
        return n.value;
      case 'dot':
        return dot;
      case 'field':
        return this.evalFieldNode(dot, n, undefined, MISSING);
      case 'identifier':
        return this.evalFunction(dot, n, n, undefined, MISSING);
      case 'nil':
        this.errorf("evalEmptyInterface: nil (can't happen)");
      // falls through (errorf never returns)
      case 'number':
        return this.idealConstant(n);
      case 'string':
        return n.text;
      case 'variable':
        return this.evalVariableNode(dot, n, undefined, MISSING);
      case 'pipe':
        return this.evalPipeline(dot, n);
    }
    this.errorf(`can't handle assignment of ${n.toString()} to empty interface argument`);
  }

  private printValue(n: Node, v: Value): void {
    this.at(n);
    v = unbox(v);
    if (v === undefined || v === null) {
      this.write('<no value>');
      return;
    }
    const t = typeOf(v)!;
    if (t.kind === 'func' && !methodOf(v, 'String') && !methodOf(v, 'Error')) {
      this.errorf(`can't print ${n.toString()} of type ${t.name}`);
    }
    this.write(sprintIndirect(v));
  }
}

export { signatureOf };
