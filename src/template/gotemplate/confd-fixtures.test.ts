/**
 * Renders the confd fixture set (src/template/fixtures/confd: conf.d/*.toml, templates/*.tmpl,
 * data.json, env.json, dns.json) and compares each result byte for byte with expected/, which
 * was produced by Go 1.23.5 text/template with confd's function map (see the fixtures README).
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { confdFuncs } from './confd-funcs.js';
import { staticDnsResolver, type SrvRecord } from './dns.js';
import { pathClean } from './gopath.js';
import type { KvSource } from './memkv.js';
import { parseTemplate } from './template.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/confd');
const readJson = <T>(name: string): T => JSON.parse(readFileSync(join(fixtures, name), 'utf8')) as T;

const data = readJson<Record<string, string>>('data.json');
const env = readJson<Record<string, string>>('env.json');
const dns = readJson<{ ip: Record<string, string[]>; srv: Record<string, SrvRecord[]> }>('dns.json');

/** path.Join. */
const join2 = (...parts: string[]): string => {
  const p = parts.filter((x) => x !== '').join('/');
  return p === '' ? '' : pathClean(p);
};

/** What confd's setVars puts in the store: backend keys under prefix+key, re-rooted at "/". */
function snapshotFor(prefix: string, keys: string[]): KvSource {
  if (!prefix.startsWith('/')) prefix = `/${prefix}`;
  const store = new Map<string, string>();
  for (const key of keys) {
    const full = join2(prefix, key);
    for (const [k, v] of Object.entries(data)) {
      if (k.startsWith(full)) store.set(join2('/', k.startsWith(prefix) ? k.slice(prefix.length) : k), v);
    }
  }
  return { get: (k) => store.get(k), list: () => [...store.keys()] };
}

interface Resource {
  template: { src: string; dest: string; keys: string[]; prefix?: string };
}

const resources = readdirSync(join(fixtures, 'conf.d'))
  .filter((f) => f.endsWith('.toml'))
  .sort();

describe('confd fixtures render byte-for-byte like confd (Go text/template + confd funcs)', () => {
  it('covers every resource with an expected output', () => {
    for (const f of resources) {
      const name = f.replace(/\.toml$/, '');
      expect(existsSync(join(fixtures, 'expected', name)) || existsSync(join(fixtures, 'expected', `${name}.error`))).toBe(true);
    }
  });

  for (const file of resources) {
    const name = file.replace(/\.toml$/, '');
    it(name, () => {
      const { template: res } = parseToml(readFileSync(join(fixtures, 'conf.d', file), 'utf8')) as unknown as Resource;
      const text = readFileSync(join(fixtures, 'templates', res.src), 'utf8');
      const funcs = confdFuncs(snapshotFor(res.prefix ?? '', res.keys), {
        env,
        now: () => new Date('2015-01-23T21:34:56.093Z'),
        zone: { name: 'PST', offsetSeconds: -8 * 3600 },
        resolver: staticDnsResolver(dns),
      });
      let out: string;
      try {
        out = parseTemplate(basename(res.src), text, funcs).execute(null);
      } catch (e) {
        out = `${(e as Error).message}\n`;
        expect(out).toBe(readFileSync(join(fixtures, 'expected', `${name}.error`), 'utf8'));
        return;
      }
      expect(out).toBe(readFileSync(join(fixtures, 'expected', name), 'utf8'));
    });
  }
});
