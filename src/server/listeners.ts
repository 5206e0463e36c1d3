import { chmodSync, chownSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect } from 'node:net';
import { invalidArgument, type KibokoError } from '../common/errors.js';
import type { EdgeLimits, ServeOptions, Transport } from './serve-options.js';

type Log = NonNullable<ServeOptions['log']>;

/**
 * One listener with the edge's bounds (timeouts, header count, connections): HTTPS on TCP when
 * `tls` is given. Bytes the HTTP parser rejects are answered 400 (431, 408) and the connection closed.
 */
export function createListener(transport: Transport, handler: (req: IncomingMessage, res: ServerResponse) => void, tlsOptions: ServeOptions['tls'], limits: EdgeLimits, log: Log): Server {
  const tls = transport === 'tcp' ? tlsOptions : undefined;
  const s = tls
    ? createHttpsServer(
        {
          cert: readTlsFile(tls.cert, '--tls-cert'),
          key: readTlsFile(tls.key, '--tls-key'),
          // A client certificate is asked for and checked against the CA, but not required:
          // clients without one still authenticate with the token.
          ...(tls.clientCa ? { ca: readTlsFile(tls.clientCa, '--tls-client-ca'), requestCert: true, rejectUnauthorized: false } : {}),
        },
        handler,
      )
    : createHttpServer(handler);
  s.headersTimeout = limits.headersTimeoutMs;
  s.requestTimeout = limits.requestTimeoutMs;
  s.keepAliveTimeout = limits.keepAliveTimeoutMs;
  s.maxHeadersCount = 100;
  s.maxConnections = limits.maxConnections;
  // Bytes the HTTP parser rejects (a bad request line or header, an oversized header block):
  // 400 (431 for headers too large) and close, logged; never an exception.
  s.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') log('warn', 'malformed request', { error: err.code ?? err.message });
    if (!socket.writable) return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    const body = JSON.stringify({ error: { code: Number(status.slice(0, 3)), message: status.slice(4).toLowerCase() } });
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  return s;
}

/** Closes every listener, idle keep-alive connections at once. */
export function closeServers(servers: readonly Server[]): Promise<void> {
  return Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          (s as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        }),
    ),
  ).then(() => undefined);
}

/** Binds `s` to `--listen`; answers the address clients use (port 0 resolved). */
export async function bindTcp(s: Server, tcp: { host: string; port: number; display: string }, secure: boolean): Promise<string> {
  await listenOn(s, { port: tcp.port, host: tcp.host }).catch((err: NodeJS.ErrnoException) => {
    throw listenError(err, `${tcp.display}:${tcp.port}`, '--listen');
  });
  const a = s.address();
  return `${secure ? 'https' : 'http'}://${tcp.display}:${typeof a === 'object' && a ? a.port : tcp.port}`;
}

/** Whether another daemon answers on `path`: a live socket is never taken over (a stale one, left by a crash, is replaced). */
export async function assertSocketFree(path: string, flag: string): Promise<void> {
  if (await socketAnswers(path)) throw invalidArgument(`another daemon is already listening on ${path}`, `stop it, or give this one its own --state-dir or ${flag}`);
  rmSync(path, { force: true });
}

/** Binds `s` to a unix socket. */
export async function bindSocket(s: Server, path: string, flag: string): Promise<void> {
  await listenOn(s, { path }).catch((err: NodeJS.ErrnoException) => {
    throw listenError(err, path, flag);
  });
}

/** The socket is the credential: owner (and --socket-group) only, as dockerd's socket. */
export function restrictSocket(path: string, socketGroup: number | undefined): void {
  chmodSync(path, socketGroup !== undefined ? 0o660 : 0o600);
  if (socketGroup !== undefined) chownSync(path, process.getuid?.() ?? 0, socketGroup);
}

/** `--listen HOST:PORT` (HOST may be empty for 127.0.0.1, or a bracketed IPv6 address). */
export function parseListen(listen: string): { host: string; port: number; display: string } {
  const m = /^(.*):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535 || /\s|\//.test(m[1]!)) throw invalidArgument(`invalid --listen '${listen.slice(0, 100)}': expected HOST:PORT with a port from 0 to 65535`, 'e.g. --listen 127.0.0.1:8555');
  const raw = m[1] || '127.0.0.1';
  const host = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  return { host, port, display: host.includes(':') ? `[${host}]` : host };
}

const listenOn = (s: Server, where: { path: string } | { port: number; host: string }) =>
  new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(where, () => {
      s.off('error', reject);
      resolve();
    });
  });

function readTlsFile(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw invalidArgument(`cannot read ${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, `give ${flag} a readable PEM file`, err);
  }
}

/** Whether something accepts connections on a unix socket path. */
const socketAnswers = (path: string) =>
  new Promise<boolean>((resolve) => {
    const c = connect(path);
    const done = (v: boolean) => {
      c.destroy();
      resolve(v);
    };
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
    c.setTimeout(1000, () => done(false));
  });

/** A bind failure as the user's error: which address, why, and what to do. */
function listenError(err: NodeJS.ErrnoException, where: string, flag: string): KibokoError {
  const port = /:(\d+)$/.exec(where)?.[1];
  switch (err.code) {
    case 'EADDRINUSE':
      return invalidArgument(`cannot listen on ${where}: the address is already in use`, port ? `stop what listens there (ss -ltnp 'sport = :${port}') or choose another ${flag}` : `stop what listens there or choose another ${flag}`, err);
    case 'EACCES':
      return invalidArgument(`cannot listen on ${where}: permission denied`, port && Number(port) < 1024 ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a port from 1024' : `choose a path you may write to with ${flag}`, err);
    case 'EADDRNOTAVAIL':
      return invalidArgument(`cannot listen on ${where}: not an address of this host`, `give one of this host's addresses with ${flag} (e.g. 127.0.0.1)`, err);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return invalidArgument(`cannot listen on ${where}: unknown host`, `give an IP address or a resolvable name with ${flag}`, err);
    default:
      return invalidArgument(`cannot listen on ${where}: ${err.code ?? err.message}`, `check ${flag}`, err);
  }
}

