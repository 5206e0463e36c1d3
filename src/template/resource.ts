import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { invalidArgument, KibokoError } from '../common/errors.js';
import { globMatch } from '../common/glob.js';
import { checkScript } from './commands.js';
import { effectivePrefix } from './keys.js';

/**
 * One confd template resource (`<confdir>/conf.d/*.toml`, a `[template]` table), resolved:
 * the template path is absolute, the prefix is the effective one, the mode is a number.
 */
export interface TemplateResource {
  /** The TOML file it was read from (or a name given by the library caller). */
  file: string;
  /** Short name for messages and events: the TOML file's base name. */
  name: string;
  /** The template file (`<confdir>/templates/<src>`). */
  src: string;
  dest: string;
  keys: string[];
  /** Effective key prefix (leading `/`). */
  prefix: string;
  /** Explicit file mode; when absent the existing file's mode is kept, or 0644 for a new file. */
  mode?: number | undefined;
  /** Explicit owner; when absent the existing file's owner is kept (new files: the process's). */
  uid?: number | undefined;
  gid?: number | undefined;
  /** Operator-written shell lines (`{{.src}}` in check_cmd is the staged file). */
  checkCmd?: string | undefined;
  reloadCmd?: string | undefined;
}

export interface LoadResourcesOptions {
  /** Global `--prefix`; replaces each resource's own prefix, as in confd. */
  prefix?: string | undefined;
  /** Called for each notice (unknown keys that confd would silently ignore). */
  onWarning?: (message: string) => void;
}

const KNOWN = new Set(['src', 'dest', 'keys', 'prefix', 'mode', 'uid', 'gid', 'check_cmd', 'reload_cmd']);

/**
 * Parses a resource's `mode` the way an operator means it. confd hands the string to Go's
 * `strconv.ParseUint(s, 0, 32)`, so `"0644"` is octal but `"644"` is decimal 644 (= 0o1204) —
 * kiboko refuses that form instead of writing surprising permissions.
 */
export function parseMode(value: string, where: string): number {
  const text = value.trim();
  const m = /^0o?([0-7]+)$/.exec(text);
  if (!m) {
    const hint = /^[0-7]{3,4}$/.test(text) ? `write "0${text}" (confd would read "${text}" as the decimal number ${text})` : 'write an octal mode with a leading 0, e.g. mode = "0644"';
    throw invalidArgument(`invalid mode '${value}' in ${where}: expected an octal string like "0644"`, hint);
  }
  const mode = Number.parseInt(m[1]!, 8);
  if (mode > 0o7777) throw invalidArgument(`invalid mode '${value}' in ${where}: expected at most 07777`, 'e.g. mode = "0644"');
  return mode;
}

function expectString(t: Record<string, unknown>, key: string, where: string, required: boolean): string | undefined {
  const v = t[key];
  if (v === undefined) {
    if (required) throw invalidArgument(`${where}: [template] needs '${key}'`, `add e.g. ${key} = "${key === 'src' ? 'app.conf.tmpl' : '/etc/app/app.conf'}"`);
    return undefined;
  }
  if (typeof v !== 'string') throw invalidArgument(`invalid ${key} in ${where}: expected a string, got ${typeof v}`, `write ${key} = "…"`);
  if (required && v === '') throw invalidArgument(`invalid ${key} in ${where}: expected a non-empty string, got ""`, `set ${key}`);
  return v;
}

function expectId(t: Record<string, unknown>, key: 'uid' | 'gid', where: string): number | undefined {
  const v = t[key];
  if (v === undefined) return undefined;
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw invalidArgument(`invalid ${key} in ${where}: expected a whole number ≥ 0, got ${JSON.stringify(String(v))}`, `write ${key} = 1000`);
  }
  return n;
}

/**
 * Parses one resource file's text. Pure apart from nothing: `templateDir` only resolves `src`.
 * Unknown keys (confd silently ignores them, e.g. the often-guessed `owner`) are reported through
 * `onWarning` and otherwise ignored.
 */
export function parseResource(text: string, file: string, templateDir: string, options: LoadResourcesOptions = {}): TemplateResource {
  const where = basename(file);
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (cause) {
    throw invalidArgument(`cannot parse template resource ${file}: ${(cause as Error).message.split('\n')[0]}`, 'fix the TOML syntax (see confd template-resources docs)', cause);
  }
  const t = doc.template;
  if (t === undefined || typeof t !== 'object' || t === null || Array.isArray(t)) {
    throw invalidArgument(`${where}: expected a [template] table`, 'start the file with [template] and set src, dest and keys');
  }
  const table = t as Record<string, unknown>;
  for (const k of Object.keys(table)) {
    if (!KNOWN.has(k)) options.onWarning?.(`${where}: unknown key '${k}' ignored (confd ignores it too${k === 'owner' ? '; use uid and gid' : ''})`);
  }
  const src = expectString(table, 'src', where, true)!;
  const dest = expectString(table, 'dest', where, true)!;
  const keysRaw = table.keys ?? [];
  if (!Array.isArray(keysRaw) || keysRaw.some((k) => typeof k !== 'string')) {
    throw invalidArgument(`invalid keys in ${where}: expected an array of strings`, 'write keys = ["/app/db", "/app/upstream"]');
  }
  const modeText = expectString(table, 'mode', where, false);
  const checkCmd = expectString(table, 'check_cmd', where, false) || undefined;
  if (checkCmd !== undefined) checkScript(checkCmd, `check_cmd of ${where}`);
  return {
    file,
    name: where,
    // filepath.Join(TemplateDir, src): an absolute src still lands under the templates folder.
    src: join(templateDir, src),
    dest,
    keys: keysRaw as string[],
    prefix: effectivePrefix(expectString(table, 'prefix', where, false), options.prefix),
    mode: modeText === undefined || modeText === '' ? undefined : parseMode(modeText, where),
    uid: expectId(table, 'uid', where),
    gid: expectId(table, 'gid', where),
    checkCmd,
    reloadCmd: expectString(table, 'reload_cmd', where, false) || undefined,
  };
}

/** Go's `filepath.Match` on a base name (one home: common/glob.ts). */
export { globMatch };

/** Files under `root` whose base name matches `pattern`, in Go's filepath.Walk (lexical) order. */
export async function findFiles(root: string, pattern: string): Promise<string[]> {
  const st = await stat(root);
  if (!st.isDirectory()) return [root];
  const out: string[] = [];
  const walk = async (dir: string) => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(dir, e.name);
      // Like Go's filepath.Walk, symlinked folders are not descended (Kubernetes ConfigMap
      // mounts hold `..data` links that would otherwise list every file twice).
      if (e.isDirectory()) await walk(p);
      else if (globMatch(pattern, e.name)) out.push(p);
    }
  };
  await walk(root);
  return out;
}

/**
 * Loads every template resource of a confd layout: `<confdir>/conf.d/**` files matching `*toml`
 * (confd's own pattern), templates under `<confdir>/templates`. Every problem is reported at
 * once; none are half-loaded.
 */
export async function loadResources(confdir: string, options: LoadResourcesOptions = {}): Promise<TemplateResource[]> {
  const confD = join(confdir, 'conf.d');
  const templateDir = join(confdir, 'templates');
  let files: string[];
  try {
    files = await findFiles(confD, '*toml');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw invalidArgument(`no template resources: ${confD} does not exist`, 'point --confdir at a folder with conf.d/*.toml and templates/ (confd layout)', cause);
    }
    throw cause;
  }
  if (files.length === 0) throw invalidArgument(`no template resources: ${confD} has no *.toml files`, 'add e.g. conf.d/app.toml with a [template] table');
  const problems: string[] = [];
  const resources: TemplateResource[] = [];
  for (const f of files) {
    try {
      resources.push(parseResource(await readFile(f, 'utf8'), f, templateDir, options));
    } catch (err) {
      problems.push(err instanceof KibokoError ? err.message : `${f}: ${(err as Error).message}`);
    }
  }
  if (problems.length) {
    throw invalidArgument(problems.length === 1 ? problems[0]! : `${problems.length} template resources are invalid: ${problems.join('; ')}`, 'fix the resource files in conf.d');
  }
  return resources;
}

export { KNOWN as RESOURCE_KEYS };
