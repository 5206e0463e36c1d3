import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Etcd3, IOptions, Watcher } from 'etcd3';
import { restUnlessAborted } from '../../common/abort.js';
import { invalidArgument, KibokoError } from '../../common/errors.js';
import type { Backend } from './types.js';

export interface EtcdBackendOptions {
  /** Endpoints, `http(s)://host:port` (a bare `host:port` gets http://, or https:// with TLS). */
  nodes: readonly string[];
  /** PEM files: client certificate and key (mutual TLS), and the CA bundle to trust. */
  clientCert?: string | undefined;
  clientKey?: string | undefined;
  clientCaKeys?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  /** Per-request deadline (default 5 s; confd uses 3 s per transaction). */
  requestTimeoutMs?: number;
}

/** The nodes as etcd3 wants them: with a scheme. */
export function normalizeNodes(nodes: readonly string[], tls: boolean): string[] {
  if (nodes.length === 0) return [tls ? 'https://127.0.0.1:2379' : 'http://127.0.0.1:2379'];
  return nodes.flatMap((n) => n.split(',')).map((n) => n.trim()).filter(Boolean).map((n) => {
    if (/^https?:\/\//.test(n)) return n;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(n)) throw invalidArgument(`invalid --node '${n}': expected http:// or https://`, 'e.g. --node http://127.0.0.1:2379');
    return `${tls ? 'https' : 'http'}://${n}`;
  });
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw invalidArgument(`cannot read the ${what} ${path}: ${(cause as Error).message}`, `check --${what.replaceAll(' ', '-')}`, cause);
  }
}

/** Whether a key returned for a requested key belongs to it (confd's etcdv3 GetValues filter). */
export function underKey(key: string, requested: string): boolean {
  return key === requested || key.startsWith(requested.endsWith('/') ? requested : `${requested}/`);
}

/**
 * etcd v3 through the etcd3 client (gRPC): every requested key is read as a prefix at one
 * revision, keeping the key itself and what lies under `key/` (as confd's etcdv3 backend does);
 * watching uses one prefix watcher per key, which the client re-establishes after a disconnect.
 */
export async function etcdBackend(options: EtcdBackendOptions): Promise<Backend> {
  const tls = Boolean(options.clientCaKeys || options.clientCert || options.clientKey);
  if (Boolean(options.clientCert) !== Boolean(options.clientKey)) {
    throw invalidArgument('--client-cert and --client-key go together', 'give both for mutual TLS, or neither');
  }
  if (options.username !== undefined && options.password === undefined) {
    throw invalidArgument('--username needs a password', 'give --password or set KIBOKO_ETCD_PASSWORD');
  }
  const config: IOptions = {
    hosts: normalizeNodes(options.nodes, tls),
    dialTimeout: 5_000,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + (options.requestTimeoutMs ?? 5_000) }),
  };
  if (tls) {
    config.credentials = {
      rootCertificate: options.clientCaKeys ? readPem(options.clientCaKeys, 'client ca keys') : (undefined as unknown as Buffer),
      ...(options.clientKey ? { privateKey: readPem(options.clientKey, 'client key') } : {}),
      ...(options.clientCert ? { certChain: readPem(options.clientCert, 'client cert') } : {}),
    };
  }
  if (options.username !== undefined) config.auth = { username: options.username, password: options.password ?? '' };
  // required, not imported: etcd3 stays outside the CLI bundle (it reads its .proto files from its
  // package folder) and the bundle has no dynamic import() (see src/cli/code-cache.ts).
  const { Etcd3: Client } = createRequire(import.meta.url)('etcd3') as typeof import('etcd3');
  const client: Etcd3 = new Client(config);
  const unreachable = (cause: unknown) =>
    new KibokoError('ENGINE_UNREACHABLE', `etcd at ${config.hosts.toString()}: ${(cause as Error).message.replace(/\s*Resolution note:\s*$/, '')}`, {
      hint: 'check --node, TLS (--client-cert/--client-key/--client-ca-keys) and auth (--username/--password)',
      cause,
    });

  return {
    name: 'etcd',
    async getValues(keys) {
      const out = new Map<string, string>();
      let revision: string | undefined;
      try {
        for (const key of keys) {
          const q = client.getAll().prefix(key);
          if (revision !== undefined) q.revision(revision);
          const res = await q.exec();
          revision ??= res.header.revision;
          for (const kv of res.kvs) {
            const k = kv.key.toString();
            if (underKey(k, key)) out.set(k, kv.value.toString());
          }
        }
      } catch (cause) {
        throw unreachable(cause);
      }
      return out;
    },
    async watch(prefixes, signal, { onChange, onReady, onNotice }) {
      const watchers: Watcher[] = [];
      const unique = [...new Set(prefixes)];
      try {
        const created = Promise.all(
          unique.map(async (p) => {
            const w = await client.watch().prefix(p).create();
            watchers.push(w);
            let lost = false;
            w.on('put', (kv) => onChange([kv.key.toString()]));
            w.on('delete', (kv) => onChange([kv.key.toString()]));
            w.on('disconnected', (err) => {
              lost = true;
              onNotice?.(`etcd watch on ${p} lost (${err.message}); reconnecting`);
            });
            w.on('connected', () => {
              if (!lost) return;
              lost = false;
              onNotice?.(`etcd watch on ${p} re-established`);
              onChange(undefined);
            });
            w.on('error', (err) => onNotice?.(`etcd watch on ${p}: ${err.message}`));
          }),
        );
        const aborted = restUnlessAborted(Number.POSITIVE_INFINITY, signal);
        await Promise.race([created.catch((cause) => Promise.reject(unreachable(cause))), aborted]);
        if (!signal.aborted) onReady?.();
        await aborted;
      } finally {
        await Promise.all(watchers.map((w) => w.cancel().catch(() => undefined)));
      }
    },
    async close() {
      client.close();
    },
  };
}
