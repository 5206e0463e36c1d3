/**
 * fleet's opaque page token: base64url of the little-endian struct {Limit uint16, Page uint16};
 * Limit must equal the server's token limit (100), Page is ≥ 1.
 */
export const TOKEN_LIMIT = 100;

export function encodePageToken(page: number, limit = TOKEN_LIMIT): string {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(limit, 0);
  b.writeUInt16LE(page, 2);
  return b.toString('base64url');
}

/** Returns the page, or an error message (fleet answers 400 with it). */
export function decodePageToken(token: string, limit = TOKEN_LIMIT): { page: number } | { error: string } {
  let b: Buffer;
  try {
    b = Buffer.from(token, 'base64url');
  } catch {
    return { error: 'invalid value of nextPageToken query parameter' };
  }
  if (b.length !== 4 || Buffer.from(b).toString('base64url') !== token.replace(/=+$/, '')) return { error: 'invalid value of nextPageToken query parameter' };
  if (b.readUInt16LE(0) !== limit) return { error: `token limit must be ${limit}` };
  const page = b.readUInt16LE(2);
  if (page < 1) return { error: 'page number must be greater than zero' };
  return { page };
}

/** One page of `items` (page 0 is the first, before any token) and the token of the next one. */
export function paginate<T>(items: readonly T[], page: number, limit = TOKEN_LIMIT): { items: T[]; nextPageToken?: string } {
  const start = page * limit;
  const slice = items.slice(start, start + limit);
  return start + limit < items.length ? { items: slice, nextPageToken: encodePageToken(page + 1, limit) } : { items: slice };
}
