import { RE2JS } from 're2js';
import type { Link, LinkGate } from './link.js';
import { ProxyApiError } from './toxics.js';

/**
 * HTTP/1.x faults on the client → server stream: requests matching method, path (glob or
 * `re2:` regex) and headers are answered by kiboko with a status (abort) or held (delay), for a
 * percentage of them or only the first N, then passed. TLS connections (first byte 0x16) are
 * passed through untouched: kiboko cannot see requests inside TLS.
 */
export interface HttpMatch {
  /** GET, POST…; undefined or '*': any. */
  method?: string | undefined;
  /** Glob on the path without the query (`*` any characters, `?` one), or `re2:<regex>`. */
  path?: string | undefined;
  /** Header name → value glob (or `re2:<regex>`); every listed header must match. */
  headers?: Readonly<Record<string, string>> | undefined;
}

export type HttpAction =
  | { abort: { status: number; body?: string | undefined; headers?: Readonly<Record<string, string>> | undefined } }
  | { delayMs: number };

export interface HttpFault {
  match: HttpMatch;
  action: HttpAction;
  /** Share of matching requests affected, 0-100 (default 100). */
  percent?: number | undefined;
  /** Only the first N matching requests (across connections), then pass. */
  first?: number | undefined;
}

export interface HttpFaultStats {
  matched: number;
  aborted: number;
  delayed: number;
  passed: number;
  tlsPassedThrough: number;
  /** Matching requests seen per fault (index), for `first`. */
  counters: Record<number, number>;
}

const HEAD_LIMIT = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Glob (or `re2:` regex) → a linear-time RE2 matcher for the whole string. */
export function compilePattern(pattern: string, what: string): RE2JS {
  try {
    if (pattern.startsWith('re2:')) return RE2JS.compile(pattern.slice(4));
    const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    return RE2JS.compile(`^${re}$`);
  } catch (err) {
    throw new ProxyApiError(`bad request body: invalid ${what} pattern '${pattern}': ${(err as Error).message}`, 400);
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout', 409: 'Conflict',
  429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export function validateHttpFault(f: HttpFault): void {
  if ('abort' in f.action) {
    const s = f.action.abort.status;
    if (!Number.isInteger(s) || s < 100 || s > 599) throw new ProxyApiError(`bad request body: abort status must be 100-599, got ${s}`, 400);
    for (const [k, v] of Object.entries(f.action.abort.headers ?? {})) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || /[\r\n]/.test(v)) throw new ProxyApiError(`bad request body: invalid response header '${k}'`, 400);
    }
  } else if (!(Number.isInteger(f.action.delayMs) && f.action.delayMs >= 0)) {
    throw new ProxyApiError(`bad request body: delay must be whole milliseconds ≥ 0`, 400);
  }
  if (f.percent !== undefined && !(f.percent >= 0 && f.percent <= 100)) throw new ProxyApiError('bad request body: percent must be 0-100', 400);
  if (f.first !== undefined && !(Number.isInteger(f.first) && f.first >= 1)) throw new ProxyApiError('bad request body: first must be a whole number ≥ 1', 400);
  if (f.match.path) compilePattern(f.match.path, 'path');
  for (const v of Object.values(f.match.headers ?? {})) compilePattern(v, 'header');
}

interface RequestHead {
  method: string;
  path: string;
  headers: Map<string, string[]>;
  /** Body framing: a length, chunked, or (for CONNECT/Upgrade) the rest of the connection. */
  body: { kind: 'length'; n: number } | { kind: 'chunked' } | { kind: 'rest' };
}

export function parseHead(head: string): RequestHead | undefined {
  const lines = head.split('\r\n');
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const i = line.indexOf(':');
    if (i <= 0) return undefined;
    const k = line.slice(0, i).trim().toLowerCase();
    headers.set(k, [...(headers.get(k) ?? []), line.slice(i + 1).trim()]);
  }
  let target = m[2]!;
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)?$/i.exec(target);
  if (abs) target = abs[1] ?? '/';
  const path = target.split('?')[0]!;
  const te = (headers.get('transfer-encoding') ?? []).join(',').toLowerCase();
  const upgrade = headers.has('upgrade') || m[1] === 'CONNECT';
  const body: RequestHead['body'] = upgrade ? { kind: 'rest' } : te.includes('chunked') ? { kind: 'chunked' } : { kind: 'length', n: Number(headers.get('content-length')?.[0] ?? 0) || 0 };
  return { method: m[1]!, path, headers, body };
}

export class HttpMatcher {
  private readonly path?: RE2JS | undefined;
  private readonly headers: [string, RE2JS][];
  constructor(private readonly match: HttpMatch) {
    this.path = match.path ? compilePattern(match.path, 'path') : undefined;
    this.headers = Object.entries(match.headers ?? {}).map(([k, v]) => [k.toLowerCase(), compilePattern(v, 'header')]);
  }
  matches(req: Pick<RequestHead, 'method' | 'path' | 'headers'>): boolean {
    const m = this.match.method;
    if (m && m !== '*' && m.toUpperCase() !== req.method) return false;
    if (this.path && !this.path.matcher(req.path).matches()) return false;
    for (const [name, re] of this.headers) {
      if (!(req.headers.get(name) ?? []).some((v) => re.matcher(v).matches())) return false;
    }
    return true;
  }
}

export function responseBytes(abort: { status: number; body?: string | undefined; headers?: Readonly<Record<string, string>> | undefined }): Buffer {
  const body = Buffer.from(abort.body ?? `${abort.status} ${STATUS_TEXT[abort.status] ?? 'Fault'} (injected by kiboko)\n`);
  const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8', ...(abort.headers ?? {}) };
  const lines = [`HTTP/1.1 ${abort.status} ${STATUS_TEXT[abort.status] ?? 'Fault'}`];
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'content-length' && k.toLowerCase() !== 'connection') lines.push(`${k}: ${v}`);
  lines.push(`Content-Length: ${body.length}`, 'Connection: close', 'X-Kiboko-Fault: http-abort', '', '');
  return Buffer.concat([Buffer.from(lines.join('\r\n')), body]);
}

/** Scans a chunked body; returns how many bytes of `buf` belong to it and whether it ended. */
class ChunkedScanner {
  private state: 'size' | 'data' | 'data-crlf' | 'trailer' = 'size';
  private left = 0;
  private line = '';
  scan(buf: Buffer): { used: number; done: boolean } {
    let i = 0;
    while (i < buf.length) {
      if (this.state === 'data') {
        const n = Math.min(this.left, buf.length - i);
        i += n;
        this.left -= n;
        if (this.left === 0) {
          this.state = 'data-crlf';
          this.line = '';
        }
        continue;
      }
      const c = buf[i++]!;
      if (c !== 0x0a) {
        if (c !== 0x0d) this.line += String.fromCharCode(c);
        if (this.line.length > 4096) return { used: i, done: true }; // malformed: stop scanning, pass the rest
        continue;
      }
      const line = this.line;
      this.line = '';
      if (this.state === 'size') {
        const size = parseInt(line.split(';')[0]!.trim(), 16);
        if (!Number.isFinite(size)) return { used: i, done: true };
        if (size === 0) this.state = 'trailer';
        else {
          this.state = 'data';
          this.left = size;
        }
      } else if (this.state === 'data-crlf') {
        this.state = 'size';
      } else if (line === '') {
        return { used: i, done: true };
      }
    }
    return { used: i, done: false };
  }
}

/** Per connection: parses requests, applies the first matching fault to each, forwards the rest. */
export class HttpGate implements LinkGate {
  private link!: Link;
  private buf: Buffer = Buffer.alloc(0);
  private mode: 'start' | 'head' | 'body' | 'pass' | 'closed' = 'start';
  private bodyLeft = 0;
  private chunked: ChunkedScanner | undefined;
  private busy = false;
  private ended = false;
  private forwarded = 0;
  private readonly matchers: HttpMatcher[];

  constructor(
    private readonly faults: readonly HttpFault[],
    private readonly stats: HttpFaultStats,
    private readonly random: () => number,
  ) {
    this.matchers = faults.map((f) => new HttpMatcher(f.match));
  }

  attach(link: Link) {
    this.link = link;
  }

  input(data: Buffer) {
    if (this.mode === 'closed') return;
    if (this.mode === 'pass' && !this.busy) return this.link.up.input(data);
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    if (this.buf.length > HEAD_LIMIT * 4) this.link.client.pause();
    void this.process();
  }

  inputEnd() {
    this.ended = true;
    void this.process();
  }

  private forward(data: Buffer) {
    if (data.length) this.link.up.input(data);
  }

  private async process() {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.mode !== 'closed') {
        if (this.mode === 'start') {
          if (!this.buf.length) break;
          if (this.buf[0] === 0x16) {
            this.stats.tlsPassedThrough++;
            this.mode = 'pass';
          } else this.mode = 'head';
          continue;
        }
        if (this.mode === 'pass') {
          this.forward(this.take(this.buf.length));
          break;
        }
        if (this.mode === 'body') {
          if (!this.buf.length) break;
          if (this.chunked) {
            const r = this.chunked.scan(this.buf);
            this.forward(this.take(r.used));
            if (r.done) {
              this.chunked = undefined;
              this.mode = 'head';
            }
          } else {
            const n = Math.min(this.bodyLeft, this.buf.length);
            this.forward(this.take(n));
            this.bodyLeft -= n;
            if (this.bodyLeft === 0) this.mode = 'head';
          }
          continue;
        }
        // head
        const end = this.buf.indexOf(CRLFCRLF);
        if (end < 0) {
          if (this.buf.length > HEAD_LIMIT) this.mode = 'pass'; // not HTTP as we know it: pass it on untouched
          break;
        }
        const raw = this.take(end + 4);
        const head = parseHead(raw.subarray(0, end).toString('latin1'));
        if (!head) {
          this.forward(raw);
          this.mode = 'pass';
          continue;
        }
        const verdict = this.decide(head);
        if (verdict && 'abort' in verdict.action) {
          this.stats.aborted++;
          this.abort(responseBytes(verdict.action.abort));
          break;
        }
        if (verdict && 'delayMs' in verdict.action) {
          this.stats.delayed++;
          await new Promise((r) => setTimeout(r, (verdict.action as { delayMs: number }).delayMs));
        }
        if (!verdict) this.stats.passed++;
        this.forwarded++;
        this.forward(raw);
        if (head.body.kind === 'rest') this.mode = 'pass';
        else if (head.body.kind === 'chunked') {
          this.chunked = new ChunkedScanner();
          this.mode = 'body';
        } else if (head.body.n > 0) {
          this.bodyLeft = head.body.n;
          this.mode = 'body';
        }
      }
      if (this.buf.length <= HEAD_LIMIT && this.link.client.isPaused()) this.link.client.resume();
    } finally {
      this.busy = false;
    }
    if (this.ended && this.mode !== 'closed' && this.buf.length === 0) {
      this.mode = 'closed';
      this.link.up.inputEnd();
    } else if (this.buf.length && this.mode !== 'closed' && (this.mode === 'pass' || this.mode === 'body')) {
      void this.process();
    }
  }

  private take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  private decide(head: RequestHead): HttpFault | undefined {
    for (let i = 0; i < this.faults.length; i++) {
      const f = this.faults[i]!;
      if (!this.matchers[i]!.matches(head)) continue;
      this.stats.matched++;
      const seen = (this.stats.counters[i] ?? 0) + 1;
      this.stats.counters[i] = seen;
      if (f.first !== undefined && seen > f.first) return undefined;
      if (f.percent !== undefined && f.percent < 100 && this.random() * 100 >= f.percent) return undefined;
      return f;
    }
    return undefined;
  }

  /**
   * Answers the client itself and closes. With earlier requests of this connection still being
   * answered by the server, the upstream is half-closed and kiboko's response follows the
   * server's last byte, so responses stay in order.
   */
  private abort(response: Buffer) {
    this.mode = 'closed';
    this.buf = Buffer.alloc(0);
    if (this.forwarded === 0) {
      this.link.up.stop();
      this.link.server.destroy();
      this.link.client.end(response);
      return;
    }
    this.link.down.trailer = response;
    this.link.up.inputEnd();
  }
}
