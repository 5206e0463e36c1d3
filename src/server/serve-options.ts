import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import type { Engine } from '../engine/index.js';
import type { UnitRegistry } from '../units/index.js';
import type { FailureThrottle } from './auth.js';
import type { EventBus } from './bus.js';
import type { ChaosService } from './chaos.js';
import type { SessionStore } from './dashboard/index.js';
import type { DeployService } from './deploys.js';
import type { WatchService } from './watch.js';

export interface ServeOptions {
  token: string;
  registry: UnitRegistry;
  /** The engine units run on: `GET /v1/units/NAME/journal|container` read their containers. */
  engine?: Engine | undefined;
  /** `host:port` to listen on TCP. */
  listen?: string | undefined;
  /** Unix socket path: plain HTTP, trusted by its file permissions (no token needed). */
  socket?: string | undefined;
  /** A second unix socket serving the same API where fleet clients look (`/var/run/fleet.sock`). */
  fleetSocket?: string | undefined;
  /** The sockets' group (a gid): its members may use the API (mode 0660). Default: owner only (0600). */
  socketGroup?: number | undefined;
  /** HTTPS on TCP; with `clientCa`, a client certificate it signed is a credential equal to the token. */
  tls?: { cert: string; key: string; clientCa?: string | undefined } | undefined;
  /** Structured log lines (auth failures, requests with errors). Never given a secret. */
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
  /** Health details for /healthz (engine status); called at most once per `healthCacheMs`. */
  health?: () => Promise<Record<string, unknown>>;
  healthCacheMs?: number | undefined;
  /** Authenticated request bodies (default 1 MiB). */
  maxBodyBytes?: number;
  limits?: Partial<EdgeLimits> | undefined;
  /** How long collection GETs (/fleet/v1/units, /state, /machines) may be answered from cache (default 1000 ms; 0: never); writes clear it. */
  listCacheMs?: number | undefined;
  /** The native API's services (`/v1/deploys`, `/hooks/deploy`, `/v1/chaos`, `/v1/events`); absent ones answer 503. */
  deploys?: DeployService | undefined;
  chaos?: ChaosService | undefined;
  bus?: EventBus | undefined;
  /** `kiboko serve --watch`: GET /v1/watch/reports, POST /v1/watch/run. */
  watch?: WatchService | undefined;
  /** Shared secret for the deploy hook's `X-Hub-Signature-256` (or `?token=`, for senders that cannot sign). */
  webhookSecret?: string | undefined;
  /** Whether the engine answered the last health check (the kiboko_engine_up metric). */
  engineUp?: (() => boolean) | undefined;
  sse?: { heartbeatMs?: number | undefined; maxStreams?: number | undefined; maxStreamsPerClient?: number | undefined; maxBufferedBytes?: number | undefined } | undefined;
  /** Slows repeated authentication failures (never a valid credential). */
  throttle?: FailureThrottle | undefined;
  /** Dashboard sessions (default: 8 h, at most 1,000). */
  sessions?: SessionStore | undefined;
  /** toxiproxy's API under /toxiproxy/ (issue 15), behind the token like everything else. */
  toxiproxy?: ((req: IncomingMessage, res: ServerResponse, path: string, body: Buffer | undefined) => Promise<void>) | undefined;
}

/** The edge's bounds on what a client may make the daemon hold (see docs/serve-security.md). */
export interface EdgeLimits {
  /** The sign-in form's body (unauthenticated; default 4 KiB). */
  loginBodyBytes: number;
  /** A signed deploy hook's body, read before its signature is checked (default 64 KiB). */
  hookBodyBytes: number;
  /** All unauthenticated bodies together: a slab of this size, one slot (the larger of the two limits above) per body in flight (default 1 MiB: 16 bodies; past it: 503). */
  unauthenticatedBytes: number;
  /** An unauthenticated body must arrive within this (default 10 s; then 408 and the connection is cut). */
  unauthenticatedBodyMs: number;
  /** The request head must arrive within this (default 10 s). */
  headersTimeoutMs: number;
  /** The whole request (head and body) must arrive within this (default 60 s; streams are not limited once answered). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (default 5 s). */
  keepAliveTimeoutMs: number;
  /** Open connections per listener (default 4,000; more are refused at accept). */
  maxConnections: number;
}

export const DEFAULT_LIMITS: EdgeLimits = {
  loginBodyBytes: 4 * 1024,
  hookBodyBytes: 64 * 1024,
  unauthenticatedBytes: 1024 * 1024,
  unauthenticatedBodyMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 4_000,
};

export interface RunningServer {
  servers: Server[];
  /** Addresses actually bound (port 0 resolved). */
  addresses: string[];
  close(): Promise<void>;
}

/** How a request arrived: over a unix socket (trusted by its file permissions) or TCP. */
export type Transport = 'unix' | 'tcp';
