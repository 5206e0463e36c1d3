import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_HTML, APP_JS, LOGIN_HTML } from './assets.js';
import { handleDashboard, SESSION_COOKIE, SessionStore } from './index.js';

const TOKEN = 'dashboard-test-token-0123456789';

describe('dashboard edge', () => {
  const sessions = new SessionStore();
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const bearer = req.headers.authorization === `Bearer ${TOKEN}`;
      void handleDashboard(req, res, url, {
        sessions,
        authorized: bearer || sessions.authorizes(req),
        secure: false,
        checkToken: async (t) => t === TOKEN,
        readBody: () =>
          new Promise((resolve) => {
            let b = '';
            req.on('data', (c: Buffer) => (b += c.toString()));
            req.on('end', () => resolve(b));
          }),
      }).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('answers 401 with the sign-in form (and no data) without a token', async () => {
    const r = await fetch(`${base}/dashboard`);
    expect(r.status).toBe(401);
    const text = await r.text();
    expect(text).toContain('action="/dashboard/login"');
    expect(text).not.toContain('app.js');
    expect((await fetch(`${base}/dashboard/app.js`)).status).toBe(401);
  });

  it('serves the app with the bearer token, with a strict CSP', async () => {
    const r = await fetch(`${base}/dashboard`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await r.text()).toContain('data-testid="units"');
  });

  const login = async () => {
    const ok = await fetch(`${base}/dashboard/login`, { method: 'POST', body: `token=${TOKEN}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
    expect(ok.status).toBe(303);
    const cookie = ok.headers.get('set-cookie') ?? '';
    return { cookie, value: new RegExp(`^${SESSION_COOKIE}=([^;]+)`).exec(cookie)![1]! };
  };

  it('signs in with the token: a new random session per login, expiring, that authorises GET only', async () => {
    const bad = await fetch(`${base}/dashboard/login`, { method: 'POST', body: 'token=wrong', headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    const a = await login();
    const b = await login();
    expect(a.value).not.toBe(b.value);
    expect(a.value).not.toContain(TOKEN);
    expect(a.cookie).toMatch(/HttpOnly/);
    expect(a.cookie).toMatch(/SameSite=Strict/);
    expect(a.cookie).toMatch(/Max-Age=28800/);
    const page = await fetch(`${base}/dashboard/app.js`, { headers: { cookie: `${SESSION_COOKIE}=${a.value}` } });
    expect(page.status).toBe(200);
    const fake = { method: 'POST', headers: { cookie: `${SESSION_COOKIE}=${a.value}` } } as unknown as Parameters<SessionStore['authorizes']>[0];
    expect(sessions.authorizes(fake)).toBe(false);
    const get = { method: 'GET', headers: { cookie: `a=b; ${SESSION_COOKIE}=forged-session-value` } } as unknown as Parameters<SessionStore['authorizes']>[0];
    expect(sessions.authorizes(get)).toBe(false);
  });

  it('signing out revokes that session (the old cookie no longer works) and clears the cookie', async () => {
    const a = await login();
    const b = await login();
    const r = await fetch(`${base}/dashboard/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: `${SESSION_COOKIE}=${a.value}` } });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/dashboard');
    expect(r.headers.get('set-cookie')).toMatch(new RegExp(`^${SESSION_COOKIE}=;.*Max-Age=0`));
    expect((await fetch(`${base}/dashboard/app.js`, { headers: { cookie: `${SESSION_COOKIE}=${a.value}` } })).status).toBe(401);
    expect((await fetch(`${base}/dashboard/app.js`, { headers: { cookie: `${SESSION_COOKIE}=${b.value}` } })).status).toBe(200);
  });

  it('sessions expire, and their number is bounded', () => {
    let t = 0;
    const store = new SessionStore(1000, 3, () => t);
    const ids = [store.create(), store.create(), store.create(), store.create()];
    expect(store.valid(ids[0])).toBe(false); // the oldest went when the fourth came
    expect(store.valid(ids[3])).toBe(true);
    t = 1001;
    expect(store.valid(ids[3])).toBe(false);
  });

  it('leaves other paths to the caller', async () => {
    expect((await fetch(`${base}/fleet/v1/units`)).status).toBe(404);
  });
});

describe('dashboard assets', () => {
  const pages = [LOGIN_HTML('That token is not valid.'), APP_HTML];

  it('hold no inline script, handler or style (the CSP allows none) and ask for no favicon', () => {
    for (const page of pages) {
      for (const tag of page.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/ src="\/dashboard\/app\.js"/);
      expect(page).not.toMatch(/<script>[^<]/);
      expect(page).not.toMatch(/\son[a-z]+=/i);
      expect(page).not.toMatch(/\sstyle=|<style/i);
      // A browser asks for /favicon.ico unless told otherwise: unauthenticated, it would count as a failed sign-in.
      expect(page).toContain('<link rel="icon" href="data:,">');
    }
  });

  it('the script parses and only ever sets text, never markup', () => {
    expect(() => new Function(APP_JS)).not.toThrow();
    expect(APP_JS).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    // It reads the API shapes the daemon serves.
    for (const path of ['/fleet/v1/units', '/v1/services', '/v1/deploys?limit=50', '/v1/chaos/runs', '/v1/watch/reports', '/v1/events']) expect(APP_JS).toContain(`'${path}`);
  });
});
