import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, scope, state, waitFor } from '../helpers.js';

/**
 * A TLS engine endpoint made for the test: an HTTPS server that requires a client certificate
 * signed by a test CA and forwards each request to the local engine socket — what a dockerd
 * started with --tlsverify looks like to a client.
 */
const s = scope('tls');
const dir = mkdtempSync(join(tmpdir(), 'kiboko-tls-'));
let server: Server;
let port = 0;

const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

beforeAll(async () => {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=kiboko-test-ca', '-keyout', 'ca-key.pem', '-out', 'ca.pem');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${who}`, '-keyout', `${who}-key.pem`, '-out', `${who}.csr`);
    openssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '1', '-extfile', `${who}.ext`, '-out', `${who}.pem`);
  }
  // DOCKER_CERT_PATH layout: ca.pem, cert.pem, key.pem
  writeFileSync(join(dir, 'cert.pem'), readFileSync(join(dir, 'client.pem')));
  writeFileSync(join(dir, 'key.pem'), readFileSync(join(dir, 'client-key.pem')));
  server = createServer(
    {
      key: readFileSync(join(dir, 'server-key.pem')),
      cert: readFileSync(join(dir, 'server.pem')),
      ca: readFileSync(join(dir, 'ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const upstream = httpRequest({ socketPath: '/var/run/docker.sock', path: req.url, method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    },
  );
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((res) => server.close(res));
  rmSync(dir, { recursive: true, force: true });
  await s.cleanup();
});

describe('engine over TLS', () => {
  it('--tlsverify with --tlscacert/--tlscert/--tlskey reaches the engine and kills', async () => {
    const id = await s.create('tls-flags');
    const r = await runCli(
      ['chaos', '-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', join(dir, 'ca.pem'), '--tlscert', join(dir, 'client.pem'), '--tlskey', join(dir, 'client-key.pem'), 'kill', `${s.prefix}tls-flags`],
      { stateDir: s.stateDir },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(await waitFor(async () => (await state(id)).status === 'exited')).toBe(true);
  });

  it('DOCKER_HOST + DOCKER_TLS_VERIFY + DOCKER_CERT_PATH work like the docker CLI', async () => {
    const id = await s.create('tls-env');
    const r = await runCli(['chaos', 'kill', `${s.prefix}tls-env`], {
      stateDir: s.stateDir,
      env: { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(await waitFor(async () => (await state(id)).status === 'exited')).toBe(true);
  });

  it('inline PEM values are accepted for the certificate flags (Pumba allows it)', async () => {
    const id = await s.create('tls-inline');
    const pem = (f: string) => readFileSync(join(dir, f), 'utf8');
    const r = await runCli(
      ['chaos', '-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', pem('ca.pem'), '--tlscert', pem('client.pem'), '--tlskey', pem('client-key.pem'), 'kill', `${s.prefix}tls-inline`],
      { stateDir: s.stateDir },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(await waitFor(async () => (await state(id)).status === 'exited')).toBe(true);
  });

  it('--tls without --tlsverify encrypts without checking the server certificate', async () => {
    const id = await s.create('tls-noverify');
    const r = await runCli(['chaos', '-H', `tcp://127.0.0.1:${port}`, '--tls', 'kill', `${s.prefix}tls-noverify`], {
      stateDir: s.stateDir,
      env: { DOCKER_CERT_PATH: dir }, // the client certificate is still presented
    });
    expect(r.code, r.stderr).toBe(0);
    expect(await waitFor(async () => (await state(id)).status === 'exited')).toBe(true);
  });

  it('a server certificate from another CA is refused with --tlsverify, and nothing is touched', async () => {
    const id = await s.create('tls-wrongca');
    const other = mkdtempSync(join(tmpdir(), 'kiboko-otherca-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=other', '-keyout', 'k.pem', '-out', 'ca.pem'], { cwd: other, stdio: 'pipe' });
    const r = await runCli(
      ['chaos', '-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', join(other, 'ca.pem'), '--tlscert', join(dir, 'client.pem'), '--tlskey', join(dir, 'client-key.pem'), 'kill', `${s.prefix}tls-wrongca`],
      { stateDir: s.stateDir },
    );
    rmSync(other, { recursive: true, force: true });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/TLS handshake with the Docker engine at tcp:\/\/127\.0\.0\.1:\d+ failed .* — check that --tlscacert/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect((await state(id)).status).toBe('running');
  });
});
