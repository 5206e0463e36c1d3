import { readFile } from 'node:fs/promises';
import { parse as parseToml } from 'smol-toml';
import { invalidArgument } from '../common/errors.js';
import { own } from '../common/own.js';

/**
 * The subset of confd's `confd.toml` kiboko reads (flags override it; unknown keys are ignored,
 * as confd does). Names are confd's TOML keys.
 */
export interface ConfdConfig {
  backend?: string;
  nodes?: string[];
  prefix?: string;
  confdir?: string;
  interval?: number;
  watch?: boolean;
  onetime?: boolean;
  noop?: boolean;
  syncOnly?: boolean;
  file?: string[];
  filter?: string;
  clientCert?: string;
  clientKey?: string;
  clientCaKeys?: string;
  username?: string;
  password?: string;
  logLevel?: string;
}

const STRINGS: Record<string, keyof ConfdConfig> = {
  backend: 'backend',
  prefix: 'prefix',
  confdir: 'confdir',
  filter: 'filter',
  client_cert: 'clientCert',
  client_key: 'clientKey',
  client_cakeys: 'clientCaKeys',
  username: 'username',
  password: 'password',
  'log-level': 'logLevel',
};
const BOOLS: Record<string, keyof ConfdConfig> = { watch: 'watch', onetime: 'onetime', noop: 'noop', 'sync-only': 'syncOnly' };
const LISTS: Record<string, keyof ConfdConfig> = { nodes: 'nodes', file: 'file' };

export function parseConfdConfig(text: string, file: string): ConfdConfig {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (cause) {
    throw invalidArgument(`cannot parse ${file}: ${(cause as Error).message.split('\n')[0]}`, 'fix the TOML syntax', cause);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    const string = own(STRINGS, k);
    const bool = own(BOOLS, k);
    const listKey = own(LISTS, k);
    if (string) {
      if (typeof v !== 'string') throw invalidArgument(`invalid ${k} in ${file}: expected a string, got ${typeof v}`, `write ${k} = "…"`);
      out[string] = v;
    } else if (bool) {
      if (typeof v !== 'boolean') throw invalidArgument(`invalid ${k} in ${file}: expected true or false, got ${JSON.stringify(v)}`, `write ${k} = true`);
      out[bool] = v;
    } else if (listKey) {
      const list = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) throw invalidArgument(`invalid ${k} in ${file}: expected a list of strings`, `write ${k} = ["…"]`);
      out[listKey] = list;
    } else if (k === 'interval') {
      const n = typeof v === 'bigint' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw invalidArgument(`invalid interval in ${file}: expected whole seconds ≥ 1, got ${JSON.stringify(String(v))}`, 'write interval = 600');
      out.interval = n;
    }
  }
  return out as ConfdConfig;
}

/** Reads a confd.toml; a missing file is no configuration (unless it was asked for by name). */
export async function loadConfdConfig(file: string, required: boolean): Promise<ConfdConfig> {
  try {
    return parseConfdConfig(await readFile(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !required) return {};
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw invalidArgument(`config file ${file} does not exist`, 'check --config-file');
    throw err;
  }
}
