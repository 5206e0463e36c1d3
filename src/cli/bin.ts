// The `kiboko` executable. `--version` answers before anything else is loaded, so it is instant.
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
