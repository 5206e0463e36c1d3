/**
 * Loads the CLI bundle (dist/cli.cjs) through V8's code cache, so a command starts from compiled
 * code instead of parsing and compiling 1.7 MB of JavaScript each time: Node 20 caches nothing for
 * ESM or for `require`, and compiling was the largest part of start-up after Node itself.
 *
 * One cache file per top-level command (the functions a command compiles are what its next run
 * needs), written once after the command has run, atomically, into the user's cache folder
 * (`KIBOKO_CACHE_DIR`, else `$XDG_CACHE_HOME/kiboko`, else `~/.cache/kiboko`). The file's name
 * carries Node's version, the architecture and the bundle's size and mtime; V8 also checks the
 * source and its flags and rejects a cache that does not fit, which is then written again.
 * `KIBOKO_NO_COMPILE_CACHE=1` turns it off. A cache that cannot be read or written is silently
 * not used: it only ever costs the speed-up, never the command.
 *
 * The bundle must not use dynamic `import()`: Node 20 cannot run one in a script compiled from a
 * code cache ("A dynamic import callback was not specified"), so the build refuses a bundle that
 * has one (scripts/build.mjs) and the few modules loaded at run time are `require`d.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import vm from 'node:vm';
import type { RunResult } from './finished.js';

/** What the bundle exports: run the CLI with these arguments. */
export interface CliBundle {
  /** Resolves to whether the command finished all its work (./finished.ts). */
  run(args: string[]): Promise<RunResult | void>;
}

export interface LoadedBundle {
  bundle: CliBundle;
  /** 'hit' (V8 used the cache), 'miss' (none yet), 'rejected' (stale), 'off' (disabled or unusable). */
  cache: 'hit' | 'miss' | 'rejected' | 'off';
  /** Writes the cache if it was missing or stale (idempotent; errors swallowed). */
  save(): void;
}

/** The folder for cache files, or undefined when none can be named. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.KIBOKO_CACHE_DIR) return env.KIBOKO_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'kiboko');
  try {
    return join(homedir(), '.cache', 'kiboko');
  } catch {
    return undefined;
  }
}

/**
 * The top-level commands, each with a cache of its own (the functions a command compiles are what
 * its next run needs); anything else (a typo, help) shares 'other', so the folder holds at most
 * one file per name here. `cli/program.test.ts` checks this list against the command tree.
 */
export const CACHE_SLOTS: ReadonlySet<string> = new Set([
  'chaos', 'deploy', 'units', 'build', 'examine', 'lifecycle', 'test', 'template', 'events', 'react', 'proxy', 'watch', 'registry', 'serve', 'doctor',
]);

/** The cache's name for a command line: its first word when it is a top-level command, else 'other'. */
export function cacheSlot(args: readonly string[]): string {
  const first = args.find((a) => !a.startsWith('-'));
  return first !== undefined && CACHE_SLOTS.has(first) ? first : 'other';
}

/**
 * The cache file's name: the bundle's name (`cli`, `cli-chaos`), the slot, then what makes a
 * compiled cache fit (Node, arch, the bundle's size and mtime).
 */
export function cacheFileName(slot: string, bundleSize: number, bundleMtimeMs: number, bundle = 'cli'): string {
  return `${cacheFilePrefix(bundle, slot)}${cacheKey(bundleSize, bundleMtimeMs)}.bin`;
}

/** What makes a compiled cache fit: Node's version, the architecture, the bundle's size and mtime. */
const cacheKey = (bundleSize: number, bundleMtimeMs: number) =>
  `${process.version}-${process.arch}-${bundleSize}-${Math.trunc(bundleMtimeMs)}`.replace(/[^A-Za-z0-9.-]/g, '_');

/** What every cache file of this bundle and slot starts with (older ones are removed by this prefix). */
const cacheFilePrefix = (bundle: string, slot: string) => `${bundle}.${slot}.`;

/** Compiles and runs the CommonJS bundle at `file` (with the code cache when there is one) and returns its exports. */
export function loadBundle(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): LoadedBundle {
  const require = createRequire(file);
  const dir = env.KIBOKO_NO_COMPILE_CACHE ? undefined : cacheDir(env);

  // latin1: the build keeps the bundle ASCII, and decoding UTF-8 would cost ~20 ms of each start.
  const source = readFileSync(file, 'latin1');
  const prefix = cacheFilePrefix(bundleName(file), cacheSlot(args));
  let cachePath: string | undefined;
  let cached: Buffer | undefined;
  if (dir) {
    try {
      const st = statSync(file);
      cachePath = join(dir, `${prefix}${cacheKey(st.size, st.mtimeMs)}.bin`);
      cached = readFileSync(cachePath);
    } catch {
      cached = undefined; // no cache yet (or unreadable): compile from source, then save
    }
  }
  const script = new vm.Script(wrapCommonJs(source), {
    filename: file,
    ...(cached ? { cachedData: cached } : {}),
  });
  const state: LoadedBundle['cache'] = !cachePath ? 'off' : !cached ? 'miss' : script.cachedDataRejected ? 'rejected' : 'hit';
  const module = { exports: {} as unknown };
  const fn = script.runInThisContext() as (exports: unknown, req: NodeRequire, mod: typeof module, filename: string, dirname: string) => void;
  fn.call(module.exports, module.exports, require, module, file, join(file, '..'));

  let saved = state === 'hit' || state === 'off';
  const save = (): void => {
    if (saved || !cachePath || !dir) return;
    saved = true;
    writeCache(dir, cachePath, prefix, script);
  };
  return { bundle: module.exports as CliBundle, cache: state, save };
}

/** Node's own CommonJS wrapper, so the bundle sees exports, require, module, __filename and __dirname. */
function wrapCommonJs(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
}

/** `cli-chaos` for …/dist/cli-chaos.cjs. */
const bundleName = (file: string) => basename(file).replace(/\.c?js$/, '');

/** Writes the cache beside older ones of the same bundle and slot (which it then removes); never throws. */
function writeCache(dir: string, path: string, prefix: string, script: vm.Script): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    renameSync(tmp, path);
    // older caches of this bundle and slot (an earlier build or Node)
    const name = path.slice(dir.length + 1);
    for (const other of readdirSync(dir)) {
      if (other !== name && other.startsWith(prefix) && other.endsWith('.bin')) unlinkSync(join(dir, other));
    }
  } catch {
    // a read-only home, a full disk, a race with another kiboko: the next run compiles again
  }
}
