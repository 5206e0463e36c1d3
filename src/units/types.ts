/** Types shared by the fleet API (api.ts) and the [X-Fleet] options (xfleet.ts). */

export interface UnitOption {
  section: string;
  name: string;
  value: string;
}

export interface Machine {
  id: string;
  primaryIP: string;
  metadata: Record<string, string>;
}
