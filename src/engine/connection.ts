import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { invalidArgument } from '../common/errors.js';

/** Connection flags as the docker CLI and Pumba spell them. */
export interface ConnectionFlags {
  host?: string | undefined;
  tls?: boolean | undefined;
  tlsverify?: boolean | undefined;
  tlscacert?: string | undefined;
  tlscert?: string | undefined;
  tlskey?: string | undefined;
}

export type ConnectionTarget =
  | { kind: 'unix'; endpoint: string; socketPath: string }
  | {
      kind: 'tcp';
      endpoint: string;
      host: string;
      port: number;
      tls?: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined; verify: boolean };
    };

export const DEFAULT_HOST = 'unix:///var/run/docker.sock';

/**
 * Resolves where and how to reach the engine from flags and the environment, with the docker
 * CLI's precedence: flags, then DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, then the
 * local socket. Pure apart from reading certificate files.
 */
export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): ConnectionTarget {
  const host = (flags.host ?? env.DOCKER_HOST ?? DEFAULT_HOST).trim() || DEFAULT_HOST;
  const tlsVerify = flags.tlsverify ?? truthy(env.DOCKER_TLS_VERIFY);
  const useTls = Boolean(flags.tls) || tlsVerify;

  if (host.startsWith('unix://') || host.startsWith('/')) {
    const socketPath = host.startsWith('unix://') ? host.slice('unix://'.length) : host;
    if (!socketPath) throw invalidArgument(`invalid host '${host}': empty socket path`, 'use unix:///var/run/docker.sock');
    return { kind: 'unix', endpoint: `unix://${socketPath}`, socketPath };
  }

  const m = /^(tcp|http|https):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(host);
  if (!m) {
    const scheme = /^([a-z0-9+.-]+):\/\//i.exec(host)?.[1];
    throw invalidArgument(
      scheme ? `unsupported host scheme '${scheme}://' in '${host}'` : `invalid host '${host}'`,
      'use unix:///path/to/docker.sock or tcp://HOST:PORT (with --tlsverify for TLS)',
    );
  }
  const tls = useTls || m[1] === 'https';
  const port = m[3] ? Number(m[3]) : tls ? 2376 : 2375;
  const hostname = m[2]!.replace(/^\[|\]$/g, '');
  const endpoint = `tcp://${m[2]}:${port}`;
  if (!tls) return { kind: 'tcp', endpoint, host: hostname, port };

  const certDir = env.DOCKER_CERT_PATH || join(homedir(), '.docker');
  const verify = tlsVerify;
  return {
    kind: 'tcp',
    endpoint,
    host: hostname,
    port,
    tls: {
      verify,
      ca: readPem(flags.tlscacert, join(certDir, 'ca.pem'), '--tlscacert', verify),
      cert: readPem(flags.tlscert, join(certDir, 'cert.pem'), '--tlscert', false),
      key: readPem(flags.tlskey, join(certDir, 'key.pem'), '--tlskey', false),
    },
  };
}

/** A flag value that is inline PEM is used as is (Pumba accepts that); otherwise it is a path. */
function readPem(flag: string | undefined, fallback: string, name: string, required: boolean): string | undefined {
  if (flag && flag.includes('-----BEGIN')) return flag;
  const path = flag ?? fallback;
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    if (flag || required) {
      throw invalidArgument(
        `cannot read ${name} '${path}': ${(cause as NodeJS.ErrnoException).code ?? 'unreadable'}`,
        `pass ${name} PATH or set DOCKER_CERT_PATH to the folder holding ca.pem, cert.pem and key.pem`,
        cause,
      );
    }
    return undefined;
  }
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}
