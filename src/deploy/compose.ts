/**
 * Reads Compose files into kiboko's deploy model. Pure parsing: it reads the files it is given
 * (plus `.env` and `env_file`s) and never touches an engine. Every problem found is collected
 * with its file, line and key path, and all of them are thrown together as one INVALID_ARGUMENT
 * error; nothing is returned, so nothing can be applied, when any is found.
 *
 * The order of work follows compose: each file is parsed and interpolated on its own, the files
 * are merged (later overrides earlier), then the result is validated and translated.
 */
import { readFileSync, statSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import * as z from 'zod/mini';
import { parseDuration } from '../common/duration.js';
import { errorMessage, invalidArgument, KibokoError } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import { parseSignal } from '../common/signals.js';
import {
  DEFAULT_ROLLBACK,
  DEFAULT_UPDATE,
  type DependsCondition,
  type Healthcheck,
  type PortMapping,
  type RestartPolicy,
  type RollbackConfig,
  type ServiceSpec,
  type SystemConfig,
  type TagPolicy,
  type UpdateConfig,
  type VolumeMount,
} from './model.js';
import { interpolate, parseDotenv, splitShellWords, type Lookup } from './shellwords.js';
import { parseTagPolicy } from './tags.js';

// ——— public API ————————————————————————————————————————————————————————————————

export interface ComposeOptions {
  /** Used when the files set no top-level `name:`; must already be a valid project name. */
  projectName?: string | undefined;
  /** Variables for interpolation and bare `KEY` environment entries; default `process.env`. Wins over `.env`. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Directory relative file names are resolved against (and shown relative to); default `process.cwd()`. */
  cwd?: string | undefined;
}

export interface ParseComposeOptions extends ComposeOptions {
  /**
   * Reads `.env` and `env_file` files: absolute path in, text out, undefined when the file does
   * not exist. Default: the file system. In-memory callers pass their own.
   */
  readFile?: ((absolutePath: string) => string | undefined) | undefined;
}

export interface ComposeSource {
  /** Path of the file (relative to `cwd` or absolute); its folder is the project folder when first. */
  file: string;
  text: string;
}

/** One validation problem, as listed in the thrown error's `details.errors`. */
export interface ComposeProblem {
  /** The file as given (relative to `cwd` when inside it). */
  file: string;
  /** 1-based; 0 when the problem has no line (a missing file). */
  line: number;
  /** Key path in the file, e.g. `services.web.ports[0]`; '' for the whole file. */
  path: string;
  /** What is wrong and how to fix it, e.g. `expected …, got "abc" — see https://…`. */
  message: string;
}

/** The file names compose looks for when no `-f` is given, in its order of preference. */
export const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'] as const;
export const COMPOSE_OVERRIDE_FILE_NAMES = [
  'compose.override.yml',
  'compose.override.yaml',
  'docker-compose.override.yml',
  'docker-compose.override.yaml',
] as const;

/**
 * Loads Compose files (`-f a.yaml -f b.yaml`: later files override earlier ones) into a
 * SystemConfig. Synchronous: the files are small and it does no other I/O. With no files, does
 * what compose does: the first of COMPOSE_FILE_NAMES in `cwd` or its closest parent that has
 * one, plus that folder's override file. Throws one KibokoError INVALID_ARGUMENT listing every
 * problem (`details.errors`: ComposeProblem[]).
 */
export function loadCompose(files: readonly string[], options: ComposeOptions = {}): SystemConfig {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const chosen = files.length > 0 ? files.map((f) => path.resolve(cwd, f)) : discoverFiles(cwd);
  const missing = chosen.filter((f) => !isFile(f));
  if (missing.length > 0) {
    const problems = missing.map((f) => ({ file: displayPath(f, cwd), line: 0, path: '', message: 'file not found' }));
    throw problemsError(problems, 'check the -f paths (relative paths start from the current directory)');
  }
  const sources = chosen.map((f) => ({ file: f, text: readFileSync(f, 'utf8') }));
  return parseComposeSources(sources, { ...options, cwd });
}

/** Parses one Compose file held in memory; `file` names it in messages and anchors relative paths. */
export function parseCompose(text: string, file: string, options: ParseComposeOptions = {}): SystemConfig {
  return parseComposeSources([{ file, text }], options);
}

/** Parses several Compose files held in memory, merged in order (later overrides earlier). */
export function parseComposeSources(sources: readonly ComposeSource[], options: ParseComposeOptions = {}): SystemConfig {
  if (sources.length === 0) throw invalidArgument('no compose file given', 'pass one with -f compose.yaml');
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const explicitName = options.projectName;
  if (explicitName !== undefined && !PROJECT_NAME.test(explicitName)) {
    throw invalidArgument(
      `invalid project name ${JSON.stringify(explicitName)}: ${PROJECT_NAME_RULE}`,
      `use e.g. ${JSON.stringify(normalizeProjectName(explicitName) || 'myapp')}`,
    );
  }
  const problems = new Problems();
  const absFiles = sources.map((s) => path.resolve(cwd, s.file));
  const ctx = newContext(options, cwd, absFiles, problems);

  const roots: MapNode[] = [];
  let syntaxErrors = false;
  sources.forEach((source, i) => {
    const root = readYaml(source.text, ctx.display(absFiles[i]!), ctx.lookup, problems);
    if (root === 'syntax-error') syntaxErrors = true;
    else if (root) roots.push(root);
  });
  if (syntaxErrors) throw problems.toError();

  let merged: Node | undefined;
  for (const root of roots) merged = mergeNodes(merged, root, []);
  const config = merged?.kind === 'map' ? buildConfig(merged, ctx, explicitName) : undefined;
  if (!problems.empty || !config) throw problems.toError();
  return config;
}

/** compose's project-name normalization: lowercase, only [a-z0-9_-], no leading `_`/`-`. */
export function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
}

/** `compose.yaml:12 services.web.ports[0]: expected …` */
export function formatComposeProblem(p: ComposeProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}` : p.file;
  return `${where}${p.path ? ` ${p.path}` : ''}: ${p.message}`;
}

// ——— problems ——————————————————————————————————————————————————————————————————

interface Loc {
  readonly file: string;
  readonly line: number;
  readonly path: string;
}

class Problems {
  private readonly list: ComposeProblem[] = [];
  private readonly seen = new Set<string>();

  get empty(): boolean {
    return this.list.length === 0;
  }

  get messages(): string[] {
    return this.list.map((p) => p.message);
  }

  /** `hint` follows the message after an em dash: a fix, or `see <docs URL>`. */
  add(loc: Loc, message: string, hint?: string): void {
    const full = hint ? `${message} — ${hint}` : message;
    // An anchor used in several places reports its problem once.
    const key = `${loc.file}\0${loc.line}\0${full}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push({ file: loc.file, line: loc.line, path: loc.path, message: full });
  }

  toError(): KibokoError {
    return problemsError(this.list, 'fix these and run again; nothing was changed');
  }
}

function problemsError(list: readonly ComposeProblem[], hint: string): KibokoError {
  const order = new Map<string, number>();
  for (const p of list) if (!order.has(p.file)) order.set(p.file, order.size);
  const sorted = [...list].sort((a, b) => order.get(a.file)! - order.get(b.file)! || a.line - b.line);
  const files = [...order.keys()].join(', ') || 'compose';
  const summary = `${files}: ${sorted.length} error${sorted.length === 1 ? '' : 's'}`;
  return new KibokoError('INVALID_ARGUMENT', [summary, ...sorted.map(formatComposeProblem)].join('\n'), {
    hint,
    details: { errors: sorted },
  });
}

// ——— located YAML tree ——————————————————————————————————————————————————————————

type Prim = string | number | boolean | null;
interface ScalarNode {
  kind: 'scalar';
  value: Prim;
  /** Source text of a non-string scalar (`0755`, `1.0`), which environment values keep as written. */
  raw?: string | undefined;
  loc: Loc;
  tag?: string | undefined;
}
interface SeqNode {
  kind: 'seq';
  items: Node[];
  loc: Loc;
  tag?: string | undefined;
}
interface MapNode {
  kind: 'map';
  entries: Map<string, Entry>;
  loc: Loc;
  tag?: string | undefined;
}
type Node = ScalarNode | SeqNode | MapNode;
interface Entry {
  key: string;
  keyLoc: Loc;
  value: Node;
}

const childPath = (parent: string, key: string) => {
  const k = /^[A-Za-z0-9_-]+$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  return parent === '' ? k : k.startsWith('[') ? `${parent}${k}` : `${parent}.${k}`;
};
const itemPath = (parent: string, i: number) => `${parent}[${i}]`;
const MERGE_TAGS = new Set(['!reset', '!override']);
const MAX_NODES = 200_000;

/** Parses one file into a located tree with every string value interpolated. */
function readYaml(text: string, file: string, lookup: Lookup, problems: Problems): MapNode | undefined | 'syntax-error' {
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
  const interp = (value: string, loc: Loc): string => {
    try {
      return interpolate(value, lookup);
    } catch (err) {
      const e = err as KibokoError;
      problems.add(loc, e.message, `${e.hint ?? ''}; see ${DOCS}/interpolation/`);
      return value;
    }
  };

  // Aliases are expanded here, so a few lines can stand for an enormous tree ("billion laughs").
  let budget = MAX_NODES;
  const convert = (n: unknown, p: string, fallbackLine: number, depth: number): Node => {
    const at = (line: number): Loc => ({ file, line, path: p });
    if (depth > 64 || --budget < 0) {
      if (budget === -1 || depth > 64) problems.add(
        at(fallbackLine),
        'too deeply nested or too large once aliases are expanded',
        'use fewer nested aliases',
      );
      return { kind: 'scalar', value: null, loc: at(fallbackLine) };
    }
    if (isAlias(n)) {
      const target = n.resolve(doc as Document);
      if (!target) {
        problems.add(at(lineOf(n.range?.[0])), `unknown alias *${n.source}`, 'define the anchor (&name) before using it');
        return { kind: 'scalar', value: null, loc: at(lineOf(n.range?.[0])) };
      }
      return convert(target, p, lineOf(n.range?.[0]), depth + 1);
    }
    const tag = (n as { tag?: string } | null)?.tag;
    const mergeTag = tag && MERGE_TAGS.has(tag) ? tag : undefined;
    if (isScalar(n)) {
      const loc = at(lineOf(n.range?.[0]));
      const v = n.value;
      if (typeof v === 'string') return { kind: 'scalar', value: interp(v, loc), loc, tag: mergeTag };
      if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean') {
        return { kind: 'scalar', value: v ?? null, raw: n.source, loc, tag: mergeTag };
      }
      return { kind: 'scalar', value: String(v), loc, tag: mergeTag };
    }
    if (isSeq(n)) {
      const loc = at(lineOf(n.range?.[0]));
      const items = n.items.map((item, i) => convert(item, itemPath(p, i), loc.line, depth + 1));
      return { kind: 'seq', items, loc, tag: mergeTag };
    }
    if (isMap(n)) {
      const loc = at(lineOf(n.range?.[0]));
      const entries = new Map<string, Entry>();
      const mergeSources: Node[] = [];
      for (const pair of n.items) {
        const k = pair.key;
        if (isScalar(k) && k.value === '<<' && k.type === 'PLAIN') {
          // YAML merge keys (`<<: *common`): explicit keys win, then earlier sources.
          const src = convert(pair.value, p, lineOf(k.range?.[0]), depth + 1);
          for (const one of src.kind === 'seq' ? src.items : [src]) {
            if (one.kind === 'map') mergeSources.push(one);
            else problems.add(one.loc, `expected an alias of a mapping after <<, got ${show(one)}`, 'use <<: *anchor');
          }
          continue;
        }
        if (!isScalar(k) || k.value === null || typeof k.value === 'object') {
          problems.add(at(lineOf((k as { range?: [number] } | null)?.range?.[0] ?? n.range?.[0])), 'expected a plain key');
          continue;
        }
        const key = String(k.value);
        const keyLoc: Loc = { file, line: lineOf(k.range?.[0]), path: childPath(p, key) };
        entries.set(key, { key, keyLoc, value: convert(pair.value, keyLoc.path, keyLoc.line, depth + 1) });
      }
      for (const src of mergeSources) {
        if (src.kind !== 'map') continue;
        for (const [key, entry] of src.entries) if (!entries.has(key)) entries.set(key, rebase(entry, p));
      }
      return { kind: 'map', entries, loc, tag: mergeTag };
    }
    return { kind: 'scalar', value: null, loc: at(fallbackLine) };
  };

  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    problems.add({ file, line: 1, path: '' }, 'the file is empty', `a Compose file needs at least services:; see ${DOCS}/`);
    return undefined;
  }
  const root = convert(doc.contents, '', 1, 0);
  if (root.kind !== 'map') {
    problems.add(
      root.loc,
      `expected a mapping of top-level keys (services:, networks:, …), got ${show(root)}`,
      `see ${DOCS}/`,
    );
    return undefined;
  }
  checkTopLevelKeys(root, problems);
  return root;
}

/** An entry merged in with `<<` gets the path of the map it lands in. */
function rebase(entry: Entry, parentPath: string): Entry {
  const p = childPath(parentPath, entry.key);
  return { ...entry, keyLoc: { ...entry.keyLoc, path: p }, value: rebaseNode(entry.value, p) };
}
function rebaseNode(node: Node, p: string): Node {
  const loc = { ...node.loc, path: p };
  if (node.kind === 'seq') return { ...node, loc, items: node.items.map((it, i) => rebaseNode(it, itemPath(p, i))) };
  if (node.kind === 'map') {
    const entries = new Map([...node.entries].map(([k, e]) => [k, rebase(e, p)] as const));
    return { ...node, loc, entries };
  }
  return { ...node, loc };
}

function show(node: Node | undefined): string {
  if (!node) return 'nothing';
  if (node.kind === 'seq') return 'a list';
  if (node.kind === 'map') return 'a mapping';
  if (node.value === null) return 'nothing';
  if (typeof node.value === 'string') return JSON.stringify(node.value);
  return node.raw ?? String(node.value);
}

// ——— merging files (compose's merge rules) ——————————————————————————————————————

/**
 * Merges `over` onto `base` the way compose merges override files: mappings merge key by key,
 * scalars replace, lists append (ports, volumes and env_file are then made unique when read:
 * ports by value, volumes by target with the later one winning, env_file by path);
 * `command`, `entrypoint` and `healthcheck.test` replace; `environment`, `labels` (map or
 * `KEY=VAL` list), `depends_on` and service `networks` (list or map) merge by key. `!reset`
 * removes a value, `!override` replaces it whole.
 */
function mergeNodes(base: Node | undefined, over: Node, p: readonly string[]): Node | undefined {
  if (over.tag === '!reset') return undefined;
  if (base === undefined || over.tag === '!override') return withoutResets(over);
  const inService = p.length === 3 && p[0] === 'services';
  const key = p[p.length - 1];
  if (inService && (key === 'command' || key === 'entrypoint')) return withoutResets(over);
  if (p.length === 4 && p[0] === 'services' && p[2] === 'healthcheck' && key === 'test') return withoutResets(over);
  if (inService && key !== undefined && KEYED_LISTS.has(key)) {
    const b = asKeyedMap(base, key);
    const o = asKeyedMap(over, key);
    return b && o ? mergeMaps(b, o, p) : withoutResets(over);
  }
  if (base.kind === 'map' && over.kind === 'map') return mergeMaps(base, over, p);
  if (base.kind === 'seq' && over.kind === 'seq') return { ...over, items: [...base.items, ...withoutResetItems(over.items)] };
  return withoutResets(over);
}

function mergeMaps(base: MapNode, over: MapNode, p: readonly string[]): MapNode {
  const entries = new Map(base.entries);
  for (const [key, entry] of over.entries) {
    const prev = entries.get(key);
    const merged = mergeNodes(prev?.value, entry.value, [...p, key]);
    if (merged === undefined) entries.delete(key);
    // The first declaration stays the entry's origin (services keep the line they were declared on).
    else entries.set(key, { key, keyLoc: prev?.keyLoc ?? entry.keyLoc, value: merged });
  }
  return { ...base, entries, tag: undefined };
}

function withoutResets(node: Node): Node {
  if (node.kind === 'map') {
    const entries = new Map<string, Entry>();
    for (const [k, e] of node.entries) if (e.value.tag !== '!reset') entries.set(k, { ...e, value: withoutResets(e.value) });
    return { ...node, entries, tag: undefined };
  }
  if (node.kind === 'seq') return { ...node, items: withoutResetItems(node.items), tag: undefined };
  return { ...node, tag: undefined };
}
const withoutResetItems = (items: Node[]) => items.filter((i) => i.tag !== '!reset').map(withoutResets);

const KEYED_LISTS = new Set(['environment', 'labels', 'depends_on', 'networks']);

/** The map form of a list-or-map key, or undefined when the list has an item that is not a plain name. */
function asKeyedMap(node: Node, key: string): MapNode | undefined {
  if (node.kind === 'map') return node;
  if (node.kind !== 'seq') return undefined;
  const entries = new Map<string, Entry>();
  for (const item of node.items) {
    if (item.kind !== 'scalar' || typeof item.value !== 'string' || item.value === '') return undefined;
    if (key === 'environment' || key === 'labels') {
      const eq = item.value.indexOf('=');
      if (eq === 0) return undefined;
      const k = eq < 0 ? item.value : item.value.slice(0, eq);
      const value: ScalarNode = { kind: 'scalar', value: eq < 0 ? null : item.value.slice(eq + 1), loc: item.loc };
      entries.set(k, { key: k, keyLoc: item.loc, value });
    } else if (key === 'depends_on') {
      const started: ScalarNode = { kind: 'scalar', value: 'service_started', loc: item.loc };
      const condition = new Map([['condition', { key: 'condition', keyLoc: item.loc, value: started }]]);
      entries.set(item.value, { key: item.value, keyLoc: item.loc, value: { kind: 'map', entries: condition, loc: item.loc } });
    } else {
      entries.set(item.value, { key: item.value, keyLoc: item.loc, value: { kind: 'scalar', value: null, loc: item.loc } });
    }
  }
  return { kind: 'map', entries, loc: node.loc };
}

// ——— validation and translation ————————————————————————————————————————————————

const DOCS = 'https://docs.docker.com/reference/compose-file';
const svcDocs = (key: string) => `see ${DOCS}/services/#${key}`;
const deployDocs = (key?: string) => `see ${DOCS}/deploy/${key ? `#${key}` : ''}`;

const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const PROJECT_NAME_RULE = 'must contain only lowercase letters, digits, dashes and underscores, and start with a letter or digit';

interface Context {
  problems: Problems;
  projectDir: string;
  lookup: Lookup;
  readFile: (abs: string) => string | undefined;
  display: (abs: string) => string;
  home: string;
  sources: string[];
  networks: Set<string>;
  volumes: Set<string>;
}

function newContext(options: ParseComposeOptions, cwd: string, files: string[], problems: Problems): Context {
  const projectDir = path.dirname(files[0]!);
  const processEnv = options.env ?? process.env;
  const readFile = options.readFile ?? readIfExists;
  const display = (abs: string) => displayPath(abs, cwd);
  const ctx: Context = {
    problems,
    projectDir,
    lookup: (name) => processEnv[name],
    readFile,
    display,
    home: processEnv.HOME ?? homedir(),
    sources: [...files],
    networks: new Set(),
    volumes: new Set(),
  };
  // The project's .env feeds interpolation; the process environment wins over it.
  const dotenvPath = path.join(projectDir, '.env');
  const text = readFile(dotenvPath);
  if (text !== undefined) {
    ctx.sources.push(dotenvPath);
    const { values, problems: found } = parseDotenv(text, (name) => processEnv[name]);
    for (const p of found) problems.add(
      { file: display(dotenvPath), line: p.line, path: '' },
      p.message,
      `see ${DOCS}/interpolation/`,
    );
    ctx.lookup = (name) => processEnv[name] ?? (Object.hasOwn(values, name) ? values[name] : undefined);
  }
  return ctx;
}

type KeyRule = 'supported' | 'ignored' | { unsupported: string };
const GENERIC_UNSUPPORTED = 'remove it, or run this service with docker compose for now';

const TOP_LEVEL_KEYS: Record<string, KeyRule> = {
  name: 'supported',
  services: 'supported',
  networks: 'supported',
  volumes: 'supported',
  // Obsolete in the Compose Specification; compose itself only warns.
  version: 'ignored',
  secrets: { unsupported: 'mount the file read-only with a service volumes: entry for now' },
  configs: { unsupported: 'mount the file read-only with a service volumes: entry for now' },
  include: { unsupported: 'pass the files with -f instead' },
  models: { unsupported: GENERIC_UNSUPPORTED },
};

function checkTopLevelKeys(root: MapNode, problems: Problems): void {
  for (const entry of root.entries.values()) {
    if (entry.key.startsWith('x-')) continue;
    checkKeyRule(entry, TOP_LEVEL_KEYS, problems, `see ${DOCS}/`);
  }
}

/** Reports an unsupported or unknown key; true when the key is supported (to be read). */
function checkKeyRule(entry: Entry, rules: Record<string, KeyRule>, problems: Problems, docs: string): boolean {
  const rule = rules[entry.key];
  if (rule === 'supported') return true;
  if (rule === 'ignored') return false;
  if (rule) {
    problems.add(entry.keyLoc, `${entry.key} is not supported by kiboko deploy yet`, rule.unsupported);
    return false;
  }
  const guess = closest(entry.key, Object.keys(rules).filter((k) => rules[k] === 'supported'));
  problems.add(entry.keyLoc, `unknown key ${JSON.stringify(entry.key)}`, guess ? `did you mean ${guess}? ${docs}` : docs);
  return false;
}

function buildConfig(root: MapNode, ctx: Context, explicitName: string | undefined): SystemConfig | undefined {
  const { problems } = ctx;
  const get = (key: string) => root.entries.get(key);

  const defaultPolicy = readKibokoExtension(get('x-kiboko'), ctx, { kind: 'pinned' });
  readGate(get('x-kiboko'), ctx, 'project');
  const postDeployTests = readPostDeployTests(get('x-kiboko'), ctx, 'project');
  const networks = readTopLevelObjects(get('networks'), 'network', ctx);
  const volumes = readTopLevelObjects(get('volumes'), 'volume', ctx);
  ctx.networks = new Set(networks);
  ctx.volumes = new Set(volumes);

  const project = readProjectName(get('name'), explicitName, ctx);

  const servicesEntry = get('services');
  const servicesNode = servicesEntry?.value;
  if (!servicesEntry || servicesNode?.kind !== 'map' || servicesNode.entries.size === 0) {
    const loc = servicesEntry?.keyLoc ?? { ...root.loc, path: '' };
    problems.add(
      loc,
      `expected services: with at least one service, got ${servicesEntry ? show(servicesNode) : 'none'}`,
      `see ${DOCS}/services/`,
    );
    return undefined;
  }

  const read: ReadService[] = [];
  for (const entry of servicesNode.entries.values()) {
    const one = readService(entry, ctx, defaultPolicy);
    if (one) read.push(one);
  }

  // Profiles, as compose: services with profiles run only when one is active (COMPOSE_PROFILES).
  const active = new Set((ctx.lookup('COMPOSE_PROFILES') ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  const enabled = (s: ReadService) => s.profiles.length === 0 || active.has('*') || s.profiles.some((p) => active.has(p));
  const byName = new Map(read.map((s) => [s.spec.name, s]));
  const declared = [...servicesNode.entries.keys()];
  const services = read.filter(enabled);
  for (const s of services) s.spec.dependsOn = checkDependencies(s, byName, declared, enabled, ctx);
  reportCycles(services, problems);

  if (services.length === 0 && read.length > 0) {
    problems.add(
      servicesEntry.keyLoc,
      'every service is disabled by its profiles',
      `activate one with COMPOSE_PROFILES=${read[0]!.profiles[0] ?? ''}`,
    );
  }
  if (!project) return undefined;
  return {
    project,
    services: services.map((s) => s.spec),
    networks,
    volumes,
    sources: [...new Set(ctx.sources)],
    ...(postDeployTests ? { postDeployTests } : {}),
  };
}

function readProjectName(entry: Entry | undefined, explicit: string | undefined, ctx: Context): string | undefined {
  if (entry) {
    const name = str(entry.value, ctx, 'a project name', `see ${DOCS}/version-and-name/`);
    if (name === undefined) return undefined;
    if (!PROJECT_NAME.test(name)) {
      ctx.problems.add(
        entry.value.loc,
        `invalid project name ${JSON.stringify(name)}: ${PROJECT_NAME_RULE}`,
        `use e.g. ${JSON.stringify(normalizeProjectName(name) || 'myapp')}`,
      );
      return undefined;
    }
    return name;
  }
  if (explicit !== undefined) return explicit;
  const folder = path.basename(ctx.projectDir);
  const normalized = normalizeProjectName(folder);
  if (!normalized) {
    ctx.problems.add(
      { file: ctx.display(ctx.projectDir), line: 0, path: '' },
      `cannot derive a project name from the folder name ${JSON.stringify(folder)}`,
      'set a top-level name: or pass a project name',
    );
    return undefined;
  }
  return normalized;
}

/** Top-level `networks:`/`volumes:`: the names, with `external` accepted. */
function readTopLevelObjects(entry: Entry | undefined, kind: 'network' | 'volume', ctx: Context): string[] {
  if (!entry || (entry.value.kind === 'scalar' && entry.value.value === null)) return [];
  const docs = `see ${DOCS}/${kind}s/`;
  const map = mapOf(entry.value, ctx, `a mapping of ${kind} names`, docs);
  if (!map) return [];
  const names: string[] = [];
  const driver = kind === 'network' ? 'bridge' : 'local';
  for (const e of map.entries.values()) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(e.key)) {
      ctx.problems.add(e.keyLoc, `invalid ${kind} name ${JSON.stringify(e.key)}`, 'use letters, digits, _, . and -');
      continue;
    }
    if (!(kind === 'network' && e.key === 'default')) names.push(e.key);
    if (e.value.kind === 'scalar' && e.value.value === null) continue;
    const opts = mapOf(e.value, ctx, `a mapping of ${kind} options (or nothing)`, docs);
    if (!opts) continue;
    for (const o of opts.entries.values()) {
      if (o.key === 'external') bool(o.value, ctx, docs);
      else if (o.key === 'driver') {
        const d = str(o.value, ctx, 'a driver name', docs);
        if (d !== undefined && d !== driver) ctx.problems.add(
          o.value.loc,
          `${kind} driver ${JSON.stringify(d)} is not supported by kiboko deploy yet`,
          `only ${driver} is; remove driver:`,
        );
      } else if (o.key.startsWith('x-')) continue;
      else ctx.problems.add(
        o.keyLoc,
        `${kind} option ${o.key} is not supported by kiboko deploy yet`,
        `kiboko creates ${kind}s with default options; ${GENERIC_UNSUPPORTED}`,
      );
    }
  }
  return names;
}

/** `x-kiboko: { tag-policy: { follow: <branch> } | pinned }` on the project or on a service. */
function readKibokoExtension(entry: Entry | undefined, ctx: Context, fallback: TagPolicy): TagPolicy {
  if (!entry) return fallback;
  const docs = 'write x-kiboko: { tag-policy: { follow: <branch> } } or tag-policy: pinned | semver | semver-major-locked | regex:<re2>';
  const map = mapOf(entry.value, ctx, 'a mapping', docs);
  if (!map) return fallback;
  let policy = fallback;
  for (const e of map.entries.values()) {
    // A service's config templates are read by readServiceTemplates; gate and post_deploy_tests by readGate / readPostDeployTests.
    if (e.key === 'config' || e.key === 'gate' || e.key === 'post_deploy_tests') continue;
    if (e.key !== 'tag-policy') {
      const guess = closest(e.key, ['tag-policy', 'config', 'gate', 'post_deploy_tests']);
      ctx.problems.add(e.keyLoc, `unknown x-kiboko key ${JSON.stringify(e.key)}`, guess ? `did you mean ${guess}?` : docs);
      continue;
    }
    const v = e.value;
    if (v.kind === 'scalar' && typeof v.value === 'string') {
      // One word: pinned, any, semver, semver-major-locked, follow:<branch>, regex:<re2>.
      try {
        policy = parseTagPolicy(v.value);
      } catch (err) {
        ctx.problems.add(v.loc, errorMessage(err), docs);
      }
      continue;
    }
    const m = mapOf(v, ctx, '{ follow: <branch> } or pinned', docs);
    if (!m) continue;
    for (const k of m.entries.values()) {
      if (k.key !== 'follow') {
        ctx.problems.add(k.keyLoc, `unknown tag-policy key ${JSON.stringify(k.key)}`, docs);
        continue;
      }
      const branch = str(k.value, ctx, 'a branch name', docs);
      if (branch === undefined) continue;
      if (!/^[A-Za-z0-9_.-]{1,120}$/.test(branch)) {
        ctx.problems.add(
          k.value.loc,
          `expected a branch name as it appears in image tags (<build>-<branch>), got ${JSON.stringify(branch)}`,
          'tags hold only letters, digits, _ . and -; use the name your CI puts in the tag',
        );
        continue;
      }
      policy = { kind: 'follow-branch', branch };
    }
  }
  return policy;
}

/**
 * `x-kiboko: { config: { confdir: ./web-conf, reload: [nginx, -s, reload] } }` on a service: a
 * confd folder rendered into its containers with its dependencies' addresses (src/events/deps).
 */
function readServiceTemplates(entry: Entry | undefined, ctx: Context): ServiceSpec['templates'] {
  const map = entry?.value.kind === 'map' ? entry.value : undefined;
  const config = map?.entries.get('config');
  if (!config) return undefined;
  const docs = 'write x-kiboko: { config: { confdir: ./conf, reload: [cmd, arg] } } — a confd folder (conf.d/*.toml, templates/)';
  const m = mapOf(config.value, ctx, 'a mapping with confdir (and reload)', docs);
  if (!m) return undefined;
  let confdir: string | undefined;
  let reload: string[] | undefined;
  for (const e of m.entries.values()) {
    if (e.key === 'confdir') {
      const dir = str(e.value, ctx, 'a folder path', docs);
      if (dir === undefined) continue;
      const abs = path.resolve(ctx.projectDir, dir);
      if (!isDirectory(abs)) ctx.problems.add(e.value.loc, `config folder ${dir} does not exist (${abs})`, docs);
      else confdir = abs;
    } else if (e.key === 'reload') {
      reload = readCommand(e, ctx);
    } else {
      const guess = closest(e.key, ['confdir', 'reload']);
      ctx.problems.add(e.keyLoc, `unknown x-kiboko.config key ${JSON.stringify(e.key)}`, guess ? `did you mean ${guess}?` : docs);
    }
  }
  if (!m.entries.has('confdir')) ctx.problems.add(config.keyLoc, 'x-kiboko.config needs confdir', docs);
  return confdir ? { confdir, ...(reload?.length ? { reload } : {}) } : undefined;
}

const GATE_DOCS = 'write x-kiboko: { gate: validate } or { gate: { method: validate, timeout: 20s } } on a service — a lifecycle method its image declares (LABEL kiboko.method.validate=…)';
const TESTS_DOCS = 'write x-kiboko: { post_deploy_tests: { type: integration, timeout: 5m } } at the top level — test images labelled test.type=<type>';
// The lifecycle method and test.type grammars of src/packages (lifecycle.ts, integration.ts).
const methodName = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/));
const testType = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/));

/** A word checked by a zod schema: `expected <what>, got …` at the node's line. */
function word(node: Node, ctx: Context, schema: typeof methodName, what: string, docs: string): string | undefined {
  const r = schema.safeParse(scalarValue(node));
  if (!r.success) {
    ctx.problems.add(node.loc, `expected ${what}, got ${show(node)}`, docs);
    return undefined;
  }
  return r.data;
}

/** A timeout: a duration above zero. */
function positiveDuration(node: Node, ctx: Context, docs: string): number | undefined {
  const ms = duration(node, ctx, docs);
  if (ms === 0) ctx.problems.add(node.loc, `expected a timeout above zero, got ${show(node)}`, docs);
  return ms ? ms : undefined;
}

/** The `x-kiboko` mapping's entry for `key`, when x-kiboko is a mapping (readKibokoExtension reports it otherwise). */
function kibokoKey(entry: Entry | undefined, key: string): Entry | undefined {
  const e = entry?.value.kind === 'map' ? entry.value.entries.get(key) : undefined;
  return e && !(e.value.kind === 'scalar' && e.value.value === null) ? e : undefined;
}

/**
 * `x-kiboko: { gate: validate }` or `{ gate: { method: validate, timeout: 20s } }` on a service:
 * the lifecycle method a new replica must pass (the `kiboko.deploy.gate` label's equivalent).
 * At the top level it is refused: a gate names a method of one service's image.
 */
function readGate(entry: Entry | undefined, ctx: Context, scope: 'project' | 'service'): ServiceSpec['gate'] {
  const e = kibokoKey(entry, 'gate');
  if (!e) return undefined;
  if (scope === 'project') {
    ctx.problems.add(e.keyLoc, 'x-kiboko.gate is set per service, not for the whole file', GATE_DOCS);
    return undefined;
  }
  if (e.value.kind !== 'map') {
    const method = word(e.value, ctx, methodName, 'a lifecycle method name like validate', GATE_DOCS);
    return method === undefined ? undefined : { method };
  }
  let method: string | undefined;
  let timeoutMs: number | undefined;
  for (const k of e.value.entries.values()) {
    if (k.key === 'method') method = word(k.value, ctx, methodName, 'a lifecycle method name like validate', GATE_DOCS);
    else if (k.key === 'timeout') timeoutMs = positiveDuration(k.value, ctx, GATE_DOCS);
    else {
      const guess = closest(k.key, ['method', 'timeout']);
      ctx.problems.add(k.keyLoc, `unknown x-kiboko.gate key ${JSON.stringify(k.key)}`, guess ? `did you mean ${guess}?` : GATE_DOCS);
    }
  }
  if (!e.value.entries.has('method')) ctx.problems.add(e.keyLoc, 'x-kiboko.gate needs method', GATE_DOCS);
  return method === undefined ? undefined : { method, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
}

/** A service label `kiboko.deploy.gate` and `x-kiboko.gate` may both be written only when they agree. */
function checkGateLabel(spec: ServiceSpec, entry: Entry | undefined, ctx: Context): void {
  const label = spec.labels[LABELS.deployGate];
  const e = kibokoKey(entry, 'gate');
  if (!spec.gate || label === undefined || label === spec.gate.method || !e) return;
  ctx.problems.add(
    e.keyLoc,
    `x-kiboko.gate says ${JSON.stringify(spec.gate.method)} but the label ${LABELS.deployGate} says ${JSON.stringify(label)}`,
    'keep one of them (x-kiboko.gate can also set a timeout)',
  );
}

/**
 * Top-level `x-kiboko: { post_deploy_tests: { type: integration, timeout: 5m } }` (or just
 * `post_deploy_tests: integration`): after a successful apply the project's test containers must
 * pass, else the deploy is rolled back. On a service it is refused: the tests judge the project.
 */
function readPostDeployTests(entry: Entry | undefined, ctx: Context, scope: 'project' | 'service'): SystemConfig['postDeployTests'] {
  const e = kibokoKey(entry, 'post_deploy_tests');
  if (!e) return undefined;
  if (scope === 'service') {
    ctx.problems.add(e.keyLoc, 'x-kiboko.post_deploy_tests applies to the whole project, not to one service', `move it to the top-level x-kiboko; ${TESTS_DOCS}`);
    return undefined;
  }
  if (e.value.kind !== 'map') {
    const type = word(e.value, ctx, testType, 'a test type like integration (or a mapping with type and timeout)', TESTS_DOCS);
    return type === undefined ? undefined : { type };
  }
  let type = 'integration';
  let timeoutMs: number | undefined;
  let ok = true;
  for (const k of e.value.entries.values()) {
    if (k.key === 'type') {
      const t = word(k.value, ctx, testType, 'a test type like integration (letters, digits, _ . -)', TESTS_DOCS);
      if (t === undefined) ok = false;
      else type = t;
    } else if (k.key === 'timeout') {
      timeoutMs = positiveDuration(k.value, ctx, TESTS_DOCS);
      if (timeoutMs === undefined) ok = false;
    } else {
      const guess = closest(k.key, ['type', 'timeout']);
      ctx.problems.add(k.keyLoc, `unknown x-kiboko.post_deploy_tests key ${JSON.stringify(k.key)}`, guess ? `did you mean ${guess}?` : TESTS_DOCS);
      ok = false;
    }
  }
  return ok ? { type, ...(timeoutMs !== undefined ? { timeoutMs } : {}) } : undefined;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

// ——— services ——————————————————————————————————————————————————————————————————

const UNSUPPORTED_HINTS: Record<string, string> = {
  build:
    'kiboko deploys prebuilt images: build and push in CI, set image:, and drop build: ' +
    '(an override file can say build: !reset null)',
  container_name:
    'kiboko names containers itself (<project>-<service>-<slot>) so it can start a replacement ' +
    'before stopping the old one; remove container_name',
  secrets: 'mount the file read-only with volumes: for now',
  configs: 'mount the file read-only with volumes: for now',
  extends: 'inline the service, or share settings with YAML anchors (x-common: &common … <<: *common)',
  links: 'services reach each other by service name on the project network; remove links',
  external_links: 'attach the service to the other project\'s network instead',
  network_mode: 'kiboko attaches services to networks; use networks:',
};

// Every service key of the Compose Specification, so a typo is told apart from a known-but-unsupported key.
const COMPOSE_SERVICE_KEYS = [
  'annotations', 'attach', 'blkio_config', 'build', 'cap_add', 'cap_drop', 'cgroup', 'cgroup_parent', 'configs',
  'container_name', 'cpu_count', 'cpu_percent', 'cpu_period', 'cpu_quota', 'cpu_rt_period', 'cpu_rt_runtime',
  'cpu_shares', 'cpus', 'cpuset', 'credential_spec', 'develop', 'device_cgroup_rules', 'devices', 'dns', 'dns_opt',
  'dns_search', 'domainname', 'driver_opts', 'extends', 'external_links', 'extra_hosts', 'gpus', 'group_add',
  'hostname', 'init', 'ipc', 'isolation', 'label_file', 'links', 'logging', 'mac_address', 'mem_limit',
  'mem_reservation', 'mem_swappiness', 'memswap_limit', 'models', 'network_mode', 'oom_kill_disable', 'oom_score_adj',
  'pid', 'pids_limit', 'post_start', 'pre_stop', 'privileged', 'provider', 'read_only', 'runtime', 'secrets',
  'security_opt', 'shm_size', 'stdin_open', 'storage_opt', 'sysctls', 'tmpfs', 'tty', 'ulimits', 'use_api_socket',
  'userns_mode', 'uts', 'volumes_from',
];

const SERVICE_KEYS: Record<string, KeyRule> = {
  ...Object.fromEntries(COMPOSE_SERVICE_KEYS.map((k) => [k, { unsupported: UNSUPPORTED_HINTS[k] ?? GENERIC_UNSUPPORTED }])),
  ...Object.fromEntries(
    [
      'image', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'volumes', 'networks', 'labels',
      'healthcheck', 'depends_on', 'restart', 'user', 'working_dir', 'stop_signal', 'stop_grace_period', 'deploy',
      'scale', 'profiles',
    ].map((k) => [k, 'supported']),
  ),
  // Harmless here: kiboko resolves tags itself (tag policy), pulls for the engine's platform, and
  // every port is reachable from the service's networks anyway.
  pull_policy: 'ignored',
  platform: 'ignored',
  expose: 'ignored',
};

interface ReadService {
  spec: Mutable<ServiceSpec>;
  profiles: string[];
  deps: { service: string; condition: DependsCondition; required: boolean; loc: Loc }[];
}
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function readService(entry: Entry, ctx: Context, defaultPolicy: TagPolicy): ReadService | undefined {
  const { problems } = ctx;
  const name = entry.key;
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
    problems.add(
      entry.keyLoc,
      `invalid service name ${JSON.stringify(name)}`,
      'use letters, digits, _, . and - (starting with a letter or digit)',
    );
  }
  const node = entry.value;
  if (node.kind !== 'map') {
    problems.add(
      entry.keyLoc,
      `expected a service definition (a mapping with at least image:), got ${show(node)}`,
      `see ${DOCS}/services/`,
    );
    return undefined;
  }
  // A key written with no value (`networks:`) counts as absent, as in compose.
  const get = (key: string) => {
    const e = node.entries.get(key);
    return e && !(e.value.kind === 'scalar' && e.value.value === null) ? e : undefined;
  };
  const imageEntry = node.entries.get('image');
  for (const e of node.entries.values()) {
    // Without image:, build: gets the more specific error below.
    if (e.key.startsWith('x-') || (e.key === 'build' && !imageEntry)) continue;
    checkKeyRule(e, SERVICE_KEYS, problems, `see ${DOCS}/services/`);
  }

  let image = '';
  if (!imageEntry) {
    const build = get('build');
    if (build) problems.add(
      build.keyLoc,
      'build: without image: kiboko does not build images',
      'build and push the image in CI, then set image: to its reference',
    );
    else problems.add(
      entry.keyLoc,
      'image is required',
      `kiboko deploys images; add image: repo/name:tag (${svcDocs('image')})`,
    );
  } else image = readImage(imageEntry.value, ctx) ?? '';

  const spec: Mutable<ServiceSpec> = {
    name,
    image,
    command: readCommand(get('command'), ctx),
    entrypoint: readCommand(get('entrypoint'), ctx),
    environment: readEnvironment(get('env_file'), get('environment'), ctx),
    ports: readPorts(get('ports'), ctx),
    volumes: readVolumes(get('volumes'), ctx),
    networks: readServiceNetworks(get('networks'), ctx),
    labels: readLabels(get('labels'), ctx),
    healthcheck: readHealthcheck(get('healthcheck'), ctx),
    dependsOn: [],
    restart: readRestart(get('restart'), ctx),
    user: optional(get('user'), (n) => str(n, ctx, 'a user (name, uid or uid:gid)', svcDocs('user'), true)),
    workingDir: optional(get('working_dir'), (n) => absolutePath(n, ctx, svcDocs('working_dir'))),
    stopSignal: optional(get('stop_signal'), (n) => readSignal(n, ctx)),
    stopGracePeriodMs: optional(get('stop_grace_period'), (n) => duration(n, ctx, svcDocs('stop_grace_period'))),
    replicas: 1,
    update: { ...DEFAULT_UPDATE },
    rollback: { ...DEFAULT_ROLLBACK },
    tagPolicy: readKibokoExtension(get('x-kiboko'), ctx, defaultPolicy),
    templates: readServiceTemplates(get('x-kiboko'), ctx),
    gate: readGate(get('x-kiboko'), ctx, 'service'),
    origin: { file: entry.keyLoc.file, line: entry.keyLoc.line },
  };
  readDeploy(get('deploy'), get('scale'), spec, ctx);
  checkGateLabel(spec, get('x-kiboko'), ctx);
  readPostDeployTests(get('x-kiboko'), ctx, 'service');
  if (spec.tagPolicy.kind === 'follow-branch' && image.includes('@') && imageEntry) {
    problems.add(
      imageEntry.value.loc,
      'an image pinned by digest cannot follow a branch',
      'drop the @sha256:… digest, or the x-kiboko tag-policy',
    );
  }
  return { spec: omitUndefined(spec), profiles: readProfiles(get('profiles'), ctx), deps: readDependsOn(get('depends_on'), ctx) };
}

const optional = <T>(entry: Entry | undefined, read: (n: Node) => T | undefined): T | undefined =>
  entry && !(entry.value.kind === 'scalar' && entry.value.value === null) ? read(entry.value) : undefined;

// The grammar of docker/distribution's reference package: [domain[:port]/]path[:tag][@digest].
const DOMAIN_PART = String.raw`[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?`;
const DOMAIN = String.raw`(?:${DOMAIN_PART}(?:\.${DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::\d+)?`;
const PATH_PART = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
const TAG = String.raw`[\w][\w.-]{0,127}`;
const DIGEST = String.raw`[a-z][a-z0-9]*(?:[+._-][a-z][a-z0-9]*)*:[0-9a-fA-F]{32,}`;
const IMAGE_REF = new RegExp(`^(?:${DOMAIN}/)?${PATH_PART}(?:/${PATH_PART})*(?::${TAG})?(?:@${DIGEST})?$`);

function readImage(node: Node, ctx: Context): string | undefined {
  const image = str(node, ctx, 'an image reference like repo/name:tag', svcDocs('image'));
  if (image === undefined) return undefined;
  if (!IMAGE_REF.test(image)) {
    ctx.problems.add(
      node.loc,
      `expected an image reference like registry/repo/name:tag, got ${JSON.stringify(image)}`,
      'repository names are lowercase; a tag has at most 128 of [A-Za-z0-9_.-]',
    );
    return undefined;
  }
  return image;
}

/** A string is split like a shell would (no expansion); a list is taken as is. */
function readCommand(entry: Entry | undefined, ctx: Context): string[] | undefined {
  if (!entry) return undefined;
  const node = entry.value;
  const docs = svcDocs(entry.key);
  if (node.kind === 'scalar' && node.value === null) return undefined;
  if (node.kind === 'scalar' && typeof node.value === 'string') {
    try {
      return splitShellWords(node.value);
    } catch (err) {
      const e = err as KibokoError;
      ctx.problems.add(node.loc, e.message, e.hint);
      return undefined;
    }
  }
  if (node.kind === 'seq') {
    return node.items.flatMap((item) => {
      const s = str(item, ctx, 'a string', docs, true);
      return s === undefined ? [] : [s];
    });
  }
  ctx.problems.add(node.loc, `expected a command string or a list of strings, got ${show(node)}`, docs);
  return undefined;
}

/** env_file values first (in order), then environment: on top. */
function readEnvironment(envFile: Entry | undefined, environment: Entry | undefined, ctx: Context): Record<string, string> {
  const env: Record<string, string> = {};
  if (envFile) Object.assign(env, readEnvFiles(envFile.value, ctx));
  if (!environment) return env;
  const docs = svcDocs('environment');
  for (const [key, value] of keyValues(environment.value, ctx, 'environment', docs)) {
    if (value === null) {
      // A bare KEY takes its value from the environment kiboko runs in; when unset it is left
      // out, and does not hide an env_file value (compose drops it before merging).
      const inherited = ctx.lookup(key);
      if (inherited !== undefined) env[key] = inherited;
    } else if (value !== undefined) env[key] = value;
  }
  return env;
}

function readEnvFiles(node: Node, ctx: Context): Record<string, string> {
  const docs = svcDocs('env_file');
  const items = node.kind === 'seq' ? node.items : [node];
  const env: Record<string, string> = {};
  const seen = new Set<string>();
  for (const item of items) {
    let file: string | undefined;
    let required = true;
    if (item.kind === 'map') {
      for (const e of item.entries.values()) {
        if (e.key === 'path') file = str(e.value, ctx, 'a file path', docs);
        else if (e.key === 'required') required = bool(e.value, ctx, docs) ?? true;
        else if (e.key === 'format') ctx.problems.add(
          e.keyLoc,
          'env_file format is not supported by kiboko deploy yet',
          'remove it to use the default dotenv format',
        );
        else ctx.problems.add(e.keyLoc, `unknown env_file key ${JSON.stringify(e.key)}`, docs);
      }
      if (file === undefined && !item.entries.has('path')) ctx.problems.add(item.loc, 'env_file entry needs path:', docs);
    } else file = str(item, ctx, 'a file path, or { path, required }', docs);
    if (file === undefined) continue;
    const abs = path.resolve(ctx.projectDir, file);
    if (seen.has(abs)) continue;
    seen.add(abs);
    const text = ctx.readFile(abs);
    if (text === undefined) {
      if (required) ctx.problems.add(
        item.loc,
        `env file ${JSON.stringify(file)} not found (looked for ${ctx.display(abs)})`,
        'paths are relative to the project folder (the first compose file\'s); or mark it required: false',
      );
      continue;
    }
    ctx.sources.push(abs);
    const parsed = parseDotenv(text, ctx.lookup);
    for (const p of parsed.problems) ctx.problems.add({ file: ctx.display(abs), line: p.line, path: '' }, p.message, docs);
    Object.assign(env, parsed.values);
  }
  return env;
}

/**
 * `KEY: value` mappings and `KEY=value` lists; a bare `KEY` (or `KEY:` with no value) yields null.
 * Later duplicates win, as in compose.
 */
function keyValues(node: Node, ctx: Context, what: string, docs: string): [string, string | null | undefined, Loc][] {
  const out: [string, string | null | undefined, Loc][] = [];
  if (node.kind === 'scalar' && node.value === null) return out;
  if (node.kind === 'map') {
    for (const e of node.entries.values()) {
      const v = e.value;
      if (v.kind !== 'scalar') {
        ctx.problems.add(v.loc, `expected a string, number or boolean value, got ${show(v)}`, docs);
        out.push([e.key, undefined, e.keyLoc]);
      } else out.push([e.key, v.value === null ? null : scalarText(v), e.keyLoc]);
    }
    return out;
  }
  if (node.kind === 'seq') {
    for (const item of node.items) {
      if (item.kind !== 'scalar' || typeof item.value !== 'string' || item.value === '' || item.value.startsWith('=')) {
        ctx.problems.add(item.loc, `expected "KEY=VALUE" or "KEY", got ${show(item)}`, docs);
        continue;
      }
      const eq = item.value.indexOf('=');
      out.push(eq < 0 ? [item.value, null, item.loc] : [item.value.slice(0, eq), item.value.slice(eq + 1), item.loc]);
    }
    return out;
  }
  ctx.problems.add(node.loc, `expected ${what} as a mapping or a list of "KEY=VALUE", got ${show(node)}`, docs);
  return out;
}

const scalarText = (n: ScalarNode): string =>
  n.value === null ? '' : typeof n.value === 'string' ? n.value : (n.raw ?? String(n.value));

// kiboko's own bookkeeping labels; kiboko.skip stays available to protect a service from chaos.
const RESERVED_LABELS = new Set<string>([LABELS.managed, LABELS.runId, LABELS.role]);

function readLabels(entry: Entry | undefined, ctx: Context): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!entry) return labels;
  for (const [key, value, loc] of keyValues(entry.value, ctx, 'labels', svcDocs('labels'))) {
    // kiboko.deploy.gate is configuration (the lifecycle method a replica must pass), not bookkeeping.
    if (RESERVED_LABELS.has(key) || (key.startsWith('kiboko.deploy.') && key !== LABELS.deployGate)) {
      ctx.problems.add(loc, `label ${key} is reserved: kiboko sets it on what it deploys`, 'use another key');
      continue;
    }
    if (value !== undefined) labels[key] = value ?? '';
  }
  return labels;
}

// ——— ports ——

const PORTS = String.raw`\d+(?:-\d+)?`;
const HOST_IP = String.raw`(?:\[(?<ip6>[^\]]+)\]|(?<ip4>\d{1,3}(?:\.\d{1,3}){3}))`;
// [IP:[PUBLISHED]:]TARGET, or PUBLISHED:TARGET, then an optional /PROTO.
const PORT_SHORT = new RegExp(
  String.raw`^(?:${HOST_IP}:(?<ipPublished>${PORTS})?:|(?<published>${PORTS}):)?(?<target>${PORTS})(?:/(?<proto>[a-zA-Z]+))?$`,
);
const PORT_HINT = svcDocs('ports');

function readPorts(entry: Entry | undefined, ctx: Context): PortMapping[] {
  if (!entry) return [];
  const node = entry.value;
  if (node.kind === 'scalar' && node.value === null) return [];
  if (node.kind !== 'seq') {
    ctx.problems.add(node.loc, `expected a list of ports, got ${show(node)}`, PORT_HINT);
    return [];
  }
  const out: PortMapping[] = [];
  const seen = new Set<string>();
  for (const item of node.items) {
    const short = item.kind === 'scalar' && (typeof item.value === 'string' || typeof item.value === 'number');
    const mappings =
      item.kind === 'map'
        ? readPortLong(item, ctx)
        : short
          ? parsePortShort(String(item.value), item.loc, ctx.problems)
          : badPort(item, ctx);
    for (const m of mappings) {
      const key = `${m.hostIp ?? ''}|${m.published ?? ''}|${m.target}|${m.protocol}`;
      if (!seen.has(key)) out.push(m);
      seen.add(key);
    }
  }
  return out;
}

function badPort(item: Node, ctx: Context): PortMapping[] {
  ctx.problems.add(item.loc, `expected "HOST:CONTAINER[/PROTO]" or a port number, got ${show(item)}`, PORT_HINT);
  return [];
}

/** Short syntax: `80`, `8080:80`, `127.0.0.1:8080:80/udp`, `[::1]::80`, `8000-8001:80-81`. */
export function parsePortSpec(spec: string): PortMapping[] {
  const problems = new Problems();
  const out = parsePortShort(spec, { file: '', line: 0, path: '' }, problems);
  if (!problems.empty) {
    const [message = '', hint] = problems.messages[0]!.split(' — ');
    throw invalidArgument(`invalid port ${JSON.stringify(spec)}: ${message}`, hint);
  }
  return out;
}

function parsePortShort(spec: string, loc: Loc, problems: Problems): PortMapping[] {
  const m = PORT_SHORT.exec(spec.trim());
  if (!m?.groups) {
    problems.add(loc, `expected "HOST:CONTAINER[/PROTO]" or a port number, got ${JSON.stringify(spec)}`, PORT_HINT);
    return [];
  }
  const g = m.groups;
  const hostIp = g.ip6 ?? g.ip4;
  if (hostIp !== undefined && !(g.ip6 ? isIPv6(hostIp) : isIPv4(hostIp))) {
    problems.add(loc, `expected an IP address before the host port, got ${JSON.stringify(hostIp)}`, PORT_HINT);
    return [];
  }
  const protocol = readProtocol(g.proto, loc, problems);
  if (!protocol) return [];
  return expandPorts({ published: g.ipPublished ?? g.published, target: g.target!, hostIp, protocol }, spec, loc, problems);
}

function readProtocol(proto: string | undefined, loc: Loc, problems: Problems): 'tcp' | 'udp' | undefined {
  const p = (proto ?? 'tcp').toLowerCase();
  if (p === 'tcp' || p === 'udp') return p;
  if (p === 'sctp') problems.add(loc, 'sctp ports are not supported by kiboko deploy yet', 'use tcp or udp');
  else problems.add(loc, `expected protocol tcp or udp, got ${JSON.stringify(proto)}`, PORT_HINT);
  return undefined;
}

function portRange(text: string, loc: Loc, problems: Problems): [number, number] | undefined {
  const [a, b = a] = text.trim().split('-').map((x) => (/^\d+$/.test(x) ? Number(x) : NaN)) as [number, number?];
  if (![a, b].every((n) => Number.isInteger(n) && n! >= 1 && n! <= 65535) || b! < a) {
    problems.add(loc, `expected a port between 1 and 65535 (or a range low-high), got ${JSON.stringify(text)}`, PORT_HINT);
    return undefined;
  }
  return [a, b!];
}

interface PortParts {
  published: string | undefined;
  target: string;
  hostIp: string | undefined;
  protocol: 'tcp' | 'udp';
}

/** Expands `8000-8001:80-81` into one mapping per port. */
function expandPorts(parts: PortParts, spec: string, loc: Loc, problems: Problems): PortMapping[] {
  const { published, target, hostIp, protocol } = parts;
  const t = portRange(target, loc, problems);
  const p = published === undefined || published === '' ? undefined : portRange(published, loc, problems);
  if (!t || (published && !p)) return [];
  if (p && p[1] - p[0] !== t[1] - t[0]) {
    if (t[0] === t[1]) problems.add(
      loc,
      `a host port range for one container port (${JSON.stringify(spec)}) is not supported by kiboko deploy yet`,
      'publish one host port',
    );
    else problems.add(loc, `the host and container port ranges of ${JSON.stringify(spec)} differ in length`, PORT_HINT);
    return [];
  }
  const out: PortMapping[] = [];
  for (let k = 0; k <= t[1] - t[0]; k++) {
    out.push(omitUndefined({ published: p ? p[0] + k : undefined, hostIp, target: t[0] + k, protocol }));
  }
  return out;
}

function readPortLong(node: MapNode, ctx: Context): PortMapping[] {
  let target: number | undefined;
  let published: string | undefined;
  let hostIp: string | undefined;
  let protocol: 'tcp' | 'udp' | undefined = 'tcp';
  for (const e of node.entries.values()) {
    const v = e.value;
    switch (e.key) {
      case 'target':
        target = int(v, ctx, 1, 65535, 'a port between 1 and 65535', PORT_HINT);
        break;
      case 'published':
        if (v.kind === 'scalar' && v.value !== null && typeof v.value !== 'boolean') published = String(v.value);
        else if (!(v.kind === 'scalar' && v.value === null)) ctx.problems.add(
          v.loc,
          `expected a port or a range, got ${show(v)}`,
          PORT_HINT,
        );
        break;
      case 'host_ip':
        hostIp = str(v, ctx, 'an IP address', PORT_HINT);
        if (hostIp !== undefined && !isIPv4(hostIp) && !isIPv6(hostIp)) {
          ctx.problems.add(v.loc, `expected an IP address, got ${JSON.stringify(hostIp)}`, PORT_HINT);
          hostIp = undefined;
        }
        break;
      case 'protocol':
        protocol = readProtocol(str(v, ctx, 'tcp or udp', PORT_HINT) ?? 'tcp', v.loc, ctx.problems);
        break;
      case 'mode':
        oneOf(v, ctx, ['host', 'ingress'], PORT_HINT);
        break;
      case 'name':
      case 'app_protocol':
        break;
      default:
        ctx.problems.add(
          e.keyLoc,
          `unknown port key ${JSON.stringify(e.key)}`,
          `expected target, published, host_ip, protocol, mode, name or app_protocol; ${PORT_HINT}`,
        );
    }
  }
  if (!node.entries.has('target')) ctx.problems.add(node.loc, 'a port needs target: (the container port)', PORT_HINT);
  if (target === undefined || !protocol) return [];
  const loc = node.entries.get('published')?.value.loc ?? node.loc;
  return expandPorts({ published, target: String(target), hostIp, protocol }, `${published ?? ''}:${target}`, loc, ctx.problems);
}

// ——— volumes ——

const VOLUME_HINT = svcDocs('volumes');
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function readVolumes(entry: Entry | undefined, ctx: Context): VolumeMount[] {
  if (!entry) return [];
  const node = entry.value;
  if (node.kind === 'scalar' && node.value === null) return [];
  if (node.kind !== 'seq') {
    ctx.problems.add(node.loc, `expected a list of volumes, got ${show(node)}`, VOLUME_HINT);
    return [];
  }
  // One mount per target; a later one (an override file's) takes the earlier one's place.
  const byTarget = new Map<string, VolumeMount>();
  for (const item of node.items) {
    const mount =
      item.kind === 'map'
        ? readVolumeLong(item, ctx)
        : item.kind === 'scalar' && typeof item.value === 'string'
          ? parseVolumeShort(item.value, item.loc, ctx)
          : badVolume(item, ctx);
    if (mount) byTarget.set(path.posix.normalize(mount.target), mount);
  }
  return [...byTarget.values()];
}

function badVolume(item: Node, ctx: Context): undefined {
  ctx.problems.add(
    item.loc,
    `expected "SOURCE:TARGET[:ro]" or a { type, source, target } mapping, got ${show(item)}`,
    VOLUME_HINT,
  );
  return undefined;
}

function parseVolumeShort(spec: string, loc: Loc, ctx: Context): VolumeMount | undefined {
  const parts = spec.split(':');
  if (parts.length === 1) {
    if (!spec.startsWith('/')) return badVolume({ kind: 'scalar', value: spec, loc }, ctx);
    return { target: spec, type: 'anonymous', readOnly: false };
  }
  if (parts.length > 3 || parts.some((p) => p === '')) return badVolume({ kind: 'scalar', value: spec, loc }, ctx);
  const [source, target, mode = ''] = parts as [string, string, string?];
  if (!target.startsWith('/')) {
    ctx.problems.add(
      loc,
      `expected an absolute container path after the source, got ${JSON.stringify(target)}`,
      VOLUME_HINT,
    );
    return undefined;
  }
  let readOnly = false;
  for (const opt of mode ? mode.split(',') : []) {
    if (opt === 'ro') readOnly = true;
    else if (opt === 'rw') readOnly = false;
    else if (opt === 'cached' || opt === 'delegated' || opt === 'consistent') continue; // no-ops on Linux
    else if (['z', 'Z', 'nocopy', 'shared', 'slave', 'private', 'rshared', 'rslave', 'rprivate'].includes(opt)) {
      ctx.problems.add(loc, `volume option ${opt} is not supported by kiboko deploy yet`, 'use ro or rw');
      return undefined;
    } else {
      ctx.problems.add(loc, `expected volume options ro or rw, got ${JSON.stringify(opt)}`, VOLUME_HINT);
      return undefined;
    }
  }
  const src = mountSource(source, loc, ctx);
  return src && { ...src, target, readOnly };
}

/** compose's rule: a source starting with `.`, `/` or `~` is a host path, anything else a volume name. */
function mountSource(
  source: string,
  loc: Loc,
  ctx: Context,
  type?: 'bind' | 'volume',
): Pick<VolumeMount, 'source' | 'type'> | undefined {
  const isPath = /^[./~]/.test(source);
  if (type === 'bind' || (type === undefined && isPath)) {
    if (source.startsWith('~') && !/^~(\/|$)/.test(source)) {
      ctx.problems.add(loc, `~user paths are not supported, got ${JSON.stringify(source)}`, 'write the absolute path');
      return undefined;
    }
    const expanded = source.startsWith('~') ? path.join(ctx.home, source.slice(1)) : source;
    return { source: path.resolve(ctx.projectDir, expanded), type: 'bind' };
  }
  if (!VOLUME_NAME.test(source)) {
    ctx.problems.add(
      loc,
      `expected a volume name or a path starting with ./, / or ~, got ${JSON.stringify(source)}`,
      `for a folder next to the compose file write ./${source}`,
    );
    return undefined;
  }
  if (!ctx.volumes.has(source)) {
    ctx.problems.add(
      loc,
      `refers to undefined volume ${JSON.stringify(source)}`,
      `declare it under the top-level volumes: (${source}: {}), or write ./${source} for a folder`,
    );
    return undefined;
  }
  return { source, type: 'volume' };
}

function readVolumeLong(node: MapNode, ctx: Context): VolumeMount | undefined {
  let type: string | undefined;
  let source: string | undefined;
  let target: string | undefined;
  let readOnly = false;
  let ok = true;
  const unsupported = (e: Entry, what: string) => {
    ctx.problems.add(e.keyLoc, `${what} is not supported by kiboko deploy yet`, GENERIC_UNSUPPORTED);
    ok = false;
  };
  for (const e of node.entries.values()) {
    const v = e.value;
    switch (e.key) {
      case 'type':
        type = str(v, ctx, 'volume or bind', VOLUME_HINT);
        if (type !== undefined && type !== 'volume' && type !== 'bind') {
          if (['tmpfs', 'npipe', 'cluster', 'image'].includes(type)) ctx.problems.add(
            v.loc,
            `volume type ${type} is not supported by kiboko deploy yet`,
            'use volume or bind',
          );
          else ctx.problems.add(v.loc, `expected type volume or bind, got ${JSON.stringify(type)}`, VOLUME_HINT);
          ok = false;
        }
        break;
      case 'source':
        source = str(v, ctx, 'a volume name or a host path', VOLUME_HINT);
        break;
      case 'target':
        target = absolutePath(v, ctx, VOLUME_HINT);
        break;
      case 'read_only':
        readOnly = bool(v, ctx, VOLUME_HINT) ?? false;
        break;
      case 'consistency':
        break;
      case 'bind':
        for (const b of mapOf(v, ctx, 'a mapping', VOLUME_HINT)?.entries.values() ?? []) {
          if (b.key === 'create_host_path') bool(b.value, ctx, VOLUME_HINT);
          else unsupported(b, `bind.${b.key}`);
        }
        break;
      default:
        if (e.key === 'volume' || e.key === 'tmpfs' || e.key === 'image') {
          for (const b of mapOf(v, ctx, 'a mapping', VOLUME_HINT)?.entries.values() ?? []) unsupported(b, `${e.key}.${b.key}`);
        } else {
          ctx.problems.add(
            e.keyLoc,
            `unknown volume key ${JSON.stringify(e.key)}`,
            `expected type, source, target, read_only; ${VOLUME_HINT}`,
          );
          ok = false;
        }
    }
  }
  if (!node.entries.has('type')) ctx.problems.add(node.loc, 'a volume mapping needs type: (volume or bind)', VOLUME_HINT);
  if (!node.entries.has('target')) ctx.problems.add(
    node.loc,
    'a volume mapping needs target: (the container path)',
    VOLUME_HINT,
  );
  if (!ok || target === undefined || (type !== 'volume' && type !== 'bind')) return undefined;
  if (source === undefined || source === '') {
    if (type === 'bind') {
      ctx.problems.add(node.loc, 'a bind mount needs source: (the host path)', VOLUME_HINT);
      return undefined;
    }
    return { target, type: 'anonymous', readOnly };
  }
  const src = mountSource(source, node.entries.get('source')!.value.loc, ctx, type);
  return src && { ...src, target, readOnly };
}

// ——— networks, healthcheck, depends_on, restart, deploy ——

function readServiceNetworks(entry: Entry | undefined, ctx: Context): string[] {
  if (!entry) return ['default'];
  const docs = svcDocs('networks');
  const node = entry.value;
  const names: [string, Loc][] = [];
  if (node.kind === 'seq') {
    for (const item of node.items) {
      const n = str(item, ctx, 'a network name', docs);
      if (n !== undefined) names.push([n, item.loc]);
    }
  } else if (node.kind === 'map') {
    for (const e of node.entries.values()) {
      names.push([e.key, e.keyLoc]);
      if (e.value.kind === 'scalar' && e.value.value === null) continue;
      for (const o of mapOf(e.value, ctx, 'a mapping of network options (or nothing)', docs)?.entries.values() ?? []) {
        ctx.problems.add(
          o.keyLoc,
          `network option ${o.key} is not supported by kiboko deploy yet`,
          'services reach each other by service name; remove it',
        );
      }
    }
  } else {
    ctx.problems.add(node.loc, `expected a list or mapping of networks, got ${show(node)}`, docs);
    return ['default'];
  }
  const out: string[] = [];
  for (const [name, loc] of names) {
    if (name !== 'default' && !ctx.networks.has(name)) {
      const guess = closest(name, [...ctx.networks]);
      ctx.problems.add(
        loc,
        `refers to undefined network ${JSON.stringify(name)}`,
        guess ? `did you mean ${guess}?` : `declare it under the top-level networks: (${name}: {})`,
      );
      continue;
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

const HEALTH_HINT = svcDocs('healthcheck');

function readHealthcheck(entry: Entry | undefined, ctx: Context): Healthcheck | undefined {
  if (!entry) return undefined;
  const map = mapOf(entry.value, ctx, 'a mapping', HEALTH_HINT);
  if (!map) return undefined;
  let test: string[] = [];
  let disable = false;
  const hc: Healthcheck = { test };
  for (const e of map.entries.values()) {
    const v = e.value;
    switch (e.key) {
      case 'test':
        test = readHealthTest(v, ctx) ?? [];
        break;
      case 'interval':
        hc.intervalMs = duration(v, ctx, HEALTH_HINT);
        break;
      case 'timeout':
        hc.timeoutMs = duration(v, ctx, HEALTH_HINT);
        break;
      case 'start_period':
        hc.startPeriodMs = duration(v, ctx, HEALTH_HINT);
        break;
      case 'retries':
        hc.retries = int(v, ctx, 0, 1_000_000, 'a whole number ≥ 0', HEALTH_HINT);
        break;
      case 'disable':
        disable = bool(v, ctx, HEALTH_HINT) ?? false;
        break;
      case 'start_interval':
        duration(v, ctx, HEALTH_HINT); // accepted, not carried: probes at `interval` during start_period too
        break;
      default:
        ctx.problems.add(
          e.keyLoc,
          `unknown healthcheck key ${JSON.stringify(e.key)}`,
          `expected test, interval, timeout, retries, start_period or disable; ${HEALTH_HINT}`,
        );
    }
  }
  if (disable) {
    if (test.length > 0 && test[0] !== 'NONE') ctx.problems.add(
      map.loc,
      'healthcheck has both disable: true and a test',
      'keep one of them',
    );
    return { test: ['NONE'] };
  }
  // An empty test keeps the image's HEALTHCHECK command and overrides only the timings given.
  return omitUndefined({ ...hc, test });
}

function readHealthTest(node: Node, ctx: Context): string[] | undefined {
  if (node.kind === 'scalar' && typeof node.value === 'string') {
    if (node.value.trim() === '') {
      ctx.problems.add(node.loc, 'expected a command, got ""', HEALTH_HINT);
      return undefined;
    }
    return ['CMD-SHELL', node.value];
  }
  if (node.kind === 'seq') {
    const list = node.items.map((i) => str(i, ctx, 'a string', HEALTH_HINT, true) ?? '');
    if (!['CMD', 'CMD-SHELL', 'NONE'].includes(list[0] ?? '')) {
      ctx.problems.add(
        node.loc,
        `expected a list starting with "CMD", "CMD-SHELL" or "NONE", got ${JSON.stringify(list[0] ?? '(empty)')}`,
        HEALTH_HINT,
      );
      return undefined;
    }
    if (list[0] !== 'NONE' && list.length < 2) {
      ctx.problems.add(node.loc, `expected a command after ${JSON.stringify(list[0])}`, HEALTH_HINT);
      return undefined;
    }
    return list;
  }
  ctx.problems.add(
    node.loc,
    `expected a command string or a list like ["CMD", "curl", "-f", "http://localhost"], got ${show(node)}`,
    HEALTH_HINT,
  );
  return undefined;
}

const CONDITIONS = ['service_started', 'service_healthy', 'service_completed_successfully'] as const;

function readDependsOn(entry: Entry | undefined, ctx: Context): ReadService['deps'] {
  if (!entry) return [];
  const docs = svcDocs('depends_on');
  const node = entry.value.kind === 'seq' ? asKeyedMap(entry.value, 'depends_on') ?? entry.value : entry.value;
  if (node.kind === 'seq') {
    for (const item of node.items) str(item, ctx, 'a service name', docs);
    return [];
  }
  const map = mapOf(node, ctx, 'a list or mapping of services', docs);
  if (!map) return [];
  const deps: ReadService['deps'] = [];
  for (const e of map.entries.values()) {
    let condition: DependsCondition = 'service_started';
    let required = true;
    if (!(e.value.kind === 'scalar' && e.value.value === null)) {
      for (const o of mapOf(e.value, ctx, 'a mapping with condition:', docs)?.entries.values() ?? []) {
        if (o.key === 'condition') condition = oneOf(o.value, ctx, CONDITIONS, docs) ?? condition;
        else if (o.key === 'required') required = bool(o.value, ctx, docs) ?? true;
        else if (o.key === 'restart') bool(o.value, ctx, docs); // accepted; kiboko restarts nothing on its own
        else ctx.problems.add(
          o.keyLoc,
          `unknown depends_on key ${JSON.stringify(o.key)}`,
          `expected condition, required or restart; ${docs}`,
        );
      }
    }
    deps.push({ service: e.key, condition, required, loc: e.keyLoc });
  }
  return deps;
}

/** Drops optional and disabled dependencies and reports the ones that cannot be met. */
function checkDependencies(
  s: ReadService,
  byName: Map<string, ReadService>,
  declared: string[],
  enabled: (s: ReadService) => boolean,
  ctx: Context,
): ServiceSpec['dependsOn'] {
  const out: { service: string; condition: DependsCondition }[] = [];
  for (const d of s.deps) {
    const target = byName.get(d.service);
    if (!declared.includes(d.service)) {
      if (!d.required) continue;
      const guess = closest(d.service, declared);
      ctx.problems.add(
        d.loc,
        `depends on undefined service ${JSON.stringify(d.service)}`,
        guess ? `did you mean ${guess}?` : 'declare it under services:, or mark the dependency required: false',
      );
      continue;
    }
    if (!target) continue; // invalid service, already reported
    if (!enabled(target)) {
      if (d.required) ctx.problems.add(
        d.loc,
        `depends on ${JSON.stringify(d.service)}, which its profiles disable`,
        `activate it with COMPOSE_PROFILES=${target.profiles.join(',')}, or mark the dependency required: false`,
      );
      continue;
    }
    if (d.service === s.spec.name) {
      ctx.problems.add(d.loc, `service ${JSON.stringify(s.spec.name)} depends on itself`, 'remove this entry');
      continue;
    }
    if (!out.some((o) => o.service === d.service)) out.push({ service: d.service, condition: d.condition });
  }
  return out;
}

/** Reports each depends_on cycle once, at the first edge of the cycle, naming the whole loop. */
function reportCycles(services: ReadService[], problems: Problems): void {
  const byName = new Map(services.map((s) => [s.spec.name, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (name: string) => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const d of byName.get(name)?.spec.dependsOn ?? []) {
      const st = state.get(d.service);
      if (st === 'visiting') {
        const cycle = stack.slice(stack.indexOf(d.service));
        const key = [...cycle].sort().join('\0');
        if (!reported.has(key)) {
          reported.add(key);
          const first = byName.get(cycle[0]!)!;
          const edge = first.deps.find((x) => x.service === (cycle[1] ?? cycle[0]));
          problems.add(edge!.loc, `depends_on cycle: ${[...cycle, cycle[0]].join(' → ')}`, 'remove one of these dependencies');
        }
      } else if (st === undefined && byName.has(d.service)) visit(d.service);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const s of services) if (!state.has(s.spec.name)) visit(s.spec.name);
}

function readRestart(entry: Entry | undefined, ctx: Context): ServiceSpec['restart'] {
  if (!entry) return 'no';
  const docs = svcDocs('restart');
  const v = str(entry.value, ctx, 'no, always, on-failure[:N] or unless-stopped', docs);
  if (v === undefined) return 'no';
  if (v === 'no' || v === 'always' || v === 'unless-stopped' || v === 'on-failure') return v;
  // on-failure:N is validated, but the model has no retry count: such a service restarts on every failure.
  if (/^on-failure:\d+$/.test(v)) return 'on-failure';
  ctx.problems.add(entry.value.loc, `expected no, always, on-failure[:N] or unless-stopped, got ${JSON.stringify(v)}`, docs);
  return 'no';
}

function readSignal(node: Node, ctx: Context): string | undefined {
  const s = str(node, ctx, 'a signal name like SIGTERM', svcDocs('stop_signal'), true);
  if (s === undefined) return undefined;
  try {
    return parseSignal(s);
  } catch (err) {
    ctx.problems.add(node.loc, errorMessage(err), (err as KibokoError).hint);
    return undefined;
  }
}

function readProfiles(entry: Entry | undefined, ctx: Context): string[] {
  if (!entry) return [];
  const docs = svcDocs('profiles');
  if (entry.value.kind !== 'seq') {
    ctx.problems.add(entry.value.loc, `expected a list of profile names, got ${show(entry.value)}`, docs);
    return [];
  }
  return entry.value.items.flatMap((i) => str(i, ctx, 'a profile name', docs) ?? []);
}

const DEPLOY_UNSUPPORTED: Record<string, string> = {
  resources: 'resource limits are not applied yet; remove deploy.resources',
  placement: 'kiboko deploys to one engine; remove placement',
  labels: 'use the service-level labels: key',
  endpoint_mode: GENERIC_UNSUPPORTED,
};

/** deploy.replicas (or scale), update_config and rollback_config, written into `spec`. */
function readDeploy(deployEntry: Entry | undefined, scaleEntry: Entry | undefined, spec: Mutable<ServiceSpec>, ctx: Context) {
  const scale = scaleEntry ? int(scaleEntry.value, ctx, 0, 10_000, 'a whole number ≥ 0', svcDocs('scale')) : undefined;
  let replicas: number | undefined;
  let replicasLoc: Loc | undefined;
  const map = deployEntry ? mapOf(deployEntry.value, ctx, 'a mapping', deployDocs()) : undefined;
  for (const e of map?.entries.values() ?? []) {
    switch (e.key) {
      case 'replicas':
        replicas = int(e.value, ctx, 0, 10_000, 'a whole number ≥ 0', deployDocs('replicas'));
        replicasLoc = e.value.loc;
        break;
      case 'mode': {
        const mode = str(e.value, ctx, 'replicated', deployDocs('mode'));
        if (mode === 'global') ctx.problems.add(
          e.value.loc,
          'deploy.mode global is not supported by kiboko deploy yet',
          'use replicated (the default) with replicas:',
        );
        else if (mode !== undefined && mode !== 'replicated') ctx.problems.add(
          e.value.loc,
          `expected replicated, got ${JSON.stringify(mode)}`,
          deployDocs('mode'),
        );
        break;
      }
      case 'update_config':
        spec.update = readUpdateConfig(e.value, ctx, DEFAULT_UPDATE, UPDATE_ACTIONS, 'update_config');
        break;
      case 'rollback_config':
        spec.rollback = readUpdateConfig(e.value, ctx, DEFAULT_ROLLBACK, ROLLBACK_ACTIONS, 'rollback_config') as RollbackConfig;
        break;
      case 'restart_policy':
        spec.restartPolicy = readRestartPolicy(e.value, ctx);
        break;
      default:
        if (e.key.startsWith('x-')) break;
        if (DEPLOY_UNSUPPORTED[e.key]) ctx.problems.add(
          e.keyLoc,
          `deploy.${e.key} is not supported by kiboko deploy yet`,
          DEPLOY_UNSUPPORTED[e.key],
        );
        else ctx.problems.add(
          e.keyLoc,
          `unknown deploy key ${JSON.stringify(e.key)}`,
          `expected replicas, mode, update_config, rollback_config or restart_policy; ${deployDocs()}`,
        );
    }
  }
  if (replicas !== undefined && scale !== undefined && replicas !== scale) {
    ctx.problems.add(replicasLoc!, `scale: ${scale} and deploy.replicas: ${replicas} disagree`, 'keep one of them');
  }
  spec.replicas = replicas ?? scale ?? 1;
}

const UPDATE_ACTIONS = ['rollback', 'pause', 'continue'] as const;
const ROLLBACK_ACTIONS = ['pause', 'continue'] as const; // a rollback cannot roll back

type Action = UpdateConfig['failureAction'];
function readUpdateConfig(node: Node, ctx: Context, defaults: UpdateConfig, actions: readonly Action[], key: string) {
  const docs = deployDocs(key);
  const out: UpdateConfig = { ...defaults };
  const map = mapOf(node, ctx, 'a mapping', docs);
  for (const e of map?.entries.values() ?? []) {
    const v = e.value;
    switch (e.key) {
      case 'parallelism':
        out.parallelism = int(v, ctx, 0, 10_000, 'a whole number ≥ 0 (0 means all at once)', docs) ?? out.parallelism;
        break;
      case 'delay':
        out.delayMs = duration(v, ctx, docs) ?? out.delayMs;
        break;
      case 'monitor':
        out.monitorMs = duration(v, ctx, docs) ?? out.monitorMs;
        break;
      case 'failure_action':
        out.failureAction = oneOf(v, ctx, actions, docs) ?? out.failureAction;
        break;
      case 'max_failure_ratio':
        out.maxFailureRatio = ratio(v, ctx, docs) ?? out.maxFailureRatio;
        break;
      case 'order':
        out.order = oneOf(v, ctx, ['start-first', 'stop-first'] as const, docs) ?? out.order;
        break;
      default:
        ctx.problems.add(
          e.keyLoc,
          `unknown ${key} key ${JSON.stringify(e.key)}`,
          `expected parallelism, delay, failure_action, monitor, max_failure_ratio or order; ${docs}`,
        );
    }
  }
  return out;
}

/** deploy.restart_policy: condition (none | on-failure | any, default any), delay, max_attempts, window. */
function readRestartPolicy(node: Node, ctx: Context): RestartPolicy {
  const docs = deployDocs('restart_policy');
  const out: RestartPolicy = { condition: 'any' };
  for (const e of mapOf(node, ctx, 'a mapping', docs)?.entries.values() ?? []) {
    switch (e.key) {
      case 'condition':
        out.condition = oneOf(e.value, ctx, ['none', 'on-failure', 'any'] as const, docs) ?? out.condition;
        break;
      case 'delay':
        out.delayMs = duration(e.value, ctx, docs);
        break;
      case 'max_attempts':
        out.maxAttempts = int(e.value, ctx, 0, 1_000_000, 'a whole number ≥ 0 (0: unlimited)', docs);
        break;
      case 'window':
        out.windowMs = duration(e.value, ctx, docs);
        break;
      default:
        ctx.problems.add(e.keyLoc, `unknown restart_policy key ${JSON.stringify(e.key)}`, `expected condition, delay, max_attempts or window; ${docs}`);
    }
  }
  return out;
}

// ——— scalar readers (zod/mini checks the value, the caller's loc says where) ——————————

const integer = z.pipe(
  z.union([z.number(), z.pipe(z.string().check(z.regex(/^\s*[-+]?\d+\s*$/)), z.transform((s: string) => Number(s)))]),
  z.number().check(z.refine((n) => Number.isSafeInteger(n))),
);
const decimalText = z.string().check(z.regex(/^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/));
const decimal = z.pipe(
  z.union([z.number(), z.pipe(decimalText, z.transform((s: string) => Number(s)))]),
  z.number().check(z.refine((n) => Number.isFinite(n))),
);
// compose's boolean casting, for values that were interpolated into strings.
const boolean = z.union([
  z.boolean(),
  z.pipe(
    z.string().check(z.regex(/^(?:y|yes|true|on|n|no|false|off)$/i)),
    z.transform((s: string) => /^(?:y|yes|true|on)$/i.test(s)),
  ),
]);

function scalarValue(node: Node): Prim | undefined {
  return node.kind === 'scalar' ? node.value : undefined;
}

function int(node: Node, ctx: Context, min: number, max: number, expected: string, docs: string): number | undefined {
  const r = integer.safeParse(scalarValue(node));
  if (!r.success || r.data < min || r.data > max) {
    ctx.problems.add(node.loc, `expected ${expected}, got ${show(node)}`, docs);
    return undefined;
  }
  return r.data;
}

function ratio(node: Node, ctx: Context, docs: string): number | undefined {
  const r = decimal.safeParse(scalarValue(node));
  if (!r.success || r.data < 0 || r.data > 1) {
    ctx.problems.add(node.loc, `expected a ratio between 0 and 1, got ${show(node)}`, docs);
    return undefined;
  }
  return r.data;
}

function bool(node: Node, ctx: Context, docs: string): boolean | undefined {
  const r = boolean.safeParse(scalarValue(node));
  if (!r.success) {
    ctx.problems.add(node.loc, `expected true or false, got ${show(node)}`, docs);
    return undefined;
  }
  return r.data;
}

function oneOf<T extends string>(node: Node, ctx: Context, values: readonly T[], docs: string): T | undefined {
  const r = z.enum(values as unknown as [T, ...T[]]).safeParse(scalarValue(node));
  if (!r.success) {
    ctx.problems.add(node.loc, `expected ${values.join(', ').replace(/, ([^,]*)$/, ' or $1')}, got ${show(node)}`, docs);
    return undefined;
  }
  return r.data as T;
}

/** A string; with `numbers`, a number is taken as written too (`user: 1000`, `command: [sleep, 5]`). */
function str(node: Node, ctx: Context, expected: string, docs: string, numbers = false): string | undefined {
  if (node.kind === 'scalar' && typeof node.value === 'string') return node.value;
  if (numbers && node.kind === 'scalar' && typeof node.value === 'number') return scalarText(node);
  ctx.problems.add(node.loc, `expected ${expected}, got ${show(node)}`, docs);
  return undefined;
}

function mapOf(node: Node, ctx: Context, expected: string, docs: string): MapNode | undefined {
  if (node.kind === 'map') return node;
  ctx.problems.add(node.loc, `expected ${expected}, got ${show(node)}`, docs);
  return undefined;
}

function duration(node: Node, ctx: Context, docs: string): number | undefined {
  const text = node.kind === 'scalar' && (typeof node.value === 'string' || typeof node.value === 'number');
  const s = text ? scalarText(node) : undefined;
  if (s === undefined) {
    ctx.problems.add(node.loc, `expected a duration like 30s or 1m30s, got ${show(node)}`, docs);
    return undefined;
  }
  try {
    return parseDuration(s, 'duration');
  } catch (err) {
    ctx.problems.add(
      node.loc,
      `expected a duration like 30s or 1m30s, got ${show(node)}`,
      (err as KibokoError).hint ?? docs,
    );
    return undefined;
  }
}

function absolutePath(node: Node, ctx: Context, docs: string): string | undefined {
  const s = str(node, ctx, 'an absolute path', docs);
  if (s === undefined) return undefined;
  if (!s.startsWith('/')) {
    ctx.problems.add(node.loc, `expected an absolute path in the container, got ${JSON.stringify(s)}`, docs);
    return undefined;
  }
  return s;
}

// ——— small helpers ——

/** Optional keys are left out rather than set to undefined, so specs compare and print cleanly. */
function omitUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The closest candidate within edit distance 2, for "did you mean …?". */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function displayPath(abs: string, cwd: string): string {
  const rel = path.relative(cwd, abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function readIfExists(p: string): string | undefined {
  return isFile(p) ? readFileSync(p, 'utf8') : undefined;
}

/** compose's lookup: the first default name in `cwd` or the closest parent, plus that folder's override. */
function discoverFiles(cwd: string): string[] {
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    const main = COMPOSE_FILE_NAMES.map((n) => path.join(dir, n)).find(isFile);
    if (main) {
      const override = COMPOSE_OVERRIDE_FILE_NAMES.map((n) => path.join(dir, n)).find(isFile);
      return override ? [main, override] : [main];
    }
    if (path.dirname(dir) === dir) {
      throw invalidArgument(
        `no compose file found in ${cwd} or its parents`,
        `create compose.yaml, or pass one with -f FILE (looked for ${COMPOSE_FILE_NAMES.join(', ')})`,
      );
    }
  }
}
