/**
 * Which files make the project, which variables interpolate them, and the project's name —
 * compose's project semantics:
 * - files: `-f` (repeatable), else `COMPOSE_FILE` (environment or the working folder's `.env`,
 *   separated by `COMPOSE_PATH_SEPARATOR`, default `:`), else compose.yaml (or its older names) in
 *   the working folder or its closest parent, plus that folder's override file;
 * - variables: the process environment, over the `--env-file`s given, else the project folder's `.env`;
 * - name: `-p` > `COMPOSE_PROJECT_NAME` (environment or env files) > top-level `name:` > the folder's name.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { invalidArgument } from '../../common/errors.js';
import { parseDotenv, type Lookup } from '../../shellwords/index.js';
import { DOCS, type Problems } from './problems.js';

/** The file names compose looks for when no `-f` is given, in its order of preference. */
export const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'] as const;
export const COMPOSE_OVERRIDE_FILE_NAMES = [
  'compose.override.yml',
  'compose.override.yaml',
  'docker-compose.override.yml',
  'docker-compose.override.yaml',
] as const;

export const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;
export const PROJECT_NAME_RULE = 'must contain only lowercase letters, digits, dashes and underscores, and start with a letter or digit';

/** compose's project-name normalization: lowercase, only [a-z0-9_-], no leading `_`/`-`. */
export function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
}

/** A top-level `name: literal` (no variables) of a file's text, for COMPOSE_PROJECT_NAME before the file is interpolated. */
export function literalName(text: string): string | undefined {
  const m = /^name:[ \t]*["']?([a-z0-9][a-z0-9_-]*)["']?[ \t]*(?:#.*)?$/m.exec(text);
  return m?.[1];
}

/**
 * compose's COMPOSE_PROJECT_NAME before the files are interpolated: `-p`, the environment's, a
 * literal top-level `name:` of the first file, else the project folder's name.
 */
export function projectVariable(explicit: string | undefined, fromEnv: string | undefined, firstText: string | undefined, projectDir: string): string {
  return explicit ?? fromEnv ?? (firstText === undefined ? undefined : literalName(firstText)) ?? normalizeProjectName(path.basename(projectDir));
}

/**
 * The project name that loading `firstFile` (the first `-f`) most likely gives, from what is known
 * before it is read through: `-p`, COMPOSE_PROJECT_NAME in the environment, a literal top-level
 * `name:`, else the file's folder. An env file, an interpolated `name:` or a later file's `name:`
 * can make the loaded project another: a hint only, to be checked against the loaded name.
 */
export function projectNameHint(
  firstFile: string,
  explicit: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  readFile: (abs: string) => string | undefined = readIfExists,
): string | undefined {
  const fromEnv = env.COMPOSE_PROJECT_NAME || undefined;
  const name = projectVariable(explicit, fromEnv, explicit ?? fromEnv ? undefined : readFile(firstFile), path.dirname(firstFile));
  return PROJECT_NAME.test(name) ? name : undefined;
}

export function displayPath(abs: string, cwd: string): string {
  const rel = path.relative(cwd, abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}

export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function readIfExists(p: string): string | undefined {
  return isFile(p) ? readFileSync(p, 'utf8') : undefined;
}

/**
 * The files to load when no `-f` is given: `COMPOSE_FILE` (relative to `cwd`), else compose's
 * lookup in `cwd` or its closest parent.
 */
export function discoverFiles(cwd: string, env: Lookup): string[] {
  const listed = env('COMPOSE_FILE');
  if (listed) {
    const sep = env('COMPOSE_PATH_SEPARATOR') || path.delimiter;
    return listed.split(sep).filter(Boolean).map((f) => path.resolve(cwd, f));
  }
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

export interface ProjectEnvironment {
  lookup: Lookup;
  /** Env files read (for `sources`). */
  files: string[];
}

/**
 * The variables files are interpolated with: `processEnv` first, then the env files (`--env-file`,
 * in order, later ones winning), or, with none given, `<projectDir>/.env` when it exists. A missing
 * `--env-file` is a problem; a missing `.env` is not.
 */
export function projectEnvironment(
  processEnv: Readonly<Record<string, string | undefined>>,
  envFiles: readonly string[] | undefined,
  projectDir: string,
  readFile: (abs: string) => string | undefined,
  display: (abs: string) => string,
  problems: Problems,
): ProjectEnvironment {
  const values: Record<string, string> = {};
  const files: string[] = [];
  const explicit = envFiles !== undefined && envFiles.length > 0;
  for (const abs of explicit ? envFiles : [path.join(projectDir, '.env')]) {
    const text = readFile(abs);
    if (text === undefined) {
      if (explicit) problems.add({ file: display(abs), line: 0, path: '' }, 'env file not found', 'check the --env-file path (relative to the current folder)');
      continue;
    }
    files.push(abs);
    const parsed = parseDotenv(text, (name) => processEnv[name] ?? (Object.hasOwn(values, name) ? values[name] : undefined));
    for (const p of parsed.problems) problems.add({ file: display(abs), line: p.line, path: '' }, p.message, `see ${DOCS}/interpolation/`);
    Object.assign(values, parsed.values);
  }
  return { lookup: (name) => processEnv[name] ?? (Object.hasOwn(values, name) ? values[name] : undefined), files };
}
