/**
 * Go text/template's Template and its set of associated templates (template.go, option.go):
 * parse, {{define}}/{{block}} association, lookup, options (missingkey), delimiters, functions.
 */
import * as B from './builtins.js';
import { TemplateError } from './errors.js';
import { DEFAULT_LIMITS, ExecFailure, State, type ExecLimits, type ExecTemplate, type MissingKey, type ResolvedFunc } from './exec.js';
import { isEmptyTree } from './node.js';
import { ParseFailure, parseTrees, type Tree } from './parse.js';
import { quote } from './strconv.js';
import { T, type FuncSignature, type GoType } from './types.js';
import { signatureOf } from './values.js';

/** Functions callable from templates, by name. Plain JS functions take `...interface{}`; use goFunc for Go signatures. */
export type FuncMap = Record<string, (...args: never[]) => unknown>;

function sig(params: GoType[], variadic: boolean, result: GoType, returnsError: boolean): FuncSignature {
  return { params, variadic, result, returnsError };
}
const V = T.value;

const BUILTINS: ReadonlyMap<string, ResolvedFunc> = new Map<string, ResolvedFunc>(
  (
    [
      ['and', () => undefined, sig([V, V], true, V, false)],
      ['or', () => undefined, sig([V, V], true, V, false)],
      ['call', () => undefined, sig([V, V], true, V, true)],
      ['html', B.html, sig([T.any], true, T.string, false)],
      ['index', B.index, sig([V, V], true, V, true)],
      ['slice', B.slice, sig([V, V], true, V, true)],
      ['js', B.js, sig([T.any], true, T.string, false)],
      ['len', B.length, sig([V], false, T.int, true)],
      ['not', B.not, sig([V], false, T.bool, false)],
      ['print', B.print, sig([T.any], true, T.string, false)],
      ['printf', B.printf, sig([T.string, T.any], true, T.string, false)],
      ['println', B.println, sig([T.any], true, T.string, false)],
      ['urlquery', B.urlquery, sig([T.any], true, T.string, false)],
      ['eq', B.eq, sig([V, V], true, T.bool, true)],
      ['ge', B.ge, sig([V, V], false, T.bool, true)],
      ['gt', B.gt, sig([V, V], false, T.bool, true)],
      ['le', B.le, sig([V, V], false, T.bool, true)],
      ['lt', B.lt, sig([V, V], false, T.bool, true)],
      ['ne', B.ne, sig([V, V], false, T.bool, true)],
    ] as [string, (...a: never[]) => unknown, FuncSignature][]
  ).map(([name, fn, s]) => [name, { fn: fn as (...a: unknown[]) => unknown, sig: s, isBuiltin: true }]),
);

export const BUILTIN_NAMES: readonly string[] = [...BUILTINS.keys()];

const GOOD_NAME = /^[\p{L}_][\p{L}\p{Nd}_]*$/u;

export interface ParseOptions {
  /** Left and right action delimiters (default `{{` and `}}`). */
  delims?: [string, string];
  /** Go's Option("missingkey=…"): "default"/"invalid" prints <no value>, "zero", "error". */
  missingKey?: MissingKey | 'default';
  /** Execution guards (depth, steps, output size). */
  limits?: Partial<ExecLimits>;
  /** Go's parse.SkipFuncCheck: do not reject unknown function names at parse time. */
  skipFuncCheck?: boolean;
}

interface Common {
  tmpl: Map<string, Template>;
  funcs: Map<string, ResolvedFunc>;
  missingKey: MissingKey;
  limits: ExecLimits;
  skipFuncCheck: boolean;
}

export class Template implements ExecTemplate {
  tree: Tree | undefined;
  private leftDelim = '';
  private rightDelim = '';

  private constructor(
    readonly name: string,
    private readonly common: Common,
  ) {}

  /** template.New(name). */
  static create(name: string): Template {
    return new Template(name, {
      tmpl: new Map(),
      funcs: new Map(),
      missingKey: 'invalid',
      limits: { ...DEFAULT_LIMITS },
      skipFuncCheck: false,
    });
  }

  /** t.New(name): a template sharing this one's set, functions and delimiters. */
  new(name: string): Template {
    const t = new Template(name, this.common);
    t.leftDelim = this.leftDelim;
    t.rightDelim = this.rightDelim;
    return t;
  }

  get missingKey(): MissingKey {
    return this.common.missingKey;
  }

  delims(left: string, right: string): this {
    this.leftDelim = left;
    this.rightDelim = right;
    return this;
  }

  option(missingKey: MissingKey | 'default'): this {
    this.common.missingKey = missingKey === 'default' ? 'invalid' : missingKey;
    return this;
  }

  limits(limits: Partial<ExecLimits>): this {
    Object.assign(this.common.limits, limits);
    return this;
  }

  skipFuncCheck(skip = true): this {
    this.common.skipFuncCheck = skip;
    return this;
  }

  /** t.Funcs(map): adds functions (overriding builtins of the same name). */
  funcs(funcMap: FuncMap): this {
    for (const [name, fn] of Object.entries(funcMap)) {
      if (!GOOD_NAME.test(name)) throw new TemplateError('parse', this.name, `function name ${quote(name)} is not a valid identifier`);
      if (typeof fn !== 'function') throw new TemplateError('parse', this.name, `value for ${name} not a function`);
      this.common.funcs.set(name, { fn: fn as (...a: unknown[]) => unknown, sig: signatureOf(fn), isBuiltin: false });
    }
    return this;
  }

  findFunction(name: string): ResolvedFunc | undefined {
    return this.common.funcs.get(name) ?? BUILTINS.get(name);
  }

  lookup(name: string): Template | undefined {
    return this.common.tmpl.get(name);
  }

  /** Every template of the set. */
  templates(): Template[] {
    return [...this.common.tmpl.values()];
  }

  /** "; defined templates are: …" as Go's DefinedTemplates (sorted here for stability). */
  definedTemplates(): string {
    const names = [...this.common.tmpl.entries()].filter(([, t]) => t.tree?.root).map(([n]) => quote(n));
    return names.length ? `; defined templates are: ${names.sort().join(', ')}` : '';
  }

  /** t.Parse(text): parses text as this template's body, adding any {{define}}d templates to the set. */
  parse(text: string): this {
    let trees: Map<string, Tree>;
    try {
      trees = parseTrees(
        this.name,
        text,
        this.leftDelim,
        this.rightDelim,
        [{ has: (n) => this.common.funcs.has(n) }, { has: (n) => BUILTINS.has(n) }],
        this.common.skipFuncCheck,
      );
    } catch (e) {
      if (e instanceof ParseFailure) throw new TemplateError('parse', this.name, e.message);
      if (e instanceof RangeError) throw new TemplateError('parse', this.name, `template: ${this.name}: template too deeply nested`);
      throw e;
    }
    for (const [name, tree] of trees) this.addParseTree(name, tree);
    return this;
  }

  private addParseTree(name: string, tree: Tree): Template {
    const nt = name === this.name ? this : this.new(name);
    if (this.associate(nt, tree) || !nt.tree) nt.tree = tree;
    return nt;
  }

  private associate(nt: Template, tree: Tree): boolean {
    const old = this.common.tmpl.get(nt.name);
    if (old && isEmptyTree(tree.root) && old.tree) return false;
    this.common.tmpl.set(nt.name, nt);
    return true;
  }

  /** t.Execute(data): renders this template. Throws TemplateError with Go's message on failure. */
  execute(data?: unknown): string {
    try {
      return State.run(this, data, this.common.limits);
    } catch (e) {
      if (e instanceof ExecFailure) throw new TemplateError('exec', e.templateName, e.message, e.original);
      throw e;
    }
  }

  /** t.ExecuteTemplate(name, data). */
  executeTemplate(name: string, data?: unknown): string {
    const t = this.lookup(name);
    if (!t) {
      throw new TemplateError('exec', this.name, `template: no template ${quote(name)} associated with template ${quote(this.name)}`);
    }
    return t.execute(data);
  }
}

/**
 * Parses `text` as template `name` with the given functions, like
 * `template.New(name).Funcs(funcs).Parse(text)` in Go. Throws TemplateError on a syntax error.
 */
export function parseTemplate(name: string, text: string, funcs: FuncMap = {}, options: ParseOptions = {}): Template {
  const t = Template.create(name);
  if (options.delims) t.delims(options.delims[0], options.delims[1]);
  if (options.missingKey) t.option(options.missingKey);
  if (options.limits) t.limits(options.limits);
  if (options.skipFuncCheck) t.skipFuncCheck();
  t.funcs(funcs);
  return t.parse(text);
}
