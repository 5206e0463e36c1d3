import * as z from 'zod/mini';
import { invalidArgument } from '../common/errors.js';
import { describeIssue } from './errors.js';

/**
 * What a deploy hook asks for, whichever sender it came from: kiboko's own payload names a
 * service; registry and CI notifications name an image repository (mapped to services later).
 */
export type PushNotice =
  | { source: 'kiboko'; project?: string | undefined; service: string; tag: string }
  | { source: 'dockerhub' | 'registry' | 'github'; repository: string; tag: string };

export type ParsedHook = { kind: 'ping' } | { kind: 'notices'; notices: PushNotice[]; ignored: number };

/** A Docker tag: letters, digits, `_ . -`, at most 128, not starting with `.` or `-`. */
export const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const REPO_RE = /^[a-z0-9]([a-z0-9._:/-]{0,254})$/;

const tag = z.string().check(z.regex(TAG_RE, { error: 'expected a Docker tag (letters, digits, _ . -; at most 128)' }));

const kibokoPayload = z.object({
  service: z.string().check(z.regex(NAME_RE, { error: 'expected a service name' })),
  tag,
  project: z.optional(z.string().check(z.regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { error: 'expected a project name (lowercase letters, digits, - and _)' }))),
});

// Docker Hub: https://docs.docker.com/docker-hub/repos/manage/webhooks/ — push_data.tag, repository.repo_name.
const dockerHubPayload = z.object({
  push_data: z.object({ tag: z.string() }),
  repository: z.object({ repo_name: z.string() }),
});

// Registry v2 (CNCF Distribution) notifications: an envelope of events; tag pushes are
// action "push" with target.repository and target.tag (layer pushes carry no tag).
const registryPayload = z.object({
  events: z.array(
    z.object({
      action: z.string(),
      target: z.optional(z.object({ repository: z.optional(z.string()), tag: z.optional(z.string()) })),
      request: z.optional(z.object({ host: z.optional(z.string()) })),
    }),
  ),
});

// GitHub `registry_package` / `package` events: package.package_version.container_metadata.tag.name.
const githubPackage = z.object({
  name: z.string(),
  namespace: z.optional(z.nullable(z.string())),
  owner: z.optional(z.nullable(z.object({ login: z.optional(z.string()) }))),
  package_type: z.optional(z.nullable(z.string())),
  package_version: z.optional(
    z.nullable(
      z.object({
        package_url: z.optional(z.nullable(z.string())),
        container_metadata: z.optional(z.nullable(z.object({ tag: z.optional(z.nullable(z.object({ name: z.optional(z.nullable(z.string())) }))) }))),
      }),
    ),
  ),
});
const githubPayload = z.object({ action: z.optional(z.string()), registry_package: z.optional(githubPackage), package: z.optional(githubPackage) });

function parse<T>(schema: z.ZodMiniType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  throw invalidArgument(`invalid ${what} payload: ${describeIssue(r.error.issues[0]!, body)}`, 'see the Daemon API section of the README for the payloads kiboko accepts');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkedRepo(repo: string, what: string): string {
  const r = repo.trim().toLowerCase().replace(/^https?:\/\//, '');
  if (!REPO_RE.test(r)) throw invalidArgument(`invalid ${what} payload: expected an image repository, got ${JSON.stringify(repo.slice(0, 100))}`, 'e.g. registry.example.com/team/web');
  return r;
}

function checkedTag(t: string, what: string): string {
  if (!TAG_RE.test(t)) throw invalidArgument(`invalid ${what} payload: expected a Docker tag, got ${JSON.stringify(t.slice(0, 140))}`, 'letters, digits, _ . -; at most 128, not starting with . or -');
  return t;
}

/**
 * Recognises the payload by its shape (kiboko's, Docker Hub's, a registry v2 envelope, GitHub's
 * package events) and returns the tag pushes it announces. Notifications that announce nothing to
 * deploy (a pull, a layer push, an untagged package) are counted as `ignored`, so the sender gets
 * a 2xx and does not retry them forever.
 */
export function parseHookPayload(body: unknown, githubEvent?: string): ParsedHook {
  if (githubEvent === 'ping') return { kind: 'ping' };
  if (!isObject(body)) throw invalidArgument('invalid hook payload: expected a JSON object', 'send {"service": "web", "tag": "1.2.3"} or a registry notification');
  if ('events' in body) {
    const p = parse(registryPayload, body, 'registry notification');
    const notices: PushNotice[] = [];
    let ignored = 0;
    for (const e of p.events) {
      if (e.action !== 'push' || !e.target?.tag || !e.target.repository) {
        ignored++;
        continue;
      }
      const host = e.request?.host ? `${e.request.host.toLowerCase()}/` : '';
      notices.push({ source: 'registry', repository: checkedRepo(`${host}${e.target.repository}`, 'registry notification'), tag: checkedTag(e.target.tag, 'registry notification') });
    }
    return { kind: 'notices', notices, ignored };
  }
  if ('push_data' in body) {
    const p = parse(dockerHubPayload, body, 'Docker Hub');
    return { kind: 'notices', notices: [{ source: 'dockerhub', repository: checkedRepo(`docker.io/${p.repository.repo_name}`, 'Docker Hub'), tag: checkedTag(p.push_data.tag, 'Docker Hub') }], ignored: 0 };
  }
  if ('registry_package' in body || 'package' in body) {
    const p = parse(githubPayload, body, 'GitHub package');
    const pkg = (p.registry_package ?? p.package)!;
    const t = pkg.package_version?.container_metadata?.tag?.name;
    const type = pkg.package_type?.toLowerCase();
    if (!t || (type !== undefined && type !== 'container' && type !== 'docker')) return { kind: 'notices', notices: [], ignored: 1 };
    const url = pkg.package_version?.package_url;
    const owner = pkg.namespace ?? pkg.owner?.login;
    let repository: string;
    if (url) repository = url.replace(/@sha256:[0-9a-f]+$/i, '').replace(/:[^:/]*$/, '');
    else if (owner) repository = `ghcr.io/${owner}/${pkg.name}`;
    else throw invalidArgument('invalid GitHub package payload: no package_url and no namespace or owner', 'send the registry_package event as GitHub sends it');
    return { kind: 'notices', notices: [{ source: 'github', repository: checkedRepo(repository, 'GitHub package'), tag: checkedTag(t, 'GitHub package') }], ignored: 0 };
  }
  const k = parse(kibokoPayload, body, 'deploy hook');
  return { kind: 'notices', notices: [{ source: 'kiboko', service: k.service, tag: k.tag, ...(k.project ? { project: k.project } : {}) }], ignored: 0 };
}

const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** `nginx` → docker.io/library/nginx; `reg:5000/a/b` stays; tags and digests are dropped by the caller. */
export function normalizeRepository(repo: string): { host: string; path: string } {
  const r = repo.toLowerCase().replace(/^https?:\/\//, '');
  const slash = r.indexOf('/');
  const first = slash >= 0 ? r.slice(0, slash) : '';
  const hasHost = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let host = hasHost ? first : 'docker.io';
  let path = hasHost ? r.slice(slash + 1) : r;
  if (DOCKER_HUB.has(host)) host = 'docker.io';
  if (host === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  return { host, path };
}

/**
 * Does a notification's repository name a service's image repository? Registry v2 envelopes
 * name the registry by the host its clients used, which may differ from the one in the compose
 * file (an alias, a port); the repository path must match exactly either way.
 */
export function sameRepository(notice: PushNotice & { repository: string }, imageRepo: string): boolean {
  const a = normalizeRepository(notice.repository);
  const b = normalizeRepository(imageRepo);
  if (notice.source === 'registry') return a.path.replace(/^library\//, '') === b.path.replace(/^library\//, '');
  return a.path === b.path && a.host === b.host;
}
