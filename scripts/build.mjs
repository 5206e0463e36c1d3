// Bundles the CLI (one ESM file plus lazily loaded chunks) for a fast start, and compiles the
// library with tsc for `import … from 'kiboko'`.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, chmodSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

await build({
  entryPoints: { cli: 'src/cli/bin.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  define: { __KIBOKO_VERSION__: JSON.stringify(pkg.version) },
  // ssh2 (docker-modem's ssh:// transport) and the BuildKit session (gRPC) are replaced by stubs
  // below: kiboko speaks unix:// and tcp:// only and does not request BuildKit builds.
  plugins: [
    {
      name: 'no-buildkit-session',
      setup(b) {
        const stubs = {
          'dockerode-session': 'BuildKit sessions are not bundled in the kiboko CLI',
          'docker-modem-ssh': 'ssh:// engine addresses are not supported; use unix:// or tcp:// (with --tlsverify)',
        };
        b.onResolve({ filter: /^\.\/session$/ }, (args) =>
          args.importer.includes('dockerode') ? { path: 'dockerode-session', namespace: 'stub' } : undefined,
        );
        b.onResolve({ filter: /^\.\/ssh$/ }, (args) =>
          args.importer.includes('docker-modem') ? { path: 'docker-modem-ssh', namespace: 'stub' } : undefined,
        );
        b.onLoad({ filter: /.*/, namespace: 'stub' }, (args) => ({
          contents: `module.exports = function () { throw new Error(${JSON.stringify(stubs[args.path])}); };`,
          loader: 'js',
        }));
      },
    },
  ],
  // better-sqlite3 is a native addon: loaded from node_modules at run time, never bundled.
  // etcd3 loads its .proto files from its package folder at run time; playwright-core is for tests only.
  external: ['better-sqlite3', 'etcd3', 'playwright-core'],
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __kibokoCreateRequire } from 'node:module'; const require = __kibokoCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
chmodSync('dist/cli.js', 0o755);

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
