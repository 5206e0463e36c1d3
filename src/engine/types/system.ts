/** The engine itself: its version and host facts, and the events it streams. */

export interface EngineInfo {
  endpoint: string;
  serverVersion: string;
  /** API version the server speaks at most. */
  apiVersion: string;
  /** API version kiboko negotiated and uses. */
  negotiatedApiVersion: string;
  os: string;
  arch: string;
}

/** Host facts the engine reports (`docker info`). */
export interface EngineSystemInfo {
  cgroupDriver: string;
  cgroupVersion: string;
  kernelVersion: string;
  operatingSystem: string;
  securityOptions: readonly string[];
  swarm: 'inactive' | 'active' | 'pending' | 'error' | 'locked' | string;
  isManager: boolean;
}

/** Engine events (`docker events`), kiboko's view. */
export interface EngineEvent {
  /** container, image, network, volume, daemon, service, node, ... */
  type: string;
  /** create, start, die, oom, kill, stop, destroy, `health_status: healthy`, ... */
  action: string;
  /** The object's id (container id, image id, ...). */
  id: string;
  /** Actor attributes: name, image, labels, exitCode, ... */
  attributes: Readonly<Record<string, string>>;
  /** Unix seconds. */
  time: number;
  /** Unix nanoseconds, as a decimal string (exact). */
  timeNano: string;
  scope: string;
}

export interface EventsOptions {
  /** Replay events since this time: unix seconds (may be fractional) or an ISO date. */
  since?: number | string;
  /** Stop after this time (the stream then ends). */
  until?: number | string;
  /** Engine filters, e.g. `{ type: ['container'], event: ['die'], label: ['a=b'] }`. */
  filters?: Readonly<Record<string, readonly string[]>>;
  signal?: AbortSignal;
}
