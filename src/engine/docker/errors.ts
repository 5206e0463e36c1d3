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
  // A Swarm call to an engine that is not a Swarm manager: an engine error (exit 4, as the commands
  // document) that says what to do, rather than "check the engine log".
  if (status === 503 && /not a swarm manager/i.test(engineMessage)) {
    return new KibokoError('ENGINE_ERROR', `${ctx.operation}: ${engineMessage}`, {
      cause: err,
      hint: /worker nodes/i.test(engineMessage) ? 'point --host at a manager node, or promote this one (docker node promote)' : 'docker swarm init (or join a Swarm), or deploy with --engine docker',
    });
  }
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

/**
 * One cause per failed pull, from the engine's message (the engine talks to the registry, so its
 * words are all there is): unauthorized, not found (repository or tag), rate limited, TLS,
 * a failing or unreachable registry.
 */
export function classifyPullError(ref: string, message: string, cause?: unknown): KibokoError {
  const m = message.replace(/^pull [^:]+: /, '').replace(/^\(HTTP code \d+\) [^-]+- /, '').trim();
  const details = { image: ref, engineMessage: m.slice(0, 500) };
  if (/toomanyrequests|rate limit|429 Too Many Requests/i.test(m)) {
    return new KibokoError('REGISTRY_RATE_LIMITED', `pull ${ref}: the registry rate-limits pulls: ${m}`, { cause, details, hint: 'wait for the limit to reset, or log in (docker login) for a higher limit' });
  }
  if (/x509|certificate|tls: /i.test(m) && !/TLS handshake timeout/i.test(m)) {
    return new KibokoError('REGISTRY_TLS', `pull ${ref}: the engine does not trust the registry's certificate: ${m}`, { cause, details, hint: "put the registry's CA in /etc/docker/certs.d/<host:port>/ca.crt on the engine's host" });
  }
  if (/unauthorized|authentication required|no basic auth credentials|denied: |incorrect username or password/i.test(m) && !/repository does not exist/i.test(m)) {
    return new KibokoError('REGISTRY_UNAUTHORIZED', `pull ${ref}: the registry refused the credentials: ${m}`, { cause, details, hint: 'check the user and password (docker login <registry>, or --registry-user/--registry-password)' });
  }
  if (/manifest unknown|manifest for .* not found|not found: manifest/i.test(m)) {
    return new KibokoError('TARGET_NOT_FOUND', `pull ${ref}: the registry has no such tag: ${m}`, { cause, details, hint: 'check the tag (kiboko registry tags <image> lists them)' });
  }
  if (/repository does not exist|name unknown|repository .* not found|pull access denied/i.test(m)) {
    return new KibokoError('TARGET_NOT_FOUND', `pull ${ref}: no such repository (or no access to it): ${m}`, { cause, details, hint: 'check the repository name, and log in if it is private' });
  }
  if (/\b5\d\d\b|Service Unavailable|Bad Gateway|Gateway Time-?out|Internal Server Error/i.test(m)) {
    return new KibokoError('REGISTRY_UNREACHABLE', `pull ${ref}: the registry is failing: ${m}`, { cause, details: { ...details, transient: true }, hint: 'try again later' });
  }
  if (/timeout|deadline exceeded|i\/o timeout/i.test(m)) {
    return new KibokoError('TIMEOUT', `pull ${ref}: the registry did not answer in time: ${m}`, { cause, details: { ...details, transient: true }, hint: 'check that the registry is up and reachable from the engine' });
  }
  if (/connection refused|connection reset|no such host|network is unreachable|EOF|dial tcp|server misbehaving/i.test(m)) {
    return new KibokoError('REGISTRY_UNREACHABLE', `pull ${ref}: the engine cannot reach the registry: ${m}`, { cause, details: { ...details, transient: true }, hint: 'check the registry address and that it runs and is reachable from the engine' });
  }
  return new KibokoError('ENGINE_ERROR', `pull ${ref}: ${m}`, { cause, details, hint: 'check the image name and that the registry is reachable, or build the image locally' });
}
