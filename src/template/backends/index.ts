import { invalidArgument } from '../../common/errors.js';
import { envBackend } from './env.js';
import { etcdBackend, type EtcdBackendOptions } from './etcd.js';
import { fileBackend } from './file.js';
import type { Backend, BackendName } from './types.js';

export type { Backend, BackendName, WatchHandlers } from './types.js';
export { envBackend, envVarName, envKey, envValues, envWatchRefused, ENV_WATCH_REFUSED } from './env.js';
export { fileBackend, flatten, formatGoFloat, parseValuesFile, type FileBackendOptions } from './file.js';
export { etcdBackend, normalizeNodes, underKey, type EtcdBackendOptions } from './etcd.js';

export interface BackendOptions extends Partial<EtcdBackendOptions> {
  backend: string;
  /** file backend: files or folders, and the base-name filter for folders. */
  files?: readonly string[];
  filter?: string | undefined;
  env?: Readonly<Record<string, string | undefined>>;
}

/** `etcdv3` is accepted as a synonym: kiboko's etcd backend is the v3 API. */
export function parseBackendName(name: string): BackendName {
  const n = name.trim().toLowerCase();
  if (n === 'env' || n === 'file' || n === 'etcd') return n;
  if (n === 'etcdv3') return 'etcd';
  throw invalidArgument(`invalid --backend '${name}': expected env, file or etcd`, 'kiboko template reads env, file (YAML/JSON) and etcd (v3); e.g. --backend etcd --node http://127.0.0.1:2379');
}

export async function openBackend(options: BackendOptions): Promise<Backend> {
  switch (parseBackendName(options.backend)) {
    case 'env':
      return envBackend(options.env ?? process.env);
    case 'file':
      return fileBackend({ paths: options.files ?? [], ...(options.filter ? { filter: options.filter } : {}) });
    case 'etcd':
      return etcdBackend({ ...options, nodes: options.nodes ?? [] });
  }
}
