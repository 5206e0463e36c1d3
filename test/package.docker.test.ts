import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

describe('the published package', () => {
  it("is importable as 'kiboko' through its exports map, with the library API the CLI uses", () => {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import * as k from 'kiboko'; console.log(JSON.stringify({ run: typeof k.chaos.runExperiment, parse: typeof k.targets.parseTargetArgs, journal: typeof k.journal.Journal, connect: typeof k.connectEngine, version: k.VERSION }));",
      ],
      { cwd: root, encoding: 'utf8' },
    );
    const r = JSON.parse(out);
    expect(r).toMatchObject({ run: 'function', parse: 'function', journal: 'function', connect: 'function' });
    expect(r.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('does not expose internals (deep imports are blocked by the exports map)', () => {
    expect(() =>
      execFileSync(process.execPath, ['--input-type=module', '-e', "await import('kiboko/dist/lib/engine/docker/adapter.js')"], { cwd: root, stdio: 'pipe' }),
    ).toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it('`kiboko --version` prints the package version', () => {
    const pkg = JSON.parse(execFileSync('cat', [resolve(root, 'package.json')], { encoding: 'utf8' }));
    expect(execFileSync(process.execPath, [resolve(root, 'dist/kiboko.cjs'), '--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);
  });
});
