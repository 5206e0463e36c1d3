import { RE2JS } from 're2js';
import { invalidArgument } from '../common/errors.js';

export const REGEX_PREFIX = 're2:';

/** What the user asked for, parsed and validated before anything is touched. */
export interface TargetQuery {
  /** Exact container names (a leading `/` is ignored) or IDs (full, or a unique prefix of ≥ 12). */
  names: string[];
  /** RE2 patterns matched (unanchored) against container names. */
  patterns: { source: string; regex: RE2JS }[];
  /** Engine-side label filters (`key` or `key=value`), ANDed. */
  labels: string[];
}

/** True when the query names nothing: it would select every eligible container. */
export const selectsEverything = (q: TargetQuery): boolean => q.names.length === 0 && q.patterns.length === 0;

/**
 * Parses the positional target arguments with Pumba's syntax: names, IDs and `re2:<regex>`.
 * RE2 (linear time, no backreferences or lookaround) means a hostile pattern cannot hang kiboko.
 */
export function parseTargetArgs(args: readonly string[], labelValues: readonly string[] = []): TargetQuery {
  const names: string[] = [];
  const patterns: TargetQuery['patterns'] = [];
  for (const raw of args) {
    const arg = raw.trim();
    if (arg === '') continue;
    if (arg.startsWith(REGEX_PREFIX)) {
      const source = arg.slice(REGEX_PREFIX.length);
      if (source === '') throw invalidArgument(`invalid regex '${arg}': empty pattern`, "write a pattern after re2:, e.g. 're2:^web'");
      patterns.push({ source, regex: compileRegex(source, arg) });
    } else {
      names.push(arg.replace(/^\//, ''));
    }
  }
  return { names, patterns, labels: parseLabelFilters(labelValues) };
}

export function compileRegex(source: string, shown = `${REGEX_PREFIX}${source}`): RE2JS {
  try {
    return RE2JS.compile(source);
  } catch (cause) {
    const detail = (cause as { error?: string }).error ?? (cause as Error).message;
    throw invalidArgument(
      `invalid regex '${shown}': ${detail}`,
      "quote the pattern in the shell (e.g. 're2:^web-(a|b)'); RE2 syntax has no backreferences or lookaround",
      cause,
    );
  }
}

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

/**
 * Label filters as Pumba takes them: repeatable `--label k=v`, or `k1=v1,k2=v2` in one value.
 * A bare `key` selects containers that carry the label with any value.
 */
export function parseLabelFilters(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    for (const part of value.split(',')) {
      const item = part.trim();
      if (item === '') {
        throw invalidArgument(`invalid label filter '${value}': empty entry`, 'use --label key=value (repeat the flag or separate with commas)');
      }
      const eq = item.indexOf('=');
      const key = eq < 0 ? item : item.slice(0, eq);
      if (!LABEL_KEY.test(key)) {
        throw invalidArgument(
          `invalid label filter '${item}': bad key '${key}'`,
          'a label key starts with a letter or digit and holds letters, digits, . _ / -; use --label key=value',
        );
      }
      out.push(item);
    }
  }
  return out;
}
