// Bundles the CLI twice — one CommonJS file started from V8's code cache for the commands, ES
// modules in lazily loaded chunks for the long-running daemons — and compiles the library with tsc
// for `import … from 'kiboko'`.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

// The CLI: one CommonJS bundle (dist/cli.cjs) that the small executable (dist/kiboko.cjs) compiles
// through V8's code cache (src/cli/code-cache.ts): Node 20 caches no compiled code for ES modules,
// and compiling the bundle was the largest part of a command's start after Node itself.
const stubs = {
  'dockerode-session': 'BuildKit sessions are not bundled in the kiboko CLI',
  'docker-modem-ssh': 'ssh:// engine addresses are not supported; use unix:// or tcp:// (with --tlsverify)',
  'dockerode-buildkit': 'BuildKit progress decoding is not bundled in the kiboko CLI',
};
// What both CLI bundles share: ssh2 (docker-modem's ssh:// transport), the BuildKit session
// (gRPC) and dockerode's BuildKit progress decoder (`docker.followProgress`, protobufjs: ~0.1 MB
// of each bundle; kiboko follows progress with `docker.modem.followProgress`) are replaced by
// stubs: kiboko speaks unix:// and tcp:// only and does not request BuildKit builds. better-sqlite3 is a native addon: loaded from node_modules at run time, never bundled.
// etcd3 loads its .proto files from its package folder at run time; playwright-core is for tests only.
const cliOptions = {
  entryPoints: { cli: 'src/cli/run.ts' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  define: { __KIBOKO_VERSION__: JSON.stringify(pkg.version) },
  plugins: [
    {
      name: 'no-buildkit-session',
      setup(b) {
        b.onResolve({ filter: /^\.\/session$/ }, (args) =>
          args.importer.includes('dockerode') ? { path: 'dockerode-session', namespace: 'stub' } : undefined,
        );
        b.onResolve({ filter: /^\.\/buildkit$/ }, (args) =>
          args.importer.includes('dockerode') ? { path: 'dockerode-buildkit', namespace: 'stub' } : undefined,
        );
        b.onResolve({ filter: /^\.\/ssh$/ }, (args) =>
          args.importer.includes('docker-modem') ? { path: 'docker-modem-ssh', namespace: 'stub' } : undefined,
        );
        // docker-modem formats every request's options with util.inspect (showHidden, depth
        // unlimited) for a debug line even when DEBUG is off: ~2 ms on a command's first request
        // and more for every request with a body. Formatted only when its debug output is on.
        b.onLoad({ filter: /[\\/]docker-modem[\\/]lib[\\/]modem\.js$/ }, (args) => {
          const source = readFileSync(args.path, 'utf8');
          const eager = "debug('Sending: %s', util.inspect(options, {";
          if (!source.includes(eager)) throw new Error(`${args.path}: no "${eager}" to guard any more; check docker-modem's debug line and update scripts/build.mjs`);
          return { contents: source.replace(eager, `debug.enabled && ${eager}`), loader: 'js' };
        });
        b.onLoad({ filter: /.*/, namespace: 'stub' }, (args) => ({
          // a function (session, ssh) that is also the decoder's one entry (buildkit's followProgress)
          contents: `const fail = function () { throw new Error(${JSON.stringify(stubs[args.path])}); };\nmodule.exports = Object.assign(fail, { followProgress: fail });`,
          loader: 'js',
        }));
      },
    },
  ],
  external: ['better-sqlite3', 'etcd3', 'playwright-core'],
  logLevel: 'warning',
};
// Beside it, a bundle per command group that starts often, with only its commands
// (src/cli/run-chaos.ts, run-deploy.ts): less to read, deserialize and run (bin.ts picks it).
// (src/cli/run-<group>.ts: src/cli/bin.ts's GROUP_BUNDLES, checked by its test)
const GROUP_BUNDLES = readdirSync('src/cli').flatMap((f) => /^run-(\w+)\.ts$/.exec(f)?.[1] ?? []).filter((g) => g !== 'group');
// Builtins a command often does not use but whose modules load them at the top (docker-modem's
// https for tcp+TLS engines, dockerode's zlib, commander's child_process for executable
// subcommands, …): in the CommonJS bundles each is a stand-in that loads the builtin on first use
// (~30M of `chaos kill`'s instructions). An ES module's import of it goes through esbuild's
// __toESM, which lists the module's keys and makes a getter per key: the stand-in answers those
// from the builtin's key list, taken here from this Node (a key a newer Node adds reads as
// undefined, which no kiboko code uses), and loads the builtin when a value is read. fs/promises
// (the journal's writes) and timers/promises (the clock's sleeps): a `chaos kill` needs neither.
// crypto (~5 ms to load): hashes, tokens and signatures; ids take their bytes from the kernel
// (src/common/random.ts), so a `chaos kill` never loads it.
const LAZY_BUILTINS = ['https', 'tls', 'child_process', 'zlib', 'fs/promises', 'timers/promises', 'crypto'];
// The same for re2js, whose module builds its Unicode tables when evaluated (~150 KB of code run
// by every command that loaded it), while only a `re2:` target pattern and the proxy's, watcher's
// and rules' matchers use it. Its CommonJS build is bundled behind the stand-in: esbuild runs a
// CommonJS module's closure only when it is first required, so the package stays in the bundle
// and its code cache, one copy, evaluated on first use. (zod/mini's CommonJS build is ~500 KB
// more than the tree-shaken ES one, so zod stays as it is: cli/options.ts builds its schemas on
// first use instead.) tar-fs and tar-stream (with streamx, bl, …): dockerode's build contexts and
// kiboko's own tar files; dockerode requires tar-fs at its top, for every command. yaml: compose
// files go through kiboko's fast reader (deploy/compose/yaml-plain.ts) and reach the full parser
// only for what it leaves to it (anchors, flow collections, …), like the templates' YAML output.
const LAZY_PACKAGES = ['re2js', 'tar-fs', 'tar-stream', 'yaml'];
const nodeRequire = createRequire(import.meta.url);
/** A module that stands in for `target` (what `require` loads) until a value of it is read; `keys`: its own keys. */
const standIn = (target, keys) => `let real;
const load = () => (real ??= require(${JSON.stringify(target)}));
const keys = ${JSON.stringify(keys)};
const stand = new Proxy({}, {
  get: (_, key) => Reflect.get(load(), key),
  has: (_, key) => (real ? Reflect.has(real, key) : keys.includes(key)),
  ownKeys: () => (real ? Reflect.ownKeys(real) : keys),
  getOwnPropertyDescriptor: (_, key) => {
    if (!real && typeof key === 'string' && keys.includes(key)) return { value: undefined, writable: true, enumerable: true, configurable: true };
    const d = Reflect.getOwnPropertyDescriptor(load(), key);
    return d && { ...d, configurable: true };
  },
  getPrototypeOf: () => Object.prototype,
  // An object whose prototype is the stand-in (docker-modem's) gets its own property, as it would
  // from the builtin's plain data properties, without loading it.
  set: (_, key, value, receiver) =>
    receiver === stand ? Reflect.set(load(), key, value) : Reflect.defineProperty(receiver, key, { value, writable: true, enumerable: true, configurable: true }),
});
module.exports = stand;
`;
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    const builtins = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    b.onResolve({ filter: builtins }, (args) =>
      args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: standIn(`node:${args.path}`, Object.getOwnPropertyNames(nodeRequire(`node:${args.path}`))),
      loader: 'js',
    }));
    // docker-modem's `debug` (with supports-color and tty) and its hijacked-stream duplex (with
    // readable-stream, a userland copy of Node's streams), both required at its top: stand-ins
    // that load them when a debug namespace is on (DEBUG=modem) or an exec/attach hijacks.
    const modemDir = dirname(nodeRequire.resolve('docker-modem/lib/modem.js'));
    const realDebug = nodeRequire.resolve('debug', { paths: [modemDir] });
    b.onResolve({ filter: /^debug$|^\.\/http_duplex$/ }, (args) =>
      /[\\/]docker-modem[\\/]lib[\\/]/.test(args.importer) ? { path: args.path, namespace: 'lazy-modem' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-modem' }, (args) => ({
      contents:
        args.path === 'debug'
          ? `let real;
const load = () => (real ??= require(${JSON.stringify(realDebug)}));
module.exports = function debugStandIn(namespace) {
  let logger;
  const log = (...args) => { if (log.enabled) (logger ??= load()(namespace))(...args); };
  Object.defineProperty(log, 'enabled', { get: () => Boolean(process.env.DEBUG) && load().enabled(namespace) });
  return log;
};`
          : `let Real;
module.exports = function HttpDuplex(req, res, options) { return new (Real ??= require(${JSON.stringify(join(modemDir, 'http_duplex.js'))}))(req, res, options); };`,
      loader: 'js',
      resolveDir: modemDir,
    }));
    const packages = new RegExp(`^(${LAZY_PACKAGES.map(escapeRe).join('|')})$`);
    // The stand-in's own require() resolves as esbuild does for require: to the CommonJS build.
    b.onResolve({ filter: packages }, (args) => (args.namespace === 'lazy-package' ? undefined : { path: args.path, namespace: 'lazy-package' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-package' }, (args) => ({
      contents: standIn(args.path, Object.getOwnPropertyNames(nodeRequire(args.path))),
      loader: 'js',
      resolveDir: process.cwd(),
    }));
  },
};
// What a group's bundle leaves out: a command of the group that needs much more code than the
// others, and that src/cli/bin.ts's bundleFor runs from the whole CLI instead (its LEFT_OUT).
// `chaos recover` finishes `kiboko watch`'s interrupted container updates too, and the watcher
// brings deploy, the templates and yaml (~0.5 MB of the chaos bundle's 1.2 MB, read at every
// start). The module is replaced by one whose functions throw, never called.
const LEFT_OUT_MODULES = { 'cli-chaos': { 'src/cli/chaos-recover.ts': ['runRecoverCommand'] } };
const leaveOut = (modules) => ({
  name: 'leave-out',
  setup(b) {
    b.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
      const path = `src/cli/${args.path.slice(2).replace(/\.js$/, '.ts')}`;
      return /\/src\/cli\/[^/]+$/.test(args.importer) && modules[path] ? { path, namespace: 'left-out' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
      contents: modules[args.path]
        .map((name) => `export function ${name}() { throw new Error(${JSON.stringify(`${name} (${args.path}) is not in this bundle: bin.ts runs its command from dist/cli.cjs`)}); }`)
        .join('\n'),
      loader: 'js',
    }));
  },
});
const cliEntries = { ...cliOptions.entryPoints, ...Object.fromEntries(GROUP_BUNDLES.map((g) => [`cli-${g}`, `src/cli/run-${g}.ts`])) };
await Promise.all(
  Object.entries(cliEntries).map(([name, entry]) =>
    build({
      ...cliOptions,
      plugins: [...cliOptions.plugins, lazyModules, leaveOut(LEFT_OUT_MODULES[name] ?? {})],
      entryPoints: { [name]: entry },
      outdir: 'dist',
      outExtension: { '.js': '.cjs' },
      format: 'cjs',
      // import.meta.url in a CommonJS bundle: the bundle's own URL (dist/cli.cjs).
      define: { ...cliOptions.define, 'import.meta.url': '__kibokoBundleUrl' },
      banner: { js: "var __kibokoBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    }),
  ),
);
// The daemons (serve, watch, react) run for days and start once: they load, as ES modules, only
// the chunks they use, and their memory behaves as the attack tests measure it (the one-file
// bundle, evaluated whole, left ~4 MB more RSS after 300 slow clients than these chunks do).
await build({
  ...cliOptions,
  outdir: 'dist/esm',
  format: 'esm',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  banner: { js: "import { createRequire as __kibokoCreateRequire } from 'node:module'; const require = __kibokoCreateRequire(import.meta.url);" },
});
for (const [name, modules] of Object.entries(LEFT_OUT_MODULES)) {
  // What a bundle leaves out is not in it, nor what only that brought (the chaos bundle: no watcher, no deploy).
  const sources = JSON.parse(readFileSync(`dist/${name}.cjs.map`, 'utf8')).sources;
  const kept = sources.filter((f) => !f.startsWith('left-out:')).filter((f) => Object.keys(modules).some((m) => f.endsWith(m)) || /\/src\/(watch|deploy)\//.test(f));
  if (kept.length) throw new Error(`dist/${name}.cjs should leave out ${Object.keys(modules).join(', ')} and what only they use, yet has ${kept.slice(0, 5).join(', ')}`);
}
for (const file of ['dist/cli.cjs', ...GROUP_BUNDLES.map((g) => `dist/cli-${g}.cjs`)]) {
  // Node 20 cannot run a dynamic import() in a script compiled from a code cache: none may be left.
  const bundleText = readFileSync(file, 'utf8');
  // The bundle is read as latin1, which is ~20 ms faster than decoding UTF-8: it must be ASCII
  // (esbuild escapes strings; a regular expression literal keeps what it has: write \u00b5 there).
  const nonAscii = bundleText.match(/.{0,30}[^\x00-\x7f].{0,10}/);
  if (nonAscii) throw new Error(`${file} is not ASCII near ${JSON.stringify(nonAscii[0])}: escape the character in its source`);
  const dynamicImports = bundleText.match(/\bimport\(["'`][^)]{0,80}\)/g);
  if (dynamicImports) {
    throw new Error(`${file} has dynamic import() (${dynamicImports.join(', ')}): use a static import, or createRequire for a package kept outside the bundle (see src/cli/code-cache.ts)`);
  }
}
// The executable (dist/kiboko.cjs, package.json's bin): `--version`, then the bundle through the
// code cache. CommonJS: Node starts a CommonJS entry sooner than an ES module one.
await build({
  stdin: {
    contents: "import { start } from './bin.js';\nvoid start(process.argv.slice(2), __dirname);\n",
    resolveDir: 'src/cli',
    sourcefile: 'kiboko-bin.ts',
    loader: 'ts',
  },
  outfile: 'dist/kiboko.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  define: { __KIBOKO_VERSION__: JSON.stringify(pkg.version) },
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
chmodSync('dist/kiboko.cjs', 0o755);

// The transparent proxy agent: one self-contained file, run with node inside a target's network
// namespace (nsenter) or copied into the FROM-scratch proxy helper image.
await build({
  entryPoints: { 'proxy-agent': 'src/proxy/agent-main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  logLevel: 'warning',
});

execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
// The library build keeps the version from package.json too.
import('node:fs').then(({ readFileSync: r, writeFileSync: w }) => {
  const p = 'dist/lib/common/version.js';
  w(p, r(p, 'utf8').replace("typeof __KIBOKO_VERSION__ === 'string' ? __KIBOKO_VERSION__ : '0.0.0-dev'", JSON.stringify(pkg.version)));
});
