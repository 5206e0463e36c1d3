import { basename } from 'node:path';
import { confdFuncs } from './funcs.js';
import { nodeAsyncDns, parseTemplate, renderWithDnsPrefetch, UTC_ZONE, type AsyncDns, type DnsResolver, type GoZone } from './gotemplate/index.js';
import type { KvSnapshot } from './keys.js';
import type { TemplateResource } from './resource.js';
import type { Renderer } from './run.js';

export interface RenderOptions {
  /** Environment for `getenv` (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Clock and zone for `datetime` (default: now, in the host's local zone as confd's time.Now()). */
  now?: () => Date;
  zone?: GoZone;
  /** Fixed DNS answers; otherwise names are resolved asynchronously before the final render. */
  resolver?: DnsResolver;
  asyncDns?: AsyncDns;
}

/**
 * The host's local zone at `at`, as Go's time.Local would name it where Intl knows the
 * abbreviation (`PST`, `EST`); elsewhere `GMT+1`-style names.
 */
export function localZone(at: Date = new Date()): GoZone {
  const offsetSeconds = -at.getTimezoneOffset() * 60;
  const name = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value;
  if (offsetSeconds === 0 && (!name || name === 'UTC' || name === 'GMT')) return UTC_ZONE;
  return { name: name ?? 'Local', offsetSeconds };
}

/**
 * confd's rendering: the template is parsed under its file's base name with confd's function map
 * bound to the resource's key/value snapshot, and executed with no data (`tmpl.Execute(w, nil)`).
 */
export function renderText(name: string, text: string, snapshot: KvSnapshot, options: RenderOptions & { resolver?: DnsResolver } = {}): string {
  return parseTemplate(name, text, confdFuncs(snapshot, funcOptions(options, options.resolver))).execute(null);
}

function funcOptions(options: RenderOptions, resolver: DnsResolver | undefined) {
  const now = options.now ?? (() => new Date());
  return {
    ...(options.env ? { env: options.env } : {}),
    now,
    zone: options.zone ?? localZone(now()),
    ...(resolver ? { resolver } : {}),
  };
}

/**
 * The renderer `kiboko template` uses. DNS lookups (lookupIP, lookupSRV) are resolved
 * asynchronously between render passes, so a watch loop never blocks on DNS.
 */
export function createRenderer(options: RenderOptions = {}): Renderer {
  return async (resource: TemplateResource, text: string, snapshot: KvSnapshot) => {
    const name = basename(resource.src);
    const run = (resolver: DnsResolver) => parseTemplate(name, text, confdFuncs(snapshot, funcOptions(options, resolver))).execute(null);
    if (options.resolver) return run(options.resolver);
    return renderWithDnsPrefetch(run, options.asyncDns ?? (await nodeAsyncDns()));
  };
}

export const renderWithGoTemplate: Renderer = createRenderer();
