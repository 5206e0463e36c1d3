/**
 * `extends` and `include`, resolved per file before files are merged (as compose-go does).
 *
 * - `extends: base` / `extends: { service: base, file: other.yaml }`: the base service (itself
 *   resolved first) with this service merged over it by compose's merge rules. Relative paths of
 *   a service taken from another folder's file are made absolute against that folder. Cycles
 *   and remote sources are refused.
 * - `include: [a.yaml, { path: [b.yaml, c.yaml], project_directory: dir, env_file: .env.b }]`:
 *   each entry is loaded as its own project (its folder, its env file) and its services,
 *   networks, volumes, secrets and configs join this file's; a name defined twice differently is
 *   refused, as by compose.
 */
import path from 'node:path';
import type { Lookup } from '../../shellwords/index.js';
import { mergeNodes } from './merge.js';
import { DOCS, type Loc, type Problems } from './problems.js';
import { childPath, isNull, scalarText, show, type Entry, type MapNode, type Node, type ScalarNode } from './yaml.js';

export interface TreeLoader {
  /** The parsed, interpolated tree of a file (once per file and lookup), undefined when missing or broken (reported). */
  load(abs: string, lookup: Lookup, from: Loc): MapNode | undefined;
  problems: Problems;
  /** The env a separately loaded (included) project interpolates with. */
  environment(envFiles: readonly string[] | undefined, projectDir: string, from: Loc): Lookup;
}

const EXTENDS_DOCS = `see ${DOCS}/services/#extends`;
const INCLUDE_DOCS = `see ${DOCS}/include/`;
const REMOTE = /^(?:git@|[a-z][a-z0-9+.-]+:)/i;

/** Resolves every service's `extends` in `root`, a tree read from `file`. */
export function applyExtends(root: MapNode, file: string, loader: TreeLoader, lookup: Lookup): MapNode {
  const services = root.entries.get('services');
  if (!services || services.value.kind !== 'map') return root;
  const cache = new Map<string, Node | undefined>();
  const entries = new Map<string, Entry>();
  for (const [name, e] of services.value.entries) {
    const value = resolveService(file, name, root, loader, lookup, [], cache) ?? e.value;
    entries.set(name, { ...e, value });
  }
  const resolved: MapNode = { ...services.value, entries };
  return { ...root, entries: new Map(root.entries).set('services', { ...services, value: resolved }) };
}

function resolveService(
  file: string,
  name: string,
  root: MapNode,
  loader: TreeLoader,
  lookup: Lookup,
  stack: string[],
  cache: Map<string, Node | undefined>,
): Node | undefined {
  const id = `${file}#${name}`;
  if (cache.has(id)) return cache.get(id);
  const services = root.entries.get('services')?.value;
  const svc = services?.kind === 'map' ? services.entries.get(name)?.value : undefined;
  if (!svc || svc.kind !== 'map' || !svc.entries.has('extends')) return svc;
  const ext = svc.entries.get('extends')!;
  const ref = readExtends(ext, loader.problems);
  const own = withoutKey(svc, 'extends');
  if (!ref) return own;
  if (stack.includes(id)) {
    loader.problems.add(ext.keyLoc, `extends cycle: ${[...stack, id].map(shortId).join(' → ')}`, 'remove one of these extends');
    return own;
  }
  let baseFile = file;
  let baseRoot = root;
  if (ref.file !== undefined) {
    if (REMOTE.test(ref.file)) {
      loader.problems.add(
        ext.keyLoc,
        `extends from a remote source (${JSON.stringify(ref.file)}) is not supported`,
        'kiboko reads only local files: clone or download the file and give its path',
      );
      return own;
    }
    baseFile = path.resolve(path.dirname(file), ref.file);
    const loaded = baseFile === file ? root : loader.load(baseFile, lookup, ext.keyLoc);
    if (!loaded) return own;
    baseRoot = loaded;
  }
  const baseServices = baseRoot.entries.get('services')?.value;
  if (baseServices?.kind !== 'map' || !baseServices.entries.has(ref.service)) {
    loader.problems.add(
      ext.keyLoc,
      `extends an undefined service ${JSON.stringify(ref.service)}${ref.file ? ` of ${ref.file}` : ''}`,
      EXTENDS_DOCS,
    );
    return own;
  }
  let base = resolveService(baseFile, ref.service, baseRoot, loader, lookup, [...stack, id], cache);
  if (base === undefined || isNull(base)) base = { kind: 'map', entries: new Map(), loc: ext.keyLoc };
  if (base.kind !== 'map') return own;
  if (path.dirname(baseFile) !== path.dirname(file)) base = rebasePaths(base, path.dirname(baseFile));
  const merged = mergeNodes(base, own, ['services', name]) as MapNode;
  cache.set(id, merged);
  return merged;
}

const shortId = (id: string) => {
  const [f, s] = id.split('#');
  return `${path.basename(f!)}:${s}`;
};

function readExtends(e: Entry, problems: Problems): { service: string; file?: string } | undefined {
  const v = e.value;
  if (v.kind === 'scalar' && typeof v.value === 'string') return { service: v.value };
  if (v.kind !== 'map') {
    problems.add(v.loc, `expected a service name or { service, file }, got ${show(v)}`, EXTENDS_DOCS);
    return undefined;
  }
  let service: string | undefined;
  let file: string | undefined;
  for (const o of v.entries.values()) {
    if (o.key === 'service' && o.value.kind === 'scalar' && typeof o.value.value === 'string') service = o.value.value;
    else if (o.key === 'file' && o.value.kind === 'scalar' && typeof o.value.value === 'string') file = o.value.value;
    else if (o.key === 'service' || o.key === 'file') problems.add(o.value.loc, `expected a string, got ${show(o.value)}`, EXTENDS_DOCS);
    else problems.add(o.keyLoc, `unknown extends key ${JSON.stringify(o.key)}`, `expected service and file; ${EXTENDS_DOCS}`);
  }
  if (service === undefined) {
    if (!v.entries.has('service')) problems.add(e.keyLoc, 'extends needs service:', EXTENDS_DOCS);
    return undefined;
  }
  return file === undefined ? { service } : { service, file };
}

function withoutKey(node: MapNode, key: string): MapNode {
  const entries = new Map(node.entries);
  entries.delete(key);
  return { ...node, entries };
}

// ——— relative paths of a service (or a project) read from another folder ——

const isUrl = (s: string) => /^(?:[a-z][a-z0-9+.-]*:\/\/|git@|github\.com\/)/i.test(s);

function absScalar(n: Node, dir: string, when: (s: string) => boolean): Node {
  if (n.kind !== 'scalar' || typeof n.value !== 'string' || !when(n.value)) return n;
  const v = n.value;
  const abs = v === '~' || v.startsWith('~/') ? v : path.resolve(dir, v);
  return { ...n, value: abs } as ScalarNode;
}

const relative = (s: string) => s !== '' && !path.isAbsolute(s) && !s.startsWith('~');
const dotted = (s: string) => s === '.' || s.startsWith('./') || s.startsWith('../');

function mapValues(node: MapNode, fn: (key: string, value: Node) => Node): MapNode {
  const entries = new Map<string, Entry>();
  for (const [k, e] of node.entries) entries.set(k, { ...e, value: fn(k, e.value) });
  return { ...node, entries };
}

/** A service with its build context, env_file, label_file and bind sources made absolute against `dir`. */
export function rebasePaths(svc: MapNode, dir: string): MapNode {
  return mapValues(svc, (key, v) => {
    switch (key) {
      case 'build':
        if (v.kind === 'scalar') return absScalar(v, dir, (s) => relative(s) && !isUrl(s));
        if (v.kind === 'map') return mapValues(v, (k, c) => (k === 'context' ? absScalar(c, dir, (s) => relative(s) && !isUrl(s)) : c));
        return v;
      case 'env_file':
      case 'label_file': {
        const one = (n: Node): Node =>
          n.kind === 'map' ? mapValues(n, (k, c) => (k === 'path' ? absScalar(c, dir, relative) : c)) : absScalar(n, dir, relative);
        return v.kind === 'seq' ? { ...v, items: v.items.map(one) } : one(v);
      }
      case 'volumes':
        if (v.kind !== 'seq') return v;
        return {
          ...v,
          items: v.items.map((item) => {
            if (item.kind === 'scalar' && typeof item.value === 'string' && dotted(item.value.split(':')[0]!)) {
              const [src, ...rest] = item.value.split(':');
              return { ...item, value: [path.resolve(dir, src!), ...rest].join(':') };
            }
            if (item.kind === 'map') {
              const type = item.entries.get('type')?.value;
              if (type?.kind === 'scalar' && type.value === 'bind') return mapValues(item, (k, c) => (k === 'source' ? absScalar(c, dir, relative) : c));
            }
            return item;
          }),
        };
      default:
        return v;
    }
  });
}

/** Top-level secrets/configs `file:` made absolute against `dir`. */
function rebaseFileObjects(section: MapNode, dir: string): MapNode {
  return mapValues(section, (_k, def) => (def.kind === 'map' ? mapValues(def, (k, c) => (k === 'file' ? absScalar(c, dir, relative) : c)) : def));
}

// ——— include ——

const SECTIONS = ['services', 'networks', 'volumes', 'secrets', 'configs'] as const;

/** Loads each `include` entry of `root` (read from `file`) and adds what it defines; `stack` guards against cycles. */
export function applyInclude(
  root: MapNode,
  file: string,
  loader: TreeLoader,
  resolveFile: (abs: string, lookup: Lookup, stack: string[], from: Loc) => MapNode | undefined,
  stack: string[],
): MapNode {
  const inc = root.entries.get('include');
  if (!inc) return root;
  const entries = new Map(root.entries);
  entries.delete('include');
  const out: MapNode = { ...root, entries };
  if (isNull(inc.value)) return out;
  if (inc.value.kind !== 'seq') {
    loader.problems.add(inc.value.loc, `expected a list of files to include, got ${show(inc.value)}`, INCLUDE_DOCS);
    return out;
  }
  const here = path.dirname(file);
  for (const item of inc.value.items) {
    const spec = readInclude(item, loader.problems);
    if (!spec || spec.paths.length === 0) continue;
    const remote = spec.paths.find((p) => REMOTE.test(p));
    if (remote) {
      loader.problems.add(item.loc, `including a remote file (${JSON.stringify(remote)}) is not supported`, 'kiboko reads only local files: download it and give its path');
      continue;
    }
    const paths = spec.paths.map((p) => path.resolve(here, p));
    const cycle = paths.find((p) => p === file || stack.includes(p));
    if (cycle) {
      loader.problems.add(item.loc, `include cycle: ${[...stack, file, cycle].map((f) => path.basename(f)).join(' → ')}`, 'remove this include');
      continue;
    }
    const projectDir = spec.projectDirectory !== undefined ? path.resolve(here, spec.projectDirectory) : path.dirname(paths[0]!);
    const envFiles = spec.envFiles?.map((f) => path.resolve(here, f));
    const lookup = loader.environment(envFiles, projectDir, item.loc);
    let merged: Node | undefined;
    for (const p of paths) {
      const tree = resolveFile(p, lookup, [...stack, file], item.loc);
      if (tree) merged = mergeNodes(merged, tree, []);
    }
    if (!merged || merged.kind !== 'map') continue;
    addIncluded(out, merged, projectDir, item.loc, loader.problems);
  }
  return out;
}

interface IncludeSpec {
  paths: string[];
  projectDirectory?: string | undefined;
  envFiles?: string[] | undefined;
}

function readInclude(item: Node, problems: Problems): IncludeSpec | undefined {
  const strings = (n: Node): string[] | undefined => {
    if (n.kind === 'scalar' && typeof n.value === 'string') return [n.value];
    if (n.kind === 'seq' && n.items.every((i) => i.kind === 'scalar' && typeof i.value === 'string')) return n.items.map((i) => scalarText(i as ScalarNode));
    problems.add(n.loc, `expected a path or a list of paths, got ${show(n)}`, INCLUDE_DOCS);
    return undefined;
  };
  if (item.kind === 'scalar') return { paths: strings(item) ?? [] };
  if (item.kind !== 'map') {
    problems.add(item.loc, `expected a path or { path, project_directory, env_file }, got ${show(item)}`, INCLUDE_DOCS);
    return undefined;
  }
  const spec: IncludeSpec = { paths: [] };
  for (const e of item.entries.values()) {
    if (e.key === 'path') spec.paths = strings(e.value) ?? [];
    else if (e.key === 'env_file') spec.envFiles = strings(e.value);
    else if (e.key === 'project_directory') spec.projectDirectory = strings(e.value)?.[0];
    else problems.add(e.keyLoc, `unknown include key ${JSON.stringify(e.key)}`, `expected path, project_directory or env_file; ${INCLUDE_DOCS}`);
  }
  if (!item.entries.has('path')) problems.add(item.loc, 'an include entry needs path:', INCLUDE_DOCS);
  return spec;
}

function addIncluded(out: MapNode, included: MapNode, projectDir: string, from: Loc, problems: Problems): void {
  for (const section of SECTIONS) {
    const src = included.entries.get(section)?.value;
    if (!src || src.kind !== 'map') continue;
    let items = src;
    if (section === 'services') items = mapValues(src, (_k, v) => (v.kind === 'map' ? rebasePaths(v, projectDir) : v));
    if (section === 'secrets' || section === 'configs') items = rebaseFileObjects(src, projectDir);
    const existing = out.entries.get(section);
    const target: MapNode = existing?.value.kind === 'map' ? existing.value : { kind: 'map', entries: new Map(), loc: from };
    const entries = new Map(target.entries);
    for (const [name, e] of items.entries) {
      const prev = entries.get(name);
      if (prev && JSON.stringify(plain(prev.value)) !== JSON.stringify(plain(e.value))) {
        problems.add(prev.keyLoc, `${section}.${name} is also defined by an included file (${e.keyLoc.file}:${e.keyLoc.line}) differently`, 'rename one of them, or extend the included one instead');
        continue;
      }
      if (!prev) entries.set(name, e);
    }
    const value: MapNode = { ...target, entries };
    out.entries.set(section, existing ? { ...existing, value } : { key: section, keyLoc: { ...from, path: childPath('', section) }, value });
  }
}

/** A node as plain data, to compare definitions. */
function plain(n: Node): unknown {
  if (n.kind === 'scalar') return n.value;
  if (n.kind === 'seq') return n.items.map(plain);
  return Object.fromEntries([...n.entries].map(([k, e]) => [k, plain(e.value)]));
}
