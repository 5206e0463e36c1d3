import { invalidArgument } from '../common/errors.js';

const WHITESPACE = ' \t\n\r';
/** systemd's whitespace in unit files (WHITESPACE in string-util.h). */
export const isWs = (c: string | undefined): boolean => c !== undefined && c !== '' && WHITESPACE.includes(c);

// Words: systemd's extract_first_word with EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE (invalid escapes are
// kept verbatim, as systemd does after its warning; unbalanced quotes are an error).

/** Accumulates text and raw bytes (`\xNN`, octal escapes), decoded as UTF-8 at the end. */
export class WordBuilder {
  private readonly parts: Buffer[] = [];
  private text = '';
  push(s: string): void {
    this.text += s;
  }
  byte(b: number): void {
    this.flush();
    this.parts.push(Buffer.from([b]));
  }
  private flush(): void {
    if (this.text) this.parts.push(Buffer.from(this.text, 'utf8'));
    this.text = '';
  }
  done(): string {
    this.flush();
    return Buffer.concat(this.parts).toString('utf8');
  }
}

const hex = (s: string) => (/^[0-9a-fA-F]+$/.test(s) ? parseInt(s, 16) : NaN);
const unicharValid = (c: number) =>
  c > 0 && c < 0x110000 && (c & 0xfffff800) !== 0xd800 && !(c >= 0xfdd0 && c <= 0xfdef) && (c & 0xfffe) !== 0xfffe;

/** One C escape after a backslash at `i`: what it means and how many characters it used. */
function cunescapeOne(s: string, i: number): { text?: string; byte?: number; used: number } | undefined {
  const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'", s: ' ' };
  const c = s[i]!;
  if (c in simple) return { text: simple[c]!, used: 1 };
  if (c === 'x') {
    const v = hex(s.slice(i + 1, i + 3));
    return s.length >= i + 3 && v > 0 ? { byte: v, used: 3 } : undefined;
  }
  if (c === 'u' || c === 'U') {
    const n = c === 'u' ? 4 : 8;
    const v = hex(s.slice(i + 1, i + 1 + n));
    return s.length >= i + 1 + n && unicharValid(v) ? { text: String.fromCodePoint(v), used: 1 + n } : undefined;
  }
  if (c >= '0' && c <= '7') {
    const oct = s.slice(i, i + 3);
    if (!/^[0-7]{3}$/.test(oct)) return undefined;
    const v = parseInt(oct, 8);
    return v > 0 && v <= 255 ? { byte: v, used: 3 } : undefined;
  }
  return undefined;
}

/**
 * Extracts the word starting at or after `pos`; returns it and the index of the next word
 * (whitespace skipped), or undefined at the end. Quotes may open and close anywhere in a word;
 * backslash escapes work inside both kinds of quotes, as in systemd (unlike a shell).
 */
export function extractWord(s: string, pos: number, where: string, relax = false): { word: string; next: number } | undefined {
  let p = pos;
  while (isWs(s[p])) p++;
  if (p >= s.length) return undefined;
  const out = new WordBuilder();
  let quote: string | undefined;
  while (p < s.length) {
    const c = s[p]!;
    if (c === '\\') {
      if (p + 1 >= s.length) {
        if (quote && !relax) break;
        out.push('\\');
        p++;
        break;
      }
      const esc = cunescapeOne(s, p + 1);
      if (!esc) {
        const cp = String.fromCodePoint(s.codePointAt(p + 1)!);
        out.push(`\\${cp}`);
        p += 1 + cp.length;
      } else {
        if (esc.byte !== undefined) out.byte(esc.byte);
        else out.push(esc.text!);
        p += 1 + esc.used;
      }
      continue;
    }
    if (quote) {
      if (c === quote) quote = undefined;
      else out.push(c);
      p++;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      p++;
      continue;
    }
    if (isWs(c)) break;
    out.push(c);
    p++;
  }
  if (quote && !relax) {
    throw invalidArgument(`${where}: unbalanced ${quote} quote in ${JSON.stringify(s)}`, `close the quote (inside quotes, write a literal ${quote} as \\${quote})`);
  }
  while (isWs(s[p])) p++;
  return { word: out.done(), next: p };
}

/** Splits a value into words with systemd's quoting and C escapes (`Environment=`, `After=`, …). */
export function splitWords(value: string, where = 'unit file', options: { relax?: boolean } = {}): string[] {
  const words: string[] = [];
  let p = 0;
  for (;;) {
    const w = extractWord(value, p, where, options.relax);
    if (!w) return words;
    words.push(w.word);
    p = w.next;
  }
}
