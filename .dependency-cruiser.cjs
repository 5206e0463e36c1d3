/**
 * kiboko's module boundaries, checked by dependency-cruiser in `npm test` (scripts/test.sh) and
 * documented in docs/internals.md ("Layers"). Three rules:
 *   - no cycles, between capability folders or inside one (type-only and `await import()` edges count);
 *   - outside a folder, import only its index.ts (src/common is a folder of small shared files, no index);
 *   - layers point one way: a folder imports only folders in its own layer or below.
 * Test files are left out: they may reach into their own folder's internals and lean on higher layers
 * (a units client test starts the server).
 */

/** Lowest first. A folder may import folders of its own layer (without a cycle) and of lower ones. */
const LAYERS = [
  ['common'],
  ['engine', 'journal'],
  ['targets', 'images', 'registry', 'shellwords', 'methods'],
  ['template'],
  ['chaos', 'deploy', 'proxy'],
  ['packages', 'units', 'events', 'watch', 'doctor'],
  ['server', 'api'],
  ['cli'],
];

const folder = (names) => `^src/(${names.join('|')})/`;

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.join('-')}`,
  comment: `${layer.join(', ')} may import only ${LAYERS.slice(0, i + 1).flat().join(', ')} (see docs/internals.md, Layers)`,
  severity: 'error',
  from: { path: folder(layer) },
  to: { path: folder(LAYERS.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'a cycle between modules: move the shared piece down (a vocabulary folder, a types.ts) instead of importing back',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-deep-import',
      comment: 'outside its own folder, a capability is reached only through its index.ts',
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$', '^src/common/'] },
    },
    {
      name: 'no-unknown-folder',
      comment: 'every folder under src/ has a layer: add a new one to LAYERS in .dependency-cruiser.cjs and to docs/internals.md',
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: folder(LAYERS.flat()) },
      to: {},
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['\\.test\\.ts$', '/testdata/', '/fixtures/'] },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    cache: false,
  },
};
