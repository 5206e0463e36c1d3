/**
 * confd function cases: testdata/confd-cases.json rendered by Go 1.23.5 text/template with a Go
 * re-implementation of confd's function map (same code paths as confd's template_funcs.go and
 * memkv store.go), recorded in testdata/confd-cases.golden.json. Covers the docs/templates.md
 * examples, every function's edge cases and error messages (json scanner errors, base64 offsets,
 * strconv errors, path.Match errors, integer division by zero, argument type errors).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { confdFuncs } from './confd-funcs.js';
import { staticDnsResolver, type SrvRecord } from './dns.js';
import { parseTemplate } from './template.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '../fixtures/confd');
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

interface Case {
  name: string;
  tmpl: string;
  kv: Record<string, string>;
}
interface Golden {
  name: string;
  out?: string;
  err?: string;
}

const env = readJson<Record<string, string>>(join(fixtures, 'env.json'));
const dns = readJson<{ ip: Record<string, string[]>; srv: Record<string, SrvRecord[]> }>(join(fixtures, 'dns.json'));
const cases = readJson<Case[]>(join(here, 'testdata/confd-cases.json'));
const golden = readJson<Golden[]>(join(here, 'testdata/confd-cases.golden.json'));

function run(c: Case): Golden {
  const funcs = confdFuncs(
    { get: (k) => (Object.hasOwn(c.kv, k) ? c.kv[k] : undefined), list: () => Object.keys(c.kv) },
    {
      env,
      now: () => new Date('2015-01-23T21:34:56.093Z'),
      zone: { name: 'PST', offsetSeconds: -8 * 3600 },
      resolver: staticDnsResolver(dns),
    },
  );
  try {
    return { name: c.name, out: parseTemplate('t.tmpl', c.tmpl, funcs).execute(null) };
  } catch (e) {
    return { name: c.name, err: (e as Error).message };
  }
}

/** Deliberate differences from Go, asserted with our own expectation. */
const KNOWN_DIFFERENCES: Record<string, { why: string; expected: Omit<Golden, 'name'> }> = {};

describe('confd functions against Go (golden)', () => {
  it('has a golden result for every case', () => {
    expect(golden.map((g) => g.name)).toEqual(cases.map((c) => c.name));
  });
  cases.forEach((c, i) => {
    const known = KNOWN_DIFFERENCES[c.name];
    it(`${i}: ${c.name}${known ? ' (known difference)' : ''}`, () => {
      expect(run(c)).toEqual(known ? { name: c.name, ...known.expected } : golden[i]);
    });
  });
});
