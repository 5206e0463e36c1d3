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
