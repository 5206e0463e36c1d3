// The `kiboko` executable. `--version` answers before anything else is loaded, so it is instant.
// A reader that goes away (`kiboko --help | head`) is not an error: stop quietly, as cat does.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  throw err;
});
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const { VERSION } = await import('../common/version.js');
  process.stdout.write(`${VERSION}\n`);
} else {
  // A closed stdout (`kiboko … | head`) is not a crash: see ./stdout.ts.
  (await import('./stdout.js')).guardStdout();
  const { main } = await import('./main.js');
  const code = await main(args);
  process.exitCode = code;
}
