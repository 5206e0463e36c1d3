/**
 * One compose file parsed into a located tree: every node knows its file, line and key path, and
 * every string is interpolated (`${VAR}`) as it is read, as compose does per file before merging.
 * YAML anchors and `<<` merge keys are expanded here; `!reset` / `!override` tags are kept for
 * the merge.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Scalar, type YAMLMap } from 'yaml';
import type { KibokoError } from '../../common/errors.js';
import { interpolate, type Lookup } from '../../shellwords/index.js';
import { DOCS, type Loc, type Problems } from './problems.js';

import { childPath, itemPath, type Entry, type MapNode, type Node, type ScalarNode } from './yaml-nodes.js';
import { readPlainYaml } from './yaml-plain.js';

export type { Entry, MapNode, Node, Prim, ScalarNode, SeqNode } from './yaml-nodes.js';
export { childPath, itemPath };

export const MERGE_TAGS = new Set(['!reset', '!override']);
export const MAX_NODES = 200_000;

/**
 * Parses one file into a located tree with every string value interpolated; each unset variable
 * that became '' is a warning.
 */
export function readYaml(text: string, file: string, lookup: Lookup, problems: Problems): MapNode | undefined | 'syntax-error' {
  const plain = readPlainYaml(text, file, MAX_NODES);
  if (plain) return interpolateTree(plain, interpolator(lookup, problems));
  return readFullYaml(text, file, lookup, problems);
}

/** readYaml with the `yaml` package only: what the fast reader (./yaml-plain.ts) must agree with. */
export function readFullYaml(text: string, file: string, lookup: Lookup, problems: Problems): MapNode | undefined | 'syntax-error' {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number | undefined) => (offset === undefined ? 1 : lc.linePos(offset).line);
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const message = e.message.replace(/ at line \d+, column \d+.*$/s, '');
      const hint =
        e.code === 'DUPLICATE_KEY' ? 'remove or rename one of them' : 'check the YAML syntax (indentation, quotes, colons)';
      problems.add({ file, line: lineOf(e.pos[0]), path: '' }, message, hint);
    }
    return 'syntax-error';
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    problems.add({ file, line: 1, path: '' }, 'the file is empty', `a Compose file needs at least services:; see ${DOCS}/`);
    return undefined;
  }
  // Aliases are expanded here, so a few lines can stand for an enormous tree ("billion laughs").
  const ctx: ConvertCtx = { file, doc, lineOf, problems, interp: interpolator(lookup, problems), budget: MAX_NODES };
  const root = convert(ctx, doc.contents, '', 1, 0);
  if (root.kind !== 'map') {
    problems.add(
      root.loc,
      `expected a mapping of top-level keys (services:, networks:, …), got ${show(root)}`,
      `see ${DOCS}/`,
    );
    return undefined;
  }
  return root;
}

type Interp = (value: string, loc: Loc) => { value: string; vars?: string[] };

/** Interpolates the strings of a tree read by the fast reader, in document order as convert() does. */
function interpolateTree<T extends Node>(node: T, interp: Interp): T {
  if (node.kind === 'map') for (const entry of node.entries.values()) interpolateTree(entry.value, interp);
  else if (node.kind === 'seq') for (const item of node.items) interpolateTree(item, interp);
  else if (typeof node.value === 'string' && node.value.includes('$')) {
    const r = interp(node.value, node.loc);
    node.value = r.value;
    if (r.vars) node.vars = r.vars;
  }
  return node;
}

/** What converting one document's nodes shares; `budget` counts down the nodes still allowed. */
interface ConvertCtx {
  file: string;
  doc: Document;
  lineOf: (offset: number | undefined) => number;
  problems: Problems;
  interp: Interp;
  budget: number;
}

/** Interpolates a string value, noting the variables it used; an error is a problem and the value stays as written. */
function interpolator(lookup: Lookup, problems: Problems): Interp {
  return (value, loc) => {
    if (!value.includes('$')) return { value };
    const vars: string[] = [];
    const tracked: Lookup = (name) => {
      if (!vars.includes(name)) vars.push(name);
      return lookup(name);
    };
    try {
      const out = interpolate(value, tracked, (name) =>
        problems.warn(loc, `variable ${name} is not set; it became an empty string (set it, or write \${${name}:-default})`),
      );
      return vars.length ? { value: out, vars } : { value: out };
    } catch (err) {
      const e = err as KibokoError;
      problems.add(loc, e.message, `${e.hint ?? ''}; see ${DOCS}/interpolation/`);
      return { value };
    }
  };
}

function convert(ctx: ConvertCtx, n: unknown, p: string, fallbackLine: number, depth: number): Node {
  const at = (line: number): Loc => ({ file: ctx.file, line, path: p });
  if (depth > 64 || --ctx.budget < 0) {
    if (ctx.budget === -1 || depth > 64) ctx.problems.add(
      at(fallbackLine),
      'too deeply nested or too large once aliases are expanded',
      'use fewer nested aliases',
    );
    return { kind: 'scalar', value: null, loc: at(fallbackLine) };
  }
  if (isAlias(n)) {
    const target = n.resolve(ctx.doc);
    if (!target) {
      ctx.problems.add(at(ctx.lineOf(n.range?.[0])), `unknown alias *${n.source}`, 'define the anchor (&name) before using it');
      return { kind: 'scalar', value: null, loc: at(ctx.lineOf(n.range?.[0])) };
    }
    return convert(ctx, target, p, ctx.lineOf(n.range?.[0]), depth + 1);
  }
  const tag = (n as { tag?: string } | null)?.tag;
  const mergeTag = tag && MERGE_TAGS.has(tag) ? tag : undefined;
  if (isScalar(n)) return convertScalar(ctx, n, at(ctx.lineOf(n.range?.[0])), mergeTag);
  if (isSeq(n)) {
    const loc = at(ctx.lineOf(n.range?.[0]));
    const items = n.items.map((item, i) => convert(ctx, item, itemPath(p, i), loc.line, depth + 1));
    return { kind: 'seq', items, loc, tag: mergeTag };
  }
  if (isMap(n)) return convertMap(ctx, n, p, at(ctx.lineOf(n.range?.[0])), depth, mergeTag);
  return { kind: 'scalar', value: null, loc: at(fallbackLine) };
}

function convertScalar(ctx: ConvertCtx, n: Scalar, loc: Loc, mergeTag: string | undefined): Node {
  const v = n.value;
  if (typeof v === 'string') {
    if (!v.includes('$')) return { kind: 'scalar', value: v, loc, tag: mergeTag };
    const r = ctx.interp(v, loc);
    return { kind: 'scalar', value: r.value, loc, tag: mergeTag, ...(r.vars ? { vars: r.vars } : {}) };
  }
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean') {
    return { kind: 'scalar', value: v ?? null, raw: n.source, loc, tag: mergeTag };
  }
  return { kind: 'scalar', value: String(v), loc, tag: mergeTag };
}

function convertMap(ctx: ConvertCtx, n: YAMLMap, p: string, loc: Loc, depth: number, mergeTag: string | undefined): Node {
  const entries = new Map<string, Entry>();
  const mergeSources: Node[] = [];
  for (const pair of n.items) {
    const k = pair.key;
    if (isScalar(k) && k.value === '<<' && k.type === 'PLAIN') {
      // YAML merge keys (`<<: *common`): explicit keys win, then earlier sources.
      const src = convert(ctx, pair.value, p, ctx.lineOf(k.range?.[0]), depth + 1);
      for (const one of src.kind === 'seq' ? src.items : [src]) {
        if (one.kind === 'map') mergeSources.push(one);
        else ctx.problems.add(one.loc, `expected an alias of a mapping after <<, got ${show(one)}`, 'use <<: *anchor');
      }
      continue;
    }
    if (!isScalar(k) || k.value === null || typeof k.value === 'object') {
      ctx.problems.add({ file: ctx.file, line: ctx.lineOf((k as { range?: [number] } | null)?.range?.[0] ?? n.range?.[0]), path: p }, 'expected a plain key');
      continue;
    }
    const key = String(k.value);
    const keyLoc: Loc = { file: ctx.file, line: ctx.lineOf(k.range?.[0]), path: childPath(p, key) };
    entries.set(key, { key, keyLoc, value: convert(ctx, pair.value, keyLoc.path, keyLoc.line, depth + 1) });
  }
  for (const src of mergeSources) {
    if (src.kind !== 'map') continue;
    for (const [key, entry] of src.entries) if (!entries.has(key)) entries.set(key, rebase(entry, p));
  }
  return { kind: 'map', entries, loc, tag: mergeTag };
}

/** An entry merged in with `<<` gets the path of the map it lands in. */
export function rebase(entry: Entry, parentPath: string): Entry {
  const p = childPath(parentPath, entry.key);
  return { ...entry, keyLoc: { ...entry.keyLoc, path: p }, value: rebaseNode(entry.value, p) };
}
export function rebaseNode(node: Node, p: string): Node {
  const loc = { ...node.loc, path: p };
  if (node.kind === 'seq') return { ...node, loc, items: node.items.map((it, i) => rebaseNode(it, itemPath(p, i))) };
  if (node.kind === 'map') {
    const entries = new Map([...node.entries].map(([k, e]) => [k, rebase(e, p)] as const));
    return { ...node, loc, entries };
  }
  return { ...node, loc };
}

/** A node as an error message shows it: `"abc"`, `a list`; an interpolated value names its variables. */
export function show(node: Node | undefined): string {
  if (!node) return 'nothing';
  if (node.kind === 'seq') return 'a list';
  if (node.kind === 'map') return 'a mapping';
  if (node.value === null) return 'nothing';
  const from = node.vars?.length ? ` (from \${${node.vars.join('}, ${')}})` : '';
  if (typeof node.value === 'string') return JSON.stringify(node.value) + from;
  return (node.raw ?? String(node.value)) + from;
}

/** The text of a scalar as written (`0755` stays `0755`); '' for null. */
export const scalarText = (n: ScalarNode): string =>
  n.value === null ? '' : typeof n.value === 'string' ? n.value : (n.raw ?? String(n.value));

/** True for a key written with no value (`networks:`), which compose treats as absent. */
export const isNull = (n: Node | undefined): boolean => !n || (n.kind === 'scalar' && n.value === null);
