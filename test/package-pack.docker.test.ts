import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const DOORS = ['kiboko', 'kiboko/chaos', 'kiboko/deploy', 'kiboko/units', 'kiboko/template', 'kiboko/engine', 'kiboko/testing'];

/**
 * The package as a user gets it: `npm pack` of the built tree, installed from the tarball into an
 * empty project (dependencies from npm's cache when it has them, else the registry; no install
 * scripts: better-sqlite3's native build is not needed to import the entry points), then every
 * entry point imported by Node and type-checked by tsc through the exports map.
 * Needs dist/ (npm test builds it first). No engine is used.
 */
describe('the packed tarball', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiboko-pack-'));
    execFileSync('npm', ['pack', root, '--silent', '--pack-destination', dir], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack wrote no tarball into ${dir}`);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'kiboko-consumer', version: '1.0.0', private: true, type: 'module' }));
    execFileSync(
      'npm',
      ['install', '--prefer-offline', '--ignore-scripts', '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', `./${tarball}`],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
  }, 180_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('imports every entry point, with its designed names, and FakeEngine only from kiboko/testing', () => {
    const script = `const out = {}; for (const s of ${JSON.stringify(DOORS)}) out[s] = Object.keys(await import(s)); console.log(JSON.stringify(out));`;
    const names: Record<string, string[]> = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' }));
    expect(Object.keys(names)).toEqual(DOORS);
    expect(names['kiboko']).toEqual(expect.arrayContaining(['chaos', 'deploy', 'units', 'template', 'connectEngine', 'KibokoError', 'VERSION']));
    expect(names['kiboko']).not.toContain('FakeEngine');
    expect(names['kiboko/chaos']).toEqual(expect.arrayContaining(['runExperiment', 'parseTargetArgs', 'Journal']));
    expect(names['kiboko/deploy']).toEqual(expect.arrayContaining(['loadConfiguration', 'planProject', 'deployProject', 'DeployStore']));
    expect(names['kiboko/units']).toEqual(expect.arrayContaining(['UnitsClient', 'handleFleet']));
    expect(names['kiboko/template']).toEqual(expect.arrayContaining(['parseTemplate', 'confdFuncs']));
    expect(names['kiboko/engine']).toEqual(['DEFAULT_HOST', 'connectEngine', 'resolveConnection']);
    expect(names['kiboko/testing']).toEqual(['FakeEngine', 'MemoryRegistry']);
  });

  it('works from the installed files: a template renders, a fake engine runs a chaos experiment', () => {
    const script = `
      import { confdFuncs, parseTemplate } from 'kiboko/template';
      import { FakeEngine } from 'kiboko/testing';
      import { Journal, parseTargetArgs, runExperiment } from 'kiboko/chaos';
      import { mkdtempSync } from 'node:fs';
      import { join } from 'node:path';
      const kv = { get: (k) => (k === '/app/port' ? '8080' : undefined), list: () => ['/app/port'] };
      const text = parseTemplate('t', 'port={{getv "/app/port"}}', confdFuncs(kv)).execute(null);
      const engine = new FakeEngine();
      engine.add({ name: 'web-1', status: 'running' });
      const report = await runExperiment(
        { action: { kind: 'kill', signal: 'SIGKILL' }, targets: parseTargetArgs(['web-1'], []) },
        { engine, journal: new Journal(mkdtempSync(join(process.cwd(), 'state-'))) },
      );
      console.log(JSON.stringify({ text, ok: report.totals.ok, status: (await engine.list({ all: true }))[0].status }));`;
    const r = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' }));
    expect(r).toEqual({ text: 'port=8080', ok: 1, status: 'exited' });
  });

  it('type-checks a consumer through the exports map (types conditions), and rejects FakeEngine from the main entry', () => {
    writeFileSync(
      join(dir, 'use.ts'),
      [
        `import { connectEngine, type Engine, chaos as c } from 'kiboko';`,
        `import { runExperiment, type ChaosReport } from 'kiboko/chaos';`,
        `import { planProject, type DeployPlan } from 'kiboko/deploy';`,
        `import { UnitsClient, type FleetUnit } from 'kiboko/units';`,
        `import { parseTemplate } from 'kiboko/template';`,
        `import { resolveConnection } from 'kiboko/engine';`,
        `import { FakeEngine } from 'kiboko/testing';`,
        `// @ts-expect-error FakeEngine is a test double: only in kiboko/testing`,
        `import { FakeEngine as NotHere } from 'kiboko';`,
        `const e: Engine = new FakeEngine();`,
        `const r: Promise<ChaosReport> = runExperiment({ action: { kind: 'kill', signal: 'SIGKILL' }, targets: c.parseTargetArgs(['x'], []) }, { engine: e, journal: new c.Journal('/tmp/x') });`,
        `const p: (engine: Engine, config: Parameters<typeof planProject>[1]) => Promise<DeployPlan> = planProject;`,
        `const u: Promise<FleetUnit[]> = new UnitsClient({ endpoint: 'http://127.0.0.1:1' }).listUnits();`,
        `const s: string = parseTemplate('t', 'x').execute(null);`,
        `export { connectEngine, resolveConnection, r, p, u, s, NotHere };`,
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2023', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(root, 'node_modules/@types')] },
        files: ['use.ts'],
      }),
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    let out = '';
    try {
      out = execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--traceResolution'], { cwd: dir, encoding: 'utf8' });
    } catch (err) {
      throw new Error(`tsc failed in the consumer project:\n${String((err as { stdout?: string }).stdout).split('\n').filter((l) => l.includes('error TS')).join('\n')}`);
    }
    // Resolved to the installed package's declarations, not to anything in the source tree.
    for (const d of DOORS) expect(out).toMatch(new RegExp(`Module name '${d}' was successfully resolved to '[^']*/node_modules/kiboko/dist/lib/[^']*\\.d\\.ts'`));
  });

  it('blocks deep imports and installs the kiboko command', () => {
    expect(() =>
      execFileSync(process.execPath, ['--input-type=module', '-e', "await import('kiboko/dist/lib/engine/docker/adapter.js')"], { cwd: dir, stdio: 'pipe' }),
    ).toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(execFileSync(join(dir, 'node_modules/.bin/kiboko'), ['--version'], { encoding: 'utf8' }).trim()).toBe(version);
  });

  it('the installed command runs from its bundle, and its code cache is written once and then used', () => {
    const cacheDir = join(dir, 'code-cache');
    const env = { ...process.env, KIBOKO_CACHE_DIR: cacheDir };
    const compose = join(dir, 'compose.yaml');
    writeFileSync(compose, 'services:\n  web:\n    image: busybox:1.36\n');
    const config = () => execFileSync(join(dir, 'node_modules/.bin/kiboko'), ['deploy', 'config', '-f', compose, '--json'], { encoding: 'utf8', env });
    const first = JSON.parse(config()) as { services: Record<string, { image: string }> };
    expect(first.services.web?.image).toBe('busybox:1.36');
    const files = readdirSync(cacheDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^cli-deploy\.deploy\./); // deploy runs from its group's bundle (dist/cli-deploy.cjs)
    const written = statSync(join(cacheDir, files[0]!)).mtimeMs;
    expect(JSON.parse(config())).toEqual(first); // the same answer from the cached code
    expect(readdirSync(cacheDir)).toEqual(files);
    expect(statSync(join(cacheDir, files[0]!)).mtimeMs).toBe(written); // used, not rewritten
  });
});
