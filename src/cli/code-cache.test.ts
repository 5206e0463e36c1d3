import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheDir, cacheFileName, cacheSlot, loadBundle } from './code-cache.js';

let dir: string;
let bundle: string;
let cache: string;
const BUNDLE = (marker: string) => `
  exports.marker = ${JSON.stringify(marker)};
  exports.file = __filename;
  exports.run = async (args) => { globalThis.__kibokoCacheTestRan = args; };
  exports.later = () => require('node:os').cpus.name;
`;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiboko-code-cache-'));
  bundle = join(dir, 'cli.cjs');
  cache = join(dir, 'cache');
  writeFileSync(bundle, BUNDLE('one'));
});
afterEach(() => {
  chmodSync(dir, 0o700);
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ KIBOKO_CACHE_DIR: cache });

describe('loadBundle', () => {
  it('runs the bundle as CommonJS (its require resolves beside it), then caches it: miss, save, hit', async () => {
    const first = loadBundle(bundle, ['deploy', 'plan'], env());
    expect(first.cache).toBe('miss');
    const exp = first.bundle as unknown as { marker: string; file: string; later(): string };
    expect(exp.marker).toBe('one');
    expect(exp.file).toBe(bundle);
    expect(exp.later()).toBe('cpus');
    await first.bundle.run(['x']);
    expect((globalThis as { __kibokoCacheTestRan?: unknown }).__kibokoCacheTestRan).toEqual(['x']);
    first.save();
    first.save(); // idempotent
    const files = readdirSync(cache);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^cli\.deploy\.v\d+.*\.bin$/);
    expect(readFileSync(join(cache, files[0]!)).length).toBeGreaterThan(0);

    // (In one process V8's in-memory compilation cache may answer first; the CLI's runs are each
    // a new process, where the file is what is used: bench/startup.mjs shows the difference.)
    const second = loadBundle(bundle, ['deploy', 'plan'], env());
    expect(second.cache).toBe('hit');
    expect((second.bundle as unknown as { marker: string }).marker).toBe('one');
    // another command has its own slot
    expect(loadBundle(bundle, ['chaos', 'kill'], env()).cache).toBe('miss');
  });

  it('a changed bundle gets a new cache and the old one of its slot is removed; other slots stay', () => {
    loadBundle(bundle, ['deploy'], env()).save();
    loadBundle(bundle, ['chaos'], env()).save();
    writeFileSync(bundle, BUNDLE('two, longer'));
    const after = loadBundle(bundle, ['deploy'], env());
    expect(after.cache).toBe('miss');
    expect((after.bundle as unknown as { marker: string }).marker).toBe('two, longer');
    after.save();
    const files = readdirSync(cache).sort();
    expect(files).toHaveLength(2);
    expect(files.filter((f) => f.startsWith('cli.deploy.'))).toHaveLength(1);
    expect(files.filter((f) => f.startsWith('cli.chaos.'))).toHaveLength(1);
  });

  it('a cache V8 rejects (here: garbage) is reported, still runs the bundle, and is written again', () => {
    utimesSync(bundle, 1_700_000_000, 1_700_000_000);
    loadBundle(bundle, ['deploy'], env()).save();
    const [file] = readdirSync(cache);
    writeFileSync(join(cache, file!), Buffer.from('not a code cache'));
    // A source this process has not compiled yet (V8's in-memory cache would answer for the old
    // one), with the same size and mtime, so that the garbage file is the one looked up.
    writeFileSync(bundle, BUNDLE('uno'));
    utimesSync(bundle, 1_700_000_000, 1_700_000_000);
    const r = loadBundle(bundle, ['deploy'], env());
    expect(r.cache).toBe('rejected');
    expect((r.bundle as unknown as { marker: string }).marker).toBe('uno');
    r.save();
    expect(readFileSync(join(cache, file!)).toString()).not.toBe('not a code cache');
    expect(loadBundle(bundle, ['deploy'], env()).cache).toBe('hit');
  });

  it('KIBOKO_NO_COMPILE_CACHE turns it off: nothing read or written', () => {
    const r = loadBundle(bundle, ['deploy'], { ...env(), KIBOKO_NO_COMPILE_CACHE: '1' });
    expect(r.cache).toBe('off');
    r.save();
    expect(() => readdirSync(cache)).toThrow();
  });

  it.skipIf(process.getuid?.() === 0)('an unwritable cache folder costs only the cache (skipped as root: root writes anywhere)', () => {
    chmodSync(dir, 0o500);
    const r = loadBundle(bundle, ['deploy'], env());
    expect(() => r.save()).not.toThrow();
  });

  it('a cache folder that is a file is not an error', () => {
    writeFileSync(cache, 'a file');
    const r = loadBundle(bundle, ['deploy'], env());
    expect(r.cache).toBe('miss');
    expect(() => r.save()).not.toThrow();
    expect((r.bundle as unknown as { marker: string }).marker).toBe('one');
  });
});

describe('cache names', () => {
  it('a slot is the first plain word when it is a top-level command, else "other"', () => {
    expect(cacheSlot(['deploy', 'plan', '-f', 'x'])).toBe('deploy');
    expect(cacheSlot(['--json', 'chaos', 'kill'])).toBe('chaos');
    expect(cacheSlot([])).toBe('other');
    expect(cacheSlot(['../../etc/passwd'])).toBe('other');
    expect(cacheSlot(['DEPLOY'])).toBe('other');
    expect(cacheSlot(['deplyo', 'plan'])).toBe('other'); // a typo gets no cache file of its own
  });

  it('the file name carries Node, the arch and the bundle, with no path separators', () => {
    const n = cacheFileName('deploy', 123, 456.7);
    expect(n).toBe(`cli.deploy.${process.version}-${process.arch}-123-456.bin`);
    expect(n).not.toContain('/');
  });

  it('the folder: KIBOKO_CACHE_DIR, then XDG_CACHE_HOME/kiboko, then ~/.cache/kiboko', () => {
    expect(cacheDir({ KIBOKO_CACHE_DIR: '/a', XDG_CACHE_HOME: '/b' })).toBe('/a');
    expect(cacheDir({ XDG_CACHE_HOME: '/b' })).toBe('/b/kiboko');
    expect(cacheDir({})).toMatch(/\.cache\/kiboko$/);
  });
});
