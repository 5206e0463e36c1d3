import { KibokoError } from '../../common/errors.js';

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

const STATE_CONFLICT = /is not paused|is already paused|is not running|is paused|is restarting|cannot (?:pause|unpause|kill)/i;

export interface EngineErrorContext {
  endpoint: string;
  /** What kiboko was doing, e.g. `kill web-1`. */
  operation: string;
}

/**
 * The single place where Engine API failures become kiboko errors. Returns `undefined` for a
 * 304 (not modified: the container already is in the asked state), which callers treat as done.
 */
export function translateEngineError(err: unknown, ctx: EngineErrorContext): KibokoError | undefined {
  if (err instanceof KibokoError) return err;
  const e = err as { statusCode?: number; code?: string; json?: { message?: string } | null; message?: string; name?: string };
  if (e?.name === 'AbortError') return new KibokoError('CANCELLED', `${ctx.operation}: cancelled`, { cause: err });
  if (e?.statusCode === 304) return undefined;
  const engineMessage = (e?.json && typeof e.json === 'object' && e.json.message) || cleanModemMessage(e?.message);
  // Some engines (e.g. 20.10) answer 500 for state conflicts such as unpausing a running container.
  const status = e?.statusCode === 500 && STATE_CONFLICT.test(engineMessage) ? 409 : e?.statusCode;
  switch (status) {
    case 404:
      return new KibokoError('TARGET_NOT_FOUND', `${ctx.operation}: ${engineMessage}`, {
        cause: err,
        hint: 'list containers with `docker ps -a`; the target may have been removed meanwhile',
      });
    case 409:
      return new KibokoError('CONFLICT', `${ctx.operation}: ${engineMessage}`, {
        cause: err,
        hint: 'the container is not in a state that allows this (e.g. not running, or already paused)',
      });
    case 400:
      return new KibokoError('INVALID_ARGUMENT', `${ctx.operation}: the engine rejected the request: ${engineMessage}`, { cause: err });
    case undefined:
      break;
    default:
      return new KibokoError('ENGINE_ERROR', `${ctx.operation}: engine error ${e.statusCode}: ${engineMessage}`, {
        cause: err,
        hint: 'check the engine log (journalctl -u docker, or dockerd output)',
      });
  }
  if (e?.code && UNREACHABLE_CODES.has(e.code)) return unreachable(ctx.endpoint, e.code, err);
  return new KibokoError('ENGINE_ERROR', `${ctx.operation}: ${e?.message ?? String(err)}`, { cause: err });
}

export function unreachable(endpoint: string, reason: string, cause?: unknown): KibokoError {
  if (/^(CERT_|ERR_TLS|ERR_SSL|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|HOSTNAME_MISMATCH|ERR_OSSL)/.test(reason)) {
    return new KibokoError('ENGINE_UNREACHABLE', `TLS handshake with the Docker engine at ${endpoint} failed (${reason})`, {
      cause,
      hint: 'check that --tlscacert is the CA that signed the engine’s certificate and that --tlscert/--tlskey (or DOCKER_CERT_PATH) hold a client certificate it trusts',
    });
  }
  const hint =
    reason === 'EACCES'
      ? 'permission denied on the socket: run as root or add your user to the docker group'
      : endpoint.startsWith('unix://')
        ? 'start the Docker engine (e.g. `dockerd &` or `systemctl start docker`), or point --host / DOCKER_HOST at a running one'
        : 'check that the engine listens there and that --host / DOCKER_HOST and the TLS flags are right';
  return new KibokoError('ENGINE_UNREACHABLE', `cannot reach the Docker engine at ${endpoint} (${reason})`, { cause, hint });
}

function cleanModemMessage(message: string | undefined): string {
  if (!message) return 'unknown error';
  return message.replace(/^\(HTTP code \d+\) [^-]+- /, '').trim();
}
