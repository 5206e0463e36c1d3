/** A `WWW-Authenticate` challenge: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

/** Parses the first Bearer or Basic challenge of a header (quoted strings with escapes; unknown schemes skipped). */
export function parseChallenge(header: string | string[] | undefined): Challenge | undefined {
  const text = Array.isArray(header) ? header.join(', ') : header;
  if (!text) return undefined;
  const m = /(?:^|[\s,])(bearer|basic)(?:\s+(.*))?$/is.exec(text);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase() as Challenge['scheme'];
  // Parameters run until the next challenge (`, Scheme key=`), outside quoted strings.
  const params: Record<string, string> = {};
  const pr = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/y;
  const rest = m[2] ?? '';
  let p: RegExpExecArray | null;
  while ((p = pr.exec(rest))) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
    if (pr.lastIndex >= rest.length) break;
  }
  return { scheme, params };
}

/** `Retry-After` as seconds or an HTTP date → milliseconds from `now` (undefined when absent or unreadable). */
export function retryAfterMs(header: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** `Link: </v2/app/tags/list?last=x&n=100>; rel="next"` → the next page's path and query. */
export function nextLink(header: string | string[] | undefined): string | undefined {
  const v = Array.isArray(header) ? header.join(', ') : header;
  if (!v) return undefined;
  const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(v);
  return m?.[1];
}
