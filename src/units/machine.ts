import { readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { invalidArgument } from '../common/errors.js';
import type { Machine } from './api.js';

/** This host as fleet reports a machine: systemd's machine-id (else the host name), its first external IPv4. */
export function localMachine(metadata: Readonly<Record<string, string>> = {}): Machine {
  let id = '';
  try {
    id = readFileSync('/etc/machine-id', 'utf8').trim();
  } catch {
    // not a systemd host
  }
  const ip = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  return { id: id || hostname(), primaryIP: ip ?? '127.0.0.1', metadata: { ...metadata } };
}

/** `--metadata region=us-east-1,disk=ssd` → { region: 'us-east-1', disk: 'ssd' } (fleet's metadata flag syntax). */
export function parseMetadata(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq).trim();
    const value = eq < 0 ? '' : pair.slice(eq + 1).trim();
    if (!key || !value) throw invalidArgument(`invalid --metadata entry '${pair}': expected KEY=VALUE`, 'e.g. --metadata region=us-east-1,disk=ssd');
    out[key] = value;
  }
  return out;
}
