// The `kiboko` executable, bundled as CommonJS (dist/kiboko.cjs): Node starts a CommonJS entry
// ~10 ms sooner than an ES module one (no ES module loader to set up, no facades for builtins).
// `--version` answers before anything else is loaded, so it is instant. Commands run from the CLI
// bundle (dist/cli.cjs, beside this file), compiled from V8's code cache (./code-cache.ts); the
// daemons, which start once and run for days, load only the ES module chunks they use (dist/esm/),
// whose memory stays as lean as the attack tests require.
// A reader that goes away (`kiboko --help | head`) is not an error: stop quietly, as cat does.
import { join } from 'node:path';
import { VERSION } from '../common/version.js';
import { cacheSlot, loadBundle, type CliBundle } from './code-cache.js';
import { exitIfFinished } from './finished.js';
import { wantsHelp } from './help-args.js';

/** The long-running commands: started from the ES module chunks, not the code-cached bundle. */
export const DAEMONS: ReadonlySet<string> = new Set(['serve', 'watch', 'react']);

/**
 * The command groups with a bundle of their own (./run-chaos.ts, ./run-deploy.ts: only their
 * commands, so less to read, compile and run); everything else, and help (which lists every
 * command), runs from the whole CLI's bundle.
 */
export const GROUP_BUNDLES: ReadonlySet<string> = new Set(['chaos', 'deploy']);

/**
 * Commands a group's bundle leaves out (scripts/build.mjs): `chaos recover` also finishes the
 * container updates `kiboko watch` was killed in, and the watcher's code (with deploy, the
 * templates and yaml) was half of the chaos bundle, read at every `chaos kill`. A command line
 * with one of these words anywhere runs from the whole CLI: commander dispatches to a command only
 * by its name, so a line without the word cannot reach it (a container named so just starts slower).
 */
export const LEFT_OUT: Readonly<Record<string, readonly string[]>> = { chaos: ['recover'] };

/** The bundle (a file name in dist/) that runs `kiboko ARGS…`. */
export function bundleFor(args: readonly string[]): string {
  const group = args[0];
  if (group === undefined || !GROUP_BUNDLES.has(group) || wantsHelp(args)) return 'cli.cjs';
  return LEFT_OUT[group]?.some((name) => args.includes(name)) ? 'cli.cjs' : `cli-${group}.cjs`;
}

/** Runs `kiboko ARGS…`; `dir` is the folder of the executable (dist/), where the bundles are. */
export async function start(args: string[], dir: string): Promise<void> {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw err;
  });
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    process.stdout.write(`${VERSION}\n`);
  } else if (DAEMONS.has(cacheSlot(args))) {
    const esm = './esm/cli.js'; // a variable: esbuild leaves the import to run time (built by scripts/build.mjs)
    const bundle = (await import(esm)) as CliBundle;
    await bundle.run(args);
  } else {
    const loaded = loadBundle(join(dir, bundleFor(args)), args);
    // A command that runs long saves its cache soon; a short one when it ends.
    const timer = setTimeout(loaded.save, 3000);
    timer.unref();
    let result;
    try {
      result = await loaded.bundle.run(args);
    } finally {
      clearTimeout(timer);
      loaded.save();
    }
    exitIfFinished(result);
  }
}
