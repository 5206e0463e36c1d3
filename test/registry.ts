import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A test CA and a server certificate for 127.0.0.1 signed by it (openssl, argv only). */
export function makeTls(dir: string): { caFile: string; certFile: string; keyFile: string; ca: string } {
  const o = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=kiboko test CA']);
  o(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  o(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext']);
  return { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key'), ca: readFileSync(join(dir, 'ca.crt'), 'utf8') };
}

/** A self-signed certificate for 127.0.0.1 (unit tests of TLS failures). */
export function selfSigned(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kiboko-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'pipe' });
    return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

import { freePort } from './ports.js';
export { freePort };

export interface TestRegistry {
  host: string;
  dir: string;
  tls: ReturnType<typeof makeTls>;
  user: string;
  password: string;
  stop(): Promise<void>;
}

/**
 * Debian's docker-registry on a free 127.0.0.1 port with TLS from a fresh test CA and htpasswd
 * (bcrypt) auth, its storage in a temp dir. Stopped (and the dir removed) by stop().
 */
export async function startRegistry(): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'kiboko-registry-'));
  const tls = makeTls(dir);
  const user = 'ci';
  const password = 'kiboko-test-pw';
  writeFileSync(join(dir, 'htpasswd'), execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' }));
  const port = await freePort();
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: {level: error}',
      `storage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}`,
      `http: {addr: "127.0.0.1:${port}", tls: {certificate: ${tls.certFile}, key: ${tls.keyFile}}}`,
      `auth: {htpasswd: {realm: kiboko-test, path: ${join(dir, 'htpasswd')}}}`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const status = await new Promise<number>((resolve) => {
      const r = request({ host: '127.0.0.1', port, path: '/v2/', ca: tls.ca, timeout: 1000 }, (res) => (res.resume(), resolve(res.statusCode ?? 0)));
      r.on('error', () => resolve(0));
      r.end();
    });
    if (status === 401) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`docker-registry did not start on ${host}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    dir,
    tls,
    user,
    password,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Pushes a local image through the engine (the engine trusts the registry via /etc/docker/certs.d). */
export async function pushImage(docker: import('dockerode'), name: string, auth: { username: string; password: string; serveraddress: string }): Promise<void> {
  const stream = await docker.getImage(name).push({ authconfig: auth });
  const out = await new Promise<{ error?: string }[]>((res, rej) => docker.modem.followProgress(stream, (err, o) => (err ? rej(err) : res(o as { error?: string }[]))));
  const failed = out.find((o) => o.error);
  if (failed) throw new Error(`push ${name}: ${failed.error}`);
}

/** Lets the engine trust the test CA for this registry (removed again by the returned function). */
export function trustForEngine(host: string, caPem: string): () => void {
  const dir = join('/etc/docker/certs.d', host);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ca.crt'), caPem);
  return () => rmSync(dir, { recursive: true, force: true });
}

/** A Docker config (DOCKER_CONFIG dir) with credentials for these hosts. */
export function dockerConfig(entries: Record<string, { username: string; password: string }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiboko-dockercfg-'));
  const auths = Object.fromEntries(Object.entries(entries).map(([h, c]) => [h, { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') }]));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths }));
  return dir;
}
