import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRegistry } from '../units/index.js';
import { FailureThrottle } from './auth.js';
import { startServer, type RunningServer } from './http.js';

/**
 * Authentication real fleet clients can use (issue 12): the unix sockets trust their file
 * permissions (no token), and over TLS a client certificate signed by --tls-client-ca is a
 * credential equal to the token. fleetctl's requests: `?alt=json`, JSON bodies with `options` only.
 */
const TOKEN = 'fleet-auth-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'kiboko-fleet-auth-'));
const socket = join(dir, 'kiboko.sock');
const fleetSocket = join(dir, 'fleet.sock');
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
let server: RunningServer;
let https = '';
const gid = process.getgid?.() ?? 0;

beforeAll(async () => {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=kiboko-test-ca', '-keyout', 'ca-key.pem', '-out', 'ca.pem');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=other-ca', '-keyout', 'other-key.pem', '-out', 'other.pem');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [who, ca] of [['server', 'ca'], ['client', 'ca'], ['stranger', 'other']] as const) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${who}`, '-keyout', `${who}-key.pem`, '-out', `${who}.csr`);
    openssl('x509', '-req', '-in', `${who}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`, '-CAcreateserial', '-days', '1', '-extfile', `${who === 'server' ? 'server' : 'client'}.ext`, '-out', `${who}.pem`);
  }
  server = await startServer({
    token: TOKEN,
    registry: new MemoryRegistry(),
    socket,
    fleetSocket,
    socketGroup: gid,
    listen: '127.0.0.1:0',
    tls: { cert: join(dir, 'server.pem'), key: join(dir, 'server-key.pem'), clientCa: join(dir, 'ca.pem') },
    throttle: new FailureThrottle({ freeFailures: 100 }),
  });
  https = server.addresses.find((a) => a.startsWith('https://'))!;
}, 60_000);
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

type Reply = { status: number; body: string };
const overSocket = (path: string, method: string, url: string, body?: unknown) =>
  new Promise<Reply>((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const r = httpRequest({ socketPath: path, path: url, method, headers: text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {} }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: b }));
    });
    r.on('error', reject);
    r.end(text);
  });

const overTls = (url: string, cert?: 'client' | 'stranger', headers: Record<string, string> = {}) =>
  new Promise<Reply>((resolve, reject) => {
    const u = new URL(url, https);
    const r = httpsRequest(
      { host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, ca: readFileSync(join(dir, 'ca.pem')), headers, ...(cert ? { cert: readFileSync(join(dir, `${cert}.pem`)), key: readFileSync(join(dir, `${cert}-key.pem`)) } : {}) },
      (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: b }));
      },
    );
    r.on('error', reject);
    r.end();
  });

const unit = { options: [{ section: 'Service', name: 'ExecStart', value: '/usr/bin/docker run --name web repo/web:1' }] };

describe('item 9: fleet clients authenticate as fleet does', () => {
  it('the unix sockets (kiboko.sock and fleet.sock) need no token; their mode is 0660 with --socket-group', async () => {
    for (const path of [socket, fleetSocket]) {
      expect(statSync(path).mode & 0o777).toBe(0o660);
      expect(statSync(path).gid).toBe(gid);
    }
    // fleetctl submit: PUT with options only, then list with ?alt=json, over fleet's socket, no token
    const put = await overSocket(fleetSocket, 'PUT', '/fleet/v1/units/web.service?alt=json', { ...unit, desiredState: 'inactive' });
    expect(put.status).toBe(201);
    const list = await overSocket(socket, 'GET', '/fleet/v1/units?alt=json');
    expect(list.status).toBe(200);
    expect(JSON.parse(list.body).units.map((u: { name: string }) => u.name)).toEqual(['web.service']);
  });

  it('over TLS a client certificate signed by --tls-client-ca is a credential; a stranger’s certificate, or none, is not', async () => {
    expect((await overTls('/fleet/v1/units?alt=json', 'client')).status).toBe(200);
    expect((await overTls('/fleet/v1/units?alt=json', 'stranger')).status).toBe(401);
    expect((await overTls('/fleet/v1/units?alt=json')).status).toBe(401);
    // and the token still works without a certificate
    expect((await overTls('/fleet/v1/units?alt=json', undefined, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });
});
