import { KibokoError } from '../../common/errors.js';
import type { Backend } from './types.js';

/**
 * confd's env backend mapping: `/services/example/text` ↔ `SERVICES_EXAMPLE_TEXT` (leading `/`
 * dropped, `/` → `_`, upper-cased). Every variable whose name starts with the mapped key is
 * returned, under its name mapped back (lower-cased, `_` → `/`, leading `/`).
 */
export function envVarName(key: string): string {
  return (key.startsWith('/') ? key.slice(1) : key).replaceAll('/', '_').toUpperCase();
}

export function envKey(varName: string): string {
  return `/${varName}`.toLowerCase().replaceAll('_', '/');
}

export function envValues(keys: readonly string[], env: Readonly<Record<string, string | undefined>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const key of keys) {
    const k = envVarName(key);
    for (const [name, value] of Object.entries(env)) {
      if (value !== undefined && name.startsWith(k)) out.set(envKey(name), value);
    }
  }
  return out;
}

export const ENV_WATCH_REFUSED = 'the env backend cannot be watched — use --interval';

/** The process environment (or a given one) as a backend. Watching is refused: env never changes under a running process. */
export function envBackend(env: Readonly<Record<string, string | undefined>> = process.env): Backend {
  return {
    name: 'env',
    getValues: async (keys) => envValues(keys, env),
    close: async () => undefined,
  };
}

export function envWatchRefused(): KibokoError {
  return new KibokoError('INVALID_ARGUMENT', ENV_WATCH_REFUSED, {
    hint: 'a process environment cannot change under a running process; use --onetime or --interval 60 (confd -watch with env never re-renders)',
  });
}
