/**
 * fleet's opaque page token (fleet's api/pagination.go): the little-endian struct
 * {Limit uint16, Page uint16}, base64url WITH padding (Go's base64.URLEncoding), so 8 characters
 * ending in `==`. Limit must equal the server's token limit (100); pages count from 1, the page
 * served without a token being page 1, so the first token a client sees names page 2.
 */
export const TOKEN_LIMIT = 100;

const INVALID = 'invalid value of nextPageToken query parameter';

export function encodePageToken(page: number, limit = TOKEN_LIMIT): string {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(limit, 0);
  b.writeUInt16LE(page, 2);
  return b.toString('base64').replaceAll('+', '-').replaceAll('/', '_');
}

/** Returns the page (≥ 1), or an error message (fleet answers 400 with it). Accepts only what fleet's decoder accepts: padded base64url. */
export function decodePageToken(token: string, limit = TOKEN_LIMIT): { page: number } | { error: string } {
  // Go's URLEncoding is strict: the URL alphabet, padding to a multiple of 4, nothing else.
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(token) || token.length % 4 !== 0) return { error: INVALID };
  const b = Buffer.from(token, 'base64url');
  // binary.Read needs the 4 bytes of the struct; fleet ignores any bytes after them.
  if (b.length < 4) return { error: INVALID };
  if (b.readUInt16LE(0) !== limit) return { error: `token limit must be ${limit}` };
  const page = b.readUInt16LE(2);
  if (page < 1) return { error: 'token page must be greater than zero' };
  return { page };
}

/**
 * One page of `items` (page 1 is the first) and the token of the next one, with fleet's
 * arithmetic: a next token is given whenever this page is full, so a collection of exactly 100
 * items yields a token whose page is empty (fleet clients stop on a page without a token).
 */
export function paginate<T>(items: readonly T[], page: number, limit = TOKEN_LIMIT): { items: T[]; nextPageToken?: string } {
  const start = (page - 1) * limit;
  const stop = page * limit;
  if (start >= items.length) return { items: [] };
  if (stop > items.length) return { items: items.slice(start) };
  return { items: items.slice(start, stop), nextPageToken: encodePageToken(page + 1, limit) };
}
