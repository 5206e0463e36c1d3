import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { interpolate, parseDotenv, splitShellWords } from './shellwords.js';

function thrown(fn: () => unknown): KibokoError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KibokoError);
    return err as KibokoError;
  }
  throw new Error('did not throw');
}

describe('splitShellWords', () => {
  it.each([
    ['echo hello world', ['echo', 'hello', 'world']],
    ['  spaced \t out\n ', ['spaced', 'out']],
    [`nginx -g "daemon off;"`, ['nginx', '-g', 'daemon off;']],
    [`sh -c 'echo $HOME && exit 1'`, ['sh', '-c', 'echo $HOME && exit 1']],
    [`a "b \\" c" d`, ['a', 'b " c', 'd']],
    [`one\\ word`, ['one word']],
    [`x '' ""`, ['x', '', '']],
    [`pre"mid dle"'post'`, ['premid dlepost']],
    [`'back\\slash'`, ['back\\slash']],
    ['echo $(date +%s) `uname -a`', ['echo', '$(date +%s)', '`uname -a`']],
    ['', []],
  ])('splits %j', (line, words) => {
    expect(splitShellWords(line)).toEqual(words);
  });

  it.each(['echo a && echo b', 'a; b', 'cat < in', 'ls | wc'])('refuses the unquoted operator in %j (compose would drop the rest)', (line) => {
    const e = thrown(() => splitShellWords(line));
    expect(e.message).toContain('unquoted shell operator');
    expect(e.hint).toContain('sh');
  });

  it.each([`"open`, `'open`, 'trailing\\', 'a (b)', 'a )', 'x $(y'])('refuses %j', (line) => {
    expect(thrown(() => splitShellWords(line)).code).toBe('INVALID_ARGUMENT');
  });

  it('reads back any list of words quoted the POSIX way', () => {
    const quote = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 6 }), (words) => {
        expect(splitShellWords(words.map(quote).join(' '))).toEqual(words);
      }),
    );
  });
});

describe('interpolate', () => {
  const env: Record<string, string> = { SET: 'value', EMPTY: '', lower_case: 'lc', TAG: '1.2' };
  const lookup = (name: string) => env[name];

  it.each([
    ['plain text', 'plain text'],
    ['$SET', 'value'],
    ['${SET}', 'value'],
    ['a${SET}b', 'avalueb'],
    ['$SET.x', 'value.x'],
    ['$lower_case', 'lc'],
    ['$UNSET', ''],
    ['${UNSET}', ''],
    ['${UNSET:-dflt}', 'dflt'],
    ['${EMPTY:-dflt}', 'dflt'],
    ['${EMPTY-dflt}', ''],
    ['${UNSET-dflt}', 'dflt'],
    ['${SET:-dflt}', 'value'],
    ['${SET:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET+alt}', ''],
    ['${UNSET:-${SET}}', 'value'],
    ['${UNSET:-${ALSO_UNSET:-deep}}', 'deep'],
    ['${UNSET:-a b:c}', 'a b:c'],
    ['$$', '$'],
    ['$$SET', '$SET'],
    ['$${SET}', '${SET}'],
    ['pa$$word', 'pa$word'],
    ['img:${TAG}-$SET', 'img:1.2-value'],
  ])('%j → %j', (template, expected) => {
    expect(interpolate(template, lookup)).toBe(expected);
  });

  it('fails on a required variable, with its message', () => {
    const e = thrown(() => interpolate('${DB_PASSWORD:?set the db password}', lookup));
    expect(e.message).toBe('required variable DB_PASSWORD is missing a value: set the db password');
    expect(e.hint).toContain('.env');
    expect(() => interpolate('${EMPTY:?}', lookup)).toThrow(/required variable EMPTY/);
    expect(interpolate('${EMPTY?}', lookup)).toBe('');
    expect(() => interpolate('${UNSET?}', lookup)).toThrow(/required variable UNSET is missing a value$/);
    expect(interpolate('${SET:?x}', lookup)).toBe('value');
  });

  it('evaluates a default only when it is used', () => {
    expect(interpolate('${SET:-${UNSET:?never asked}}', lookup)).toBe('value');
  });

  it.each(['echo $1', 'cost: 5$', '${}', '${SET', '${1X}', '${SET:x}', '$ '])('refuses the invalid template %j', (template) => {
    const e = thrown(() => interpolate(template, lookup));
    expect(e.message).toContain('invalid interpolation format');
    expect(e.hint).toContain('$$');
  });
});

describe('parseDotenv', () => {
  const none = () => undefined;

  it('reads keys, comments, export, quotes and inline comments', () => {
    const text = [
      '# a comment',
      '',
      'PLAIN=value',
      'export EXPORTED=yes',
      '  SPACED = padded value   ',
      'INLINE=kept # dropped',
      'HASH=a#b',
      "SINGLE='literal $PLAIN \\n'",
      'DOUBLE="line1\\nline2 \\"q\\" \\$PLAIN $PLAIN"',
      'EMPTY=',
      'MULTI="first',
      'second"',
      'YAML_STYLE: colon',
      'dotted.key-name=ok',
      'CRLF=win\r',
    ].join('\n');
    const { values, problems } = parseDotenv(text, none);
    expect(problems).toEqual([]);
    expect(values).toEqual({
      PLAIN: 'value',
      EXPORTED: 'yes',
      SPACED: 'padded value',
      INLINE: 'kept',
      HASH: 'a#b',
      SINGLE: 'literal $PLAIN \\n',
      DOUBLE: 'line1\nline2 "q" $PLAIN value',
      EMPTY: '',
      MULTI: 'first\nsecond',
      YAML_STYLE: 'colon',
      'dotted.key-name': 'ok',
      CRLF: 'win',
    });
  });

  it('interpolates from the lookup first, then earlier keys; a bare KEY inherits or is skipped', () => {
    const env: Record<string, string> = { FROM_ENV: 'env', SHADOW: 'outer' };
    const { values } = parseDotenv('SHADOW=inner\nA=${SHADOW}-${FROM_ENV}\nB=${A:-x}\nFROM_ENV\nMISSING\n', (n) => env[n]);
    expect(values).toEqual({ SHADOW: 'inner', A: 'outer-env', B: 'outer-env', FROM_ENV: 'env' });
  });

  it('collects every problem with its line', () => {
    const text = 'OK=1\nBAD KEY=2\n=nokey\nREQ=${NEED:?give it}\nQ="unterminated\n';
    const { values, problems } = parseDotenv(text, none);
    expect(values).toEqual({ OK: '1' });
    expect(problems.map((p) => p.line)).toEqual([2, 3, 4, 5]);
    expect(problems[2]!.message).toContain('required variable NEED');
    expect(problems[3]!.message).toContain('unterminated');
  });

  it('flags text after a closing quote', () => {
    const { problems } = parseDotenv('A="x" y\nB="ok" # fine\n', none);
    expect(problems).toEqual([{ line: 1, message: expect.stringContaining('after the quoted value of A') }]);
  });
});
