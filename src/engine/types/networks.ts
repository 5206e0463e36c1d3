/** Networks and volumes: how they are created and what listing and inspecting them answers. */

/** How a network is created (a bridge with the engine's defaults when empty). */
export interface NetworkOptions {
  driver?: string | undefined;
  driverOpts?: Readonly<Record<string, string>> | undefined;
  ipam?: { driver?: string | undefined; config?: readonly { subnet?: string | undefined; ipRange?: string | undefined; gateway?: string | undefined; auxAddresses?: Readonly<Record<string, string>> | undefined }[] | undefined; options?: Readonly<Record<string, string>> | undefined } | undefined;
  internal?: boolean | undefined;
  attachable?: boolean | undefined;
  enableIpv6?: boolean | undefined;
}

/** How a volume is created (the local driver when empty). */
export interface VolumeOptions {
  driver?: string | undefined;
  driverOpts?: Readonly<Record<string, string>> | undefined;
}

export interface VolumeSummary {
  name: string;
  driver: string;
  labels: Readonly<Record<string, string>>;
}

/** A network, inspected: its settings as the engine holds them. */
export interface NetworkDetails extends NetworkSummary, NetworkOptions {
  /** Containers attached (id → name). */
  containers: Readonly<Record<string, string>>;
}

export interface NetworkSummary {
  id: string;
  name: string;
  labels: Readonly<Record<string, string>>;
}
