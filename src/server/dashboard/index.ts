import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ExpiringKeys } from '../../common/expiring-keys.js';
import { APP_CSS, APP_HTML, APP_JS, LOGIN_HTML } from './assets.js';

/**
 * The web dashboard, behind the daemon's token. A browser cannot attach a bearer header to a page
 * load, so signing in posts the token once and receives a session cookie: a random id per login
 * (HttpOnly, SameSite=Strict, Secure over TLS), remembered by the daemon (only its hash) until it
 * expires, the user signs out, or the daemon restarts. The session authorises safe (GET/HEAD)
 * requests only, so it can never be used to change anything cross-site.
 */

export const SESSION_COOKIE = 'kiboko_session';

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const digest = (id: string) => createHash('sha256').update(id).digest('base64url');

/**
 * Dashboard sessions: one per sign-in, expiring, revocable, bounded in number (oldest dropped first).
 * The keys it holds are the digests of the session ids, never the ids themselves.
 */
export class SessionStore extends ExpiringKeys {
  constructor(ttlMs = 8 * 3600_000, max = 1000, now: () => number = Date.now) {
    super(ttlMs, max, now);
  }

  /** A new session id (the cookie value). */
  create(): string {
    const id = randomBytes(32).toString('base64url');
    this.add(digest(id));
    return id;
  }

  valid(id: string | undefined): boolean {
    return Boolean(id && id.length <= 100 && this.has(digest(id)));
  }

  revoke(id: string | undefined): void {
    if (id && id.length <= 100) this.delete(digest(id));
  }

  /** The session a request presents, if it is valid and the method is safe (read-only). */
  authorizes(req: IncomingMessage): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    return this.valid(cookieOf(req, SESSION_COOKIE));
  }
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export interface DashboardContext {
  sessions: SessionStore;
  /** Whether the request already passed the bearer-token or session check. */
  authorized: boolean;
  /** Served over TLS (cookie gets `Secure`). */
  secure: boolean;
  /** Checks a presented token (constant time; a failure is answered late by the caller's throttle); true when it matches. */
  checkToken: (presented: string) => Promise<boolean>;
  readBody: () => Promise<string | undefined>;
}

const html = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), ...SECURITY_HEADERS, ...headers });
  res.end(body);
};

/**
 * Serves `/dashboard…`; returns false for any other path. Unauthenticated page loads get 401 with
 * the sign-in form (no data); assets and data need the token or the session cookie.
 */
export async function handleDashboard(req: IncomingMessage, res: ServerResponse, url: URL, ctx: DashboardContext): Promise<boolean> {
  const path = url.pathname;
  if (path !== '/dashboard' && !path.startsWith('/dashboard/')) return false;
  const method = req.method ?? 'GET';
  if (path === '/dashboard/app.css' && method === 'GET') {
    // The stylesheet holds no data; the sign-in page needs it before a session exists.
    res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', ...SECURITY_HEADERS, 'cache-control': 'max-age=300' });
    res.end(APP_CSS);
    return true;
  }
  if (path === '/dashboard/login') {
    if (method !== 'POST') return html(res, 405, LOGIN_HTML('Use the form to sign in.'), { allow: 'POST' }), true;
    const body = (await ctx.readBody()) ?? '';
    const presented = new URLSearchParams(body).get('token')?.trim() ?? '';
    if (!(await ctx.checkToken(presented))) return html(res, 401, LOGIN_HTML('That token is not valid.')), true;
    const cookie = `${SESSION_COOKIE}=${ctx.sessions.create()}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(ctx.sessions.ttlMs / 1000)}${ctx.secure ? '; Secure' : ''}`;
    res.writeHead(303, { location: '/dashboard', 'set-cookie': cookie, ...SECURITY_HEADERS });
    res.end();
    return true;
  }
  if (path === '/dashboard/logout') {
    ctx.sessions.revoke(cookieOf(req, SESSION_COOKIE));
    res.writeHead(303, { location: '/dashboard', 'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`, ...SECURITY_HEADERS });
    res.end();
    return true;
  }
  if (!ctx.authorized) {
    html(res, 401, LOGIN_HTML(''), { 'www-authenticate': 'Bearer realm="kiboko"' });
    return true;
  }
  if (method !== 'GET' && method !== 'HEAD') {
    html(res, 405, 'only GET', { allow: 'GET' });
    return true;
  }
  if (path === '/dashboard' || path === '/dashboard/') return html(res, 200, APP_HTML), true;
  if (path === '/dashboard/app.js') {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', ...SECURITY_HEADERS });
    res.end(APP_JS);
    return true;
  }
  html(res, 404, 'not found');
  return true;
}
