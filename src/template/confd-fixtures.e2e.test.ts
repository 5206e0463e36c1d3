/**
 * The confd fixture set (src/template/fixtures/confd) through kiboko's whole pipeline — resource
 * loading, the file backend (data.json), confd's key/prefix handling, the Go template engine with
 * confd's functions, and the transactional write — compared byte for byte with expected/ (made by
 * Go text/template with confd's function map). Clock, zone and DNS are the fixtures' fixed ones.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureCases, fixtureConfdir, fixturesDir } from '../../test/template/confd-fixtures.js';
import { fileBackend } from './backends/file.js';
import { staticDnsResolver } from './gotemplate/index.js';
import { createRenderer } from './render.js';
import { runTemplate, type TemplateEvent } from './run.js';

const fixtures = fixturesDir;
const present = existsSync(join(fixtures, 'conf.d'));

describe.runIf(present)('confd fixtures through kiboko template (file backend, host files)', () => {
  let root: string;
  let out: string;
  const events: TemplateEvent[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kiboko-fixtures-'));
    const layout = fixtureConfdir(root);
    out = layout.out;
    const dns = JSON.parse(readFileSync(join(fixtures, 'dns.json'), 'utf8')) as Parameters<typeof staticDnsResolver>[0];
    await runTemplate({
      backend: fileBackend({ paths: [join(fixtures, 'data.json')] }),
      render: createRenderer({
        env: JSON.parse(readFileSync(join(fixtures, 'env.json'), 'utf8')) as Record<string, string>,
        now: () => new Date('2015-01-23T21:34:56.093Z'),
        zone: { name: 'PST', offsetSeconds: -8 * 3600 },
        resolver: staticDnsResolver(dns),
      }),
      confdir: layout.confdir,
      mode: 'onetime',
      onEvent: (e) => events.push(e),
    });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  for (const c of present ? fixtureCases() : []) {
    it(c.name, () => {
      if (c.error) {
        const failed = events.find((e) => e.type === 'render-failed' && e.resource === `${c.name}.toml`);
        expect(failed && failed.type === 'render-failed' ? `${failed.error.message}\n` : 'rendered').toBe(c.expected);
        expect(existsSync(join(out, c.dest))).toBe(false);
      } else {
        expect(readFileSync(join(out, c.dest), 'utf8')).toBe(c.expected);
      }
    });
  }

  it('applies the resource mode (functions.toml: 0600)', () => {
    expect(statSync(join(out, 'functions.conf')).mode & 0o7777).toBe(0o600);
  });
});
