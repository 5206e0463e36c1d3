import { describe, expect, it } from 'vitest';
import { splitQuotedWords } from './quoted-words.js';

const sh = { escapedInDouble: '"\\$`', escapeOutside: true };
const dockerfile = { escapeOutside: false };

describe('splitQuotedWords', () => {
  it('splits on whitespace outside quotes and keeps empty quoted words', () => {
    expect(splitQuotedWords(` a "b c"\t'd e' "" `, sh)).toEqual({ words: ['a', 'b c', 'd e', ''], unterminated: false });
  });

  it('sh: a backslash escapes outside quotes, and inside double quotes only before " \\ $ `', () => {
    expect(splitQuotedWords(String.raw`f\ g "x\"y\n" 'p\q'`, sh).words).toEqual(['f g', String.raw`x"y\n`, String.raw`p\q`]);
  });

  it('Dockerfile: a backslash escapes any character inside double quotes and none outside', () => {
    expect(splitQuotedWords(String.raw`A=a\ b "B=x\ny"`, dockerfile).words).toEqual(['A=a\\', 'b', 'B=xny']);
  });

  it('reports a quote left open', () => {
    expect(splitQuotedWords(`a "b`, sh)).toEqual({ words: ['a', 'b'], unterminated: true });
  });
});
