/**
 * Property tests: whatever the input, the parser either returns a template or throws a
 * TemplateError; execution either returns a string or throws a TemplateError; never a crash,
 * a foreign exception or a hang (every run is bounded by the step limit).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TemplateError } from './errors.js';
import { confdFuncs } from './confd-funcs.js';
import { staticDnsResolver } from './dns.js';
import { sprint, sprintf } from './fmt.js';
import { unmarshalArray, unmarshalObject } from './gojson.js';
import { pathMatch } from './gopath.js';
import { MemKv } from './memkv.js';
import { formatFloat } from './strconv.js';
import { parseTemplate } from './template.js';
import { GoError } from './errors.js';

const PIECES = [
  '{{', '}}', '{{- ', ' -}}', '{{/*', '*/}}', ' ', '\n', '.', '$', '$x', ':=', '=', '|', '(', ')', '"s"', '`r`', "'c'",
  '1', '-2', '3.5', '0x1F', '1e3', '2i', 'true', 'nil', 'if', 'else', 'end', 'range', 'with', 'define', 'template',
  'block', 'break', 'continue', '"t"', '.a', '.b.c', 'and', 'or', 'not', 'len', 'index', 'slice', 'printf', 'print',
  'eq', 'lt', 'html', 'js', 'call', 'getv', 'getvs', 'gets', 'ls', 'lsdir', 'json', 'split', 'join', 'seq', 'add',
  'reverse', 'map', 'base64Decode', '"/a/*"', '"/a/b"', ',', 'x', 'é', '%d', '%v',
];

const templateText = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((a) => a.join('')),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
);

const data: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { maxDepth: 3 },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.string({ maxLength: 8 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c', 'x'), tie('value'), { maxKeys: 4 }),
  ),
})).value;

const kv = new Map([
  ['/a/b', '{"x": [1, "y"]}'],
  ['/a/c', 'plain'],
  ['/d', '[1,2,3]'],
]);
const funcs = confdFuncs(
  { get: (k) => kv.get(k), list: () => [...kv.keys()] },
  { env: { HOME: '/root' }, now: () => new Date(0), resolver: staticDnsResolver({}) },
);

describe('robustness', () => {
  it('parsing any text returns a template or throws a TemplateError', () => {
    fc.assert(
      fc.property(templateText, (text) => {
        try {
          parseTemplate('p', text, funcs);
        } catch (e) {
          if (!(e instanceof TemplateError)) throw e;
          expect(e.message.startsWith('template: ')).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('executing any parsed template on any data returns a string or throws a TemplateError', () => {
    fc.assert(
      fc.property(templateText, data, (text, d) => {
        let t;
        try {
          t = parseTemplate('p', text, funcs, { limits: { maxSteps: 20_000, maxDepth: 50 } });
        } catch (e) {
          if (e instanceof TemplateError) return;
          throw e;
        }
        try {
          expect(typeof t.execute(d)).toBe('string');
        } catch (e) {
          if (!(e instanceof TemplateError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('fmt never throws, whatever the format and operands', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.array(data, { maxLength: 4 }), (format, args) => {
        expect(typeof sprintf(format, args)).toBe('string');
        expect(typeof sprint(args)).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('shortest float formatting round-trips', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        expect(Number(formatFloat(v, 'g', -1))).toBe(v);
        expect(Number(formatFloat(v, 'e', -1))).toBe(v);
      }),
      { numRuns: 2000 },
    );
  });

  it('json/jsonArray accept what JSON.stringify produces and reject garbage with Go errors', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        try {
          if (Array.isArray(v)) unmarshalArray(text);
          else unmarshalObject(text);
        } catch (e) {
          expect(e).toBeInstanceOf(GoError);
          expect((e as Error).message).toMatch(/^json: cannot unmarshal /);
        }
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        try {
          unmarshalObject(text);
        } catch (e) {
          expect(e).toBeInstanceOf(GoError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('path.Match and the store listings never fail unexpectedly; listings are sorted and unique', () => {
    const key = fc.array(fc.constantFrom('a', 'b', 'ab', 'x', '*'), { minLength: 1, maxLength: 4 }).map((p) => `/${p.join('/')}`);
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), (pattern, name) => {
        try {
          expect(typeof pathMatch(pattern, name)).toBe('boolean');
        } catch (e) {
          expect((e as Error).message).toBe('syntax error in pattern');
        }
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 8 }), key, (keys, dir) => {
        const store = new MemKv({ get: (k) => (keys.includes(k) ? 'v' : undefined), list: () => keys });
        for (const list of [store.list(dir), store.listDir(dir), store.getAllValues(`${dir}/*`)]) {
          expect([...list].sort()).toEqual(list);
        }
        expect(new Set(store.list(dir)).size).toBe(store.list(dir).length);
      }),
      { numRuns: 1000 },
    );
  });
});
