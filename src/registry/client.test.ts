import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { parseChallenge, retryAfterMs, nextLink } from './challenge.js';
import { RegistryClient } from './client.js';
import { findCredentials } from './credentials.js';
import { parseReference, formatReference } from './reference.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: { close: () => void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(handler: Handler): Promise<string> {
  const s: Server = createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push({ close: () => s.close() });
  return `127.0.0.1:${(s.address() as { port: number }).port}`;
}

const noSleep = { sleep: async () => undefined, now: () => Date.now() };
const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

describe('references', () => {
  it('splits names as the engine does', () => {
    expect(parseReference('busybox')).toEqual({ registry: 'docker.io', repository: 'library/busybox', tag: 'latest' });
    expect(parseReference('127.0.0.1:5000/team/app:58-develop')).toEqual({ registry: '127.0.0.1:5000', repository: 'team/app', tag: '58-develop' });
    expect(parseReference('localhost/app@sha256:' + 'a'.repeat(64)).digest).toBe('sha256:' + 'a'.repeat(64));
    expect(formatReference(parseReference('busybox:1'))).toBe('busybox:1');
    expect(() => parseReference('Bad/Name')).toThrow(KibokoError);
  });
});

describe('challenges', () => {
  it('reads bearer and basic challenges, Retry-After and Link', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'reg', scope: 'repository:a/b:pull' },
    });
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic', params: { realm: 'Registry Realm' } });
    expect(parseChallenge('Negotiate')).toBeUndefined();
    expect(retryAfterMs('3', 0)).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(nextLink('</v2/a/tags/list?last=b&n=2>; rel="next"')).toBe('/v2/a/tags/list?last=b&n=2');
  });
});

describe('credentials', () => {
  it('reads auths, credHelpers and credsStore from the Docker config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiboko-cred-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ auths: { 'r.example:5000': { auth: Buffer.from('ann:s3cr:et').toString('base64') }, 'https://index.docker.io/v1/': {} }, credHelpers: { 'h.example': 'fake' }, credsStore: 'store' }));
    const calls: string[] = [];
    const runHelper = async (helper: string, server: string) => {
      calls.push(`${helper} ${server}`);
      return JSON.stringify({ Username: helper === 'fake' ? 'bob' : '<token>', Secret: 'x' });
    };
    expect(await findCredentials('r.example:5000', { configFile: file, runHelper })).toMatchObject({ username: 'ann', password: 's3cr:et' });
    expect(await findCredentials('h.example', { configFile: file, runHelper })).toMatchObject({ username: 'bob', password: 'x', source: expect.stringContaining('docker-credential-fake') });
    expect(await findCredentials('docker.io', { configFile: file, runHelper })).toMatchObject({ identityToken: 'x' });
    expect(calls).toEqual(['fake h.example', 'store https://index.docker.io/v1/']);
  });
});

describe('RegistryClient', () => {
  it('follows the bearer flow once per repository scope, lists paginated tags and resolves digests', async () => {
    const tokenReqs: string[] = [];
    let host = '';
    host = await serve((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/token') {
        tokenReqs.push(`${url.searchParams.get('scope')} ${req.headers.authorization ?? '-'}`);
        if (req.headers.authorization !== `Basic ${Buffer.from('ci:pw').toString('base64')}`) return json(res, 401, {});
        return json(res, 200, { token: `tok-${url.searchParams.get('scope')}`, expires_in: 300 });
      }
      const repo = url.pathname.split('/')[2];
      if (req.headers.authorization !== `Bearer tok-repository:team/${url.pathname.split('/')[3]}:pull`) {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="test",scope="repository:${repo}:pull"` });
        return res.end();
      }
      if (url.pathname.endsWith('/tags/list')) {
        const last = url.searchParams.get('last');
        if (!last) return json(res, 200, { tags: ['58-develop', '9-develop'] }, { link: `<${url.pathname}?last=9-develop&n=2>; rel="next"` });
        return json(res, 200, { tags: ['100-develop'] });
      }
      if (url.pathname.includes('/manifests/')) {
        expect(req.headers.accept).toContain('application/vnd.oci.image.index.v1+json');
        res.writeHead(200, { 'docker-content-digest': 'sha256:' + 'b'.repeat(64), 'content-type': 'application/vnd.oci.image.index.v1+json' });
        return res.end();
      }
      json(res, 404, { errors: [{ code: 'NAME_UNKNOWN' }] });
    });
    const client = new RegistryClient({ credentials: { explicit: { username: 'ci', password: 'pw' } }, clock: noSleep });
    expect(await client.listTags(`${host}/team/app:58-develop`)).toEqual(['58-develop', '9-develop', '100-develop']);
    expect((await client.resolve(`${host}/team/app:58-develop`)).digest).toBe('sha256:' + 'b'.repeat(64));
    expect((await client.resolve(`${host}/team/app:100-develop`)).mediaType).toBe('application/vnd.oci.image.index.v1+json');
    await client.listTags(`${host}/team/other`);
    // One 401 for the host, then tokens fetched up front: one per repository scope.
    expect(tokenReqs.map((t) => t.split(' ')[0])).toEqual(['repository:team/app:pull', 'repository:team/other:pull']);
    expect(client.stats).toMatchObject({ failed: 0, retries: 0, tokens: 2 });
    client.close();
  });

  it('names the credentials it tried when they are refused', async () => {
    const host = await serve((req, res) => {
      if (req.headers.authorization === `Basic ${Buffer.from('ci:right').toString('base64')}`) return json(res, 200, { tags: [] });
      res.writeHead(401, { 'www-authenticate': 'Basic realm="reg"' });
      res.end();
    });
    const client = new RegistryClient({ credentials: { explicit: { username: 'ci', password: 'wrong' } }, clock: noSleep });
    const err = await client.listTags(`${host}/app`).catch((e: unknown) => e as KibokoError);
    expect(err).toBeInstanceOf(KibokoError);
    expect((err as KibokoError).code).toBe('REGISTRY_UNAUTHORIZED');
    expect((err as KibokoError).message).toContain("tried user 'ci' from the given credentials");
    expect((err as KibokoError).message).not.toContain('wrong');
  });

  it('retries 503 with backoff, honours Retry-After on 429, and tells a missing tag from a missing repository', async () => {
    let n = 0;
    const sleeps: number[] = [];
    const host = await serve((req, res) => {
      n++;
      if (n <= 2) return json(res, 503, {});
      if (n === 3) return json(res, 429, {}, { 'retry-after': '2' });
      if (req.url!.includes('/manifests/nope')) return json(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN' }] });
      if (req.url!.includes('/missing/')) return json(res, 404, { errors: [{ code: 'NAME_UNKNOWN' }] });
      json(res, 200, { tags: ['1'] });
    });
    const client = new RegistryClient({ clock: { now: () => Date.now(), sleep: async (ms) => void sleeps.push(ms) }, random: () => 0.5 });
    expect(await client.listTags(`${host}/app`)).toEqual(['1']);
    expect(sleeps).toEqual([188, 375, 2000]);
    // The first attempt probes HTTPS (a loopback registry may speak plain HTTP): one request more.
    expect(client.stats).toMatchObject({ requests: 5, failed: 3, retries: 3 });
    await expect(client.resolve(`${host}/app:nope`)).rejects.toMatchObject({ code: 'TARGET_NOT_FOUND', message: expect.stringContaining('tag nope of app not found') });
    await expect(client.listTags(`${host}/missing/app`)).rejects.toMatchObject({ code: 'TARGET_NOT_FOUND', message: expect.stringContaining('repository missing/app not found') });
  });

  it('fails as rate limited (with the time) when Retry-After is too far, and as unreachable after persistent 5xx', async () => {
    const host = await serve((req, res) => (req.url!.includes('limited') ? json(res, 429, {}, { 'retry-after': '3600' }) : json(res, 502, {})));
    const client = new RegistryClient({ clock: noSleep, retries: 2 });
    await expect(client.listTags(`${host}/limited`)).rejects.toMatchObject({ code: 'REGISTRY_RATE_LIMITED', message: expect.stringMatching(/until \d{4}-/) });
    await expect(client.listTags(`${host}/down`)).rejects.toMatchObject({ code: 'REGISTRY_UNREACHABLE', message: expect.stringContaining('answered 502') });
  });

  it('cuts off a tarpit with a clear timeout', async () => {
    const sockets: Socket[] = [];
    const tarpit = createNetServer((s) => void sockets.push(s));
    await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', r));
    servers.push({ close: () => (sockets.forEach((s) => s.destroy()), tarpit.close()) });
    const client = new RegistryClient({ clock: noSleep, timeoutMs: 200, retries: 1 });
    const started = Date.now();
    await expect(client.listTags(`127.0.0.1:${(tarpit.address() as { port: number }).port}/app`)).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('did not answer') });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('refuses an untrusted certificate with the CAs it tried', async () => {
    const { createServer: createTls } = await import('node:https');
    const { selfSigned } = await import('../../test/registry.js');
    const pair = selfSigned();
    const s = createTls({ key: pair.key, cert: pair.cert }, (_req, res) => json(res, 200, { tags: [] }));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    servers.push({ close: () => s.close() });
    const host = `127.0.0.1:${(s.address() as { port: number }).port}`;
    const certsDir = mkdtempSync(join(tmpdir(), 'kiboko-certs-'));
    await expect(new RegistryClient({ clock: noSleep, certsDir }).listTags(`${host}/app`)).rejects.toMatchObject({ code: 'REGISTRY_TLS', message: expect.stringContaining('system CAs only') });
    const ca = join(certsDir, 'ca.pem');
    writeFileSync(ca, pair.cert);
    expect(await new RegistryClient({ clock: noSleep, certsDir, caFiles: [ca] }).listTags(`${host}/app`)).toEqual([]);
  });
});
