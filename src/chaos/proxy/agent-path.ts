import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KibokoError } from '../../common/errors.js';

/** dist/proxy-agent.mjs, wherever this module was loaded from (CLI bundle, library build, sources). */
export function agentScriptPath(): string {
  const env = process.env.KIBOKO_PROXY_AGENT;
  if (env) return env;
  for (const rel of ['../proxy-agent.mjs', './proxy-agent.mjs', '../../proxy-agent.mjs', '../../../proxy-agent.mjs', '../../../dist/proxy-agent.mjs']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new KibokoError('INTERNAL', 'the proxy agent (dist/proxy-agent.mjs) is missing from this kiboko installation', { hint: 'rebuild kiboko (npm run build)' });
}
