import { describe, expect, it } from 'vitest';
import { KibokoError } from '../../common/errors.js';
import { goIPString, renderWithDnsPrefetch, staticDnsResolver, syncDnsResolver } from './dns.js';
import {
  GoError,
  GoNumber,
  GoTypes as T,
  KVPair,
  TemplateError,
  confdFuncs,
  goFunc,
  parseTemplate,
  sprintf,
  withGoType,
} from './index.js';
import { pathMatch } from './gopath.js';

const render = (text: string, data?: unknown, funcs = {}): string => parseTemplate('t', text, funcs).execute(data);
const failure = (fn: () => unknown): TemplateError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    return e as TemplateError;
  }
  throw new Error('expected a TemplateError');
};

describe('parseTemplate / execute', () => {
  it('renders data with Go semantics', () => {
    expect(render('{{range $k, $v := .}}{{$k}}={{$v}} {{end}}', { b: 2, a: [1, 'x'] })).toBe('a=[1 x] b=2 ');
    expect(render('{{.}}', new Map<unknown, unknown>([['z', 1], ['a', { k: null }]]))).toBe('map[a:map[k:<nil>] z:1]');
    expect(render('{{printf "%v|%T" . .}}', 1.5)).toBe('1.5|float64');
    expect(render('{{printf "%v|%T" . .}}', new GoNumber(T.float64, 3))).toBe('3|float64');
    expect(render('{{.}}', 2 ** 60)).toBe('1.152921504606847e+18');
    expect(render('{{.}} {{printf "%T" .}}', 2n ** 60n)).toBe('1152921504606846976 int');
  });

  it('treats class instances as structs with their own fields', () => {
    class Server {
      constructor(
        public Name: string,
        public Port: number,
      ) {}
      Secret(): string {
        return 'no';
      }
    }
    expect(render('{{.}} {{printf "%+v" .}} {{.Name}}', new Server('web', 80))).toBe('{web 80} {Name:web Port:80} web');
    expect(failure(() => render('{{.Secret}}', new Server('a', 1))).message).toBe(
      'template: t:1:2: executing "t" at <.Secret>: can\'t evaluate field Secret in type Server',
    );
    expect(render('{{.}}', new KVPair('/k', 'v'))).toBe('{/k v}');
  });

  it('reports parse errors as INVALID_ARGUMENT and execution errors as ACTION_FAILED, with Go text', () => {
    const p = failure(() => parseTemplate('conf.tmpl', 'a\n{{if}}'));
    expect(p).toBeInstanceOf(KibokoError);
    expect(p.code).toBe('INVALID_ARGUMENT');
    expect(p.phase).toBe('parse');
    expect(p.message).toBe('template: conf.tmpl:2: missing value for if');
    const x = failure(() => parseTemplate('conf.tmpl', 'x {{.a.b}}').execute({ a: 1 }));
    expect(x.code).toBe('ACTION_FAILED');
    expect(x.phase).toBe('exec');
    expect(x.templateName).toBe('conf.tmpl');
    // the field chain is positioned at its second element, and a map element is an interface {}
    expect(x.message).toBe('template: conf.tmpl:1:6: executing "conf.tmpl" at <.a.b>: can\'t evaluate field b in type interface {}');
    expect(failure(() => render('{{nosuch}}')).message).toBe('template: t:1: function "nosuch" not defined');
    expect(failure(() => render('{{.x')).message).toBe('template: t:1: unclosed action');
  });

  it('keeps JS internals out of reach', () => {
    expect(render('[{{.constructor}}][{{.__proto__}}][{{.toString}}][{{.hasOwnProperty}}]', {})).toBe(
      '[<no value>][<no value>][<no value>][<no value>]',
    );
    expect(render('{{.constructor.name}}', {})).toBe('<no value>');
    expect(failure(() => render('{{.constructor}}', [1])).message).toContain("can't evaluate field constructor in type []interface {}");
    expect(failure(() => render('{{.length}}', 'abc')).message).toContain("can't evaluate field length in type string");
    class K {
      X = 1;
    }
    expect(failure(() => render('{{.constructor}}', new K())).message).toContain("can't evaluate field constructor in type K");
    const polluted = JSON.parse('{"__proto__": {"x": 1}}') as object;
    expect(render('{{.__proto__.x}}', polluted)).toBe('1');
    expect(({} as { x?: number }).x).toBeUndefined();
    expect(render('{{index . "__proto__"}}', {})).toBe('<no value>');
    expect(render('{{index . "constructor"}}', new Map())).toBe('<no value>');
  });

  it('calls only declared functions and Go-typed methods', () => {
    const upper = goFunc({ params: ['string'], result: 'string' }, (s: string) => s.toUpperCase());
    expect(render('{{upper .}}', 'x', { upper })).toBe('X');
    expect(failure(() => render('{{upper 1}}', 'x', { upper })).message).toContain('expected string; found 1');
    const loose = (...args: unknown[]): string => args.map((a) => sprintf('%T', [a])).join(',');
    expect(render('{{loose 1 "a" 2.5 nil .}}', [1], { loose })).toBe('int,string,float64,<nil>,[]interface {}');
    const boom = (): never => {
      throw new GoError('boom');
    };
    expect(failure(() => render('{{boom}}', null, { boom })).message).toBe(
      'template: t:1:2: executing "t" at <boom>: error calling boom: boom',
    );
    // user functions override builtins, as in Go
    expect(render('{{len .}}', 'abc', { len: () => 'mine' })).toBe('mine');
    expect(() => parseTemplate('t', '', { 'bad-name': () => 1 })).toThrow(TemplateError);
  });

  it('supports delimiters, missingkey options and skipFuncCheck', () => {
    expect(parseTemplate('t', '<% .a %> {{.a}}', {}, { delims: ['<%', '%>'] }).execute({ a: 1 })).toBe('1 {{.a}}');
    expect(parseTemplate('t', '[{{.a}}]', {}, { missingKey: 'zero' }).execute(withGoType({}, T.map(T.string, T.string)))).toBe('[]');
    expect(failure(() => parseTemplate('t', '{{.a}}', {}, { missingKey: 'error' }).execute({})).message).toContain(
      'map has no entry for key "a"',
    );
    expect(failure(() => parseTemplate('t', '{{later}}', {}, { skipFuncCheck: true }).execute(null)).message).toContain(
      '"later" is not a defined function',
    );
  });

  it('manages the template set like Go (define, lookup, executeTemplate, re-parse)', () => {
    const t = parseTemplate('root', '{{define "a"}}A{{.}}{{end}}{{define "b"}}B{{template "a" .}}{{end}}R');
    expect(t.executeTemplate('b', 1)).toBe('BA1');
    expect(t.lookup('a')?.execute(2)).toBe('A2');
    expect(t.definedTemplates()).toBe('; defined templates are: "a", "b", "root"');
    expect(t.templates().map((x) => x.name).sort()).toEqual(['a', 'b', 'root']);
    t.parse('{{define "a"}}new{{end}}');
    expect(t.executeTemplate('b', 1)).toBe('Bnew');
    expect(t.execute(null)).toBe('R');
    expect(failure(() => t.executeTemplate('zz', null)).message).toBe('template: no template "zz" associated with template "root"');
    expect(failure(() => parseTemplate('e', '{{define "x"}}{{end}}').lookup('nope')?.execute(1) ?? t.new('nope').execute(1)).message).toBe(
      'template: nope: "nope" is an incomplete or empty template',
    );
  });

  it('guards against runaway templates', () => {
    expect(failure(() => render('{{define "r"}}{{template "r"}}{{end}}{{template "r"}}')).message).toContain(
      'exceeded maximum template depth (1000)',
    );
    let defs = '';
    for (let i = 0; i < 40; i++) defs += `{{define "t${i}"}}{{template "t${i + 1}"}}{{template "t${i + 1}"}}{{end}}`;
    defs += '{{define "t40"}}x{{end}}{{template "t0"}}';
    expect(failure(() => parseTemplate('t', defs, {}, { limits: { maxSteps: 100_000 } }).execute(null)).message).toContain(
      'execution exceeded 100000 steps',
    );
    expect(failure(() => parseTemplate('t', '{{range 100000000}}{{end}}', {}, { limits: { maxSteps: 1000 } }).execute(null)).message).toContain(
      'exceeded 1000 steps',
    );
    expect(failure(() => parseTemplate('t', '{{range 100}}0123456789{{end}}', {}, { limits: { maxOutput: 500 } }).execute(null)).message).toContain(
      'output exceeded 500 characters',
    );
  });
});

describe('DNS helpers', () => {
  it('prints addresses as Go net.IP.String does', () => {
    expect(goIPString('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(goIPString('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(goIPString('fe80:0:0:1:0:0:0:1')).toBe('fe80:0:0:1::1');
    expect(goIPString('1:0:0:2:0:0:0:3')).toBe('1:0:0:2::3');
    expect(goIPString('::')).toBe('::');
    expect(goIPString('1:2:3:4:5:6:7:8')).toBe('1:2:3:4:5:6:7:8');
    expect(goIPString('0:0:1:2:3:4:5:6')).toBe('::1:2:3:4:5:6');
  });

  it('answers from a static table, or after an asynchronous prefetch', async () => {
    const kv = { get: () => undefined, list: () => [] as string[] };
    const resolver = staticDnsResolver({ ip: { 'db.local': ['10.0.0.9', '10.0.0.10'] } });
    const tmpl = '{{lookupIP "db.local"}} {{lookupIP "10.1.1.1"}} {{lookupIP "x.invalid"}}';
    expect(parseTemplate('t', tmpl, confdFuncs(kv, { resolver })).execute(null)).toBe('[10.0.0.10 10.0.0.9] [10.1.1.1] []');
    const asked: string[] = [];
    const out = await renderWithDnsPrefetch(
      (r) => parseTemplate('t', '{{range lookupIP "a.local"}}{{lookupIP (printf "%s.rev" .)}}{{end}}', confdFuncs(kv, { resolver: r })).execute(null),
      {
        lookupIP: async (h) => {
          asked.push(h);
          return h === 'a.local' ? ['10.0.0.1'] : h === '10.0.0.1.rev' ? ['fd00::1'] : undefined;
        },
        lookupSRV: async () => undefined,
      },
    );
    expect(out).toBe('[fd00::1]');
    expect(asked).toEqual(['a.local', '10.0.0.1.rev']);
  });

  it('resolves synchronously through a child process by default', () => {
    const r = syncDnsResolver({ timeoutMs: 20_000 });
    expect(r.lookupIP('127.0.0.1')).toEqual(['127.0.0.1']);
    const local = r.lookupIP('localhost');
    expect(local?.some((a) => a === '127.0.0.1' || a === '::1')).toBe(true);
    expect(r.lookupIP('no-such-host.invalid')).toBeUndefined();
  });
});

describe('path.Match', () => {
  it('follows Go, including bad patterns', () => {
    expect(pathMatch('/a/*', '/a/b')).toBe(true);
    expect(pathMatch('/a/*', '/a/b/c')).toBe(false);
    expect(pathMatch('/a/[^x]?', '/a/bc')).toBe(true);
    expect(pathMatch('/a/\\*', '/a/*')).toBe(true);
    expect(() => pathMatch('/a/[', '/a/b')).toThrow('syntax error in pattern');
    expect(() => pathMatch('[]', 'a')).toThrow('syntax error in pattern');
  });
});
