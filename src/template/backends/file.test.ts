import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileBackend, formatGoFloat, parseValuesFile } from './file.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('file backend flattening (confd nodeWalk over yaml.v2)', () => {
  it('flattens maps, lists (by index), numbers and booleans; skips nulls', () => {
    const got = parseValuesFile(
      ['key: foobar', 'database:', '  host: 127.0.0.1', '  port: 3306', '  ratio: 0.25', '  tls: yes', 'upstream:', '  - 10.0.1.10:8080', '  - {name: b, weight: 2}', 'empty: ~', 'mode: 0755', 'big: 1.5e30', 'date: 2001-12-14', 'time: 1:20'].join('\n'),
      'x.yaml',
    );
    expect(Object.fromEntries(got)).toEqual({
      '/key': 'foobar',
      '/database/host': '127.0.0.1',
      '/database/port': '3306',
      '/database/ratio': '0.25',
      '/database/tls': 'true',
      '/upstream/0': '10.0.1.10:8080',
      '/upstream/1/name': 'b',
      '/upstream/1/weight': '2',
      '/mode': '493',
      '/big': '1500000000000000000000000000000',
      '/date': '2001-12-14',
      '/time': '1:20',
    });
  });

  it('reads JSON the same way', () => {
    expect(Object.fromEntries(parseValuesFile('{"a": {"b": [1, true, "x", null]}}', 'x.json'))).toEqual({ '/a/b/0': '1', '/a/b/1': 'true', '/a/b/2': 'x' });
  });

  it('formats floats like strconv.FormatFloat(f, \'f\', -1, 64)', () => {
    expect(formatGoFloat(1e21)).toBe('1000000000000000000000');
    expect(formatGoFloat(1.25e-7)).toBe('0.000000125');
    expect(formatGoFloat(3)).toBe('3');
    expect(formatGoFloat(Infinity)).toBe('+Inf');
  });

  it('refuses a document that is not a mapping', () => {
    expect(() => parseValuesFile('- a\n- b\n', 'list.yaml')).toThrow(/expected a mapping/);
  });

  it('merges files (later wins), walks folders with a filter, and selects keys by string prefix', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kiboko-filebackend-'));
    writeFileSync(join(dir, 'a.yaml'), 'database:\n  host: 127.0.0.1\n  password: one\nprefix:\n  x: 1\n');
    mkdirSync(join(dir, 'more'));
    writeFileSync(join(dir, 'more', 'b.yaml'), 'database:\n  password: two\n');
    writeFileSync(join(dir, 'more', 'ignored.txt'), 'database: {password: three}\n');
    const b = fileBackend({ paths: [dir], filter: '*.yaml' });
    expect(Object.fromEntries(await b.getValues(['/database']))).toEqual({ '/database/host': '127.0.0.1', '/database/password': 'two' });
    expect(Object.fromEntries(await b.getValues(['/']))).toMatchObject({ '/prefix/x': '1' });
  });
});

describe('file backend watch', () => {
  it('reports a change when a watched file is rewritten or replaced', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kiboko-filewatch-'));
    const f = join(dir, 'values.yaml');
    writeFileSync(f, 'a: 1\n');
    writeFileSync(join(dir, 'other.yaml'), 'x: 1\n');
    const b = fileBackend({ paths: [f] });
    const ac = new AbortController();
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    let changed!: () => void;
    const sawChange = new Promise<void>((r) => (changed = r));
    const watching = b.watch!(['/'], ac.signal, { onChange: () => changed(), onReady: ready });
    await isReady;
    writeFileSync(join(dir, 'values.yaml.tmp'), 'a: 2\n');
    const { renameSync } = await import('node:fs');
    renameSync(join(dir, 'values.yaml.tmp'), f); // how editors and config managers replace files
    await sawChange;
    ac.abort();
    await watching;
    expect(Object.fromEntries(await b.getValues(['/a']))).toEqual({ '/a': '2' });
  });
});
