import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import * as z from 'zod/mini';
import { invalidArgument } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import { parseMethodCommand, validateMethodName } from '../methods/index.js';
import { compareNames } from '../common/collate.js';

/**
 * The metadata `kiboko build` puts into an image, and how it is encoded.
 *
 * - `kiboko.meta`: this build's record (JSON).
 * - `kiboko.ancestry`: the records of every kiboko-built ancestor, **oldest first** (JSON array;
 *   the nearest base is last). Labels are inherited and cannot be removed, so the chain lives
 *   in one key that each build rewrites: the base's ancestry plus the base's own record.
 * - `kiboko.meta-file`: where the same two values live as a file inside the image
 *   ({@link METADATA_FILE}, `{ "meta": …, "ancestry": [ … ] }`), for processes inside.
 * - `kiboko.method.<name>`: lifecycle methods (`validate`, `start`, `update`, `monitor`,
 *   `metrics`, …) as a path or command (run by `kiboko lifecycle`, see lifecycle.ts).
 * - The OCI keys `org.opencontainers.image.{created,revision,source,version,title,base.name}`;
 *   each is always set (empty when unknown) so a child never shows its base's values.
 */

export const METADATA_FILE = '/.kiboko/metadata.json';
export const OCI = 'org.opencontainers.image.';
export const KNOWN_METHODS = ['validate', 'start', 'update', 'monitor', 'metrics'] as const;

const GitSchema = z.looseObject({
  revision: z.string(),
  /** Branch (or tag in a detached checkout) the revision was built from. */
  ref: z.optional(z.string()),
  describe: z.optional(z.string()),
  dirty: z.boolean(),
  /** Remote URL, credentials removed. */
  source: z.optional(z.string()),
});

const CiSchema = z.looseObject({
  system: z.string(),
  buildTag: z.optional(z.string()),
  url: z.optional(z.string()),
});

const ArtifactSchema = z.looseObject({ path: z.string(), local: z.string(), bytes: z.number() });

export const PackageRecordSchema = z.looseObject({
  schema: z.literal(1),
  project: z.string(),
  /** Repository of the main tag (`registry/org/app`). */
  image: z.string(),
  /** Every name the build gave the image (`repo:tag`), main tag first. */
  tags: z.array(z.string()),
  version: z.optional(z.string()),
  git: z.optional(GitSchema),
  /** ISO 8601 build time. */
  builtAt: z.string(),
  /** Why it was built: `manual`, or the CI trigger (`push`, `schedule`, …), or `--cause`. */
  cause: z.string(),
  ci: z.optional(CiSchema),
  builtBy: z.looseObject({ host: z.string(), kiboko: z.string() }),
  /** The image the built stage starts from (as written after ARG substitution) and its id. */
  base: z.optional(z.looseObject({ name: z.string(), id: z.optional(z.string()) })),
  /** Lifecycle methods declared for this image (inherited, LABEL and `--method`). */
  methods: z.record(z.string(), z.string()),
  /** Set when the image was built with a build container (`--builder`). */
  buildContainer: z.optional(z.looseObject({ dockerfile: z.string(), artifacts: z.array(ArtifactSchema) })),
});

export type PackageRecord = z.infer<typeof PackageRecordSchema>;
export type GitInfo = z.infer<typeof GitSchema>;

/** The in-image file's content, and what the labels decode to. */
export interface MetadataDocument {
  meta: PackageRecord;
  ancestry: PackageRecord[];
}

// ─── Image references ────────────────────────────────────────────────────────────────────────

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
// A first component is a registry only with a dot or a port, or as `localhost` (Docker's rule).
const REGISTRY = '(?:[a-zA-Z0-9-]+(?:\\.[a-zA-Z0-9-]+)+(?::[0-9]+)?|[a-zA-Z0-9-]+:[0-9]+|localhost)';
const REFERENCE = new RegExp(`^(?:${REGISTRY}/)?${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?$`);

/** Splits `registry:5000/org/app:1.2` into repository and tag (default `latest`). */
export function parseImageTag(ref: string): { repo: string; tag: string } {
  const text = ref.trim();
  const m = REFERENCE.exec(text);
  if (!m || text.includes('@')) {
    throw invalidArgument(`invalid tag '${ref}': expected name[:tag] (lower-case name, e.g. acme/app:1.2)`, 'use -t acme/app:1.2');
  }
  const colon = text.lastIndexOf(':');
  const hasTag = colon > text.lastIndexOf('/');
  return hasTag ? { repo: text.slice(0, colon), tag: text.slice(colon + 1) } : { repo: text, tag: 'latest' };
}

// ─── CI detection ────────────────────────────────────────────────────────────────────────────

export interface CiInfo {
  system: string;
  buildTag?: string | undefined;
  url?: string | undefined;
  /** The trigger as the CI names it (push, schedule, pull_request, Manual, …). */
  cause?: string | undefined;
  revision?: string | undefined;
  ref?: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

const slug = (s: string | undefined) => (s ?? '').replace(/[^A-Za-z0-9_.-]+/g, '-');
const joinTag = (...parts: (string | undefined)[]) => (parts.every((p) => p) ? parts.map(slug).join('-') : undefined);
const truthy = (v: string | undefined) => v !== undefined && v !== '' && v.toLowerCase() !== 'false' && v !== '0';
const stripRefs = (r: string | undefined) => r?.replace(/^refs\/(heads|tags)\//, '').replace(/^origin\//, '') || undefined;

/**
 * Which CI runs this build, from the environment the common CI systems set: GitHub Actions,
 * GitLab CI, Jenkins, CircleCI, Travis CI, Buildkite, Drone, Azure Pipelines; any other CI that
 * sets `CI=true` is `ci`. `BUILD_TAG`, when set, is the build tag on every system.
 */
export function detectCi(env: Env): CiInfo | undefined {
  const info = detectSystem(env);
  if (!info) return undefined;
  if (env.BUILD_TAG) info.buildTag = env.BUILD_TAG;
  for (const k of Object.keys(info) as (keyof CiInfo)[]) if (info[k] === undefined || info[k] === '') delete info[k];
  return info;
}

/** One of a CI system's fields: the variable that holds it, or how to derive it. */
type CiField = string | ((e: Env) => string | undefined);

/** How a CI system is recognised, and where it keeps each CiInfo field. */
interface CiSystem {
  system: string;
  runs: (e: Env) => boolean;
  buildTag: (e: Env) => string | undefined;
  url: CiField;
  cause: CiField;
  revision: CiField;
  ref: CiField;
}

const flag = (name: string) => (e: Env) => e[name] === 'true';

const githubRunUrl = (e: Env) => (e.GITHUB_SERVER_URL && e.GITHUB_REPOSITORY && e.GITHUB_RUN_ID ? `${e.GITHUB_SERVER_URL}/${e.GITHUB_REPOSITORY}/actions/runs/${e.GITHUB_RUN_ID}` : undefined);

const azureRunUrl = (e: Env) => {
  const base = e.SYSTEM_COLLECTIONURI ?? e.SYSTEM_TEAMFOUNDATIONCOLLECTIONURI;
  return base && e.SYSTEM_TEAMPROJECT && e.BUILD_BUILDID ? `${base.replace(/\/?$/, '/')}${encodeURIComponent(e.SYSTEM_TEAMPROJECT)}/_build/results?buildId=${e.BUILD_BUILDID}` : undefined;
};

/** The CI systems kiboko knows, the first that runs the build wins. */
const CI_SYSTEMS: readonly CiSystem[] = [
  { system: 'github-actions', runs: flag('GITHUB_ACTIONS'), buildTag: (e) => joinTag('github', e.GITHUB_REPOSITORY, e.GITHUB_RUN_ID, e.GITHUB_RUN_ATTEMPT ?? '1'), url: githubRunUrl, cause: 'GITHUB_EVENT_NAME', revision: 'GITHUB_SHA', ref: (e) => e.GITHUB_HEAD_REF || e.GITHUB_REF_NAME },
  { system: 'gitlab-ci', runs: flag('GITLAB_CI'), buildTag: (e) => joinTag('gitlab', e.CI_PROJECT_PATH_SLUG ?? e.CI_PROJECT_NAME, e.CI_PIPELINE_ID, e.CI_JOB_ID), url: (e) => e.CI_JOB_URL ?? e.CI_PIPELINE_URL, cause: 'CI_PIPELINE_SOURCE', revision: 'CI_COMMIT_SHA', ref: 'CI_COMMIT_REF_NAME' },
  { system: 'jenkins', runs: (e) => Boolean(e.JENKINS_URL || e.JENKINS_HOME), buildTag: (e) => e.BUILD_TAG ?? joinTag('jenkins', e.JOB_NAME, e.BUILD_NUMBER), url: 'BUILD_URL', cause: 'BUILD_CAUSE', revision: 'GIT_COMMIT', ref: (e) => stripRefs(e.GIT_BRANCH) },
  { system: 'circleci', runs: flag('CIRCLECI'), buildTag: (e) => joinTag('circleci', e.CIRCLE_PROJECT_REPONAME, e.CIRCLE_BUILD_NUM), url: 'CIRCLE_BUILD_URL', cause: (e) => (e.CIRCLE_TAG ? 'tag' : e.CIRCLE_PULL_REQUEST ? 'pull_request' : undefined), revision: 'CIRCLE_SHA1', ref: (e) => e.CIRCLE_BRANCH ?? e.CIRCLE_TAG },
  { system: 'travis-ci', runs: flag('TRAVIS'), buildTag: (e) => joinTag('travis', e.TRAVIS_REPO_SLUG, e.TRAVIS_BUILD_NUMBER), url: 'TRAVIS_BUILD_WEB_URL', cause: 'TRAVIS_EVENT_TYPE', revision: 'TRAVIS_COMMIT', ref: (e) => e.TRAVIS_PULL_REQUEST_BRANCH || e.TRAVIS_TAG || e.TRAVIS_BRANCH },
  { system: 'buildkite', runs: flag('BUILDKITE'), buildTag: (e) => joinTag('buildkite', e.BUILDKITE_PIPELINE_SLUG, e.BUILDKITE_BUILD_NUMBER), url: 'BUILDKITE_BUILD_URL', cause: 'BUILDKITE_SOURCE', revision: 'BUILDKITE_COMMIT', ref: (e) => e.BUILDKITE_TAG || e.BUILDKITE_BRANCH },
  { system: 'drone', runs: flag('DRONE'), buildTag: (e) => joinTag('drone', e.DRONE_REPO, e.DRONE_BUILD_NUMBER), url: 'DRONE_BUILD_LINK', cause: 'DRONE_BUILD_EVENT', revision: 'DRONE_COMMIT_SHA', ref: (e) => e.DRONE_TAG || e.DRONE_SOURCE_BRANCH || e.DRONE_BRANCH },
  { system: 'azure-pipelines', runs: (e) => e.TF_BUILD?.toLowerCase() === 'true', buildTag: (e) => joinTag('azure', e.BUILD_DEFINITIONNAME, e.BUILD_BUILDNUMBER), url: azureRunUrl, cause: 'BUILD_REASON', revision: 'BUILD_SOURCEVERSION', ref: (e) => stripRefs(e.SYSTEM_PULLREQUEST_SOURCEBRANCH || e.BUILD_SOURCEBRANCH) },
];

const readField = (field: CiField, e: Env) => (typeof field === 'string' ? e[field] : field(e));

function detectSystem(e: Env): CiInfo | undefined {
  const ci = CI_SYSTEMS.find((c) => c.runs(e));
  if (ci) return { system: ci.system, buildTag: ci.buildTag(e), url: readField(ci.url, e), cause: readField(ci.cause, e), revision: readField(ci.revision, e), ref: readField(ci.ref, e) };
  if (truthy(e.CI) || e.BUILD_TAG) return { system: 'ci' };
  return undefined;
}

// ─── Git ─────────────────────────────────────────────────────────────────────────────────────

/** Runs git with an argv (never a shell); resolves undefined when git fails or is missing. */
export type GitRunner = (args: readonly string[], cwd: string) => Promise<string | undefined>;

export const runGit: GitRunner = (args, cwd) =>
  new Promise((resolve) => {
    execFile(
      'git',
      ['-C', cwd, ...args],
      { timeout: 10_000, maxBuffer: 4 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' } },
      (err, stdout) => resolve(err ? undefined : String(stdout).trim()),
    );
  });

export interface GitFacts extends GitInfo {
  /** The repository's top-level folder. */
  toplevel: string;
  /** The tag when HEAD is exactly at one. */
  exactTag?: string | undefined;
}

/**
 * Facts about the checkout holding `dir`: revision, branch, describe, dirty (uncommitted or
 * untracked changes under `dir` — the build context), and the remote URL without credentials.
 * Undefined when `dir` is not in a repository with a commit, or git is missing.
 */
export async function readGitInfo(dir: string, git: GitRunner = runGit): Promise<GitFacts | undefined> {
  const toplevel = await git(['rev-parse', '--show-toplevel'], dir);
  if (!toplevel) return undefined;
  const revision = await git(['rev-parse', '--verify', '-q', 'HEAD'], dir);
  if (!revision) return undefined;
  const [branch, describe, exactTag, status, remotes] = await Promise.all([
    git(['symbolic-ref', '--short', '-q', 'HEAD'], dir),
    git(['describe', '--tags', '--always'], dir),
    git(['describe', '--tags', '--exact-match'], dir),
    git(['status', '--porcelain', '--untracked-files=normal', '--', '.'], dir),
    git(['remote'], dir),
  ]);
  const names = (remotes ?? '').split('\n').filter(Boolean);
  const remote = names.includes('origin') ? 'origin' : names[0];
  const url = remote ? await git(['remote', 'get-url', '--', remote], dir) : undefined;
  return {
    toplevel,
    revision,
    ref: branch || exactTag || undefined,
    describe: describe || undefined,
    dirty: status === undefined ? false : status.length > 0,
    source: url ? sanitizeRemoteUrl(url) : undefined,
    exactTag: exactTag || undefined,
  };
}

/**
 * A remote URL fit to publish: credentials removed; scp-like `git@host:org/repo.git` becomes
 * `https://host/org/repo` (what GitHub, GitLab and Bitbucket serve); `.git` dropped on http(s).
 */
export function sanitizeRemoteUrl(url: string): string {
  const text = url.trim();
  const scp = /^(?:[^@/\s]+@)?([A-Za-z0-9.-]+):(?!\/\/)([^\s]+)$/.exec(text);
  if (scp && !/^[A-Za-z]:[\\/]/.test(text) && !text.includes('://')) return `https://${scp[1]}/${scp[2]!.replace(/^\/+/, '').replace(/\.git$/, '')}`;
  try {
    const u = new URL(text);
    u.username = '';
    u.password = '';
    if (u.protocol === 'http:' || u.protocol === 'https:') {
      u.search = '';
      u.hash = '';
      u.pathname = u.pathname.replace(/\.git$/, '');
    }
    return u.toString();
  } catch {
    return text.replace(/\/\/[^@/]*@/, '//');
  }
}

// ─── Records and labels ──────────────────────────────────────────────────────────────────────

export interface RecordInputs {
  project: string;
  tags: readonly string[];
  builtAt: string;
  host: string;
  kibokoVersion: string;
  cause?: string | undefined;
  version?: string | undefined;
  git?: GitFacts | undefined;
  ci?: CiInfo | undefined;
  base?: { name: string; id?: string | undefined } | undefined;
  methods?: Readonly<Record<string, string>>;
  buildContainer?: PackageRecord['buildContainer'];
}

/** This build's record; pure. Git facts the checkout lacks are taken from the CI's variables. */
export function buildRecord(i: RecordInputs): PackageRecord {
  if (i.tags.length === 0) throw invalidArgument('no tag given', 'give one with -t name:tag');
  const main = parseImageTag(i.tags[0]!);
  const tags = i.tags.map((t) => {
    const p = parseImageTag(t);
    return `${p.repo}:${p.tag}`;
  });
  let git: GitInfo | undefined;
  if (i.git) {
    const { toplevel: _t, exactTag: _e, ...rest } = i.git;
    git = dropUndefined({ ...rest, ref: rest.ref ?? i.ci?.ref });
  } else if (i.ci?.revision) {
    git = dropUndefined({ revision: i.ci.revision, ref: i.ci.ref, dirty: false });
  }
  const version = i.version ?? i.git?.exactTag ?? (main.tag !== 'latest' ? main.tag : undefined);
  const ci = i.ci ? dropUndefined({ system: i.ci.system, buildTag: i.ci.buildTag, url: i.ci.url }) : undefined;
  return dropUndefined({
    schema: 1 as const,
    project: i.project,
    image: main.repo,
    tags: [...new Set(tags)],
    version,
    git,
    builtAt: i.builtAt,
    cause: i.cause ?? i.ci?.cause ?? (i.ci ? 'ci' : 'manual'),
    ci,
    builtBy: { host: i.host, kiboko: i.kibokoVersion },
    base: i.base ? dropUndefined({ name: i.base.name, id: i.base.id }) : undefined,
    methods: { ...(i.methods ?? {}) },
    buildContainer: i.buildContainer,
  });
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** The default project: the repository's folder name, else the context folder's. */
export function defaultProject(contextDir: string, git: GitFacts | undefined): string {
  return basename(git?.toplevel ?? contextDir) || 'project';
}

/**
 * `validate=/srv/bin/validate.sh` → ['validate', '/srv/bin/validate.sh'], checked as
 * `kiboko lifecycle` will read it (a JSON argv list or shell words, no shell operators).
 */
export function parseMethodOption(text: string): [string, string] {
  const eq = text.indexOf('=');
  const name = eq < 0 ? '' : text.slice(0, eq).trim();
  const command = eq < 0 ? '' : text.slice(eq + 1).trim();
  if (!name || !command) throw invalidArgument(`invalid --method '${text}': expected name=command, e.g. validate=/srv/bin/validate.sh`, `methods: ${KNOWN_METHODS.join(', ')} (or your own)`);
  validateMethodName(name);
  try {
    parseMethodCommand(command);
  } catch (err) {
    throw invalidArgument(`invalid --method '${text}': ${(err as Error).message}`, 'give a path, a command with arguments, or a JSON list, e.g. validate=["/srv/bin/validate.sh","--quick"]', err);
  }
  return [name, command];
}

/** Declared lifecycle methods from labels (`kiboko.method.<name>`; empty values are left out). */
export function methodsFromLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (!k.startsWith(LABELS.methodPrefix)) continue;
    const name = k.slice(LABELS.methodPrefix.length);
    if (name && v.trim() !== '') out[name] = v;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => compareNames(a, b)));
}

export interface DecodedMetadata {
  /** This image's own record (undefined for images kiboko did not build). */
  meta: PackageRecord | undefined;
  /** Ancestors, oldest first. */
  ancestry: PackageRecord[];
  methods: Record<string, string>;
  /** `org.opencontainers.image.*` labels, keys without the prefix, empty values left out. */
  oci: Record<string, string>;
  /** Problems reading the labels (bad JSON, unknown schema); never thrown. */
  warnings: string[];
}

/** Reads an image's (or container's) labels; tolerant, as OCI asks of consumers. */
export function decodeMetadata(labels: Readonly<Record<string, string>>): DecodedMetadata {
  const warnings: string[] = [];
  const parse = (key: string): unknown => {
    const raw = labels[key];
    if (raw === undefined || raw === '') return undefined;
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      warnings.push(`label ${key} is not valid JSON`);
      return undefined;
    }
  };
  const record = (value: unknown, where: string): PackageRecord | undefined => {
    const r = PackageRecordSchema.safeParse(value);
    if (r.success) return r.data;
    warnings.push(`${where}: not a kiboko metadata record (${r.error.issues[0]?.path.join('.') || 'value'}: ${r.error.issues[0]?.message ?? 'invalid'})`);
    return undefined;
  };
  const rawMeta = parse(LABELS.packageMeta);
  const meta = rawMeta === undefined ? undefined : record(rawMeta, LABELS.packageMeta);
  const rawAncestry = parse(LABELS.packageAncestry);
  const ancestry: PackageRecord[] = [];
  if (rawAncestry !== undefined) {
    if (!Array.isArray(rawAncestry)) warnings.push(`label ${LABELS.packageAncestry} is not a JSON array`);
    else
      rawAncestry.forEach((a, n) => {
        const r = record(a, `${LABELS.packageAncestry}[${n}]`);
        if (r) ancestry.push(r);
      });
  }
  const oci: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (k.startsWith(OCI) && v !== '') oci[k.slice(OCI.length)] = v;
  return { meta, ancestry, methods: methodsFromLabels(labels), oci, warnings };
}

/** The chain a child of an image with these labels carries: its ancestry plus its own record. */
export function ancestryOf(baseLabels: Readonly<Record<string, string>>): { ancestry: PackageRecord[]; warnings: string[] } {
  const d = decodeMetadata(baseLabels);
  return { ancestry: d.meta ? [...d.ancestry, d.meta] : d.ancestry, warnings: d.warnings };
}

/** The in-image file's text: exactly the values of the two labels. */
export function metadataFileText(doc: MetadataDocument): string {
  return `${JSON.stringify({ meta: doc.meta, ancestry: doc.ancestry }, null, 2)}\n`;
}

/**
 * The labels a build sets: OCI keys (always, empty when unknown), the record, the ancestry, the
 * file's path and every declared method. `userLabels` override the OCI keys (as docker/metadata-action
 * lets them) but not kiboko's own keys.
 */
export function encodeLabels(doc: MetadataDocument, userLabels: Readonly<Record<string, string>> = {}): Record<string, string> {
  const r = doc.meta;
  const labels: Record<string, string> = {
    [`${OCI}created`]: r.builtAt,
    [`${OCI}revision`]: r.git?.revision ?? '',
    [`${OCI}source`]: r.git?.source ?? '',
    [`${OCI}version`]: r.version ?? '',
    [`${OCI}title`]: r.image,
    [`${OCI}base.name`]: r.base?.name ?? '',
  };
  for (const [name, command] of Object.entries(r.methods)) labels[`${LABELS.methodPrefix}${name}`] = command;
  Object.assign(labels, userLabels);
  labels[LABELS.packageMeta] = JSON.stringify(r);
  labels[LABELS.packageAncestry] = JSON.stringify(doc.ancestry);
  labels[LABELS.packageMetaFile] = METADATA_FILE;
  return labels;
}

/** The document the labels hold (what the in-image file must equal), when they hold one. */
export function documentFromLabels(labels: Readonly<Record<string, string>>): MetadataDocument | undefined {
  const d = decodeMetadata(labels);
  return d.meta ? { meta: d.meta, ancestry: d.ancestry } : undefined;
}
