// The `kiboko` executable. `--version` answers before anything else is loaded, so it is instant;
// everything else runs from the CLI bundle (dist/cli.cjs, beside this file), compiled from V8's code
// cache (./code-cache.ts).
// A reader that goes away (`kiboko --help | head`) is not an error: stop quietly, as cat does.
import { fileURLToPath } from 'node:url';
import { VERSION } from '../common/version.js';
import { loadBundle } from './code-cache.js';

process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  throw err;
});
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  process.stdout.write(`${VERSION}\n`);
} else {
  const loaded = loadBundle(fileURLToPath(new URL('./cli.cjs', import.meta.url)), args);
  // A long-running command (serve, watch, events) saves its cache soon; a short one when it ends.
  const timer = setTimeout(loaded.save, 3000);
  timer.unref();
  try {
    await loaded.bundle.run(args);
  } finally {
    clearTimeout(timer);
    loaded.save();
  }
}
