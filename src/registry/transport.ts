import { readdirSync, readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { join } from 'node:path';
import { boundedRequest, type BoundedResponse } from '../common/bounded-request.js';

/** One HTTP exchange, fully read (bodies are bounded). */
export type RawResponse = BoundedResponse;

export interface RawRequest {
  url: URL;
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal | undefined;
}

/** A network-level failure with the socket/TLS error code (ECONNRESET, ETIMEDOUT, CERT_…). */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export const TLS_ERROR = /^(CERT_|ERR_TLS|ERR_SSL|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|HOSTNAME_MISMATCH|ERR_OSSL|EPROTO)/;

export interface TlsFiles {
  /** Files whose CAs are trusted for this host (besides the system roots). */
  caFiles: string[];
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

/** The engine's per-registry TLS folder: /etc/docker/certs.d/<host:port>/{*.crt CAs, *.cert + *.key client pair}. */
export function tlsFilesFor(host: string, certsDir: string, extraCa: readonly string[]): TlsFiles {
  const files: TlsFiles = { caFiles: [...extraCa] };
  let names: string[] = [];
  try {
    names = readdirSync(join(certsDir, host)).sort();
  } catch {
    return files;
  }
  for (const n of names) {
    if (n.endsWith('.crt')) files.caFiles.push(join(certsDir, host, n));
    else if (n.endsWith('.cert')) {
      const key = n.replace(/\.cert$/, '.key');
      if (names.includes(key)) Object.assign(files, { certFile: join(certsDir, host, n), keyFile: join(certsDir, host, key) });
    }
  }
  return files;
}

/** Keep-alive agents per host, so the requests of one pass share connections. */
export class Agents {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  private readonly https = new Map<string, HttpsAgent>();

  constructor(private readonly tls: (host: string) => TlsFiles) {}

  for(url: URL): HttpAgent | HttpsAgent {
    if (url.protocol === 'http:') return this.http;
    let a = this.https.get(url.host);
    if (!a) {
      const t = this.tls(url.host);
      const ca = t.caFiles.length ? [...rootCertificates, ...t.caFiles.map((f) => readFileSync(f, 'utf8'))] : undefined;
      a = new HttpsAgent({
        keepAlive: true,
        maxSockets: 16,
        ...(ca ? { ca } : {}),
        ...(t.certFile && t.keyFile ? { cert: readFileSync(t.certFile), key: readFileSync(t.keyFile) } : {}),
      });
      this.https.set(url.host, a);
    }
    return a;
  }

  close(): void {
    this.http.destroy();
    for (const a of this.https.values()) a.destroy();
    this.https.clear();
  }
}

/**
 * Sends one request and reads the whole (bounded) body. The timeout covers everything from
 * connecting to the last byte, so a registry that accepts and then stalls (a tarpit) is cut off.
 */
export function send(req: RawRequest, agents: Agents): Promise<RawResponse> {
  const fn = req.url.protocol === 'http:' ? httpRequest : httpsRequest;
  return boundedRequest((onResponse) => fn(req.url, { method: req.method, headers: req.headers, agent: agents.for(req.url) }, onResponse), req, {
    tooBig: () => new TransportError(`response body larger than ${req.maxBytes} bytes`, 'ETOOBIG'),
    timedOut: () => new TransportError(`no complete answer within ${req.timeoutMs} ms`, 'ETIMEDOUT'),
    aborted: () => req.signal!.reason as Error,
    failed: (e) => new TransportError(e.message, e.code ?? 'ECONNRESET', e),
  });
}
