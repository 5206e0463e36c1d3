import { invalidArgument } from '../../common/errors.js';
import type { HttpFault, Toxic } from '../../proxy/index.js';
import type { OutgoingTarget } from './rules.js';

/** A transparent proxy fault on one container's traffic. */
export interface ProxyFaultSpec {
  /** Container ports whose incoming TCP connections go through the proxy. */
  incomingPorts: readonly number[];
  /** Outgoing TCP connections to these destinations go through the proxy. */
  outgoing: readonly OutgoingTarget[];
  toxics: readonly Toxic[];
  httpFaults: readonly HttpFault[];
  /** toxiproxy's `down` (`enabled: false`): the redirected connections are refused, until enabled again through the API. */
  down?: boolean | undefined;
  /** Run the proxy in a helper container from this image (default: nsenter as root beside a local engine). */
  proxyImage?: string | undefined;
  /** Force a helper container for the proxy even when nsenter is possible. */
  helper?: boolean | undefined;
}

export function validateProxySpec(spec: ProxyFaultSpec): void {
  if (spec.incomingPorts.length === 0 && spec.outgoing.length === 0) {
    throw invalidArgument('proxy needs traffic to act on: --port (incoming) or --to (outgoing)', 'e.g. --port 80 for connections to the container’s port 80, or --to db:5432 for its connections to db');
  }
  if (spec.toxics.length === 0 && spec.httpFaults.length === 0 && !spec.down) {
    throw invalidArgument('proxy needs at least one --toxic or HTTP fault', "e.g. --toxic latency:latency=200, --toxic down or --http-abort 503 --http-path '/api/*'");
  }
}
