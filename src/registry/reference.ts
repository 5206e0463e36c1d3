import { invalidArgument } from '../common/errors.js';

/** Docker Hub as the engine names it, and where its registry API answers. */
export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_API = 'registry-1.docker.io';
/** The key Docker Hub's credentials carry in ~/.docker/config.json. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/** An image reference split the way the engine splits it. */
export interface ImageReference {
  /** Registry host (with port), `docker.io` for Docker Hub. */
  registry: string;
  /** Repository path inside the registry (`library/busybox` for Hub's official images). */
  repository: string;
  tag: string;
  digest?: string | undefined;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;

/**
 * Parses `busybox`, `repo/app:58-develop`, `127.0.0.1:5000/app@sha256:…`, as the engine does:
 * the first path part is a registry when it has a dot or a colon or is `localhost`.
 */
export function parseReference(ref: string): ImageReference {
  const text = ref.trim();
  if (!text || text.length > 512) throw invalidArgument(`invalid image reference '${text.slice(0, 80)}'`, 'e.g. registry.example.com/team/app:1.2.3');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalidArgument(`invalid digest in image reference '${text}'`, 'a digest looks like sha256:<64 hex digits>');
  }
  let tag = 'latest';
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalidArgument(`invalid tag '${tag}' in image reference '${text}'`, 'a tag is letters, digits, _ . - (at most 128)');
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0]!;
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  if (parts.length === 0 || parts.some((p) => !COMPONENT.test(p))) {
    throw invalidArgument(`invalid image reference '${text}': repository names are lower-case letters, digits and separators`, 'e.g. registry.example.com/team/app:1.2.3');
  }
  return { registry, repository: parts.join('/'), tag, ...(digest ? { digest } : {}) };
}

/** The name the engine shows (`busybox:1.36`, `127.0.0.1:5000/app:58-develop`). */
export function formatReference(r: ImageReference, options: { tag?: string; digest?: string } = {}): string {
  const repo = r.registry === DOCKER_HUB ? r.repository.replace(/^library\//, '') : `${r.registry}/${r.repository}`;
  const digest = options.digest ?? (options.tag ? undefined : r.digest);
  return digest ? `${repo}@${digest}` : `${repo}:${options.tag ?? r.tag}`;
}

/** The repository without a tag, as the engine writes it in RepoDigests (`127.0.0.1:5000/app`). */
export function repositoryName(r: ImageReference): string {
  return r.registry === DOCKER_HUB ? r.repository.replace(/^library\//, '') : `${r.registry}/${r.repository}`;
}

/** Host and port the registry API answers on. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/** Loopback registries speak plain HTTP when they do not speak TLS (the engine's default insecure range). */
export function isLoopbackHost(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
