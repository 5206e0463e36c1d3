/**
 * Reads Compose files into kiboko's deploy model. Pure parsing: it reads the files it is given
 * (plus env files, `extends`/`include` sources, secrets' files) and never touches an engine.
 * Every problem found is collected with its file, line and key path, and all of them are thrown
 * together as one INVALID_ARGUMENT error; nothing is returned, so nothing can be applied, when
 * any is found. Warnings (unset variables, ignored keys) go to `onWarning`.
 *
 * The order of work follows compose: each file is parsed and interpolated on its own, its
 * `include`s and `extends` are resolved, the files are merged (later overrides earlier), then the
 * result is validated and translated.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { invalidArgument, type KibokoError } from '../../common/errors.js';
import type { SystemConfig } from '../model.js';
import type { Lookup } from '../../shellwords/index.js';
import type { Context } from './context.js';
import { applyExtends, applyInclude, type TreeLoader } from './extends.js';
import { discoverFiles, displayPath, isFile, normalizeProjectName, PROJECT_NAME, PROJECT_NAME_RULE, projectEnvironment, projectVariable, readIfExists } from './files.js';
import { mergeNodes } from './merge.js';
import { Problems, problemsError, type ComposeProblem, type ComposeWarning, type Loc } from './problems.js';
import { buildConfig } from './project.js';
import { readYaml, type MapNode, type Node } from './yaml.js';

export { COMPOSE_FILE_NAMES, COMPOSE_OVERRIDE_FILE_NAMES, normalizeProjectName, projectNameHint } from './files.js';
export { formatComposeProblem, type ComposeProblem, type ComposeWarning } from './problems.js';
export { parsePortSpec } from './ports.js';
export { renderConfig } from './render.js';

export interface ComposeOptions {
  /** `-p`: wins over COMPOSE_PROJECT_NAME and the files' `name:`; must be a valid project name. */
  projectName?: string | undefined;
  /** Variables for interpolation and bare `KEY` environment entries; default `process.env`. Wins over env files. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** `--env-file` (repeatable, relative to `cwd`): read instead of the project's `.env`. */
  envFiles?: readonly string[] | undefined;
  /** `--profile` (repeatable): added to COMPOSE_PROFILES. */
  profiles?: readonly string[] | undefined;
  /** Directory relative file names are resolved against (and shown relative to); default `process.cwd()`. */
  cwd?: string | undefined;
  /** Hears each warning (an unset variable, an ignored key); the CLI prints them to stderr. */
  onWarning?: ((warning: ComposeWarning) => void) | undefined;
}

export interface ParseComposeOptions extends ComposeOptions {
  /** Reads env files and other referenced files: absolute path in, text out, undefined when missing. Default: the file system. */
  readFile?: ((absolutePath: string) => string | undefined) | undefined;
}

export interface ComposeSource {
  /** Path of the file (relative to `cwd` or absolute); its folder is the project folder when first. */
  file: string;
  text: string;
}

/**
 * Loads Compose files (`-f a.yaml -f b.yaml`: later files override earlier ones) into a
 * SystemConfig. With no files: COMPOSE_FILE, else compose.yaml (or its older names) in `cwd` or
 * its closest parent, plus that folder's override file. Throws one KibokoError INVALID_ARGUMENT
 * listing every problem (`details.errors`: ComposeProblem[]).
 */
export function loadCompose(files: readonly string[], options: ComposeOptions = {}): SystemConfig {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const processEnv = options.env ?? process.env;
  let chosen: string[];
  if (files.length > 0) chosen = files.map((f) => path.resolve(cwd, f));
  else {
    // COMPOSE_FILE may come from the working folder's .env, as in compose.
    const envAtCwd = projectEnvironment(processEnv, options.envFiles?.map((f) => path.resolve(cwd, f)), cwd, readIfExists, (a) => a, new Problems());
    chosen = discoverFiles(cwd, envAtCwd.lookup);
  }
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
  const explicit = options.projectName;
  if (explicit !== undefined && !PROJECT_NAME.test(explicit)) {
    throw invalidArgument(`invalid project name ${JSON.stringify(explicit)}: ${PROJECT_NAME_RULE}`, `use e.g. ${JSON.stringify(normalizeProjectName(explicit) || 'myapp')}`);
  }
  const problems = new Problems();
  const absFiles = sources.map((s) => path.resolve(cwd, s.file));
  const readFile = options.readFile ?? readIfExists;
  const display = (abs: string) => displayPath(abs, cwd);
  const processEnv = options.env ?? process.env;
  const projectDir = path.dirname(absFiles[0]!);
  const env = projectEnvironment(processEnv, options.envFiles?.map((f) => path.resolve(cwd, f)), projectDir, readFile, display, problems);
  // compose sets COMPOSE_PROJECT_NAME for interpolation: -p, the environment, a literal `name:`, the folder.
  const projectVar = projectVariable(explicit, env.lookup('COMPOSE_PROJECT_NAME'), sources[0]!.text, projectDir);
  const lookup: Lookup = (name) => env.lookup(name) ?? (name === 'COMPOSE_PROJECT_NAME' ? projectVar : undefined);
  const ctx: Context = {
    problems,
    projectDir,
    lookup,
    readFile,
    display,
    home: processEnv.HOME ?? homedir(),
    sources: [...absFiles, ...env.files],
    networks: new Set(),
    volumes: new Set(),
    secrets: new Set(),
    configs: new Set(),
    services: new Set(),
  };

  // Files read by extends/include, parsed once per file and variables.
  const texts = new Map(sources.map((s, i) => [absFiles[i]!, s.text]));
  const trees = new Map<string, MapNode | undefined>();
  let syntaxErrors = false;
  const parse = (abs: string, lookup: Lookup, from: Loc | undefined): MapNode | undefined => {
    const key = `${abs}\0${lookup === ctx.lookup ? '' : String(trees.size)}`;
    if (trees.has(key)) return trees.get(key);
    const text = texts.get(abs) ?? readFile(abs);
    if (text === undefined) {
      problems.add(from ?? { file: display(abs), line: 0, path: '' }, `file ${display(abs)} not found`, 'paths are relative to the file that names them');
      trees.set(key, undefined);
      return undefined;
    }
    if (!texts.has(abs)) ctx.sources.push(abs);
    const root = readYaml(text, display(abs), lookup, problems);
    if (root === 'syntax-error') syntaxErrors = true;
    const tree = root === 'syntax-error' ? undefined : root;
    trees.set(key, tree);
    return tree;
  };
  const loader: TreeLoader = {
    problems,
    load: (abs, lookup, from) => parse(abs, lookup, from),
    environment: (envFiles, dir, _from) => {
      const included = projectEnvironment(processEnv, envFiles, dir, readFile, display, problems).lookup;
      return (name) => included(name) ?? (name === 'COMPOSE_PROJECT_NAME' ? projectVar : undefined);
    },
  };
  const resolveFile = (abs: string, lookup: Lookup, stack: string[], from: Loc | undefined): MapNode | undefined => {
    const tree = parse(abs, lookup, from);
    if (!tree) return undefined;
    const included = applyInclude(tree, abs, loader, resolveFile, stack);
    return applyExtends(included, abs, loader, lookup);
  };

  let merged: Node | undefined;
  for (const abs of absFiles) {
    const root = resolveFile(abs, ctx.lookup, [], undefined);
    if (root) merged = mergeNodes(merged, root, []);
  }
  if (syntaxErrors) throw finish(problems, options);
  const profiles = [
    ...(ctx.lookup('COMPOSE_PROFILES') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    ...(options.profiles ?? []),
  ];
  const config =
    merged?.kind === 'map'
      ? buildConfig(merged, ctx, { explicit, fromEnv: env.lookup('COMPOSE_PROJECT_NAME') }, profiles)
      : undefined;
  if (!problems.empty || !config) throw finish(problems, options);
  for (const w of problems.warnings) options.onWarning?.(w);
  return config;
}

/** The error to throw, after handing over the warnings gathered so far. */
function finish(problems: Problems, options: ComposeOptions): KibokoError {
  for (const w of problems.warnings) options.onWarning?.(w);
  return problems.toError();
}

export type { ComposeProblem as Problem };
