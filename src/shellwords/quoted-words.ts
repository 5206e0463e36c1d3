/**
 * Quote-aware word splitting without operators or expansion, in the two dialects kiboko reads:
 * `sh` (confd's check_cmd/reload_cmd run where there is no shell) and a Dockerfile's `ARG` line.
 * Both split on whitespace outside quotes, remove the quotes, keep `""` as an empty word and take
 * single quotes literally; they differ only in what a backslash escapes.
 */

export interface QuoteDialect {
  /** The characters a backslash escapes inside double quotes (before any other it stays); undefined: every character. */
  escapedInDouble?: string | undefined;
  /** Whether a backslash outside quotes escapes the next character (sh) or is an ordinary one (Dockerfile). */
  escapeOutside: boolean;
}

/** The words, and whether a quote was left open (each caller decides whether that is an error). */
export function splitQuotedWords(text: string, dialect: QuoteDialect): { words: string[]; unterminated: boolean } {
  const words: string[] = [];
  let cur = '';
  let has = false;
  let quote: '' | "'" | '"' = '';
  const escapes = (next: string | undefined) => next !== undefined && (dialect.escapedInDouble === undefined || dialect.escapedInDouble.includes(next));
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = '';
      else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = '';
      else if (c === '\\' && escapes(text[i + 1])) cur += text[++i]!;
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      has = true;
    } else if (c === '\\' && dialect.escapeOutside && i + 1 < text.length) {
      cur += text[++i]!;
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) words.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has || cur) words.push(cur);
  return { words, unterminated: quote !== '' };
}
